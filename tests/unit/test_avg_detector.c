/* test_avg_detector: avg_block_io's warm-up, its abnormal rule against the moving average, the
 * average that abnormal periods do not move, the windows and their thresholds, and the
 * per-disk decision with every row of the reason table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "avg_detector.h"

static const struct slowio_limits limits = {
    .avg_lim = 10, .avg_time = 3, .tot_lim = 1000, .iodump_lim = 0};

static struct slowio_sample lat(double v)
{
    return (struct slowio_sample){.latency = v, .iodump = 0, .iops = 1};
}

static struct avg_period push(struct avg_detector *d, struct slowio_sample s)
{
    struct avg_period p;
    assert_int_equal(avg_detector_push(d, &s, &p), 0);
    return p;
}

static void test_warm_up(void **state)
{
    const struct avg_params params = {3, 1, 1};
    _cleanup_(avg_detector_freep) struct avg_detector *d = NULL;
    struct avg_period p;

    assert_int_equal(avg_detector_new(&params, &limits, &d), 0);
    assert_true(avg_detector_has_latency_window(d));
    /* Far above tot_lim, but nothing is judged while warming up. */
    p = push(d, (struct slowio_sample){.latency = 5000, .iodump = 7});
    assert_false(p.judged || p.latency_abnormal || p.iodump_abnormal);
    p = push(d, lat(20));
    assert_false(p.judged);
    assert_false(avg_detector_is_warm(d));
    p = push(d, lat(20));
    assert_false(p.judged);
    assert_true(avg_detector_is_warm(d));
    /* Cumulative mean of the warm-up. */
    assert_float_equal(avg_detector_average(d), 5040.0 / 3, 1e-9);
    assert_false(avg_detector_is_slow(d));
    p = push(d, lat(20));
    assert_true(p.judged);
}

static void test_abnormal_rule(void **state)
{
    const struct avg_params params = {3, 3, 3};
    _cleanup_(avg_detector_freep) struct avg_detector *d = NULL;
    struct avg_period p;

    assert_int_equal(avg_detector_new(&params, &limits, &d), 0);
    for (int i = 0; i < 3; i++)
        push(d, lat(2));
    assert_true(avg_detector_average(d) == 2);

    /* 9 > 2·3 but not above avg_lim 10: normal. */
    p = push(d, lat(9));
    assert_true(p.judged);
    assert_true(p.average == 2);
    assert_false(p.latency_abnormal);
    assert_float_equal(avg_detector_average(d), (2.0 * 2 + 9) / 3, 1e-9);

    /* avg is now 13/3: 14 > 13 and > 10: abnormal. */
    p = push(d, lat(14));
    assert_true(p.latency_abnormal);
    /* 12 > 10 but not above 3·avg: normal. */
    p = push(d, lat(12));
    assert_false(p.latency_abnormal);
}

static void test_total_limit(void **state)
{
    /* A multiple so large that only tot_lim can make a period abnormal. */
    const struct slowio_limits lim = {.avg_lim = 10, .avg_time = 1000, .tot_lim = 1000};
    const struct avg_params params = {3, 3, 3};
    _cleanup_(avg_detector_freep) struct avg_detector *d = NULL;

    assert_int_equal(avg_detector_new(&params, &lim, &d), 0);
    for (int i = 0; i < 3; i++)
        push(d, lat(2));
    assert_false(push(d, lat(1000)).latency_abnormal);
    assert_true(push(d, lat(1001)).latency_abnormal);
}

static void test_average_not_moved_by_abnormal(void **state)
{
    const struct avg_params params = {4, 2, 1};
    _cleanup_(avg_detector_freep) struct avg_detector *d = NULL;
    struct avg_period p;

    assert_int_equal(avg_detector_new(&params, &limits, &d), 0);
    for (int i = 0; i < 4; i++)
        push(d, lat(8));
    for (int i = 0; i < 5; i++) {
        p = push(d, lat(500)); /* > 3·8 and > 10 */
        assert_true(p.latency_abnormal);
        assert_true(p.average == 8);
    }
    assert_true(avg_detector_average(d) == 8);
    p = push(d, lat(12));
    assert_false(p.latency_abnormal);
    assert_true(avg_detector_average(d) == (8.0 * 3 + 12) / 4);
}

