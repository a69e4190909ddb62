/* test_threshold: absolute, boxplot and n-sigma thresholds with the reference's vectors, the
 * training queue rules (first fill, update interval, ignored samples, ring wrap) and numpy's
 * linear percentiles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "threshold.h"

static double value_of(const struct threshold *t)
{
    double v = NAN;
    assert_int_equal(threshold_get(t, &v), 0);
    return v;
}

static void test_type_names(void **state)
{
    assert_string_equal(threshold_type_to_string(THRESHOLD_ABSOLUTE), "absolute");
    assert_string_equal(threshold_type_to_string(THRESHOLD_BOXPLOT), "boxplot");
    assert_string_equal(threshold_type_to_string(THRESHOLD_N_SIGMA), "n_sigma");
    assert_null(threshold_type_to_string(_THRESHOLD_TYPE_MAX));
    assert_int_equal(threshold_type_from_string("n_sigma"), THRESHOLD_N_SIGMA);
    assert_int_equal(threshold_type_from_string("boxplot"), THRESHOLD_BOXPLOT);
    assert_int_equal(threshold_type_from_string("nsigma"), -EINVAL);
    assert_int_equal(threshold_type_from_string(NULL), -EINVAL);
}

static void test_absolute(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;
    double v;

    assert_int_equal(threshold_new(THRESHOLD_ABSOLUTE, 0, 0, 0, &t), 0);
    assert_false(threshold_is_set(t));
    assert_int_equal(threshold_get(t, &v), -ENODATA);
    assert_false(threshold_exceeded(t, 5000));

    assert_int_equal(threshold_set(t, 40), 1);
    assert_true(value_of(t) == 40);
    assert_true(threshold_exceeded(t, 50));
    assert_false(threshold_exceeded(t, 40));
    assert_int_equal(threshold_set(t, 40), 0); /* unchanged */
    assert_int_equal(threshold_set(t, 41), 1);

    /* Samples do not move an absolute threshold. */
    for (int i = 0; i < 100; i++)
        assert_int_equal(threshold_push(t, 1000), 0);
    assert_true(value_of(t) == 41);
    assert_int_equal(threshold_queue_length(t), 0);
}

static void test_boxplot_reference_vector(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;
    const double first[] = {20, 20, 20, 30, 10};

    assert_int_equal(threshold_new(THRESHOLD_BOXPLOT, 1.5, 5, 1, &t), 0);
    assert_false(threshold_is_set(t));
    assert_false(threshold_exceeded(t, 5000));

    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(threshold_push(t, first[i]), 0);
        assert_false(threshold_is_set(t));
    }
    /* The queue fills: Q1 = Q3 = 20, IQR 0. */
    assert_int_equal(threshold_push(t, first[4]), 1);
    assert_true(value_of(t) == 20);
    assert_true(threshold_exceeded(t, 5000));

    /* Window 20, 20, 30, 10, 100: Q1 20, Q3 30, 30 + 1.5·10. */
    assert_int_equal(threshold_push(t, 100), 1);
    assert_true(value_of(t) == 45);
}

static void test_n_sigma_reference_vector(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;
    const double first[] = {20, 20, 20, 30, 10};

    assert_int_equal(threshold_new(THRESHOLD_N_SIGMA, 3, 5, 1, &t), 0);
    assert_false(threshold_exceeded(t, 5000));
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(threshold_push(t, first[i]), i == 4);
    /* mean 20, population variance (0+0+0+100+100)/5 = 40. */
    assert_float_equal(value_of(t), 20 + 3 * sqrt(40), 1e-9);
    assert_true(threshold_exceeded(t, 5000));

    /* 20, 20, 30, 10, 100: mean 36, variance (256+256+36+676+4096)/5 = 1064. */
    assert_int_equal(threshold_push(t, 100), 1);
    assert_float_equal(value_of(t), 36 + 3 * sqrt(1064), 1e-9);
}

static void test_update_interval(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;

    assert_int_equal(threshold_new(THRESHOLD_BOXPLOT, 1.5, 3, 2, &t), 0);
    assert_int_equal(threshold_push(t, 1), 0);
    assert_int_equal(threshold_push(t, 2), 0);
    assert_int_equal(threshold_push(t, 3), 1); /* first fill computes at once */
    assert_true(value_of(t) == 2.5 + 1.5 * 1);
    assert_int_equal(threshold_push(t, 4), 0); /* one new sample: not yet */
    assert_true(value_of(t) == 4);
    assert_int_equal(threshold_push(t, 5), 1); /* two: recomputed over 3, 4, 5 */
    assert_true(value_of(t) == 4.5 + 1.5 * 1);
    assert_int_equal(threshold_push(t, 6), 0);
    assert_int_equal(threshold_push(t, 7), 1);
}

