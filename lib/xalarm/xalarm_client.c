/* xalarm_client.c: the connection to sentryd's xalarm sockets shared by the callback and the
 * handle API (see xalarm_client.h). The registration lines are JSON built with json-c, the
 * subscription compacted into ranges of ids; records are read whole, however the stream splits
 * them. */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "json_util.h"
#include "macro.h"
#include "xalarm_client.h"

/* A registration line is small; a server that does not take it within this time is stuck. */
#define XALARM_SEND_TIMEOUT_MSEC 5000

const char *xalarm_socket_dir(void)
{
    const char *d = getenv(XALARM_ENV_DIR);
    return isempty(d) ? XALARM_DIR_DEFAULT : d;
}

int xalarm_socket_address(const char *name, struct sockaddr_un *ret, socklen_t *ret_len)
{
    int n;

    memset(ret, 0, sizeof(*ret));
    ret->sun_family = AF_UNIX;
    n = snprintf(ret->sun_path, sizeof(ret->sun_path), "%s/%s", xalarm_socket_dir(), name);
    if (n < 0 || (size_t) n >= sizeof(ret->sun_path))
        return -ENAMETOOLONG;
    *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + (size_t) n + 1);
    return 0;
}

bool xalarm_filter_valid(const struct alarm_subscription_info *filter)
{
    if (filter->len > MAX_NUM_OF_ALARM_ID)
        return false;
    for (unsigned i = 0; i < filter->len; i++)
        if (filter->id_list[i] < SENTRY_ALARM_ID_MIN || filter->id_list[i] > SENTRY_ALARM_ID_MAX)
            return false;
    return true;
}

void xalarm_filter_to_bitmap(const struct alarm_subscription_info *filter,
                             char bitmap[MAX_NUM_OF_ALARM_ID])
{
    memset(bitmap, 0, MAX_NUM_OF_ALARM_ID);
    for (unsigned i = 0; i < filter->len && i < MAX_NUM_OF_ALARM_ID; i++)
        if (xalarm_id_valid((unsigned) filter->id_list[i]))
            bitmap[filter->id_list[i] - SENTRY_ALARM_ID_MIN] = 1;
}

bool xalarm_bitmap_has(const char bitmap[MAX_NUM_OF_ALARM_ID], unsigned id)
{
    return xalarm_id_valid(id) && bitmap[id - SENTRY_ALARM_ID_MIN] == 1;
}

int xalarm_stream_connect(int *ret_fd)
{
    _cleanup_close_ int fd = -EBADF;
    struct sockaddr_un sa;
    socklen_t sa_len;
    int r;

    r = xalarm_socket_address(XALARM_SOCKET_ALARM, &sa, &sa_len);
    if (r < 0)
        return r;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* Blocking: a full backlog makes us wait instead of failing with EAGAIN. */
    while (connect(fd, (struct sockaddr *) &sa, sa_len) < 0)
        if (errno != EINTR)
            return -errno;
    *ret_fd = TAKE_FD(fd);
    return 0;
}

/* Sends all of buf, also on a non-blocking fd (waiting for room up to the timeout). MSG_NOSIGNAL:
 * a closed server is an error to return, not a SIGPIPE for the program. */
static int xalarm_send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int k = poll(&p, 1, XALARM_SEND_TIMEOUT_MSEC);
            if (k < 0 && errno != EINTR)
                return -errno;
            if (k == 0)
                return -ETIMEDOUT;
            continue;
        }
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

size_t xalarm_bitmap_to_ranges(const char bitmap[MAX_NUM_OF_ALARM_ID],
                               struct xalarm_id_range ranges[XALARM_ID_RANGES_MAX])
{
    size_t n = 0;

    for (unsigned id = SENTRY_ALARM_ID_MIN; id <= SENTRY_ALARM_ID_MAX; id++) {
        if (!xalarm_bitmap_has(bitmap, id))
            continue;
        if (n > 0 && ranges[n - 1].hi + 1 == id) {
            ranges[n - 1].hi = id;
            continue;
        }
        /* A new range starts after a gap, so at most every other id starts one. */
        assert(n < XALARM_ID_RANGES_MAX);
        ranges[n++] = (struct xalarm_id_range){.lo = id, .hi = id};
    }
    return n;
}

/* Adds a new array under key to o; *ret borrows it. */
static int xalarm_json_add_array(json_object *o, const char *key, json_object **ret)
{
    json_object *a = json_object_new_array();
    if (!a)
        return -ENOMEM;
    if (json_object_object_add(o, key, a) < 0) {
        json_object_put(a);
        return -ENOMEM;
    }
    *ret = a;
    return 0;
}

