/* test_sliding_window: the three window kinds with the reference's vectors (a boxplot threshold
 * feeding the window as ai_block_io does), the tag rule order and re-tagging when a limit
 * changes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "sliding_window.h"
#include "threshold.h"

/* One period the way a detector runs it: train the threshold, re-tag on a new value, push. */
static bool feed(struct threshold *t, struct sliding_window *w, double v)
{
    double th;
    int r;

    r = threshold_push(t, v);
    assert_true(r >= 0);
    if (r > 0) {
        assert_int_equal(threshold_get(t, &th), 0);
        assert_int_equal(sliding_window_set_ai_threshold(w, th), 0);
    }
    r = sliding_window_push(w, v, NULL);
    assert_true(r >= 0);
    assert_int_equal(r > 0, sliding_window_is_slow(w));
    return r > 0;
}

static double threshold_value(const struct threshold *t)
{
    double v = NAN;
    assert_int_equal(threshold_get(t, &v), 0);
    return v;
}

/* Window (size 5, threshold 3, absolute 40, avg_lim 15) fed by boxplot (k 1.5, queue 10,
 * update every 8). */
static void setup_reference(enum window_type type, struct threshold **t, struct sliding_window **w)
{
    assert_int_equal(threshold_new(THRESHOLD_BOXPLOT, 1.5, 10, 8, t), 0);
    assert_int_equal(sliding_window_new(type, 5, 3, w), 0);
    assert_int_equal(sliding_window_set_abs_threshold(*w, 40), 0);
    assert_int_equal(sliding_window_set_avg_lim(*w, 15), 0);
}

static const double reference_first[] = {19, 20, 20, 20, 20, 20, 22, 24, 23, 20};

static void test_not_continuous_reference_vector(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;
    _cleanup_(sliding_window_freep) struct sliding_window *w = NULL;

    setup_reference(WINDOW_NOT_CONTINUOUS, &t, &w);
    for (size_t i = 0; i < ELEMENTSOF(reference_first); i++)
        assert_false(feed(t, w, reference_first[i]));
    assert_true(threshold_value(t) == 23.75);

    assert_false(feed(t, w, 24)); /* 24, 24 abnormal: two */
    assert_true(feed(t, w, 25));  /* 24, 24, 25: three */
    for (int i = 0; i < 6; i++)
        assert_false(feed(t, w, 20));
    /* Eight new samples since the last computation: recomputed. */
    assert_true(threshold_value(t) == 25.625);
}

static void test_continuous_reference_vector(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;
    _cleanup_(sliding_window_freep) struct sliding_window *w = NULL;

    setup_reference(WINDOW_CONTINUOUS, &t, &w);
    for (size_t i = 0; i < ELEMENTSOF(reference_first); i++)
        assert_false(feed(t, w, reference_first[i]));
    assert_true(threshold_value(t) == 23.75);
    assert_false(feed(t, w, 25)); /* abnormal: 24, 25, not next to each other */
    assert_false(feed(t, w, 25)); /* 24, _, _, 25, 25: two in a row */
    assert_true(feed(t, w, 25));  /* three in a row */
}

static void test_median_reference_vector(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;
    _cleanup_(sliding_window_freep) struct sliding_window *w = NULL;
    const double values[] = {24, 24, 24, 25, 25};

    assert_int_equal(threshold_new(THRESHOLD_ABSOLUTE, 0, 0, 0, &t), 0);
    assert_int_equal(sliding_window_new(WINDOW_MEDIAN, 5, 3, &w), 0);
    assert_int_equal(sliding_window_set_abs_threshold(w, 40), 0);
    assert_int_equal(sliding_window_set_avg_lim(w, 15), 0);
    assert_int_equal(threshold_set(t, 24.5), 1);
    assert_int_equal(sliding_window_set_ai_threshold(w, threshold_value(t)), 0);

    for (size_t i = 0; i < ELEMENTSOF(values); i++)
        assert_false(feed(t, w, values[i])); /* median 24 */
    assert_true(feed(t, w, 25));             /* 24, 24, 25, 25, 25: median 25 */
}

static void test_median_of_even_count(void **state)
{
    _cleanup_(sliding_window_freep) struct sliding_window *w = NULL;

    assert_int_equal(sliding_window_new(WINDOW_MEDIAN, 4, 1, &w), 0);
    assert_int_equal(sliding_window_set_abs_threshold(w, 20), 0);
    assert_int_equal(sliding_window_push(w, 10, NULL), 0);
    assert_int_equal(sliding_window_push(w, 28, NULL), 0); /* (10 + 28) / 2 = 19 */
    assert_int_equal(sliding_window_push(w, 30, NULL), 1); /* 28 */
    assert_int_equal(sliding_window_push(w, 5, NULL), 0);  /* (10 + 28) / 2 = 19 */
    assert_int_equal(sliding_window_push(w, 40, NULL), 1); /* 28, 30, 5, 40: (28 + 30) / 2 */
}

