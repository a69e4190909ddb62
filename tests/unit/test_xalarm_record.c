/* test_xalarm_record: the 8216-byte xalarm record (layout, building, the server-side checks),
 * the argument checks of xalarm_Report() and xalarm_report_event() with their exact return
 * values and messages, and the alarm_info getters. Nothing here needs a socket: every call
 * below is refused before one is opened. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "macro.h"
#include "xalarm_record.h"

/* Sends stdout or stderr to a memory file for the duration of a call; returns what was written. */
struct capture {
    int fd;
    int saved;
};

static void capture_begin(struct capture *c, int target)
{
    fflush(target == STDOUT_FILENO ? stdout : stderr);
    c->fd = memfd_create("capture", MFD_CLOEXEC);
    assert_true(c->fd >= 0);
    c->saved = dup(target);
    assert_true(c->saved >= 0);
    assert_true(dup2(c->fd, target) >= 0);
}

static char *capture_end(struct capture *c, int target)
{
    static char buf[4096];
    ssize_t n;

    fflush(target == STDOUT_FILENO ? stdout : stderr);
    assert_true(dup2(c->saved, target) >= 0);
    close(c->saved);
    n = pread(c->fd, buf, sizeof(buf) - 1, 0);
    assert_true(n >= 0);
    buf[n] = 0;
    close(c->fd);
    return buf;
}

static void test_layout(void **state)
{
    assert_int_equal(sizeof(struct alarm_info), 8216);
    assert_int_equal(XALARM_RECORD_SIZE, 8216);
    assert_int_equal(offsetof(struct alarm_info, usAlarmId), 0);
    assert_int_equal(offsetof(struct alarm_info, ucAlarmLevel), 2);
    assert_int_equal(offsetof(struct alarm_info, ucAlarmType), 3);
    assert_int_equal(offsetof(struct alarm_info, AlarmTime), 8);
    assert_int_equal(offsetof(struct alarm_info, AlarmTime.tv_sec), 8);
    assert_int_equal(offsetof(struct alarm_info, AlarmTime.tv_usec), 16);
    assert_int_equal(offsetof(struct alarm_info, pucParas), 24);
    assert_int_equal(sizeof(((struct alarm_info *) 0)->pucParas), 8192);
    assert_int_equal(XALARM_TEXT_MAX, 8191);
    /* struct alarm_msg of the handle API: id, time, text. */
    assert_int_equal(offsetof(struct alarm_msg, AlarmTime), 8);
    assert_int_equal(offsetof(struct alarm_msg, pucParas), 24);
    assert_int_equal(sizeof(struct alarm_register), sizeof(int) + MAX_NUM_OF_ALARM_ID);
}

/* The head is the full record's first bytes, up to and with the text's NUL; the same checks. */
static void test_build_head(void **state)
{
    static struct alarm_info full;
    static char head[XALARM_RECORD_SIZE];
    static char text[XALARM_TEXT_MAX + 1];
    struct timeval tv = {.tv_sec = 1700000000, .tv_usec = 42};
    static const size_t lens[] = {0, 1, 128, XALARM_TEXT_MAX};

    memset(text, 'q', sizeof(text));
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i];
        memset(head, 0xAA, sizeof(head));
        assert_int_equal(
            xalarm_record_build(&full, 1002, MAJOR_ALM, SENTRY_ALARM_RECOVER, &tv, text, len), 0);
        assert_int_equal(
            xalarm_record_build_head(head, 1002, MAJOR_ALM, SENTRY_ALARM_RECOVER, &tv, text, len),
            0);
        assert_int_equal(XALARM_RECORD_HEAD_SIZE(len), 24 + len + 1);
        assert_memory_equal(head, &full, XALARM_RECORD_HEAD_SIZE(len));
        /* nothing written past the head */
        if (XALARM_RECORD_HEAD_SIZE(len) < sizeof(head))
            assert_int_equal((unsigned char) head[XALARM_RECORD_HEAD_SIZE(len)], 0xAA);
        /* the rest of the full record is what the shared zero tail holds */
        assert_memory_equal((char *) &full + XALARM_RECORD_HEAD_SIZE(len), xalarm_zero_record,
                            XALARM_RECORD_SIZE - XALARM_RECORD_HEAD_SIZE(len));
    }
    assert_int_equal(xalarm_record_build_head(head, 1000, 1, 1, NULL, "a", 1), -EINVAL);
    assert_int_equal(xalarm_record_build_head(head, 1001, 1, 1, NULL, "a\0b", 3), -EINVAL);
    assert_int_equal(xalarm_record_build_head(head, 1001, 1, 1, NULL, text, XALARM_TEXT_MAX + 1),
                     -EINVAL);
    assert_int_equal(xalarm_record_build_head(NULL, 1001, 1, 1, NULL, "a", 1), -EINVAL);
}