/* Appends v (owned) to the array a. */
static int xalarm_json_append(json_object *a, json_object *v)
{
    if (!v || json_object_array_add(a, v) < 0) {
        json_object_put(v);
        return -ENOMEM;
    }
    return 0;
}

/* Adds "event_ids":[the kernel-event ids of the bitmap], one number each, as the reference. */
static int xalarm_json_add_event_ids(json_object *o, const char bitmap[MAX_NUM_OF_ALARM_ID])
{
    json_object *a;
    int r = xalarm_json_add_array(o, "event_ids", &a);

    for (unsigned id = SENTRY_ALARM_ID_MIN; r >= 0 && id <= SENTRY_ALARM_ID_MAX; id++)
        if (xalarm_bitmap_has(bitmap, id) && xalarm_id_is_kernel_event(id))
            r = xalarm_json_append(a, json_object_new_int((int) id));
    return r;
}

/* Adds "id_filter":[the bitmap's ranges]: 1007 for a range of one id, "1001-1003" for more. */
static int xalarm_json_add_id_filter(json_object *o, const char bitmap[MAX_NUM_OF_ALARM_ID])
{
    struct xalarm_id_range ranges[XALARM_ID_RANGES_MAX];
    size_t n = xalarm_bitmap_to_ranges(bitmap, ranges);
    json_object *a;
    int r = xalarm_json_add_array(o, "id_filter", &a);

    for (size_t i = 0; r >= 0 && i < n; i++) {
        char item[sizeof("65535-65535")];
        if (ranges[i].lo == ranges[i].hi) {
            r = xalarm_json_append(a, json_object_new_int((int) ranges[i].lo));
            continue;
        }
        int k = snprintf(item, sizeof(item), "%u-%u", ranges[i].lo, ranges[i].hi);
        if (k < 0 || (size_t) k >= sizeof(item))
            return -EINVAL;
        r = xalarm_json_append(a, json_object_new_string(item));
    }
    return r;
}

/* {"action":action}, to which the id lists are added. */
static int xalarm_json_new_action(const char *action, json_object **ret)
{
    _cleanup_json_ json_object *o = json_object_new_object();
    json_object *v;

    if (!o)
        return -ENOMEM;
    v = json_object_new_string(action);
    if (!v)
        return -ENOMEM;
    if (json_object_object_add(o, "action", v) < 0) {
        json_object_put(v);
        return -ENOMEM;
    }
    *ret = TAKE_PTR(o);
    return 0;
}

static int xalarm_stream_send_json(int fd, json_object *o)
{
    char line[XALARM_REGISTER_LINE_MAX];
    const char *s;
    size_t len;

    s = json_plain(o, &len);
    if (!s)
        return -ENOMEM;
    if (len + 1 > sizeof(line))
        return -EMSGSIZE;
    memcpy(line, s, len);
    line[len++] = '\n';
    return xalarm_send_all(fd, line, len);
}

int xalarm_stream_send_register(int fd, const char bitmap[MAX_NUM_OF_ALARM_ID])
{
    _cleanup_json_ json_object *o = NULL;
    int r;

    r = xalarm_json_new_action(XALARM_ACTION_REGISTER, &o);
    if (r < 0)
        return r;
    r = xalarm_json_add_event_ids(o, bitmap);
    if (r < 0)
        return r;
    r = xalarm_json_add_id_filter(o, bitmap);
    if (r < 0)
        return r;
    return xalarm_stream_send_json(fd, o);
}

int xalarm_stream_send_update(int fd, const char bitmap[MAX_NUM_OF_ALARM_ID])
{
    _cleanup_json_ json_object *o = NULL;
    int r;

    r = xalarm_json_new_action(XALARM_ACTION_UPDATE, &o);
    if (r < 0)
        return r;
    r = xalarm_json_add_id_filter(o, bitmap);
    if (r < 0)
        return r;
    return xalarm_stream_send_json(fd, o);
}

int xalarm_reader_read(struct xalarm_reader *r, int fd)
{
    ssize_t n;

    if (r->have == XALARM_RECORD_SIZE)
        r->have = 0;
    n = recv(fd, r->bytes + r->have, XALARM_RECORD_SIZE - r->have, 0);
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
    if (n == 0)
        return -EPIPE;
    r->have += (size_t) n;
    return r->have == XALARM_RECORD_SIZE;
}
