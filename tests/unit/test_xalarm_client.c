/* test_xalarm_client: the libxalarm client against a fake xalarm server run by the test itself
 * (a temporary directory named by SENTRY_XALARM_DIR holding its own "alarm" and "report"
 * sockets): the registration lines and their id ranges, records split across reads, local
 * filtering, upgrade, end of stream, unregistering from another thread and from the callback,
 * the handle API with the service-down record and xalarm_unregister_event(&handle), and the
 * datagrams the report functions send. The compaction of a bitmap into ranges is also called
 * directly (xalarm_client.c is compiled into this test). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fileio.h"
#include "macro.h"
#include "test_util.h"
#include "xalarm_client.h"
#include "xalarm_record.h"

#define WAIT_MSEC 5000

/* ---- the fake server ------------------------------------------------------------------------ */

static struct {
    char dir[64];
    int alarm_fd;  /* listening stream socket <dir>/alarm */
    int report_fd; /* datagram socket <dir>/report */
} srv = {.alarm_fd = -1, .report_fd = -1};

static int bind_socket(int type, const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", srv.dir, name);
    assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, 8), 0);
    return fd;
}

static int srv_setup(void **state)
{
    strcpy(srv.dir, "/tmp/test-xalarm-XXXXXX");
    assert_non_null(mkdtemp(srv.dir));
    srv.alarm_fd = bind_socket(SOCK_STREAM, XALARM_SOCKET_ALARM);
    srv.report_fd = bind_socket(SOCK_DGRAM, XALARM_SOCKET_REPORT);
    assert_int_equal(setenv(XALARM_ENV_DIR, srv.dir, 1), 0);
    return 0;
}

static void capture_abort(void);

static int srv_teardown(void **state)
{
    capture_abort();
    if (srv.alarm_fd >= 0)
        close(srv.alarm_fd);
    if (srv.report_fd >= 0)
        close(srv.report_fd);
    srv.alarm_fd = srv.report_fd = -1;
    test_rm_rf(srv.dir);
    return 0;
}

static bool wait_readable(int fd, int msec)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, msec) == 1;
}

