/* test_alarm_rate_limit: the per-reporter rate limit of the bus: windows of `burst` alarms per
 * `interval` (the journald way), one count per (uid, source), and the summary of what a window
 * refused, handed out when the window is over (at the timer, or before the reporter's next
 * alarm passes) as valid JSON that names the source. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alarm_rate_limit.h"
#include "ratelimit.h"

#define SEC USEC_PER_SEC

struct seen {
    unsigned calls;
    uint64_t count;
    char source[64];
    uint32_t uid;
    uint16_t id;
    uint8_t type;
    char key[32];
};

static void on_suppressed(const struct alarm_suppressed *s, void *userdata)
{
    struct seen *w = userdata;
    w->calls++;
    w->count = s->count;
    snprintf(w->source, sizeof(w->source), "%s", s->source);
    snprintf(w->key, sizeof(w->key), "%s", s->key);
    w->uid = s->uid;
    w->id = s->id;
    w->type = s->type;
}

static struct alarm alarm_of(uint32_t uid, const char *source, uint16_t id)
{
    return (struct alarm){.uid = uid,
                          .source = source,
                          .id = id,
                          .level = 1,
                          .type = 1,
                          .key = "sda",
                          .origin = ALARM_ORIGIN_NATIVE};
}

static void test_ratelimit(void **state)
{
    struct ratelimit rl = {.interval_us = 10 * SEC, .burst = 3};
    uint64_t t = 1000 * SEC;

    for (int i = 0; i < 3; i++)
        assert_true(ratelimit_below(&rl, t + (uint64_t) i));
    assert_false(ratelimit_below(&rl, t + 5 * SEC));
    assert_false(ratelimit_below(&rl, t + 10 * SEC - 1));
    assert_int_equal(rl.suppressed, 2);
    assert_false(ratelimit_window_over(&rl, t + 10 * SEC - 1));
    assert_true(ratelimit_window_over(&rl, t + 10 * SEC));
    assert_true(ratelimit_below(&rl, t + 10 * SEC)); /* a new window */
    assert_int_equal(rl.suppressed, 0);
    /* 0 means no limit */
    struct ratelimit none = {0};
    for (int i = 0; i < 100000; i++)
        assert_true(ratelimit_below(&none, t));
}

static void test_per_reporter(void **state)
{
    struct alarm_rate_limit *rl = alarm_rate_limit_new(5, 2 * SEC);
    struct seen w = {0};
    uint64_t t = 50 * SEC;
    unsigned passed = 0;

    for (int i = 0; i < 1000; i++) {
        struct alarm a = alarm_of(1000, "flood", 1002);
        passed += alarm_rate_limit_check(rl, &a, t + (uint64_t) i, on_suppressed, &w);
    }
    assert_int_equal(passed, 5);
    assert_int_equal(alarm_rate_limit_suppressed_total(rl), 995);
    /* another source of the same uid, and the same source of another uid, count apart */
    struct alarm other = alarm_of(1000, "quiet", 1002), peer = alarm_of(1001, "flood", 1002);
    assert_true(alarm_rate_limit_check(rl, &other, t, on_suppressed, &w));
    assert_true(alarm_rate_limit_check(rl, &peer, t, on_suppressed, &w));
    assert_int_equal(w.calls, 0); /* nothing told while the window is open */

    /* the timer: the window is over, its summary comes once */
    uint64_t next = alarm_rate_limit_expire(rl, t + SEC, on_suppressed, &w);
    assert_int_equal(w.calls, 0);
    assert_int_equal(next, t + 2 * SEC);
    next = alarm_rate_limit_expire(rl, t + 2 * SEC + 1000, on_suppressed, &w);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.count, 995);
    assert_string_equal(w.source, "flood");
    assert_int_equal(w.uid, 1000);
    assert_int_equal(w.id, 1002);
    assert_string_equal(w.key, "sda");
    assert_int_equal(next, 0); /* nothing else to tell */
    assert_int_equal(alarm_rate_limit_expire(rl, t + 10 * SEC, on_suppressed, &w), 0);
    assert_int_equal(w.calls, 1);
    alarm_rate_limit_free(rl);
}

static void test_summary_before_next_alarm(void **state)
{
    struct alarm_rate_limit *rl = alarm_rate_limit_new(1, SEC);
    struct seen w = {0};
    struct alarm a = alarm_of(7, "t", 1010), b = alarm_of(7, "t", 1011);

    b.type = 2;
    assert_true(alarm_rate_limit_check(rl, &a, 10 * SEC, on_suppressed, &w));
    assert_false(alarm_rate_limit_check(rl, &a, 10 * SEC + 1, on_suppressed, &w));
    assert_false(alarm_rate_limit_check(rl, &b, 10 * SEC + 2, on_suppressed, &w));
    /* the window is over, the timer has not run: the summary comes first, then a passes */
    assert_true(alarm_rate_limit_check(rl, &a, 11 * SEC, on_suppressed, &w));
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.count, 2);
    assert_int_equal(w.id, 1011); /* the last one refused */
    assert_int_equal(w.type, 2);
    alarm_rate_limit_free(rl);
}

static void test_disabled_and_full(void **state)
{
    struct alarm_rate_limit *off = alarm_rate_limit_new(0, SEC);
    struct alarm a = alarm_of(1, "s", 1001);
    assert_false(alarm_rate_limit_enabled(off));
    for (int i = 0; i < 100; i++)
        assert_true(alarm_rate_limit_check(off, &a, SEC, NULL, NULL));
    alarm_rate_limit_free(off);

    /* more reporters than the table holds: the ones without room are not limited */
    struct alarm_rate_limit *rl = alarm_rate_limit_new(1, 100 * SEC);
    char name[32];
    for (unsigned i = 0; i < ALARM_RATE_LIMIT_KEYS + 10; i++) {
        snprintf(name, sizeof(name), "s%u", i);
        struct alarm x = alarm_of(1, name, 1001);
        assert_true(alarm_rate_limit_check(rl, &x, SEC, NULL, NULL));
    }
    /* idle reporters are forgotten once their window is over */
    assert_int_equal(alarm_rate_limit_expire(rl, 200 * SEC, NULL, NULL), 0);
    struct alarm y = alarm_of(1, "new", 1001);
    assert_true(alarm_rate_limit_check(rl, &y, 200 * SEC, NULL, NULL));
    assert_false(alarm_rate_limit_check(rl, &y, 200 * SEC, NULL, NULL));
    alarm_rate_limit_free(rl);
}

static void test_summary_text(void **state)
{
    struct alarm_suppressed s = {
        .uid = 65534, .source = "uid:65534", .count = 42, .interval_us = 30 * SEC, .burst = 100};
    char buf[ALARM_SUPPRESSED_TEXT_MAX];
    size_t n = alarm_suppressed_text(&s, buf, sizeof(buf));
    assert_int_equal(n, strlen(buf));
    json_object *o = json_tokener_parse(buf), *v;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "alarm_source", &v));
    assert_string_equal(json_object_get_string(v), "uid:65534");
    assert_true(json_object_object_get_ex(o, "suppressed", &v));
    assert_int_equal(json_object_get_int64(v), 42);
    assert_true(json_object_object_get_ex(o, "message", &v));
    assert_non_null(strstr(json_object_get_string(v), "42 alarms suppressed"));
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_per_reporter),
        cmocka_unit_test(test_summary_before_next_alarm),
        cmocka_unit_test(test_disabled_and_full),
        cmocka_unit_test(test_summary_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