static void test_windows(void **state)
{
    const struct avg_params params = {3, 2, 3};
    _cleanup_(avg_detector_freep) struct avg_detector *d = NULL;
    char type[32];

    assert_int_equal(avg_detector_new(&params, &limits, &d), 0);
    for (int i = 0; i < 3; i++)
        push(d, lat(5));

    push(d, lat(2000));
    assert_false(avg_detector_latency_slow(d));
    push(d, lat(5));
    push(d, lat(2000));
    assert_true(avg_detector_latency_slow(d)); /* 2 of the last 3 */
    assert_int_equal(avg_detector_alarm_type(d, type, sizeof(type)), 0);
    assert_string_equal(type, "latency");

    /* iodump: any stuck io with iodump_lim 0, three needed. */
    push(d, (struct slowio_sample){.latency = 5, .iodump = 1});
    push(d, (struct slowio_sample){.latency = 5, .iodump = 1});
    assert_false(avg_detector_iodump_slow(d));
    assert_true(avg_detector_latency_slow(d) == false); /* 2000s slid out but one */
    push(d, (struct slowio_sample){.latency = 2000, .iodump = 1});
    assert_true(avg_detector_iodump_slow(d));
    assert_false(avg_detector_latency_slow(d));
    push(d, (struct slowio_sample){.latency = 2000, .iodump = 0});
    assert_true(avg_detector_latency_slow(d));
    assert_false(avg_detector_iodump_slow(d));
    push(d, (struct slowio_sample){.latency = 5, .iodump = 2});
    push(d, (struct slowio_sample){.latency = 5, .iodump = 2});
    push(d, (struct slowio_sample){.latency = 2000, .iodump = 2});
    push(d, (struct slowio_sample){.latency = 2000, .iodump = 2});
    assert_true(avg_detector_latency_slow(d) && avg_detector_iodump_slow(d));
    assert_int_equal(avg_detector_alarm_type(d, type, sizeof(type)), 0);
    assert_string_equal(type, "latency, iodump");
    assert_int_equal(avg_detector_alarm_type(d, type, 8), -ENOBUFS);
}

static void test_no_latency_window(void **state)
{
    const struct avg_params params = {1, 1, 1};
    const struct slowio_limits no_time = {.avg_lim = 10, .avg_time = 0, .tot_lim = 1000};
    const struct slowio_limits no_tot = {.avg_lim = 10, .avg_time = 3, .tot_lim = 0};
    const struct slowio_limits no_avg = {.avg_lim = 0, .avg_time = 3, .tot_lim = 1000};
    const struct slowio_limits *all[] = {&no_time, &no_tot, &no_avg};
    char type[32];

    for (size_t i = 0; i < ELEMENTSOF(all); i++) {
        _cleanup_(avg_detector_freep) struct avg_detector *d = NULL;
        struct avg_period p;

        assert_int_equal(avg_detector_new(&params, all[i], &d), 0);
        assert_false(avg_detector_has_latency_window(d));
        push(d, lat(1));
        p = push(d, (struct slowio_sample){.latency = 1e6, .iodump = 1});
        assert_false(p.latency_abnormal);
        assert_true(p.iodump_abnormal); /* the iodump window is always there */
        assert_false(avg_detector_latency_slow(d));
        assert_true(avg_detector_iodump_slow(d));
        assert_int_equal(avg_detector_alarm_type(d, type, sizeof(type)), 0);
        assert_string_equal(type, "iodump");
    }
}

static void test_series(void **state)
{
    const struct avg_params params = {3, 1, 1};
    _cleanup_(avg_detector_freep) struct avg_detector *d = NULL;
    double v[4];

    assert_int_equal(avg_detector_new(&params, &limits, &d), 0);
    assert_int_equal(avg_detector_get_series(d, AVG_SERIES_LATENCY, v, 4), 0);
    for (int i = 1; i <= 4; i++)
        push(d, (struct slowio_sample){.latency = i, .iodump = 10 * i, .iops = 100 * i});
    assert_int_equal(avg_detector_get_series(d, AVG_SERIES_LATENCY, v, 4), 3);
    assert_true(v[0] == 2 && v[1] == 3 && v[2] == 4);
    assert_int_equal(avg_detector_get_series(d, AVG_SERIES_IODUMP, v, 4), 3);
    assert_true(v[0] == 20 && v[2] == 40);
    assert_int_equal(avg_detector_get_series(d, AVG_SERIES_IOPS, v, 2), 2);
    assert_true(v[0] == 200 && v[1] == 300);
    assert_string_equal(avg_series_to_string(AVG_SERIES_IODUMP), "iodump");
    assert_int_equal(avg_series_from_string("iops"), AVG_SERIES_IOPS);
}

static void test_bad_arguments(void **state)
{
    struct avg_detector *d = NULL;
    const struct avg_params too_big = {5, 6, 1}, zero = {0, 1, 1}, none = {5, 1, 0};

    assert_int_equal(avg_detector_new(&too_big, &limits, &d), -EINVAL);
    assert_int_equal(avg_detector_new(&zero, &limits, &d), -EINVAL);
    assert_int_equal(avg_detector_new(&none, &limits, &d), -EINVAL);
    assert_null(d);
}

/* A warm disk (window of one period) with the given stages for reads; stages in slow[] get one
 * period far above tot_lim, the rest a normal one. */
static struct avg_disk *disk_with(const char *const *stages, const char *const *slow)
{
    const struct avg_params params = {1, 1, 1};
    struct avg_disk *d = NULL;

    assert_int_equal(avg_disk_new("nvme0n1", &params, &d), 0);
    for (size_t i = 0; stages[i]; i++) {
        struct slowio_sample s = lat(5);
        assert_int_equal(avg_disk_add(d, stages[i], IO_OP_READ, &limits), 0);
        assert_int_equal(avg_disk_push(d, stages[i], IO_OP_READ, &s, NULL), 0);
        for (size_t j = 0; slow[j]; j++)
            if (streq(slow[j], stages[i]))
                s = lat(5000);
        assert_int_equal(avg_disk_push(d, stages[i], IO_OP_READ, &s, NULL), 0);
    }
    return d;
}