/* Accepts the connection the library just made. */
static int srv_accept(void)
{
    assert_true(wait_readable(srv.alarm_fd, WAIT_MSEC));
    int fd = accept4(srv.alarm_fd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* Reads one registration line and parses it. */
static json_object *srv_read_json(int fd)
{
    char line[XALARM_REGISTER_LINE_MAX];
    size_t n = 0;

    for (;;) {
        assert_true(wait_readable(fd, WAIT_MSEC));
        assert_int_equal(read(fd, line + n, 1), 1);
        if (line[n] == '\n')
            break;
        n++;
        assert_true(n < sizeof(line));
    }
    line[n] = 0;
    json_object *o = json_tokener_parse(line);
    assert_non_null(o);
    return o;
}

static void assert_json_ids(json_object *o, const char *key, const int *ids, size_t n)
{
    json_object *a;

    assert_true(json_object_object_get_ex(o, key, &a));
    assert_true(json_object_is_type(a, json_type_array));
    assert_int_equal(json_object_array_length(a), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(json_object_get_int(json_object_array_get_idx(a, i)), ids[i]);
}

/* The member key of o as plain JSON text, e.g. ["1001-1003",1007]. */
static void assert_json_text(json_object *o, const char *key, const char *text)
{
    json_object *v;

    assert_true(json_object_object_get_ex(o, key, &v));
    assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), text);
}

static void assert_json_action(json_object *o, const char *action)
{
    json_object *v;

    assert_true(json_object_object_get_ex(o, "action", &v));
    assert_string_equal(json_object_get_string(v), action);
}

static void record_make(struct alarm_info *r, unsigned id, const char *text)
{
    struct timeval tv = {.tv_sec = 1700000000, .tv_usec = 500000};
    assert_int_equal(
        xalarm_record_build(r, id, MAJOR_ALM, SENTRY_ALARM_OCCUR, &tv, text, strlen(text)), 0);
}

static void srv_send_record(int fd, unsigned id, const char *text)
{
    static struct alarm_info r;
    record_make(&r, id, text);
    assert_int_equal(write_all(fd, &r, sizeof(r)), 0);
}

/* Sends a record in three pieces with pauses, so the client sees partial reads. */
static void srv_send_record_split(int fd, unsigned id, const char *text)
{
    static struct alarm_info r;
    const char *p = (const char *) &r;

    record_make(&r, id, text);
    assert_int_equal(write_all(fd, p, 10), 0);
    usleep(50000);
    assert_int_equal(write_all(fd, p + 10, 5000), 0);
    usleep(50000);
    assert_int_equal(write_all(fd, p + 5010, sizeof(r) - 5010), 0);
}

static struct alarm_subscription_info filter_of(const int *ids, unsigned n)
{
    struct alarm_subscription_info f = {.len = n};
    for (unsigned i = 0; i < n && i < MAX_NUM_OF_ALARM_ID; i++)
        f.id_list[i] = ids[i];
    return f;
}

/* 129 valid ids: one more than a filter may hold. */
static struct alarm_subscription_info filter_too_long(void)
{
    struct alarm_subscription_info f = {.len = MAX_NUM_OF_ALARM_ID + 1};
    for (unsigned i = 0; i < MAX_NUM_OF_ALARM_ID; i++)
        f.id_list[i] = (int) (SENTRY_ALARM_ID_MIN + i);
    return f;
}

/* ---- stdout capture (the callback API prints there) ----------------------------------------- */

static struct {
    int fd;
    int saved;
} cap = {.fd = -1, .saved = -1};

static void capture_begin(void)
{
    fflush(stdout);
    cap.fd = memfd_create("capture", MFD_CLOEXEC);
    assert_true(cap.fd >= 0);
    cap.saved = dup(STDOUT_FILENO);
    assert_true(cap.saved >= 0);
    assert_true(dup2(cap.fd, STDOUT_FILENO) >= 0);
}

/* What was printed so far. */
static const char *capture_text(void)
{
    static char buf[8192];
    fflush(stdout);
    ssize_t n = pread(cap.fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

static void capture_abort(void)
{
    if (cap.saved < 0)
        return;
    fflush(stdout);
    dup2(cap.saved, STDOUT_FILENO);
    close(cap.saved);
    close(cap.fd);
    cap.saved = cap.fd = -1;
}

static const char *capture_end(void)
{
    const char *s = capture_text();
    capture_abort();
    return s;
}

/* Waits until the captured output contains needle (the receiver thread prints on its own). */
static bool capture_wait(const char *needle)
{
    for (int i = 0; i < WAIT_MSEC / 10; i++) {
        if (strstr(capture_text(), needle))
            return true;
        usleep(10000);
    }
    return false;
}

/* ---- callback recorder ---------------------------------------------------------------------- */

static pthread_mutex_t got_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t got_cond = PTHREAD_COND_INITIALIZER;
static struct alarm_info got[8];
static unsigned got_n;

static void got_reset(void)
{
    pthread_mutex_lock(&got_lock);
    got_n = 0;
    pthread_mutex_unlock(&got_lock);
}

static void on_alarm(struct alarm_info *a)
{
    pthread_mutex_lock(&got_lock);
    if (got_n < ELEMENTSOF(got))
        got[got_n] = *a;
    got_n++;
    pthread_cond_broadcast(&got_cond);
    pthread_mutex_unlock(&got_lock);
}

/* Waits until n alarms arrived; returns how many did. */
static unsigned got_wait(unsigned n)
{
    struct timespec until;
    unsigned k;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MSEC / 1000;
    pthread_mutex_lock(&got_lock);
    while (got_n < n)
        if (pthread_cond_timedwait(&got_cond, &got_lock, &until) == ETIMEDOUT)
            break;
    k = got_n;
    pthread_mutex_unlock(&got_lock);
    return k;
}

/* ---- callback API --------------------------------------------------------------------------- */

static void test_register_stream(void **state)
{
    static const int ids[] = {1016, 1001, 1003, 1002, 1007, 1002};
    static char big[XALARM_TEXT_MAX + 1];
    json_object *o;
    int fd;

    got_reset();
    capture_begin();
    assert_int_equal(xalarm_Register(on_alarm, filter_of(ids, ELEMENTSOF(ids))), 0);
    assert_string_equal(capture_end(), "");
    fd = srv_accept();

    /* event_ids: the kernel-event ids among the filter. */
    o = srv_read_json(fd);
    assert_json_action(o, "register_events");
    assert_json_ids(o, "event_ids", (const int[]){1003, 1007, 1016}, 3);
    /* id_filter: ranges of consecutive ids, sorted, each id once. */
    assert_json_text(o, "id_filter", "[\"1001-1003\",1007,1016]");
    json_object_put(o);

    /* A record in three pieces arrives whole. */
    srv_send_record_split(fd, 1001, "{\"split\":true}");
    assert_int_equal(got_wait(1), 1);
    assert_int_equal(xalarm_getid(&got[0]), 1001);
    assert_int_equal(xalarm_getlevel(&got[0]), MAJOR_ALM);
    assert_int_equal(xalarm_gettype(&got[0]), SENTRY_ALARM_OCCUR);
    assert_int_equal(xalarm_gettime(&got[0]), 1700000000500LL);
    assert_string_equal(xalarm_getdesc(&got[0]), "{\"split\":true}");

    /* Ids outside the local bitmap are dropped here, whatever the server sends. */
    srv_send_record(fd, 1004, "not subscribed");
    srv_send_record(fd, 1002, "two");
    assert_int_equal(got_wait(2), 2);
    assert_int_equal(got[1].usAlarmId, 1002);

    /* The longest text, back to back with another record in one write. */
    memset(big, 'b', XALARM_TEXT_MAX);
    static struct alarm_info two[2];
    record_make(&two[0], 1003, big);
    record_make(&two[1], 1007, "after");
    assert_int_equal(write_all(fd, two, sizeof(two)), 0);
    assert_int_equal(got_wait(4), 4);
    assert_int_equal(strlen(got[2].pucParas), XALARM_TEXT_MAX);
    assert_string_equal(got[3].pucParas, "after");

    /* Upgrade: the local bitmap and the server's filter. */
    capture_begin();
    assert_true(xalarm_Upgrade(filter_of((const int[]){1004, 1001}, 2), 0));
    assert_string_equal(capture_end(), "");
    o = srv_read_json(fd);
    assert_json_action(o, "update_filter");
    assert_json_text(o, "id_filter", "[1001,1004]");
    assert_false(json_object_object_get_ex(o, "event_ids", NULL));
    json_object_put(o);
    srv_send_record(fd, 1002, "dropped now");
    srv_send_record(fd, 1004, "four");
    assert_int_equal(got_wait(5), 5);
    assert_int_equal(got[4].usAlarmId, 1004);

    /* Refused upgrades keep the registration. */
    capture_begin();
    assert_false(xalarm_Upgrade(filter_of((const int[]){1000}, 1), 0));
    assert_false(xalarm_Upgrade(filter_of((const int[]){1129}, 1), 0));
    assert_false(xalarm_Upgrade(filter_too_long(), 0));
    assert_false(xalarm_Upgrade(filter_of((const int[]){1001}, 1), 1));
    assert_string_equal(capture_end(), "xalarm_Upgrade: invalid args\n"
                                       "xalarm_Upgrade: invalid args\n"
                                       "xalarm_Upgrade: invalid args\n"
                                       "xalarm_Upgrade: invalid args\n");

    /* The server goes away: the thread says so and ends; upgrading is refused then. */
    capture_begin();
    close(fd);
    assert_true(capture_wait("connection closed by xalarmd, maybe connections reach max num or "
                             "service stopped.\n"));
    assert_false(xalarm_Upgrade(filter_of((const int[]){1001}, 1), 0));
    assert_non_null(strstr(capture_text(), "xalarm_Upgrade: upgrade failed, alarm thread has "
                                           "stopped\n"));
    /* Still registered until unregistered, as in the reference. */
    assert_int_equal(xalarm_Register(on_alarm, filter_of(ids, 1)), -1);
    assert_non_null(strstr(capture_text(), "xalarm_Register: alarm has registered\n"));
    capture_abort();

    capture_begin();
    xalarm_UnRegister(1);
    xalarm_UnRegister(0);
    xalarm_UnRegister(0);
    assert_false(xalarm_Upgrade(filter_of(ids, 1), 0));
    assert_string_equal(capture_end(), "xalarm_UnRegister: invalid client\n"
                                       "xalarm_UnRegister: alarm has not registered\n"
                                       "xalarm_Upgrade: alarm has not registered, cannot "
                                       "upgrade\n");
}

static void test_register_errors(void **state)
{
    struct alarm_subscription_info f = filter_of((const int[]){1001}, 1);
    int fd;

    capture_begin();
    assert_int_equal(xalarm_Register(NULL, f), -1);
    assert_int_equal(xalarm_Register(on_alarm, filter_of((const int[]){1000}, 1)), -1);
    assert_int_equal(xalarm_Register(on_alarm, filter_of((const int[]){1001, 1129}, 2)), -1);
    assert_int_equal(xalarm_Register(on_alarm, filter_too_long()), -1);
    assert_string_equal(capture_end(), "xalarm_Register: param is invalid\n"
                                       "xalarm_Register: param is invalid\n"
                                       "xalarm_Register: param is invalid\n"
                                       "xalarm_Register: param is invalid\n");

    /* No server. */
    assert_int_equal(setenv(XALARM_ENV_DIR, "/nonexistent-xalarm-dir", 1), 0);
    capture_begin();
    assert_int_equal(xalarm_Register(on_alarm, f), -1);
    assert_non_null(strstr(capture_text(), "xalarm_Register: create_unix_socket failed\n"));
    capture_abort();
    assert_int_equal(setenv(XALARM_ENV_DIR, srv.dir, 1), 0);

    /* An empty filter is valid: nothing is subscribed. */
    assert_int_equal(xalarm_Register(on_alarm, filter_of(NULL, 0)), 0);
    fd = srv_accept();
    json_object *o = srv_read_json(fd);
    assert_json_ids(o, "event_ids", NULL, 0);
    assert_json_text(o, "id_filter", "[]");
    json_object_put(o);

    /* Registering twice. */
    capture_begin();
    assert_int_equal(xalarm_Register(on_alarm, f), -1);
    assert_string_equal(capture_end(), "xalarm_Register: alarm has registered\n");
    xalarm_UnRegister(0);
    close(fd);
}

/* xalarm_UnRegister() from another thread returns while the receiver waits for an alarm that
 * never comes. */
static void test_unregister_while_waiting(void **state)
{
    struct timespec a, b;
    int fd;

    assert_int_equal(xalarm_Register(on_alarm, filter_of((const int[]){1001}, 1)), 0);
    fd = srv_accept();
    json_object_put(srv_read_json(fd));
    usleep(100000); /* the thread is in poll() now */
    clock_gettime(CLOCK_MONOTONIC, &a);
    capture_begin();
    xalarm_UnRegister(0);
    assert_string_equal(capture_end(), "");
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true(b.tv_sec - a.tv_sec < 2);
    /* The connection is closed: the server sees the end of stream. */
    char c;
    assert_true(wait_readable(fd, WAIT_MSEC));
    assert_int_equal(read(fd, &c, 1), 0);
    close(fd);
}

static atomic_int unregistered_in_callback;

static void on_alarm_unregister(struct alarm_info *a)
{
    xalarm_UnRegister(0);
    unregistered_in_callback = a->usAlarmId;
}

/* A callback that unregisters neither deadlocks nor leaks; registering again works at once. */
static void test_unregister_from_callback(void **state)
{
    int fd, fd2;

    unregistered_in_callback = 0;
    assert_int_equal(xalarm_Register(on_alarm_unregister, filter_of((const int[]){1001}, 1)), 0);
    fd = srv_accept();
    json_object_put(srv_read_json(fd));
    srv_send_record(fd, 1001, "bye");
    for (int i = 0; i < WAIT_MSEC / 10 && !unregistered_in_callback; i++)
        usleep(10000);
    assert_int_equal(unregistered_in_callback, 1001);
    char c;
    assert_true(wait_readable(fd, WAIT_MSEC));
    assert_int_equal(read(fd, &c, 1), 0);
    close(fd);

    got_reset();
    assert_int_equal(xalarm_Register(on_alarm, filter_of((const int[]){1002}, 1)), 0);
    fd2 = srv_accept();
    json_object_put(srv_read_json(fd2));
    srv_send_record(fd2, 1002, "again");
    assert_int_equal(got_wait(1), 1);
    xalarm_UnRegister(0);
    close(fd2);
}

/* ---- handle API ----------------------------------------------------------------------------- */

static void test_event_api(void **state)
{
    struct alarm_register *h = NULL;
    static struct alarm_msg msg;
    json_object *o;
    int fd;

    assert_int_equal(xalarm_register_event(NULL, filter_of((const int[]){1003}, 1)), -EINVAL);
    assert_int_equal(xalarm_register_event(&h, filter_of((const int[]){999}, 1)), -EINVAL);
    assert_int_equal(xalarm_register_event(&h, filter_too_long()), -EINVAL);
    assert_null(h);
    assert_int_equal(setenv(XALARM_ENV_DIR, "/nonexistent-xalarm-dir", 1), 0);
    assert_int_equal(xalarm_register_event(&h, filter_of((const int[]){1003}, 1)), -ENOTCONN);
    assert_null(h);
    assert_int_equal(setenv(XALARM_ENV_DIR, srv.dir, 1), 0);

    assert_int_equal(xalarm_register_event(&h, filter_of((const int[]){1003, 1050}, 2)), 0);
    assert_non_null(h);
    assert_true(h->register_fd >= 0);
    assert_int_equal(h->alarm_enable_bitmap[1003 - 1001], 1);
    assert_int_equal(h->alarm_enable_bitmap[1050 - 1001], 1);
    assert_int_equal(h->alarm_enable_bitmap[1004 - 1001], 0);
    fd = srv_accept();
    o = srv_read_json(fd);
    assert_json_action(o, "register_events");
    assert_json_ids(o, "event_ids", (const int[]){1003}, 1);
    assert_json_text(o, "id_filter", "[1003,1050]");
    json_object_put(o);

    assert_int_equal(xalarm_get_event(NULL, h), -EINVAL);
    assert_int_equal(xalarm_get_event(&msg, NULL), -EINVAL);

    /* Unsubscribed ids are skipped; a split record arrives whole. */
    srv_send_record(fd, 1001, "skip me");
    srv_send_record_split(fd, 1003, "{\"reboot\":1}");
    assert_int_equal(xalarm_get_event(&msg, h), 0);
    assert_int_equal(msg.usAlarmId, 1003);
    assert_int_equal(msg.AlarmTime.tv_sec, 1700000000);
    assert_int_equal(msg.AlarmTime.tv_usec, 500000);
    assert_string_equal(msg.pucParas, "{\"reboot\":1}");

    /* The service-down record ends the handle's connection, subscribed or not. */
    static struct alarm_info down;
    xalarm_record_service_down(&down);
    assert_int_equal(write_all(fd, &down, sizeof(down)), 0);
    assert_int_equal(xalarm_get_event(&msg, h), -EBADF);
    assert_int_equal(h->register_fd, -1);
    assert_int_equal(xalarm_get_event(&msg, h), -ENOTCONN);
    /* Today's reference: the handle's address; the handle is freed and cleared, and a second
     * call (or NULL) does nothing, silently (the handle API prints nothing). */
    capture_begin();
    xalarm_unregister_event(&h);
    assert_null(h);
    xalarm_unregister_event(&h);
    xalarm_unregister_event(NULL);
    assert_string_equal(capture_end(), "");
    close(fd);

    /* End of stream, also in the middle of a record. */
    for (int partial = 0; partial < 2; partial++) {
        h = NULL;
        assert_int_equal(xalarm_register_event(&h, filter_of((const int[]){1003}, 1)), 0);
        fd = srv_accept();
        json_object_put(srv_read_json(fd));
        if (partial)
            assert_int_equal(write_all(fd, "\xeb\x03\x01\x01", 4), 0);
        close(fd);
        assert_int_equal(xalarm_get_event(&msg, h), -ENOTCONN);
        assert_int_equal(h->register_fd, -1);
        xalarm_unregister_event(&h);
        assert_null(h);
    }

    /* A live connection is closed by unregistering: the server sees the end of stream. */
    h = NULL;
    assert_int_equal(xalarm_register_event(&h, filter_of((const int[]){1003}, 1)), 0);
    fd = srv_accept();
    json_object_put(srv_read_json(fd));
    xalarm_unregister_event(&h);
    assert_null(h);
    char c;
    assert_true(wait_readable(fd, WAIT_MSEC));
    assert_int_equal(read(fd, &c, 1), 0);
    close(fd);
}

/* ---- id ranges ------------------------------------------------------------------------------ */

/* The bitmap of the ids first, first + step, ... up to SENTRY_ALARM_ID_MAX. */
static void bitmap_every(char bitmap[MAX_NUM_OF_ALARM_ID], unsigned first, unsigned step)
{
    memset(bitmap, 0, MAX_NUM_OF_ALARM_ID);
    for (unsigned id = first; id <= SENTRY_ALARM_ID_MAX; id += step)
        bitmap[id - SENTRY_ALARM_ID_MIN] = 1;
}

static void assert_range(const struct xalarm_id_range *r, unsigned lo, unsigned hi)
{
    assert_int_equal(r->lo, lo);
    assert_int_equal(r->hi, hi);
}

/* Consecutive ids become one range; the bitmap decides, whatever order or repetition the
 * program's list had. */
static void test_bitmap_to_ranges(void **state)
{
    struct xalarm_id_range r[XALARM_ID_RANGES_MAX];
    char bitmap[MAX_NUM_OF_ALARM_ID];

    assert_int_equal(XALARM_ID_RANGES_MAX, SENTRY_ALARM_ID_COUNT / 2);

    /* All 128 ids: one range. */
    bitmap_every(bitmap, SENTRY_ALARM_ID_MIN, 1);
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), 1);
    assert_range(&r[0], SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX);

    /* Every other id, from either edge: the worst case, 64 single ids. */
    bitmap_every(bitmap, SENTRY_ALARM_ID_MIN, 2);
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), XALARM_ID_RANGES_MAX);
    for (unsigned i = 0; i < XALARM_ID_RANGES_MAX; i++)
        assert_range(&r[i], SENTRY_ALARM_ID_MIN + 2 * i, SENTRY_ALARM_ID_MIN + 2 * i);
    bitmap_every(bitmap, SENTRY_ALARM_ID_MIN + 1, 2);
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), XALARM_ID_RANGES_MAX);
    assert_range(&r[0], SENTRY_ALARM_ID_MIN + 1, SENTRY_ALARM_ID_MIN + 1);
    assert_range(&r[XALARM_ID_RANGES_MAX - 1], SENTRY_ALARM_ID_MAX, SENTRY_ALARM_ID_MAX);

    /* Single ids at the edges, and nothing. */
    memset(bitmap, 0, sizeof(bitmap));
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), 0);
    bitmap[0] = 1;
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), 1);
    assert_range(&r[0], SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MIN);
    bitmap[MAX_NUM_OF_ALARM_ID - 1] = 1;
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), 2);
    assert_range(&r[1], SENTRY_ALARM_ID_MAX, SENTRY_ALARM_ID_MAX);
    bitmap[0] = 0;
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), 1);
    assert_range(&r[0], SENTRY_ALARM_ID_MAX, SENTRY_ALARM_ID_MAX);

    /* Two ids at each edge, and everything but one id in the middle. */
    memset(bitmap, 0, sizeof(bitmap));
    bitmap[0] = bitmap[1] = bitmap[MAX_NUM_OF_ALARM_ID - 2] = bitmap[MAX_NUM_OF_ALARM_ID - 1] = 1;
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), 2);
    assert_range(&r[0], SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MIN + 1);
    assert_range(&r[1], SENTRY_ALARM_ID_MAX - 1, SENTRY_ALARM_ID_MAX);
    bitmap_every(bitmap, SENTRY_ALARM_ID_MIN, 1);
    bitmap[63] = 0;
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), 2);
    assert_range(&r[0], SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MIN + 62);
    assert_range(&r[1], SENTRY_ALARM_ID_MIN + 64, SENTRY_ALARM_ID_MAX);

    /* From a program's list: unordered, repeated. */
    xalarm_filter_to_bitmap(
        &(struct alarm_subscription_info){.id_list = {1005, 1003, 1004, 1003, 1128, 1001},
                                          .len = 6},
        bitmap);
    assert_int_equal(xalarm_bitmap_to_ranges(bitmap, r), 3);
    assert_range(&r[0], SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MIN);
    assert_range(&r[1], SENTRY_ALARM_ID_MIN + 2, SENTRY_ALARM_ID_MIN + 4);
    assert_range(&r[2], SENTRY_ALARM_ID_MAX, SENTRY_ALARM_ID_MAX);
}

