/* test_split_words: shell-like splitting of task command lines (shlex.split rules). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "split_words.h"
#include "strv.h"

static void check_split(const char *line, const char *const *expected)
{
    _cleanup_strv_free_ char **argv = NULL;
    const char *err = NULL;
    size_t n = 0;

    assert_int_equal(split_words(line, &argv, &err), 0);
    assert_null(err);
    for (; expected[n]; n++) {
        assert_non_null(argv[n]);
        assert_string_equal(argv[n], expected[n]);
    }
    assert_null(argv[n]);
}

static void test_plain_words(void **state)
{
    check_split("/usr/bin/prog -a  b\tc\n",
                (const char *const[]){"/usr/bin/prog", "-a", "b", "c", NULL});
    check_split("", (const char *const[]){NULL});
    check_split("   ", (const char *const[]){NULL});
}

static void test_quotes(void **state)
{
    check_split("echo 'a b' \"c d\"", (const char *const[]){"echo", "a b", "c d", NULL});
    check_split("x'y z'w", (const char *const[]){"xy zw", NULL});
    check_split("a '' b", (const char *const[]){"a", "", "b", NULL});
    /* In double quotes only \\ and \" are escapes; other backslashes stay. */
    check_split("\"a\\\"b\\\\c\\nd\"", (const char *const[]){"a\"b\\c\\nd", NULL});
    /* Single quotes keep everything literally. */
    check_split("'a\\b $pid ;'", (const char *const[]){"a\\b $pid ;", NULL});
    /* No shell: ; | $ are ordinary characters. */
    check_split("a;b | $HOME", (const char *const[]){"a;b", "|", "$HOME", NULL});
}

static void test_backslash(void **state)
{
    check_split("a\\ b c", (const char *const[]){"a b", "c", NULL});
    check_split("\\'x", (const char *const[]){"'x", NULL});
}

static void test_errors(void **state)
{
    char **argv = NULL;
    const char *err = NULL;

    assert_int_equal(split_words("echo 'abc", &argv, &err), -EINVAL);
    assert_string_equal(err, "No closing quotation");
    assert_int_equal(split_words("echo \"abc", &argv, &err), -EINVAL);
    assert_string_equal(err, "No closing quotation");
    assert_int_equal(split_words("echo abc\\", &argv, &err), -EINVAL);
    assert_string_equal(err, "No escaped character");
    assert_null(argv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_words),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_backslash),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
