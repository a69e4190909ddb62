/* test_trusted_file: which task files and env files sentryd acts upon: owned by root (or by
 * sentryd's own user, or by the one more owner allowed) and writable by nobody else. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "trusted_file.h"

static int check(uid_t owner, mode_t mode, uid_t also, char *why, size_t size)
{
    struct stat st = {.st_uid = owner, .st_mode = S_IFREG | mode};
    why[0] = 0;
    return trusted_file_check(&st, also, why, size);
}

static void test_table(void **state)
{
    char why[128];
    uid_t other = geteuid() == 1000 ? 1001 : 1000;

    assert_int_equal(check(0, 0644, TRUSTED_FILE_NO_OWNER, why, sizeof(why)), 0);
    assert_int_equal(check(0, 0600, TRUSTED_FILE_NO_OWNER, why, sizeof(why)), 0);
    assert_int_equal(check(0, 0755, TRUSTED_FILE_NO_OWNER, why, sizeof(why)), 0);
    /* sentryd's own user may own them (a sentryd that does not run as root) */
    assert_int_equal(check(geteuid(), 0644, TRUSTED_FILE_NO_OWNER, why, sizeof(why)), 0);

    assert_int_equal(check(other, 0644, TRUSTED_FILE_NO_OWNER, why, sizeof(why)), -EPERM);
    assert_non_null(strstr(why, "owned by uid"));
    assert_non_null(strstr(why, "not by root"));
    /* ... unless that owner is allowed (a task's user and its own env_file) */
    assert_int_equal(check(other, 0644, other, why, sizeof(why)), 0);
    assert_int_equal(check(other + 1, 0644, other, why, sizeof(why)), -EPERM);
    assert_non_null(strstr(why, "not by root or uid"));

    assert_int_equal(check(0, 0664, TRUSTED_FILE_NO_OWNER, why, sizeof(why)), -EPERM);
    assert_string_equal(why, "writable by its group (mode 0664)");
    assert_int_equal(check(0, 0646, TRUSTED_FILE_NO_OWNER, why, sizeof(why)), -EPERM);
    assert_string_equal(why, "writable by others (mode 0646)");
    assert_int_equal(check(0, 0666, other, why, sizeof(why)), -EPERM);
    /* the setuid and sticky bits are shown as they are */
    assert_int_equal(check(0, 01622, TRUSTED_FILE_NO_OWNER, why, sizeof(why)), -EPERM);
    assert_string_equal(why, "writable by its group (mode 1622)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