/* Registers through the handle API and returns the registration line the server got. */
static json_object *register_and_read(struct alarm_subscription_info f)
{
    struct alarm_register *h = NULL;
    json_object *o;
    int fd;

    assert_int_equal(xalarm_register_event(&h, f), 0);
    fd = srv_accept();
    o = srv_read_json(fd);
    xalarm_unregister_event(&h);
    close(fd);
    return o;
}

static struct alarm_subscription_info filter_every(unsigned first, unsigned step)
{
    struct alarm_subscription_info f = {.len = 0};
    for (unsigned id = first; id <= SENTRY_ALARM_ID_MAX; id += step)
        f.id_list[f.len++] = (int) id;
    return f;
}

/* What the server gets: every subscription, however large, as at most 64 items. */
static void test_register_ranges(void **state)
{
    char expect[1024];
    size_t n = 0;
    json_object *o, *a;

    /* All 128 ids, listed from the top down: one range. */
    struct alarm_subscription_info all = {.len = SENTRY_ALARM_ID_COUNT};
    for (unsigned i = 0; i < SENTRY_ALARM_ID_COUNT; i++)
        all.id_list[i] = (int) (SENTRY_ALARM_ID_MAX - i);
    o = register_and_read(all);
    snprintf(expect, sizeof(expect), "[\"%d-%d\"]", SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX);
    assert_json_text(o, "id_filter", expect);
    /* event_ids stays the reference's list of numbers. */
    assert_json_ids(o, "event_ids",
                    (const int[]){SENTRY_ALARM_ID_POWER_OFF, SENTRY_ALARM_ID_OOM,
                                  SENTRY_ALARM_ID_PANIC, SENTRY_ALARM_ID_KERNEL_REBOOT,
                                  SENTRY_ALARM_ID_SHARED_MEMORY_FAULT, SENTRY_ALARM_ID_LINK_EVENT},
                    6);
    json_object_put(o);

    /* Every other id: 64 numbers, the most a subscription can need. */
    o = register_and_read(filter_every(SENTRY_ALARM_ID_MIN + 1, 2));
    n = (size_t) snprintf(expect, sizeof(expect), "[");
    for (unsigned id = SENTRY_ALARM_ID_MIN + 1; id <= SENTRY_ALARM_ID_MAX; id += 2)
        n += (size_t) snprintf(expect + n, sizeof(expect) - n, "%s%u", n > 1 ? "," : "", id);
    snprintf(expect + n, sizeof(expect) - n, "]");
    assert_json_text(o, "id_filter", expect);
    assert_true(json_object_object_get_ex(o, "id_filter", &a));
    assert_int_equal(json_object_array_length(a), XALARM_ID_RANGES_MAX);
    json_object_put(o);

    /* The edges alone, and next to their neighbours. */
    o = register_and_read(filter_of((const int[]){SENTRY_ALARM_ID_MAX, SENTRY_ALARM_ID_MIN}, 2));
    snprintf(expect, sizeof(expect), "[%d,%d]", SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX);
    assert_json_text(o, "id_filter", expect);
    json_object_put(o);
    o = register_and_read(filter_of((const int[]){SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MIN + 1,
                                                  SENTRY_ALARM_ID_MAX - 1, SENTRY_ALARM_ID_MAX},
                                    4));
    snprintf(expect, sizeof(expect), "[\"%d-%d\",\"%d-%d\"]", SENTRY_ALARM_ID_MIN,
             SENTRY_ALARM_ID_MIN + 1, SENTRY_ALARM_ID_MAX - 1, SENTRY_ALARM_ID_MAX);
    assert_json_text(o, "id_filter", expect);
    json_object_put(o);

    /* The callback API's registration and upgrade lines carry the same ranges. */
    assert_int_equal(xalarm_Register(on_alarm, all), 0);
    int fd = srv_accept();
    o = srv_read_json(fd);
    snprintf(expect, sizeof(expect), "[\"%d-%d\"]", SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX);
    assert_json_text(o, "id_filter", expect);
    json_object_put(o);
    capture_begin();
    assert_true(xalarm_Upgrade(filter_every(SENTRY_ALARM_ID_MIN, 2), 0));
    assert_string_equal(capture_end(), "");
    o = srv_read_json(fd);
    assert_json_action(o, "update_filter");
    assert_true(json_object_object_get_ex(o, "id_filter", &a));
    assert_int_equal(json_object_array_length(a), XALARM_ID_RANGES_MAX);
    json_object_put(o);
    xalarm_UnRegister(0);
    close(fd);
}

