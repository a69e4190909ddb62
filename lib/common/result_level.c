/* result_level.c: the task result levels and their names (one table, used by the daemon, the
 * library and the CLI). */
#include "macro.h"
#include "sentry/sentry.h"

static const char *const result_level_table[] = {
    [SENTRY_RESULT_PASS] = "PASS",           [SENTRY_RESULT_FAIL] = "FAIL",
    [SENTRY_RESULT_SKIP] = "SKIP",           [SENTRY_RESULT_MINOR_ALM] = "MINOR_ALM",
    [SENTRY_RESULT_MAJOR_ALM] = "MAJOR_ALM", [SENTRY_RESULT_CRITICAL_ALM] = "CRITICAL_ALM",
};

_public_ const char *sentry_result_level_to_string(enum sentry_result_level level)
{
    return (unsigned) level < ELEMENTSOF(result_level_table) ? result_level_table[level] : NULL;
}

_public_ int sentry_result_level_from_string(const char *s)
{
    assert_return(s, -EINVAL);
    for (size_t i = 0; i < ELEMENTSOF(result_level_table); i++)
        if (streq(s, result_level_table[i]))
            return (int) i;
    return -EINVAL;
}