static void test_build(void **state)
{
    static struct alarm_info rec;
    static char big[XALARM_TEXT_MAX + 2];
    struct timeval tv = {.tv_sec = 1700000000, .tv_usec = 123456};

    memset(&rec, 0xAA, sizeof(rec));
    assert_int_equal(xalarm_record_build(&rec, 1001, MINOR_ALM, SENTRY_ALARM_OCCUR, &tv, "abc", 3),
                     0);
    assert_int_equal(rec.usAlarmId, 1001);
    assert_int_equal(rec.ucAlarmLevel, 1);
    assert_int_equal(rec.ucAlarmType, 1);
    assert_int_equal(rec.AlarmTime.tv_sec, 1700000000);
    assert_int_equal(rec.AlarmTime.tv_usec, 123456);
    assert_string_equal(rec.pucParas, "abc");
    /* Padding and unused text are zero: no stale memory goes onto the wire. */
    const unsigned char *b = (const unsigned char *) &rec;
    for (size_t i = 4; i < 8; i++)
        assert_int_equal(b[i], 0);
    for (size_t i = 24 + 3; i < sizeof(rec); i++)
        assert_int_equal(b[i], 0);
    assert_int_equal(xalarm_record_text_len(&rec), 3);

    /* The longest text fits with its NUL; one byte more does not. */
    memset(big, 'x', sizeof(big));
    assert_int_equal(xalarm_record_build(&rec, 1128, 5, 0, NULL, big, XALARM_TEXT_MAX), 0);
    assert_int_equal(strlen(rec.pucParas), XALARM_TEXT_MAX);
    assert_int_equal(rec.AlarmTime.tv_sec, 0);
    assert_int_equal(xalarm_record_build(&rec, 1001, 1, 1, NULL, big, XALARM_TEXT_MAX + 1),
                     -EINVAL);
    assert_int_equal(xalarm_record_build(&rec, 1001, 1, 1, NULL, NULL, 0), 0);
    assert_string_equal(rec.pucParas, "");

    /* Out of what the server accepts. */
    assert_int_equal(xalarm_record_build(&rec, 1000, 1, 1, NULL, "a", 1), -EINVAL);
    assert_int_equal(xalarm_record_build(&rec, 1129, 1, 1, NULL, "a", 1), -EINVAL);
    assert_int_equal(xalarm_record_build(&rec, 1001, 0, 1, NULL, "a", 1), -EINVAL);
    assert_int_equal(xalarm_record_build(&rec, 1001, 6, 1, NULL, "a", 1), -EINVAL);
    assert_int_equal(xalarm_record_build(&rec, 1001, 1, 3, NULL, "a", 1), -EINVAL);
    assert_int_equal(xalarm_record_build(&rec, 1001, 1, 1, NULL, NULL, 1), -EINVAL);
    assert_int_equal(xalarm_record_build(&rec, 1001, 1, 1, NULL, "a\0b", 3), -EINVAL);
    assert_int_equal(xalarm_record_build(NULL, 1001, 1, 1, NULL, "a", 1), -EINVAL);
}

