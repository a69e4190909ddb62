/* compat_result_plugin: a plugin written against the sysSentry header only: it reports a
 * result with report_result() and exits with 0 when sentryd took it. Used by the integration
 * tests to prove that such plugins build and run unchanged. */
#include <stdio.h>
#include <stdlib.h>

#include <register_xalarm.h>

int main(int argc, char **argv)
{
    const char *task = argc > 1 ? argv[1] : "compat_task";
    int level = argc > 2 ? atoi(argv[2]) : RESULT_LEVEL_PASS;
    const char *details = argc > 3 ? argv[3] : "{\"msg\":\"all good\"}";
    int r = report_result(task, (enum RESULT_LEVEL) level, details);
    printf("report_result returned %d\n", r);
    return r == RETURE_CODE_SUCCESS ? 0 : 1;
}
