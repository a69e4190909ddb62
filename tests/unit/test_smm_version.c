/* test_smm_version: the start-up rule: major 1 required, another minor warns, a failed ioctl
 * goes on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "smm_version.h"

static void test_judge(void **state)
{
    struct smh_version_info v = {1, 6};
    assert_int_equal(smm_version_judge(0, &v), SMM_VERSION_OK);
    v.minor = 7;
    assert_int_equal(smm_version_judge(0, &v), SMM_VERSION_OTHER_MINOR);
    v.minor = 0;
    assert_int_equal(smm_version_judge(0, &v), SMM_VERSION_OTHER_MINOR);
    v = (struct smh_version_info){2, 6};
    assert_int_equal(smm_version_judge(0, &v), SMM_VERSION_INCOMPATIBLE);
    v = (struct smh_version_info){0, 6};
    assert_int_equal(smm_version_judge(0, &v), SMM_VERSION_INCOMPATIBLE);
    /* v is not looked at when the ioctl failed */
    assert_int_equal(smm_version_judge(-ENOTTY, &v), SMM_VERSION_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_judge)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