static void test_parse(void **state)
{
    static unsigned char buf[XALARM_RECORD_SIZE + 8];
    static struct alarm_info rec, out;
    struct {
        unsigned id, level, type;
        int r;
    } cases[] = {
        {1001, 1, 1, 0},         {1128, 5, 0, 0},       {1064, 3, 2, 0},
        {1000, 1, 1, -ERANGE},   {1129, 1, 1, -ERANGE}, {0, 1, 1, -ERANGE},
        {1001, 0, 1, -ERANGE},   {1001, 6, 1, -ERANGE}, {1001, 1, 3, -ERANGE},
        {1001, 255, 1, -ERANGE},
    };

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        memset(&rec, 0, sizeof(rec));
        rec.usAlarmId = (unsigned short) cases[i].id;
        rec.ucAlarmLevel = (unsigned char) cases[i].level;
        rec.ucAlarmType = (unsigned char) cases[i].type;
        strcpy(rec.pucParas, "{\"k\":1}");
        /* At an odd address: a datagram buffer need not be aligned. */
        memcpy(buf + 1, &rec, sizeof(rec));
        assert_int_equal(xalarm_record_parse(buf + 1, sizeof(rec), &out), cases[i].r);
        if (cases[i].r == 0) {
            assert_int_equal(out.usAlarmId, cases[i].id);
            assert_string_equal(out.pucParas, "{\"k\":1}");
        }
    }

    assert_int_equal(xalarm_record_build(&rec, 1001, 1, 1, NULL, "x", 1), 0);
    assert_int_equal(xalarm_record_parse(&rec, sizeof(rec) - 1, NULL), -EMSGSIZE);
    assert_int_equal(xalarm_record_parse(buf, sizeof(rec) + 1, NULL), -EMSGSIZE);
    assert_int_equal(xalarm_record_parse(buf, 0, NULL), -EMSGSIZE);
    assert_int_equal(xalarm_record_parse(&rec, sizeof(rec), NULL), 0);
    /* Text without its NUL. */
    memset(rec.pucParas, 'y', sizeof(rec.pucParas));
    assert_int_equal(xalarm_record_parse(&rec, sizeof(rec), NULL), -EBADMSG);
    assert_int_equal(xalarm_record_text_len(&rec), XALARM_TEXT_MAX);
}

static void test_service_down_and_tables(void **state)
{
    static struct alarm_info rec;

    xalarm_record_service_down(&rec);
    assert_int_equal(rec.usAlarmId, 1128);
    assert_int_equal(rec.ucAlarmLevel, 1);
    assert_int_equal(rec.ucAlarmType, 1);
    assert_int_equal(rec.AlarmTime.tv_sec, 0);
    assert_int_equal(rec.AlarmTime.tv_usec, 0);
    assert_string_equal(rec.pucParas, "sysSentry service is down");
    assert_int_equal(xalarm_record_parse(&rec, sizeof(rec), NULL), 0);

    unsigned n = 0;
    for (unsigned id = 0; id < 2000; id++)
        if (xalarm_id_is_kernel_event(id)) {
            assert_true(id == 1003 || id == 1005 || id == 1007 || id == 1009 || id == 1013 ||
                        id == 1016);
            n++;
        }
    assert_int_equal(n, 6);

    assert_string_equal(xalarm_level_to_string(1), "MINOR_ALM");
    assert_string_equal(xalarm_level_to_string(3), "CRITICAL_ALM");
    assert_null(xalarm_level_to_string(0));
    assert_null(xalarm_level_to_string(4));
    assert_string_equal(xalarm_type_to_string(2), "ALARM_TYPE_RECOVER");
    assert_null(xalarm_type_to_string(0));
    assert_null(xalarm_type_to_string(3));
}

