/* test_parse_number: the integer rules of .mod values (Python int()) and the strict digit rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "parse_number.h"

static void test_python_int_accepts(void **state)
{
    static const struct {
        const char *in;
        int64_t out;
    } ok[] = {
        {"1001", 1001},  {" 1001 ", 1001}, {"\t15\n", 15},
        {"+7", 7},       {"-1", -1},       {"0", 0},
        {"1_000", 1000}, {"-0", 0},        {"9223372036854775807", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t v = 42;
        assert_int_equal(parse_int_python(ok[i].in, &v), 0);
        assert_int_equal(v, ok[i].out);
    }
}

static void test_python_int_rejects(void **state)
{
    static const char *const bad[] = {"",    " ",  "\t", "abcd", "0x10", "12.5", "1a", "-1a",
                                      "1 2", "_1", "1_", "1__0", "+",    "--1",  "1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 42;
        assert_int_equal(parse_int_python(bad[i], &v), -EINVAL);
        assert_int_equal(v, 42);
    }
    int64_t v;
    assert_int_equal(parse_int_python("99999999999999999999", &v), -ERANGE);
}

static void test_digits(void **state)
{
    uint64_t v;
    assert_int_equal(parse_uint_digits("300", &v), 0);
    assert_int_equal(v, 300);
    assert_int_equal(parse_uint_digits(" 3", &v), -EINVAL);
    assert_int_equal(parse_uint_digits("-3", &v), -EINVAL);
    assert_int_equal(parse_uint_digits("", &v), -EINVAL);
}

static void test_double_and_bool(void **state)
{
    double d;
    bool b;
    assert_int_equal(parse_double(" 1.5 ", &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(parse_double("nan", &d), -ERANGE);
    assert_int_equal(parse_double("1.5x", &d), -EINVAL);
    assert_int_equal(parse_boolean("Yes", &b), 0);
    assert_true(b);
    assert_int_equal(parse_boolean("off", &b), 0);
    assert_false(b);
    assert_int_equal(parse_boolean("maybe", &b), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_int_accepts),
        cmocka_unit_test(test_python_int_rejects),
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_double_and_bool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
