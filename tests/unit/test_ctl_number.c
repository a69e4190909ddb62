/* test_ctl_number: the numbers of sentryctl's command line. Out of range is refused (never
 * clamped, never wrapped): beyond 2^64-1, beyond sentryd's limits, below the minimum; what is not
 * a number (sign, space, hex, exponent, empty) is refused as such. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "ctl_number.h"
#include "macro.h"

static void test_uint(void **state)
{
    uint64_t v = 42;

    assert_int_equal(ctl_parse_uint("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ctl_parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(ctl_parse_uint("018446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);

    /* Beyond 2^64-1: refused, not wrapped (1844674407370955161 * 10 + 6 wraps to 0). */
    v = 42;
    assert_int_equal(ctl_parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(ctl_parse_uint("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(ctl_parse_uint("184467440737095516150", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(ctl_parse_uint("99999999999999999999999999999999999999999", 0, UINT64_MAX, &v),
                     -ERANGE);
    assert_int_equal(v, 42);

    /* Limits: both ends included, one past either refused. */
    assert_int_equal(ctl_parse_uint("10000", 1, CTL_ALARMS_LIMIT_MAX, &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(ctl_parse_uint("10001", 1, CTL_ALARMS_LIMIT_MAX, &v), -ERANGE);
    assert_int_equal(ctl_parse_uint("0", 1, CTL_ALARMS_LIMIT_MAX, &v), -ERANGE);
    assert_int_equal(ctl_parse_uint("65535", CTL_ALARM_ID_MIN, CTL_ALARM_ID_MAX, &v), 0);
    assert_int_equal(ctl_parse_uint("65536", CTL_ALARM_ID_MIN, CTL_ALARM_ID_MAX, &v), -ERANGE);
    assert_int_equal(ctl_parse_uint("9223372036854775807", 0, CTL_SEQ_MAX, &v), 0);
    assert_int_equal(ctl_parse_uint("9223372036854775808", 0, CTL_SEQ_MAX, &v), -ERANGE);
    assert_int_equal(ctl_parse_uint("90000", 1, CTL_IO_PERIOD_MAX, &v), 0);
    assert_int_equal(ctl_parse_uint("90001", 1, CTL_IO_PERIOD_MAX, &v), -ERANGE);
    assert_int_equal(ctl_parse_uint("1001", 0, CTL_STATUS_LINES_MAX, &v), -ERANGE);

    /* Not numbers. */
    static const char *const bad[] = {"",    "-1",  "+1",    " 1",  "1 ", "0x10",
                                      "1e3", "1.0", "1_000", "one", "1-2"};
    v = 42;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        assert_int_equal(ctl_parse_uint(bad[i], 0, UINT64_MAX, &v), -EINVAL);
    assert_int_equal(ctl_parse_uint(NULL, 0, UINT64_MAX, &v), -EINVAL);
    assert_int_equal(v, 42);
}

static void test_id_spec(void **state)
{
    static const char *const ok[] = {"1002",  "1001-1010", "1001,1003-1005", "1 65535",
                                     "65535", "1-1",       "1001, 1002",     "1001,,1002"};
    for (size_t i = 0; i < ELEMENTSOF(ok); i++)
        assert_int_equal(ctl_parse_id_spec(ok[i]), 0);

    static const char *const range[] = {
        "0", "65536", "99999999999999999999", "1001-65536", "1-99999999999999999999", "1001,0"};
    for (size_t i = 0; i < ELEMENTSOF(range); i++)
        assert_int_equal(ctl_parse_id_spec(range[i]), -ERANGE);

    static const char *const bad[] = {"",      ",",   "1010-1001", "1001-", "-1001",
                                      "1-2-3", "abc", "1001;1002", "0x3e9", "+1001"};
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        assert_int_equal(ctl_parse_id_spec(bad[i]), -EINVAL);
    assert_int_equal(ctl_parse_id_spec(NULL), -EINVAL);
}

static void test_seconds(void **state)
{
    usec_t u = 42;

    assert_int_equal(ctl_parse_seconds("1", CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &u), 0);
    assert_int_equal(u, 1000000);
    assert_int_equal(ctl_parse_seconds("0.5", CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &u), 0);
    assert_int_equal(u, 500000);
    assert_int_equal(ctl_parse_seconds("0.001", CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &u), 0);
    assert_int_equal(u, 1000);
    assert_int_equal(ctl_parse_seconds("86400", CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &u), 0);
    assert_int_equal(u, 86400ULL * 1000000);

    /* A timeout that would become 0 (wait forever) or beyond a day: refused. */
    u = 42;
    static const char *const range[] = {"0",     "0.0001", "1e-9", "-1",   "86400.5",
                                        "1e300", "inf",    "nan",  "1e400"};
    for (size_t i = 0; i < ELEMENTSOF(range); i++)
        assert_true(ctl_parse_seconds(range[i], CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &u) < 0);
    assert_int_equal(
        ctl_parse_seconds("99999999999999999999", CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &u),
        -ERANGE);
    assert_int_equal(ctl_parse_seconds("abc", CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &u),
                     -EINVAL);
    assert_int_equal(ctl_parse_seconds("", CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &u), -EINVAL);
    assert_int_equal(u, 42);
}

static void test_time_range(void **state)
{
    int64_t v = 42;

    /* The reference reads it with Python's int(). */
    assert_int_equal(ctl_parse_time_range("10", &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(ctl_parse_time_range(" +1_000 ", &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(ctl_parse_time_range("3153600000", &v), 0);
    assert_int_equal(v, CTL_TIME_RANGE_MAX);

    v = 42;
    assert_int_equal(ctl_parse_time_range("3153600001", &v), -ERANGE);
    assert_int_equal(ctl_parse_time_range("9223372036854775807", &v), -ERANGE);
    assert_int_equal(ctl_parse_time_range("99999999999999999999", &v), -ERANGE);
    /* Not a positive integer: the reference's message. */
    static const char *const bad[] = {"0", "-5", "-99999999999999999999", "x", "", "1.5"};
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        assert_int_equal(ctl_parse_time_range(bad[i], &v), -EINVAL);
    assert_int_equal(v, 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_id_spec),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_time_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
