/* test_set_options: the options of `sentryctl set`, checked as the reference checks them
 * (sentryctl and sentryd share this table), and the writes they become. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel_set_options.h"

#define EID  "0123456789abcdef0123456789abcdef0123456" /* 39 characters */
#define EID2 "fedcba9876543210fedcba9876543210fedcba9"

static char why[512];

/* "name=value" pairs (a pair without '=' has no value). */
static int plan(const char *module, struct set_plan *p, int n, ...)
{
    const char *names[SET_OPTIONS_MAX], *values[SET_OPTIONS_MAX];
    char copies[SET_OPTIONS_MAX][8200];
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        snprintf(copies[i], sizeof(copies[i]), "%s", va_arg(ap, const char *));
        char *eq = strchr(copies[i], '=');
        names[i] = copies[i];
        values[i] = eq ? eq + 1 : NULL;
        if (eq)
            *eq = 0;
    }
    va_end(ap);
    why[0] = 0;
    return set_plan_build(module, (size_t) n, names, values, p, why, sizeof(why));
}

static int check(const char *module, int n, ...)
{
    const char *names[SET_OPTIONS_MAX], *values[SET_OPTIONS_MAX];
    char copies[SET_OPTIONS_MAX][8200];
    struct set_plan p;
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        snprintf(copies[i], sizeof(copies[i]), "%s", va_arg(ap, const char *));
        char *eq = strchr(copies[i], '=');
        names[i] = copies[i];
        values[i] = eq ? eq + 1 : NULL;
        if (eq)
            *eq = 0;
    }
    va_end(ap);
    why[0] = 0;
    int r = set_plan_build(module, (size_t) n, names, values, &p, why, sizeof(why));
    set_plan_done(&p);
    return r;
}

static void test_modules(void **state)
{
    assert_int_equal(check("sentry_foo", 1, "oom=on"), -ENOENT);
    assert_string_equal(why, "Unknown task name: sentry_foo");
    assert_int_equal(check(NULL, 0), -ENOENT);
    assert_int_equal(check("sentry_reporter", 0), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "cna=1"), -EINVAL);
    assert_non_null(strstr(why, "unknown option --cna"));
    assert_int_equal(check("sentry_reporter", 2, "oom=on", "oom=off"), -EINVAL);
    assert_non_null(strstr(why, "given twice"));
    assert_int_equal(check("sentry_reporter", 1, "oom"), -EINVAL);
    assert_non_null(strstr(why, "needs a value"));
}

static void test_on_off(void **state)
{
    static const char *const opts[] = {"power_off", "oom", "ub_mem_fault",
                                       "ub_mem_fault_with_kill"};
    char a[64];
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        snprintf(a, sizeof(a), "%s=on", opts[i]);
        assert_int_equal(check("sentry_reporter", 1, a), 0);
        snprintf(a, sizeof(a), "%s=off", opts[i]);
        assert_int_equal(check("sentry_reporter", 1, a), 0);
        snprintf(a, sizeof(a), "%s=ON", opts[i]);
        assert_int_equal(check("sentry_reporter", 1, a), -EINVAL);
        assert_non_null(strstr(why, opts[i]));
        assert_non_null(strstr(why, "'ON'"));
    }
    assert_int_equal(check("sentry_reporter", 1, "oom="), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "oom=on\n"), -EINVAL);
    assert_int_equal(check("sentry_remote_reporter", 4, "panic=on", "kernel_reboot=off",
                           "uvb_comm=on", "urma_comm=off"),
                     0);
    assert_int_equal(check("sentry_urma_comm", 1, "heartbeat=on"), 0);
    assert_int_equal(check("sentry_urma_comm", 1, "heartbeat=1"), -EINVAL);
}

static void test_numbers(void **state)
{
    assert_int_equal(check("sentry_remote_reporter", 1, "cna=0"), 0);
    assert_int_equal(check("sentry_remote_reporter", 1, "cna=16777215"), 0);
    assert_int_equal(check("sentry_remote_reporter", 1, "cna=16777216"), -EINVAL);
    assert_int_equal(check("sentry_remote_reporter", 1, "cna=-1"), -EINVAL);
    assert_non_null(strstr(why, "--cna '-1'"));
    assert_int_equal(check("sentry_remote_reporter", 1, "cna=0x10"), -EINVAL);
    assert_int_equal(check("sentry_remote_reporter", 1, "panic_timeout_ms=3600000"), 0);
    assert_int_equal(check("sentry_remote_reporter", 1, "panic_timeout_ms=3600001"), -EINVAL);
    assert_int_equal(check("sentry_remote_reporter", 1, "kernel_reboot_timeout_ms=0"), 0);
    assert_int_equal(check("sentry_remote_reporter", 1, "kernel_reboot_timeout_ms=1.5"), -EINVAL);
}

