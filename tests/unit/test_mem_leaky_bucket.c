/* test_mem_leaky_bucket: the maths of "N events / window": crossing exactly at N, steady rates
 * above and below N / window, the cap at N, holding and draining, the limits of a rate. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "leaky_bucket.h"

#define SEC  NSEC_PER_SEC_U64
#define T0   (1000 * SEC)
#define HOUR (3600 * SEC)
#define DAY  (24 * HOUR)

static void test_rate_limits(void **state)
{
    struct leaky_rate r;

    assert_int_equal(leaky_rate_init(&r, 0, DAY), -EINVAL);
    assert_int_equal(leaky_rate_init(&r, LEAKY_RATE_N_MAX + 1, DAY), -EINVAL);
    assert_int_equal(leaky_rate_init(&r, 2, SEC - 1), -EINVAL);
    assert_int_equal(leaky_rate_init(&r, 2, LEAKY_RATE_WINDOW_MAX + 1), -EINVAL);
    assert_int_equal(leaky_rate_init(&r, LEAKY_RATE_N_MAX, LEAKY_RATE_WINDOW_MAX), 0);
}

/* N events at one instant cross exactly at the Nth. */
static void test_cross_exactly_at_n(void **state)
{
    const uint32_t ns[] = {1, 2, 3, 7, 50, 999, LEAKY_RATE_N_MAX};
    const uint64_t windows[] = {SEC, 7 * SEC + 3, DAY, LEAKY_RATE_WINDOW_MAX};

    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
        for (size_t j = 0; j < sizeof(windows) / sizeof(windows[0]); j++) {
            struct leaky_rate r;
            struct leaky_bucket b = {0};
            assert_int_equal(leaky_rate_init(&r, ns[i], windows[j]), 0);
            for (uint32_t k = 1; k < ns[i]; k++) {
                assert_false(leaky_bucket_add(&b, &r, T0));
                assert_int_equal(leaky_bucket_level(&b, &r, T0), k);
            }
            assert_true(leaky_bucket_add(&b, &r, T0));
            assert_int_equal(leaky_bucket_level(&b, &r, T0), ns[i]);
        }
}

/* 2 / 24h: two errors less than 12 h apart cross, 12 h apart do not. */
static void test_two_per_day(void **state)
{
    struct leaky_rate r;
    struct leaky_bucket b = {0}, b2 = {0}, steady = {0};

    assert_int_equal(leaky_rate_init(&r, 2, DAY), 0);
    assert_false(leaky_bucket_add(&b, &r, T0));
    assert_int_equal(leaky_bucket_level(&b, &r, T0 + 11 * HOUR), 1);
    assert_true(leaky_bucket_add(&b, &r, T0 + 12 * HOUR - SEC));

    assert_false(leaky_bucket_add(&b2, &r, T0));
    assert_true(leaky_bucket_drained(&b2, T0 + 12 * HOUR));
    assert_false(leaky_bucket_add(&b2, &r, T0 + 12 * HOUR));

    for (int i = 0; i < 1000; i++) /* one each half day never crosses */
        assert_false(leaky_bucket_add(&steady, &r, T0 + (uint64_t) i * 12 * HOUR));
}

/* A steady rate above N / window crosses, one at or below it never does. */
static void test_rates(void **state)
{
    struct leaky_rate r;

    assert_int_equal(leaky_rate_init(&r, 50, DAY), 0);
    for (int pass = 0; pass < 2; pass++) {
        struct leaky_bucket b = {0};
        uint64_t gap = pass == 0 ? DAY / 60 : DAY / 50; /* 60 or 50 a day */
        int crossed_at = -1;
        for (int i = 0; i < 10000 && crossed_at < 0; i++)
            if (leaky_bucket_add(&b, &r, T0 + (uint64_t) i * gap))
                crossed_at = i;
        if (pass == 0) /* 10 a day more than leaks: full after about 5 days */
            assert_true(crossed_at > 250 && crossed_at < 320);
        else
            assert_int_equal(crossed_at, -1);
    }
}

/* A storm fills the bucket to N, no further; held, it drains one window after. */
static void test_cap_hold_drain(void **state)
{
    struct leaky_rate r;
    struct leaky_bucket b = {0};
    uint64_t t = T0;

    assert_int_equal(leaky_rate_init(&r, 10, HOUR), 0);
    for (int i = 0; i < 100000; i++, t += SEC / 10)
        (void) leaky_bucket_add(&b, &r, t);
    t -= SEC / 10;
    assert_int_equal(leaky_bucket_level(&b, &r, t), 10);
    assert_int_equal(leaky_bucket_level(&b, &r, t + HOUR - 1), 1);
    assert_true(leaky_bucket_drained(&b, t + HOUR));
    assert_true(leaky_bucket_add(&b, &r, t)); /* full stays full at the storm's pace */
    leaky_bucket_hold(&b, &r, t + 5 * HOUR);
    assert_int_equal(leaky_bucket_level(&b, &r, t + 5 * HOUR), 10);
    assert_false(leaky_bucket_drained(&b, t + 6 * HOUR - 1));
    assert_true(leaky_bucket_drained(&b, t + 6 * HOUR));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_limits),    cmocka_unit_test(test_cross_exactly_at_n),
        cmocka_unit_test(test_two_per_day),    cmocka_unit_test(test_rates),
        cmocka_unit_test(test_cap_hold_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
