/* test_env_file: env_file lines applied on top of an environment, with the reference's rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "env_file.h"
#include "strv.h"

static const char *env_get(char **env, const char *key)
{
    int i = strv_env_find(env, key);
    return i < 0 ? NULL : env[i] + strlen(key) + 1;
}

static void test_rules(void **state)
{
    _cleanup_strv_free_ char **env = NULL;
    char *warning = NULL;

    assert_int_equal(strv_extend(&env, "PATH=/bin"), 0);
    assert_int_equal(strv_extend(&env, "KEEP=1"), 0);
    assert_int_equal(env_file_apply("# comment\n\nPATH=/usr/bin:/bin\nQUOTED=\"a b\"\n"
                                    "noequals line\n  SPACED  =  v  \nHALF=\"x\n",
                                    &env, &warning),
                     0);
    assert_null(warning);
    assert_string_equal(env_get(env, "PATH"), "/usr/bin:/bin");
    assert_string_equal(env_get(env, "QUOTED"), "a b");
    assert_string_equal(env_get(env, "SPACED"), "v");
    assert_string_equal(env_get(env, "HALF"), "\"x");
    assert_string_equal(env_get(env, "KEEP"), "1");
}

static void test_empty_value_stops(void **state)
{
    _cleanup_strv_free_ char **env = NULL;
    _cleanup_free_ char *warning = NULL;

    assert_int_equal(env_file_apply("A=1\nB=\nC=3\n", &env, &warning), 0);
    assert_string_equal(env_get(env, "A"), "1");
    assert_null(env_get(env, "B"));
    assert_null(env_get(env, "C"));
    assert_non_null(strstr(warning, "line 2: format is error, use default environ"));
}

static void test_bad_name_skipped(void **state)
{
    _cleanup_strv_free_ char **env = NULL;
    _cleanup_free_ char *warning = NULL;

    assert_int_equal(env_file_apply("1BAD=x\nGOOD=y\nA-B=z\n", &env, &warning), 0);
    assert_null(env_get(env, "1BAD"));
    assert_string_equal(env_get(env, "GOOD"), "y");
    assert_non_null(strstr(warning, "'1BAD' is not a variable name"));
}

/* A skipped name, then a line that stops the reading: the second warning replaces the first
 * (found by fuzz_env_file as a leak of the first; ASan's leak check fails this test if it
 * comes back). */
static void test_stop_after_bad_name(void **state)
{
    _cleanup_strv_free_ char **env = NULL;
    _cleanup_free_ char *warning = NULL;

    assert_int_equal(env_file_apply("A=0\n[eA\xff;\xff"
                                    "A=0\n=\n",
                                    &env, &warning),
                     0);
    assert_string_equal(env_get(env, "A"), "0");
    assert_non_null(strstr(warning, "line 3: format is error"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_empty_value_stops),
        cmocka_unit_test(test_bad_name_skipped),
        cmocka_unit_test(test_stop_after_bad_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