static void test_tag_rule_order(void **state)
{
    _cleanup_(sliding_window_freep) struct sliding_window *w = NULL;
    bool tag;

    assert_int_equal(sliding_window_new(WINDOW_NOT_CONTINUOUS, 10, 10, &w), 0);
    /* No limit at all: nothing is abnormal. */
    assert_int_equal(sliding_window_push(w, 1e9, &tag), 0);
    assert_false(tag);

    /* Absolute only. */
    assert_int_equal(sliding_window_set_abs_threshold(w, 40), 0);
    assert_int_equal(sliding_window_push(w, 40, &tag), 0);
    assert_false(tag);
    assert_int_equal(sliding_window_push(w, 41, &tag), 0);
    assert_true(tag);

    /* AI threshold below the absolute one catches smaller values. */
    assert_int_equal(sliding_window_set_ai_threshold(w, 10), 0);
    assert_int_equal(sliding_window_push(w, 11, &tag), 0);
    assert_true(tag);

    /* avg_lim comes first: below it nothing is abnormal, whatever the thresholds say. */
    assert_int_equal(sliding_window_set_avg_lim(w, 50), 0);
    assert_int_equal(sliding_window_push(w, 45, &tag), 0);
    assert_false(tag);
    assert_int_equal(sliding_window_push(w, 50, &tag), 0);
    assert_true(tag);
}

static void test_retag_on_change(void **state)
{
    _cleanup_(sliding_window_freep) struct sliding_window *w = NULL;
    bool tags[3];

    assert_int_equal(sliding_window_new(WINDOW_NOT_CONTINUOUS, 3, 3, &w), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sliding_window_push(w, 30, NULL), 0);
    assert_int_equal(sliding_window_abnormal_count(w), 0);

    assert_int_equal(sliding_window_set_ai_threshold(w, 25), 0);
    assert_int_equal(sliding_window_abnormal_count(w), 3);
    assert_true(sliding_window_is_slow(w));

    assert_int_equal(sliding_window_set_ai_threshold(w, 35), 0);
    assert_int_equal(sliding_window_abnormal_count(w), 0);
    assert_false(sliding_window_is_slow(w));
    assert_int_equal(sliding_window_get_values(w, NULL, tags, 3), 3);
    assert_false(tags[0] || tags[1] || tags[2]);
}

static void test_not_full_window_can_be_slow(void **state)
{
    _cleanup_(sliding_window_freep) struct sliding_window *nc = NULL, *c = NULL;

    assert_int_equal(sliding_window_new(WINDOW_NOT_CONTINUOUS, 30, 2, &nc), 0);
    assert_int_equal(sliding_window_new(WINDOW_CONTINUOUS, 30, 2, &c), 0);
    assert_int_equal(sliding_window_set_abs_threshold(nc, 10), 0);
    assert_int_equal(sliding_window_set_abs_threshold(c, 10), 0);
    assert_int_equal(sliding_window_push(nc, 20, NULL), 0);
    assert_int_equal(sliding_window_push(c, 20, NULL), 0);
    assert_int_equal(sliding_window_push(nc, 20, NULL), 1);
    assert_int_equal(sliding_window_push(c, 20, NULL), 1);
    assert_int_equal(sliding_window_length(nc), 2);
}

static void test_values_oldest_first(void **state)
{
    _cleanup_(sliding_window_freep) struct sliding_window *w = NULL;
    double v[5];
    bool tags[5];

    assert_int_equal(sliding_window_new(WINDOW_NOT_CONTINUOUS, 3, 1, &w), 0);
    assert_int_equal(sliding_window_set_abs_threshold(w, 3.5), 0);
    for (int i = 1; i <= 5; i++)
        assert_true(sliding_window_push(w, i, NULL) >= 0);
    assert_int_equal(sliding_window_length(w), 3);
    assert_int_equal(sliding_window_get_values(w, v, tags, ELEMENTSOF(v)), 3);
    assert_true(v[0] == 3 && v[1] == 4 && v[2] == 5);
    assert_false(tags[0]);
    assert_true(tags[1] && tags[2]);
    assert_int_equal(sliding_window_get_values(w, v, NULL, 1), 1);
    assert_true(v[0] == 3);
}

static void test_types_and_arguments(void **state)
{
    struct sliding_window *w = NULL;

    assert_string_equal(window_type_to_string(WINDOW_NOT_CONTINUOUS), "not_continuous");
    assert_string_equal(window_type_to_string(WINDOW_CONTINUOUS), "continuous");
    assert_string_equal(window_type_to_string(WINDOW_MEDIAN), "median");
    assert_int_equal(window_type_from_string("median"), WINDOW_MEDIAN);
    assert_int_equal(window_type_from_string("Median"), -EINVAL);
    assert_int_equal(sliding_window_new(WINDOW_MEDIAN, 0, 1, &w), -EINVAL);
    assert_int_equal(sliding_window_new(WINDOW_MEDIAN, 5, 0, &w), -EINVAL);
    assert_int_equal(sliding_window_new(_WINDOW_TYPE_MAX, 5, 1, &w), -EINVAL);
    assert_null(w);
    assert_int_equal(sliding_window_new(WINDOW_CONTINUOUS, 5, 1, &w), 0);
    assert_int_equal(sliding_window_get_type(w), WINDOW_CONTINUOUS);
    assert_int_equal(sliding_window_push(w, NAN, NULL), -EINVAL);
    sliding_window_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_continuous_reference_vector),
        cmocka_unit_test(test_continuous_reference_vector),
        cmocka_unit_test(test_median_reference_vector),
        cmocka_unit_test(test_median_of_even_count),
        cmocka_unit_test(test_tag_rule_order),
        cmocka_unit_test(test_retag_on_change),
        cmocka_unit_test(test_not_full_window_can_be_slow),
        cmocka_unit_test(test_values_oldest_first),
        cmocka_unit_test(test_types_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
