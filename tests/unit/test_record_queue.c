/* test_record_queue: a subscriber's queue of shared records sent with writev over a real socket
 * whose buffer fills: every record arrives whole and byte-exact, in order, whatever the sizes
 * of the partial sends; xalarm records (kept as a head plus a shared zero tail) arrive as the
 * full 8216-byte struct alarm_info; native records as their stream line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "record_queue.h"
#include "xalarm_record.h"

#define N_RECORDS 200

static struct alarm_record *make_record(unsigned i)
{
    static char text[XALARM_TEXT_MAX + 1];
    /* text lengths vary from 0 to the longest an xalarm record holds */
    size_t len = (i * 977) % (XALARM_TEXT_MAX + 1);
    struct alarm a = {.seq = i + 1,
                      .time_us = 1700000000000000ULL + i,
                      .id = (uint16_t) (1001 + i % 100),
                      .level = 2,
                      .type = 1,
                      .source = "test",
                      .key = "",
                      .node = "",
                      .text = text,
                      .text_len = len};

    for (size_t k = 0; k < len; k++)
        text[k] = (char) ('a' + (i + k) % 26);
    return alarm_record_new(&a);
}

static int socket_pair(int ret[2])
{
    int small = 4096;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ret) < 0)
        return -errno;
    /* a small buffer: most flushes end in the middle of a record */
    (void) setsockopt(ret[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    (void) setsockopt(ret[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    return 0;
}

/* Reads what is there into buf (at most cap in all), returns the new length. */
static size_t drain(int fd, char *buf, size_t len, size_t cap, size_t step)
{
    for (;;) {
        size_t want = cap - len < step ? cap - len : step;
        if (want == 0)
            return len;
        ssize_t n = read(fd, buf + len, want);
        if (n <= 0)
            return len;
        len += (size_t) n;
    }
}

/* Pushes N_RECORDS records, flushes and reads in turns (reads of read_step bytes) until all
 * came; returns the bytes received (malloc'ed), their length in *len. */
static char *send_all(enum record_form form, size_t cap, size_t read_step, size_t *len)
{
    struct record_queue q;
    int fd[2];
    char *buf = malloc(cap);

    assert_non_null(buf);
    assert_int_equal(socket_pair(fd), 0);
    record_queue_init(&q, form);
    for (unsigned i = 0; i < N_RECORDS; i++) {
        struct alarm_record *r = make_record(i);
        assert_non_null(r);
        assert_int_equal(record_queue_push(&q, r), 0);
        alarm_record_unref(r); /* the queue holds its own reference */
    }
    *len = 0;
    for (int round = 0; record_queue_len(&q) > 0; round++) {
        assert_true(round < 1000000);
        assert_int_equal(record_queue_flush(&q, fd[0]), 0);
        *len = drain(fd[1], buf, *len, cap, read_step);
    }
    *len = drain(fd[1], buf, *len, cap, read_step);
    record_queue_done(&q);
    close(fd[0]);
    close(fd[1]);
    return buf;
}

static void test_xalarm_records_whole(void **state)
{
    size_t cap = (size_t) N_RECORDS * XALARM_RECORD_SIZE, len;
    static const size_t steps[] = {1000, 8216, 65536};

    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        char *buf = send_all(RECORD_FORM_XALARM, cap, steps[s], &len);
        assert_int_equal(len, cap);
        for (unsigned i = 0; i < N_RECORDS; i++) {
            struct alarm_record *r = make_record(i);
            struct alarm_info want;
            struct timeval tv = {.tv_sec = 1700000000, .tv_usec = (suseconds_t) i};

            assert_int_equal(xalarm_record_build(&want, r->a.id, r->a.level, r->a.type, &tv,
                                                 r->a.text, r->a.text_len),
                             0);
            assert_memory_equal(buf + (size_t) i * XALARM_RECORD_SIZE, &want, XALARM_RECORD_SIZE);
            alarm_record_unref(r);
        }
        free(buf);
    }
}

static void test_native_lines_in_order(void **state)
{
    size_t cap = (size_t) N_RECORDS * 20000, len;
    char *buf = send_all(RECORD_FORM_LINE, cap, 777, &len);
    size_t off = 0;

    for (unsigned i = 0; i < N_RECORDS; i++) {
        struct alarm_record *r = make_record(i);
        size_t ll;
        const char *line = alarm_record_line(r, &ll);

        assert_non_null(line);
        assert_true(off + ll <= len);
        assert_memory_equal(buf + off, line, ll);
        off += ll;
        alarm_record_unref(r);
    }
    assert_int_equal(off, len);
    free(buf);
}

/* The peer is gone: the flush says so, and the queue still frees its records. */
static void test_peer_gone(void **state)
{
    struct record_queue q;
    int fd[2];
    struct alarm_record *r = make_record(3);

    assert_int_equal(socket_pair(fd), 0);
    record_queue_init(&q, RECORD_FORM_XALARM);
    assert_int_equal(record_queue_push(&q, r), 0);
    alarm_record_unref(r);
    close(fd[1]);
    assert_int_equal(record_queue_flush(&q, fd[0]), -EPIPE);
    record_queue_done(&q);
    close(fd[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xalarm_records_whole),
        cmocka_unit_test(test_native_lines_in_order),
        cmocka_unit_test(test_peer_gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