static const char *const all_stages[] = {"throtl",  "wbt",       "iocost",   "bfq",
                                         "gettag",  "plug",      "deadline", "hctx",
                                         "requeue", "rq_driver", "bio",      NULL};

static void test_reason_rows(void **state)
{
    static const struct {
        const char *slow;
        const char *reason, *block_stack;
    } rows[] = {
        {"throtl", "IO press", "bio,throtl"},
        {"wbt", "IO press", "bio,wbt"},
        {"iocost", "IO press", "bio,iocost"},
        {"bfq", "IO press", "bio,bfq"},
        {"rq_driver", "driver slow", "bio,rq_driver"},
        {"gettag", "kernel slow", "bio,gettag"},
        {"plug", "kernel slow", "bio,plug"},
        {"deadline", "kernel slow", "bio,deadline"},
        {"hctx", "kernel slow", "bio,hctx"},
        {"requeue", "kernel slow", "bio,requeue"},
        {"bio", "unknown", "bio"},
    };

    for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
        const char *slow[] = {"bio", rows[i].slow, NULL};
        _cleanup_(avg_disk_freep) struct avg_disk *d = disk_with(all_stages, slow);
        struct avg_slow_event e;

        assert_int_equal(avg_disk_judge(d, IO_OP_READ, &e), 1);
        assert_string_equal(slow_reason_to_string(e.reason, SLOWIO_PLUGIN_AVG_BLOCK_IO),
                            rows[i].reason);
        assert_string_equal(e.block_stack, rows[i].block_stack);
        assert_string_equal(e.stage, rows[i].slow);
        assert_string_equal(e.alarm_type, "latency");
        /* Writes were never fed: nothing to say about them. */
        assert_int_equal(avg_disk_judge(d, IO_OP_WRITE, &e), 0);
    }
}

static void test_reason_precedence(void **state)
{
    static const struct {
        const char *slow[5];
        const char *reason, *block_stack;
    } cases[] = {
        {{"bio", "gettag", "rq_driver", "throtl", NULL}, "IO press", "bio,throtl"},
        {{"bio", "requeue", "rq_driver", NULL}, "driver slow", "bio,rq_driver"},
        {{"bio", "bfq", "wbt", NULL}, "IO press", "bio,wbt"},
        {{"bio", "hctx", "plug", NULL}, "kernel slow", "bio,plug"},
    };

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_(avg_disk_freep) struct avg_disk *d = disk_with(all_stages, cases[i].slow);
        struct avg_slow_event e;

        assert_int_equal(avg_disk_judge(d, IO_OP_READ, &e), 1);
        assert_string_equal(slow_reason_to_string(e.reason, SLOWIO_PLUGIN_AVG_BLOCK_IO),
                            cases[i].reason);
        assert_string_equal(e.block_stack, cases[i].block_stack);
    }
}

static void test_no_event_without_bio(void **state)
{
    const char *slow[] = {"rq_driver", "throtl", NULL};
    _cleanup_(avg_disk_freep) struct avg_disk *d = disk_with(all_stages, slow);
    const char *no_bio[] = {"rq_driver", NULL};
    _cleanup_(avg_disk_freep) struct avg_disk *d2 = disk_with(no_bio, no_bio);
    struct avg_slow_event e;

    assert_int_equal(avg_disk_judge(d, IO_OP_READ, &e), 0);
    assert_int_equal(avg_disk_judge(d2, IO_OP_READ, &e), 0);
}

static void test_disk_errors_and_walk(void **state)
{
    const char *slow[] = {NULL};
    _cleanup_(avg_disk_freep) struct avg_disk *d = disk_with(all_stages, slow);
    struct slowio_sample s = lat(1);
    const char *stage;
    enum io_op io;

    assert_string_equal(avg_disk_name(d), "nvme0n1");
    assert_int_equal(avg_disk_n_detectors(d), 11);
    assert_non_null(avg_disk_detector_at(d, 10, &stage, &io));
    assert_string_equal(stage, "bio");
    assert_int_equal(io, IO_OP_READ);
    assert_null(avg_disk_detector_at(d, 11, NULL, NULL));
    assert_int_equal(avg_disk_add(d, "bio", IO_OP_READ, &limits), -EEXIST);
    assert_int_equal(avg_disk_push(d, "bio", IO_OP_WRITE, &s, NULL), -ENOENT);
    assert_null(avg_disk_get(d, "nope", IO_OP_READ));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warm_up),
        cmocka_unit_test(test_abnormal_rule),
        cmocka_unit_test(test_total_limit),
        cmocka_unit_test(test_average_not_moved_by_abnormal),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_no_latency_window),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_reason_rows),
        cmocka_unit_test(test_reason_precedence),
        cmocka_unit_test(test_no_event_without_bio),
        cmocka_unit_test(test_disk_errors_and_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
