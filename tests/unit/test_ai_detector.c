/* test_ai_detector: the three metrics of ai_block_io (learned latency threshold with absolute
 * limit and floor, absolute io_dump threshold, display-only iops) and the per-disk decision:
 * only a slow bio stage raises an event, which names the slow stages, io types and metrics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "ai_detector.h"

/* The reference's window vector set-up: boxplot k 1.5 over 10 samples, updated every 8; window
 * of 5 needing 3. */
static const struct ai_params reference_params = {
    .algorithm = THRESHOLD_BOXPLOT,
    .parameter = 1.5,
    .train_size = 10,
    .update_size = 8,
    .win_type = WINDOW_NOT_CONTINUOUS,
    .win_size = 5,
    .win_threshold_latency = 3,
    .win_threshold_iodump = 2,
};

static void test_metric_names(void **state)
{
    assert_string_equal(ai_metric_to_string(AI_METRIC_LATENCY), "latency");
    assert_string_equal(ai_metric_to_string(AI_METRIC_IO_DUMP), "io_dump");
    assert_string_equal(ai_metric_to_string(AI_METRIC_IOPS), "iops");
    assert_int_equal(ai_metric_from_string("io_dump"), AI_METRIC_IO_DUMP);
    assert_int_equal(ai_metric_from_string("iodump"), -EINVAL);
}

static void test_latency_detector(void **state)
{
    _cleanup_(ai_detector_freep) struct ai_detector *d = NULL;
    const struct slowio_limits lim = {.avg_lim = 15, .tot_lim = 40};
    const double first[] = {19, 20, 20, 20, 20, 20, 22, 24, 23, 20};
    struct ai_push_result res;
    double t;

    assert_int_equal(ai_detector_new(AI_METRIC_LATENCY, &reference_params, &lim, &d), 0);
    assert_int_equal(ai_detector_get_threshold(d, &t), -ENODATA);
    for (size_t i = 0; i < ELEMENTSOF(first); i++) {
        assert_int_equal(ai_detector_push(d, first[i], &res), 0);
        assert_false(res.slow);
        assert_int_equal(res.threshold_updated, i == ELEMENTSOF(first) - 1);
    }
    assert_int_equal(ai_detector_get_threshold(d, &t), 0);
    assert_true(t == 23.75);

    assert_int_equal(ai_detector_push(d, 24, &res), 0);
    assert_true(res.abnormal);
    assert_false(res.slow);
    assert_int_equal(ai_detector_push(d, 25, &res), 0);
    assert_true(res.slow);
    assert_true(ai_detector_is_slow(d));
    for (int i = 0; i < 6; i++) {
        assert_int_equal(ai_detector_push(d, 20, &res), 0);
        assert_false(res.slow);
        assert_int_equal(res.threshold_updated, i == 5);
    }
    assert_int_equal(ai_detector_get_threshold(d, &t), 0);
    assert_true(t == 25.625);
}

static void test_latency_absolute_and_floor(void **state)
{
    _cleanup_(ai_detector_freep) struct ai_detector *d = NULL;
    const struct slowio_limits lim = {.avg_lim = 100, .tot_lim = 1000};
    struct ai_push_result res;

    /* Before anything is learned the absolute limit still works. */
    assert_int_equal(ai_detector_new(AI_METRIC_LATENCY, &reference_params, &lim, &d), 0);
    assert_int_equal(ai_detector_push(d, 1001, &res), 0);
    assert_true(res.abnormal);
    assert_int_equal(ai_detector_push(d, 1000, &res), 0);
    assert_false(res.abnormal);
    /* Learn a tiny threshold: values under avg_lim stay normal all the same. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(ai_detector_push(d, 1, &res), 0);
    assert_int_equal(ai_detector_push(d, 99, &res), 0);
    assert_false(res.abnormal);
    assert_int_equal(ai_detector_push(d, 101, &res), 0);
    assert_true(res.abnormal);
}

static void test_io_dump_and_iops(void **state)
{
    _cleanup_(ai_detector_freep) struct ai_detector *dump = NULL, *iops = NULL;
    const struct slowio_limits lim = {.avg_lim = 15, .tot_lim = 40, .iodump_lim = 2};
    struct ai_push_result res;
    double t;

    assert_int_equal(ai_detector_new(AI_METRIC_IO_DUMP, &reference_params, &lim, &dump), 0);
    assert_int_equal(ai_detector_get_threshold(dump, &t), 0);
    assert_true(t == 2);
    assert_int_equal(ai_detector_push(dump, 3, &res), 0);
    assert_true(res.abnormal && !res.slow);
    assert_int_equal(ai_detector_push(dump, 2, &res), 0);
    assert_false(res.abnormal);
    assert_int_equal(ai_detector_push(dump, 5, &res), 0);
    assert_true(res.slow); /* win_threshold_iodump 2 */
    assert_false(res.threshold_updated);

    assert_int_equal(ai_detector_new(AI_METRIC_IOPS, &reference_params, &lim, &iops), 0);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(ai_detector_push(iops, 1e9, &res), 0);
        assert_false(res.abnormal || res.slow);
    }
    assert_int_equal(ai_detector_get_threshold(iops, &t), -ENODATA);
    assert_int_equal(sliding_window_length(ai_detector_get_window(iops)), 5);
}

