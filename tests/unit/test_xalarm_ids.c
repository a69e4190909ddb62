/* test_xalarm_ids: the ids an xalarm client registers and the report socket takes: the
 * reference's id_mask syntax, the "id_filter" array of a registration (every element an
 * integer), and the bus filter made from a set, which must honour any set of the 128 ids
 * (a filter of 64 ranges once dropped every id past the 64th). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alarm_filter.h"
#include "log.h"
#include "xalarm_ids.h"

static int setup(void **state)
{
    log_setup("test", LOG_TARGET_NULL, LOG_ERR);
    return 0;
}

static json_object *ids_array(unsigned from, unsigned to, unsigned step)
{
    json_object *a = json_object_new_array();
    for (unsigned id = from; id <= to; id += step)
        json_object_array_add(a, json_object_new_int((int) id));
    return a;
}

/* The filter made from set matches exactly the ids of set, and nothing outside the range. */
static void assert_filter_is(const struct xalarm_id_set *set)
{
    struct alarm_filter f = {0};
    xalarm_id_set_to_filter(set, &f);
    assert_true(f.n_ranges <= ALARM_FILTER_RANGES_MAX);
    for (unsigned id = 1; id <= 2000; id++) {
        struct alarm a = {.id = (uint16_t) id, .level = 1, .type = 1, .source = "x"};
        bool want = xalarm_id_set_has(set, id);
        if (alarm_filter_match(&f, &a) != want)
            fail_msg("id %u: filter says %d, set says %d", id, !want, want);
    }
    alarm_filter_done(&f);
}

static void test_every_id(void **state)
{
    struct xalarm_id_set set;
    unsigned ignored = 99;
    const char *why = NULL;
    json_object *a = ids_array(SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX, 1);

    assert_int_equal(xalarm_id_set_from_json(a, &set, &ignored, &why), 0);
    assert_int_equal(ignored, 0);
    assert_int_equal(xalarm_id_set_count(&set), SENTRY_ALARM_ID_COUNT);
    assert_true(xalarm_id_set_has(&set, 1100));
    assert_true(xalarm_id_set_has(&set, SENTRY_ALARM_ID_MAX));
    struct alarm_filter f = {0};
    xalarm_id_set_to_filter(&set, &f);
    assert_int_equal(f.n_ranges, 1); /* one run */
    assert_false(f.none);
    alarm_filter_done(&f);
    assert_filter_is(&set);
    json_object_put(a);
}

static void test_worst_case_runs(void **state)
{
    /* every other id: 64 runs, the most 128 ids can make */
    struct xalarm_id_set set;
    const char *why;
    json_object *a = ids_array(SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX, 2);

    assert_int_equal(xalarm_id_set_from_json(a, &set, NULL, &why), 0);
    assert_int_equal(xalarm_id_set_count(&set), 64);
    struct alarm_filter f = {0};
    xalarm_id_set_to_filter(&set, &f);
    assert_int_equal(f.n_ranges, 64);
    alarm_filter_done(&f);
    assert_filter_is(&set);
    json_object_put(a);

    /* the high half only, and a few scattered ids */
    a = ids_array(1065, SENTRY_ALARM_ID_MAX, 1);
    assert_int_equal(xalarm_id_set_from_json(a, &set, NULL, &why), 0);
    assert_filter_is(&set);
    json_object_put(a);
    a = json_tokener_parse("[1128,1001,1064,1065,1066,1100,1003,1003]");
    assert_int_equal(xalarm_id_set_from_json(a, &set, NULL, &why), 0);
    assert_int_equal(xalarm_id_set_count(&set), 7);
    assert_filter_is(&set);
    json_object_put(a);
}