/* ---- report functions ----------------------------------------------------------------------- */

static void srv_recv_report(struct alarm_info *ret)
{
    static unsigned char buf[XALARM_RECORD_SIZE + 100];

    assert_true(wait_readable(srv.report_fd, WAIT_MSEC));
    ssize_t n = recv(srv.report_fd, buf, sizeof(buf), 0);
    assert_int_equal(n, XALARM_RECORD_SIZE);
    assert_int_equal(xalarm_record_parse(buf, (size_t) n, ret), 0);
}

static struct {
    int saved, mem;
} err_cap = {.saved = -1, .mem = -1};

/* stderr into a memfd (xalarm_Report() and xalarm_report_event() print there). */
static void stderr_capture_begin(void)
{
    fflush(stderr);
    err_cap.saved = dup(STDERR_FILENO);
    err_cap.mem = memfd_create("capture", MFD_CLOEXEC);
    assert_true(err_cap.saved >= 0 && err_cap.mem >= 0);
    assert_true(dup2(err_cap.mem, STDERR_FILENO) >= 0);
}

static void stderr_capture_end(char *buf, size_t size)
{
    fflush(stderr);
    dup2(err_cap.saved, STDERR_FILENO);
    close(err_cap.saved);
    ssize_t n = pread(err_cap.mem, buf, size - 1, 0);
    close(err_cap.mem);
    err_cap.saved = err_cap.mem = -1;
    buf[n > 0 ? n : 0] = 0;
}

