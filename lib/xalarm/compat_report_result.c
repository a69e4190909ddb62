/* compat_report_result.c: report_result() of the sysSentry API (register_xalarm.h), carried over
 * the native protocol. The reference's client-side rules are kept: the task name starts with a
 * letter and holds only [A-Za-z0-9_], at most 256 characters; the request is at most 4096 bytes.
 * Unlike the reference it waits for sentryd's answer, so a refused result is reported as
 * RETURN_CODE_FAIL (docs/compat.md). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "sentry/register_xalarm.h"
#include "sentry/sentry.h"

#define COMPAT_TASK_NAME_MAX 256

static bool compat_task_name_ok(const char *name)
{
    if (!name) {
        fprintf(stderr, "report_result: task_name is null\n");
        return false;
    }
    if (!isalpha((unsigned char) name[0])) {
        fprintf(stderr, "report_result: task_name must start with a letter\n");
        return false;
    }
    if (strlen(name) > COMPAT_TASK_NAME_MAX) {
        fprintf(stderr, "report_result: task_name is longer than %d\n", COMPAT_TASK_NAME_MAX);
        return false;
    }
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char) *p) && *p != '_') {
            fprintf(stderr, "report_result: task_name '%s' contains illegal characters\n", name);
            return false;
        }
    return true;
}

_public_ int report_result(const char *task_name, enum RESULT_LEVEL result_level,
                           const char *report_data)
{
    sentry_client *c = NULL;
    int r;

    if ((unsigned) result_level >= RESULT_LEVEL_NUM) {
        fprintf(stderr, "report_result: result_level (%d) is invalid, it must be in [0-5]\n",
                (int) result_level);
        return RETURN_CODE_FAIL;
    }
    if (!compat_task_name_ok(task_name))
        return RETURN_CODE_FAIL;
    if (report_data && strlen(report_data) > RESULT_INFO_MAX_LEN) {
        fprintf(stderr, "report_result: report data is too long (%zu > %d)\n", strlen(report_data),
                RESULT_INFO_MAX_LEN);
        return RETURN_CODE_FAIL;
    }

    r = sentry_connect(NULL, &c);
    if (r < 0) {
        fprintf(stderr, "report_result: cannot connect to sentryd: %s\n", strerror(-r));
        return RETURN_CODE_FAIL;
    }
    r = sentry_result(c, task_name, (enum sentry_result_level) result_level,
                      isempty(report_data) ? NULL : report_data);
    if (r < 0)
        fprintf(stderr, "report_result: result of task %s not accepted: %s\n", task_name,
                sentry_error_message(c) ? sentry_error_message(c) : strerror(-r));
    sentry_close(c);
    return r < 0 ? RETURN_CODE_FAIL : RETURN_CODE_SUCCESS;
}