static void test_idle_samples_ignored(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;

    assert_int_equal(threshold_new(THRESHOLD_N_SIGMA, 3, 2, 1, &t), 0);
    assert_int_equal(threshold_push(t, 0), 0);
    assert_int_equal(threshold_push(t, 1e-7), 0);
    assert_int_equal(threshold_push(t, -5), 0);
    assert_int_equal(threshold_push(t, NAN), 0);
    assert_int_equal(threshold_push(t, INFINITY), 0);
    assert_int_equal(threshold_queue_length(t), 0);
    assert_int_equal(threshold_push(t, 1e-6), 0); /* the limit itself counts */
    assert_int_equal(threshold_queue_length(t), 1);
    assert_int_equal(threshold_push(t, 0), 0);
    assert_false(threshold_is_set(t));
    assert_int_equal(threshold_push(t, 7), 1);
}

static void test_ring_wraps(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;

    assert_int_equal(threshold_new(THRESHOLD_BOXPLOT, 1.5, 100, 1, &t), 0);
    for (int i = 1; i <= 250; i++)
        assert_int_equal(threshold_push(t, i), i >= 100);
    assert_int_equal(threshold_queue_length(t), 100);
    /* Over 151..250: Q1 = 151 + 24.75, Q3 = 151 + 74.25, IQR 49.5. */
    assert_float_equal(value_of(t), 225.25 + 1.5 * 49.5, 1e-9);
}

static void test_explicit_set_then_learn(void **state)
{
    _cleanup_(threshold_freep) struct threshold *t = NULL;

    assert_int_equal(threshold_new(THRESHOLD_BOXPLOT, 1.5, 2, 3, &t), 0);
    assert_int_equal(threshold_set(t, 100), 1);
    assert_int_equal(threshold_push(t, 10), 0);
    /* Set already: the full queue waits for update_size new samples. */
    assert_int_equal(threshold_push(t, 10), 0);
    assert_true(value_of(t) == 100);
    assert_int_equal(threshold_push(t, 10), 1);
    assert_true(value_of(t) == 10);
}

static void test_percentiles_like_numpy(void **state)
{
    const double a[] = {1, 2, 3, 4};
    const double b[] = {10, 20, 20, 20, 30};
    const double c[] = {19, 20, 20, 20, 20, 20, 20, 22, 23, 24};
    const double one[] = {7};
    double v;

    assert_true(percentile_sorted(a, 4, 25) == 1.75);
    assert_true(percentile_sorted(a, 4, 75) == 3.25);
    assert_true(percentile_sorted(a, 4, 0) == 1);
    assert_true(percentile_sorted(a, 4, 100) == 4);
    assert_true(percentile_sorted(b, 5, 25) == 20);
    assert_true(percentile_sorted(c, 10, 75) == 21.5);
    assert_true(percentile_sorted(one, 1, 75) == 7);

    assert_int_equal(boxplot_threshold_compute(c, 10, 1.5, &v), 0);
    assert_true(v == 23.75);
    assert_int_equal(n_sigma_threshold_compute(one, 1, 3, &v), 0);
    assert_true(v == 7);
    assert_int_equal(boxplot_threshold_compute(c, 0, 1.5, &v), -EINVAL);
}

static void test_bad_arguments(void **state)
{
    struct threshold *t = NULL;

    assert_int_equal(threshold_new(THRESHOLD_BOXPLOT, 1.5, 0, 1, &t), -EINVAL);
    assert_int_equal(threshold_new(THRESHOLD_BOXPLOT, 1.5, 5, 0, &t), -EINVAL);
    assert_int_equal(threshold_new(THRESHOLD_N_SIGMA, 0, 5, 1, &t), -EINVAL);
    assert_int_equal(threshold_new(THRESHOLD_N_SIGMA, NAN, 5, 1, &t), -EINVAL);
    assert_int_equal(threshold_new(_THRESHOLD_TYPE_MAX, 1, 5, 1, &t), -EINVAL);
    assert_null(t);
    assert_int_equal(threshold_push(NULL, 1), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_absolute),
        cmocka_unit_test(test_boxplot_reference_vector),
        cmocka_unit_test(test_n_sigma_reference_vector),
        cmocka_unit_test(test_update_interval),
        cmocka_unit_test(test_idle_samples_ignored),
        cmocka_unit_test(test_ring_wraps),
        cmocka_unit_test(test_explicit_set_then_learn),
        cmocka_unit_test(test_percentiles_like_numpy),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