static void test_report(void **state)
{
    static char big[XALARM_TEXT_MAX + 1];
    static struct alarm_info rec;
    struct {
        unsigned id, level, type;
        const char *text;
    } cases[] = {
        {1001, 1, 1, "{\"a\":1}"},
        {1128, 3, 2, ""},
        {1064, 2, 1, big},
    };
    char ack_extra[] = "ack 1003 extra";
    struct timeval now;

    memset(big, 'r', XALARM_TEXT_MAX);
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        assert_int_equal(xalarm_Report((unsigned short) cases[i].id, (unsigned char) cases[i].level,
                                       (unsigned char) cases[i].type, (char *) cases[i].text),
                         0);
        srv_recv_report(&rec);
        assert_int_equal(rec.usAlarmId, cases[i].id);
        assert_int_equal(rec.ucAlarmLevel, cases[i].level);
        assert_int_equal(rec.ucAlarmType, cases[i].type);
        assert_string_equal(rec.pucParas, cases[i].text);
        gettimeofday(&now, NULL);
        assert_true(now.tv_sec - rec.AlarmTime.tv_sec <= 5);
    }

    /* The handle API's producer: level MINOR, type OCCUR, len bytes of the text. */
    assert_int_equal(xalarm_report_event(1004, ack_extra, 8), 0);
    srv_recv_report(&rec);
    assert_int_equal(rec.usAlarmId, 1004);
    assert_int_equal(rec.ucAlarmLevel, MINOR_ALM);
    assert_int_equal(rec.ucAlarmType, SENTRY_ALARM_OCCUR);
    assert_string_equal(rec.pucParas, "ack 1003");
    assert_int_equal(xalarm_report_event(1005, big, XALARM_TEXT_MAX), 0);
    srv_recv_report(&rec);
    assert_int_equal(strlen(rec.pucParas), XALARM_TEXT_MAX);

    /* The reference's contract: only the first len bytes are read, so a text of exactly len
     * bytes without a NUL after it is fine (ASan watches the buffer's end). */
    char *exact = malloc(4);
    assert_non_null(exact);
    memcpy(exact, "abcd", 4);
    assert_int_equal(xalarm_report_event(1004, exact, 4), 0);
    free(exact);
    srv_recv_report(&rec);
    assert_string_equal(rec.pucParas, "abcd");

    /* The reference's refusals: -EINVAL, nothing printed (the handle API is silent), nothing
     * sent, nothing read past len. */
    struct {
        unsigned id;
        char *text;
        size_t len;
    } refused[] = {
        {SENTRY_ALARM_ID_MIN - 1, ack_extra, 3},
        {SENTRY_ALARM_ID_MAX + 1, ack_extra, 3},
        {1004, NULL, 3},
        {1004, ack_extra, 0},
        {1004, big, XALARM_TEXT_MAX + 1},
        {1004, ack_extra, sizeof(ack_extra)}, /* the NUL inside len */
    };
    for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
        char err[256];
        stderr_capture_begin();
        assert_int_equal(
            xalarm_report_event((unsigned short) refused[i].id, refused[i].text, refused[i].len),
            -EINVAL);
        stderr_capture_end(err, sizeof(err));
        assert_string_equal(err, "");
    }
    assert_false(wait_readable(srv.report_fd, 100));

    /* The socket file is left but nobody reads it (a dead server). */
    close(srv.report_fd);
    srv.report_fd = -1;
    assert_int_equal(xalarm_report_event(1004, ack_extra, 3), -ENOTCONN);
    char expect[64];
    snprintf(expect, sizeof(expect), "xalarm_Report: sendto failed errno: %d\n", ECONNREFUSED);
    stderr_capture_begin();
    int r = xalarm_Report(1001, 1, 1, ack_extra);
    char out[256];
    stderr_capture_end(out, sizeof(out));
    assert_int_equal(r, -1);
    assert_string_equal(out, expect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_stream, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_register_errors, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_unregister_while_waiting, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_unregister_from_callback, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_event_api, srv_setup, srv_teardown),
        cmocka_unit_test(test_bitmap_to_ranges),
        cmocka_unit_test_setup_teardown(test_register_ranges, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_report, srv_setup, srv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