/* Every refusal of xalarm_Report(): -1 and the reference's message on stderr. */
static void test_report_invalid(void **state)
{
    static char too_long[XALARM_TEXT_MAX + 2];
    struct {
        unsigned id, level, type;
        const char *text;
    } cases[] = {
        {1000, 1, 1, "t"},      {1129, 1, 1, "t"}, {0, 1, 1, "t"},      {65535, 1, 1, "t"},
        {1001, 0, 1, "t"},      {1001, 4, 1, "t"}, {1001, 5, 1, "t"},   {1001, 255, 1, "t"},
        {1001, 1, 0, "t"},      {1001, 1, 3, "t"}, {1001, 1, 255, "t"}, {1001, 1, 1, NULL},
        {1001, 1, 1, too_long},
    };
    struct capture c;

    memset(too_long, 'z', XALARM_TEXT_MAX + 1);
    /* Far away from any server: a refusal must not even try to send. */
    assert_int_equal(setenv(XALARM_ENV_DIR, "/nonexistent-xalarm-dir", 1), 0);
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        capture_begin(&c, STDERR_FILENO);
        int r = xalarm_Report((unsigned short) cases[i].id, (unsigned char) cases[i].level,
                              (unsigned char) cases[i].type, (char *) cases[i].text);
        const char *out = capture_end(&c, STDERR_FILENO);
        assert_int_equal(r, -1);
        assert_string_equal(out, "xalarm_Report: alarm info invalid\n");
    }
    /* Valid, but nobody listens: the send error with its errno (ENOENT). */
    capture_begin(&c, STDERR_FILENO);
    char t[] = "t";
    int r = xalarm_Report(1001, MINOR_ALM, SENTRY_ALARM_OCCUR, t);
    const char *out = capture_end(&c, STDERR_FILENO);
    assert_int_equal(r, -1);
    assert_string_equal(out, "xalarm_Report: sendto failed errno: 2\n");
}

static void test_report_event_invalid(void **state)
{
    static char big[XALARM_TEXT_MAX + 2];
    struct {
        unsigned id;
        const char *text;
        size_t len;
    } cases[] = {
        {1000, "t", 1},        {1129, "t", 1},
        {0, "t", 1},           {1001, NULL, 1},
        {1001, "t", 0},        {1001, "ab", 3}, /* len beyond the string */
        {1001, "a\0b", 3},     {1001, big, XALARM_TEXT_MAX + 1},
        {1001, big, SIZE_MAX},
    };
    char ack[] = "ack";
    struct capture c;

    memset(big, 'q', XALARM_TEXT_MAX + 1);
    assert_int_equal(setenv(XALARM_ENV_DIR, "/nonexistent-xalarm-dir", 1), 0);
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        capture_begin(&c, STDERR_FILENO);
        int r =
            xalarm_report_event((unsigned short) cases[i].id, (char *) cases[i].text, cases[i].len);
        const char *out = capture_end(&c, STDERR_FILENO);
        assert_int_equal(r, -EINVAL);
        assert_string_equal(out, ""); /* the handle API prints nothing */
    }
    /* Valid but no socket: the address is missing. */
    assert_int_equal(xalarm_report_event(1004, big, XALARM_TEXT_MAX), -ENOTCONN);
    assert_int_equal(xalarm_report_event(1004, ack, 3), -ENOTCONN);
    /* A directory name too long for an AF_UNIX address is a missing address too. */
    char longdir[200];
    memset(longdir, 'd', sizeof(longdir) - 1);
    longdir[0] = '/';
    longdir[sizeof(longdir) - 1] = 0;
    assert_int_equal(setenv(XALARM_ENV_DIR, longdir, 1), 0);
    assert_int_equal(xalarm_report_event(1004, ack, 3), -ENOTCONN);
}

static void test_getters(void **state)
{
    static struct alarm_info a;

    assert_int_equal(xalarm_getid(NULL), 0);
    assert_int_equal(xalarm_getlevel(NULL), 0);
    assert_int_equal(xalarm_gettype(NULL), 0);
    assert_int_equal(xalarm_gettime(NULL), 0);
    assert_null(xalarm_getdesc(NULL));

    assert_int_equal(xalarm_record_build(&a, 1042, CRITICAL_ALM, SENTRY_ALARM_RECOVER,
                                         &(struct timeval){1700000000, 999999}, "desc", 4),
                     0);
    assert_int_equal(xalarm_getid(&a), 1042);
    assert_int_equal(xalarm_getlevel(&a), 3);
    assert_int_equal(xalarm_gettype(&a), 2);
    /* Milliseconds, the microseconds truncated. */
    assert_int_equal(xalarm_gettime(&a), 1700000000999LL);
    assert_ptr_equal(xalarm_getdesc(&a), a.pucParas);
    assert_string_equal(xalarm_getdesc(&a), "desc");
    a.AlarmTime = (struct timeval){0, 1999};
    assert_int_equal(xalarm_gettime(&a), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_build_head),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_service_down_and_tables),
        cmocka_unit_test(test_report_invalid),
        cmocka_unit_test(test_report_event_invalid),
        cmocka_unit_test(test_getters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