/* A disk whose limits make any latency above 100 µs abnormal at once (window needs 1). */
static struct ai_disk *disk_with(const char *const *stages, size_t n)
{
    static const struct ai_params p = {
        .algorithm = THRESHOLD_N_SIGMA,
        .parameter = 3,
        .train_size = 1000,
        .update_size = 1000,
        .win_type = WINDOW_NOT_CONTINUOUS,
        .win_size = 3,
        .win_threshold_latency = 1,
        .win_threshold_iodump = 1,
    };
    const struct slowio_limits lim = {.avg_lim = 10, .tot_lim = 100, .iodump_lim = 0};
    struct ai_disk *d = NULL;

    assert_int_equal(ai_disk_new("sda", &p, &d), 0);
    for (size_t i = 0; i < n; i++)
        for (int io = 0; io < SLOWIO_IOTYPES; io++)
            assert_int_equal(ai_disk_add(d, stages[i], io, &lim), 0);
    return d;
}

static const struct slowio_sample fast = {.latency = 50, .iodump = 0, .iops = 100};
static const struct slowio_sample slow_latency = {.latency = 500, .iodump = 0, .iops = 100};
static const struct slowio_sample stuck = {.latency = 50, .iodump = 4, .iops = 100};
static const struct slowio_sample both = {.latency = 500, .iodump = 4, .iops = 100};

static void test_disk_driver_slow(void **state)
{
    static const char *const stages[] = {"rq_driver", "bio"};
    _cleanup_(ai_disk_freep) struct ai_disk *d = disk_with(stages, 2);
    struct ai_slow_event e = {};

    assert_int_equal(ai_disk_push(d, "rq_driver", IO_OP_READ, &slow_latency, NULL), 0);
    assert_int_equal(ai_disk_push(d, "bio", IO_OP_READ, &slow_latency, NULL), 0);
    assert_int_equal(ai_disk_push(d, "bio", IO_OP_WRITE, &fast, NULL), 0);
    assert_int_equal(ai_disk_judge(d, &e), 1);
    assert_int_equal(e.reason, SLOW_REASON_DRIVER_SLOW);
    assert_string_equal(slow_reason_to_string(e.reason, SLOWIO_PLUGIN_AI_BLOCK_IO), "driver_slow");
    assert_string_equal(e.block_stack, "rq_driver,bio");
    assert_string_equal(e.io_type, "read");
    assert_string_equal(e.alarm_type, "latency");
    ai_slow_event_done(&e);
    assert_null(e.block_stack);
}

static void test_disk_needs_bio(void **state)
{
    static const char *const stages[] = {"throtl", "rq_driver", "bio"};
    _cleanup_(ai_disk_freep) struct ai_disk *d = disk_with(stages, 3);
    struct ai_slow_event e = {};

    assert_int_equal(ai_disk_push(d, "throtl", IO_OP_READ, &both, NULL), 0);
    assert_int_equal(ai_disk_push(d, "rq_driver", IO_OP_WRITE, &both, NULL), 0);
    assert_int_equal(ai_disk_push(d, "bio", IO_OP_READ, &fast, NULL), 0);
    assert_int_equal(ai_disk_judge(d, &e), 0);
    assert_null(e.block_stack);
}

static void test_disk_io_press_all_sets(void **state)
{
    static const char *const stages[] = {"throtl", "gettag", "rq_driver", "bio"};
    _cleanup_(ai_disk_freep) struct ai_disk *d = disk_with(stages, 4);
    struct ai_slow_event e = {};
    struct ai_push_result res[_AI_METRIC_MAX];

    assert_int_equal(ai_disk_push(d, "gettag", IO_OP_READ, &slow_latency, NULL), 0);
    assert_int_equal(ai_disk_push(d, "throtl", IO_OP_WRITE, &stuck, NULL), 0);
    assert_int_equal(ai_disk_push(d, "rq_driver", IO_OP_WRITE, &fast, NULL), 0);
    assert_int_equal(ai_disk_push(d, "bio", IO_OP_WRITE, &both, res), 0);
    assert_true(res[AI_METRIC_LATENCY].slow && res[AI_METRIC_IO_DUMP].slow);
    assert_false(res[AI_METRIC_IOPS].slow);
    assert_int_equal(ai_disk_judge(d, &e), 1);
    assert_int_equal(e.reason, SLOW_REASON_IO_PRESS);
    assert_string_equal(e.block_stack, "throtl,gettag,bio");
    assert_string_equal(e.io_type, "write,read");
    assert_string_equal(e.alarm_type, "io_dump,latency"); /* first seen first */
    ai_slow_event_done(&e);
}