static void test_eid(void **state)
{
    assert_int_equal(check("sentry_remote_reporter", 1, "eid=" EID), 0);
    assert_int_equal(check("sentry_remote_reporter", 1, "eid=" EID ";" EID2), 0);
    assert_int_equal(check("sentry_remote_reporter", 1, "eid=" EID ";" EID ";" EID), -EINVAL);
    assert_non_null(strstr(why, "extraneous semicolon"));
    assert_int_equal(check("sentry_remote_reporter", 1, "eid=abc"), -EINVAL);
    assert_non_null(
        strstr(why, "The length of eid must be 39, but the detected input length is 3"));
    assert_int_equal(check("sentry_remote_reporter", 1, "eid=" EID ";"), -EINVAL);
}

static void test_oom_policy(void **state)
{
    struct set_plan p;

    assert_int_equal(plan("sentry_reporter", &p, 2,
                          "oom_policy={\"RR_KSWAPD\": 5, \"RR_DIRECT_RECLAIM\": 3}", "oom=on"),
                     0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.writes[0].file, "oom");
    assert_string_equal(p.writes[1].file, "oom_rate_limit");
    assert_string_equal(p.writes[1].text, "RR_KSWAPD:5,RR_DIRECT_RECLAIM:3");
    set_plan_done(&p);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={\"RR_HUGEPAGE_RECLAIM\":0}"), 0);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={\"RR_OTHER\":1}"), -EINVAL);
    assert_non_null(strstr(why, "RR_OTHER"));
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={\"RR_KSWAPD\":-1}"), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={\"RR_KSWAPD\":\"1\"}"), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={\"RR_KSWAPD\":1.5}"), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={\"RR_KSWAPD\":true}"), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={}"), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy=[1]"), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={\"RR_KSWAPD\":1"), -EINVAL);
    assert_int_equal(check("sentry_reporter", 1, "oom_policy={\"RR_KSWAPD\":1} x"), -EINVAL);
}

static void test_urma(void **state)
{
    struct set_plan p;

    assert_int_equal(
        plan("sentry_urma_comm", &p, 2, "client_jetty_id=3", "server_eid=" EID "," EID2 ";" EID),
        0);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.writes[0].file, "client_info");
    assert_string_equal(p.writes[0].text, EID "," EID2 ";" EID " 3");
    set_plan_done(&p);
    assert_int_equal(check("sentry_urma_comm", 1, "server_eid=" EID), -EINVAL);
    assert_string_equal(why, "Options --server_eid and --client_jetty_id need to be used together");
    assert_int_equal(check("sentry_urma_comm", 1, "client_jetty_id=5"), -EINVAL);
    assert_int_equal(check("sentry_urma_comm", 2, "server_eid=" EID, "client_jetty_id=2"), -EINVAL);
    assert_int_equal(check("sentry_urma_comm", 2, "server_eid=" EID, "client_jetty_id=1024"),
                     -EINVAL);
    assert_int_equal(check("sentry_urma_comm", 2, "server_eid=" EID, "client_jetty_id=1023"), 0);
    assert_int_equal(
        check("sentry_urma_comm", 2, "server_eid=" EID ";" EID ";" EID, "client_jetty_id=3"),
        -EINVAL);
    assert_int_equal(check("sentry_urma_comm", 2, "server_eid=" EID ";", "client_jetty_id=3"),
                     -EINVAL);
    assert_int_equal(check("sentry_urma_comm", 2, "server_eid=" EID ",", "client_jetty_id=3"),
                     -EINVAL);
    assert_int_equal(check("sentry_urma_comm", 2, "server_eid=short", "client_jetty_id=3"),
                     -EINVAL);
}

static void test_uvb(void **state)
{
    char many[1024] = "";
    assert_int_equal(check("sentry_uvb_comm", 1, "server_cna=1;2;0x3"), 0);
    assert_int_equal(check("sentry_uvb_comm", 0), -EINVAL);
    assert_int_equal(check("sentry_uvb_comm", 1, "server_cna=1;;2"), -EINVAL);
    assert_int_equal(check("sentry_uvb_comm", 1, "server_cna=12345678901234567890123"), -EINVAL);
    assert_int_equal(check("sentry_uvb_comm", 1, "server_cna=1234567890123456789012"), 0);
    strcpy(many, "server_cna=1");
    for (int i = 1; i < 32; i++)
        strcat(many, ";1");
    assert_int_equal(check("sentry_uvb_comm", 1, many), 0);
    strcat(many, ";1");
    assert_int_equal(check("sentry_uvb_comm", 1, many), -EINVAL);
    assert_non_null(strstr(why, "32"));
}

static void test_long_value(void **state)
{
    static char big[8200];
    strcpy(big, "eid=");
    memset(big + 4, 'a', 5000);
    big[5004] = 0;
    assert_int_equal(check("sentry_remote_reporter", 1, big), -EINVAL);
    assert_true(strlen(why) < sizeof(why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modules),    cmocka_unit_test(test_on_off),
        cmocka_unit_test(test_numbers),    cmocka_unit_test(test_eid),
        cmocka_unit_test(test_oom_policy), cmocka_unit_test(test_urma),
        cmocka_unit_test(test_uvb),        cmocka_unit_test(test_long_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