static void test_empty_and_outside(void **state)
{
    struct xalarm_id_set set;
    unsigned ignored;
    const char *why;
    json_object *a = json_tokener_parse("[]");

    assert_int_equal(xalarm_id_set_from_json(a, &set, &ignored, &why), 0);
    assert_int_equal(xalarm_id_set_count(&set), 0);
    struct alarm_filter f = {0};
    xalarm_id_set_to_filter(&set, &f);
    assert_true(f.none); /* nothing asked for: nothing passes */
    alarm_filter_done(&f);
    assert_filter_is(&set);
    json_object_put(a);

    /* ids outside the range are left out and counted; huge numbers too */
    a = json_tokener_parse("[1000,1129,0,-1,65535,1002,18446744073709551615]");
    assert_int_equal(xalarm_id_set_from_json(a, &set, &ignored, &why), 0);
    assert_int_equal(ignored, 6);
    assert_int_equal(xalarm_id_set_count(&set), 1);
    assert_true(xalarm_id_set_has(&set, 1002));
    json_object_put(a);
}

static void test_types_checked(void **state)
{
    const char *bad[] = {"null",
                         "\"1001\"",
                         "{}",
                         "5",
                         "[null]",
                         "[1001,1.5]",
                         "[[1001]]",
                         "[true]",
                         "[{}]",
                         "[\"x\"]",
                         "[\"1001-\"]",
                         "[\"-1001\"]",
                         "[\"1005-1001\"]",
                         "[\" 1001\"]",
                         "[\"1001-1002-1003\"]",
                         "[\"\"]"};
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct xalarm_id_set set;
        const char *why = NULL;
        json_object *a = json_tokener_parse(bad[i]);
        if (xalarm_id_set_from_json(a, &set, NULL, &why) != -EINVAL)
            fail_msg("%s was accepted", bad[i]);
        assert_non_null(why);
        json_object_put(a);
    }
}

/* What libxalarm sends now: runs of ids as strings, single ids as numbers. */
static void test_ranges(void **state)
{
    struct xalarm_id_set set;
    unsigned ignored;
    const char *why;
    json_object *a = json_tokener_parse("[\"1001-1128\"]");

    assert_int_equal(xalarm_id_set_from_json(a, &set, &ignored, &why), 0);
    assert_int_equal(xalarm_id_set_count(&set), SENTRY_ALARM_ID_COUNT);
    json_object_put(a);
    a = json_tokener_parse("[1001,\"1003-1005\",\"1100\",\"900-1002\",\"1120-99999999999\","
                           "\"1-5\",\"2000-3000\"]");
    assert_int_equal(xalarm_id_set_from_json(a, &set, &ignored, &why), 0);
    assert_int_equal(ignored, 2);
    for (unsigned id = SENTRY_ALARM_ID_MIN; id <= SENTRY_ALARM_ID_MAX; id++) {
        bool want = id <= 1005 || id == 1100 || id >= 1120;
        if (xalarm_id_set_has(&set, id) != want)
            fail_msg("id %u", id);
    }
    assert_filter_is(&set);
    json_object_put(a);
}

static void test_id_mask(void **state)
{
    bool mask[SENTRY_ALARM_ID_COUNT];

    assert_int_equal(xalarm_id_mask_parse("1001-1128", mask), 1);
    for (int i = 0; i < SENTRY_ALARM_ID_COUNT; i++)
        assert_true(mask[i]);
    assert_int_equal(xalarm_id_mask_parse("1002, 1005-1006 ,900-1001,1127-99999999999", mask), 4);
    for (int i = 0; i < SENTRY_ALARM_ID_COUNT; i++) {
        unsigned id = (unsigned) i + SENTRY_ALARM_ID_MIN;
        bool want = id == 1001 || id == 1002 || id == 1005 || id == 1006 || id >= 1127;
        assert_int_equal(mask[i], want);
    }
    /* single ids out of range, reversed ranges, words: invalid, ignored */
    assert_int_equal(xalarm_id_mask_parse("1000,1129,1010-1005,abc,1003", mask), 1);
    for (int i = 0; i < SENTRY_ALARM_ID_COUNT; i++)
        assert_int_equal(mask[i], i + SENTRY_ALARM_ID_MIN == 1003);
    /* nothing valid: everything passes (the reference would drop everything) */
    assert_int_equal(xalarm_id_mask_parse("x,99999999999999999999", mask), 0);
    for (int i = 0; i < SENTRY_ALARM_ID_COUNT; i++)
        assert_true(mask[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_id),
        cmocka_unit_test(test_worst_case_runs),
        cmocka_unit_test(test_empty_and_outside),
        cmocka_unit_test(test_types_checked),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_id_mask),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