static void test_disk_kernel_slow_and_unknown(void **state)
{
    static const char *const stages[] = {"plug", "bio"};
    _cleanup_(ai_disk_freep) struct ai_disk *d = disk_with(stages, 2);
    struct ai_slow_event e = {};

    assert_int_equal(ai_disk_push(d, "plug", IO_OP_READ, &stuck, NULL), 0);
    assert_int_equal(ai_disk_push(d, "bio", IO_OP_READ, &stuck, NULL), 0);
    assert_int_equal(ai_disk_judge(d, &e), 1);
    assert_int_equal(e.reason, SLOW_REASON_KERNEL_SLOW);
    assert_string_equal(e.block_stack, "plug,bio");
    assert_string_equal(e.alarm_type, "io_dump");
    ai_slow_event_done(&e);

    /* Next period: plug gets no data, so it does not count although its window is slow. */
    assert_true(ai_detector_is_slow(ai_disk_detector_at(d, 1, NULL, NULL)));
    assert_int_equal(ai_disk_push(d, "bio", IO_OP_READ, &stuck, NULL), 0);
    assert_int_equal(ai_disk_judge(d, &e), 1);
    assert_int_equal(e.reason, SLOW_REASON_UNKNOWN);
    assert_string_equal(e.block_stack, "bio");
    ai_slow_event_done(&e);

    /* And a period without any bio data is not slow. */
    assert_int_equal(ai_disk_judge(d, &e), 0);
}

static void test_disk_walk_and_errors(void **state)
{
    static const char *const stages[] = {"bio"};
    _cleanup_(ai_disk_freep) struct ai_disk *d = disk_with(stages, 1);
    const struct slowio_limits lim = {};
    const char *stage;
    enum io_op io;
    struct ai_detector *det;

    assert_string_equal(ai_disk_name(d), "sda");
    assert_int_equal(ai_disk_n_detectors(d), 2 * _AI_METRIC_MAX);
    det = ai_disk_detector_at(d, _AI_METRIC_MAX + AI_METRIC_IO_DUMP, &stage, &io);
    assert_non_null(det);
    assert_string_equal(stage, "bio");
    assert_int_equal(io, IO_OP_WRITE);
    assert_int_equal(ai_detector_get_metric(det), AI_METRIC_IO_DUMP);
    assert_null(ai_disk_detector_at(d, 2 * _AI_METRIC_MAX, NULL, NULL));

    assert_int_equal(ai_disk_add(d, "bio", IO_OP_READ, &lim), -EEXIST);
    assert_int_equal(ai_disk_add(d, "", IO_OP_READ, &lim), -EINVAL);
    assert_int_equal(ai_disk_add(d, "a_stage_name_longer_than_twenty", IO_OP_READ, &lim), -EINVAL);
    assert_int_equal(ai_disk_push(d, "wbt", IO_OP_READ, &fast, NULL), -ENOENT);
}

static void test_bad_params(void **state)
{
    struct ai_params p = reference_params;
    struct ai_disk *d = NULL;

    p.win_threshold_latency = 6; /* > win_size 5 */
    assert_int_equal(ai_disk_new("sda", &p, &d), -EINVAL);
    p = reference_params;
    p.algorithm = THRESHOLD_ABSOLUTE;
    assert_int_equal(ai_disk_new("sda", &p, &d), -EINVAL);
    p = reference_params;
    p.train_size = 0;
    assert_int_equal(ai_disk_new("sda", &p, &d), -EINVAL);
    assert_int_equal(ai_disk_new("", &reference_params, &d), -EINVAL);
    assert_null(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test(test_latency_detector),
        cmocka_unit_test(test_latency_absolute_and_floor),
        cmocka_unit_test(test_io_dump_and_iops),
        cmocka_unit_test(test_disk_driver_slow),
        cmocka_unit_test(test_disk_needs_bio),
        cmocka_unit_test(test_disk_io_press_all_sets),
        cmocka_unit_test(test_disk_kernel_slow_and_unknown),
        cmocka_unit_test(test_disk_walk_and_errors),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
