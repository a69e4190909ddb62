/* test_oom_watch_config: oom_watch.ini: the defaults, a full valid file, and every invalid
 * value refused with the file, section, key and value in its message; unknown keys warned. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "oom_config.h"

static int load(const char *text, struct oom_config *c, struct config_msgs *m)
{
    assert_int_equal(oom_config_init(c), 0);
    return oom_config_load_string(c, "oom_watch.ini", text, m);
}

static void test_defaults(void **state)
{
    struct oom_config c;
    struct config_msgs m = {0};

    assert_int_equal(load("", &c, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_true(c.psi && c.memcg && c.oom_victim && c.pstore);
    assert_int_equal(c.some_stall_us, 150000);
    assert_int_equal(c.window_us, 1000000);
    assert_null(c.cgroups);
    assert_null(c.tracefs);
    assert_string_equal(c.pstore_dir, "/sys/fs/pstore");
    assert_string_equal(c.state_file, "/var/lib/sentry/oom_watch.state");
    assert_false(c.remove_after_report);
    assert_int_equal(c.rate_limit_interval, 60);
    oom_config_done(&c);
    config_msgs_done(&m);
}

static void test_valid(void **state)
{
    struct oom_config c;
    struct config_msgs m = {0};
    const char text[] = "[log]\nlevel = debug\n"
                        "[sources]\npsi = no\nmemcg = yes\noom_victim = off\npstore = 1\n"
                        "[psi]\nwindow_us = 2000000\nsome_stall_us = 5000\nfull_stall_us = 0\n"
                        "[memcg]\ncgroups = /sys/fs/cgroup/memory/a , /sys/fs/cgroup/unified/b\n"
                        "poll_interval = 1\n"
                        "[oom_victim]\ntracefs = /sys/kernel/debug/tracing\n"
                        "[pstore]\ndir = /tmp/p\nstate_file = /tmp/s\nremove_after_report = yes\n"
                        "[alarm]\nrate_limit_interval = 0\n";

    assert_int_equal(load(text, &c, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_false(c.psi);
    assert_false(c.oom_victim);
    assert_int_equal(c.some_stall_us, 5000);
    assert_int_equal(c.full_stall_us, 0);
    assert_string_equal(c.cgroups[0], "/sys/fs/cgroup/memory/a");
    assert_string_equal(c.cgroups[1], "/sys/fs/cgroup/unified/b");
    assert_null(c.cgroups[2]);
    assert_string_equal(c.tracefs, "/sys/kernel/debug/tracing");
    assert_true(c.remove_after_report);
    assert_int_equal(c.rate_limit_interval, 0);
    oom_config_done(&c);
    config_msgs_done(&m);
}

/* The text must be refused with one error mentioning each of the words. */
static void refused(const char *text, const char *w1, const char *w2)
{
    struct oom_config c;
    struct config_msgs m = {0};

    if (load(text, &c, &m) != -EINVAL || m.n_errors < 1)
        fail_msg("not refused: %s", text);
    char *all = config_msgs_join(&m, CONFIG_MSG_ERROR, "; ");
    assert_non_null(all);
    if (!strstr(all, "oom_watch.ini") || !strstr(all, w1) || !strstr(all, w2))
        fail_msg("'%s' lacks '%s' or '%s'", all, w1, w2);
    free(all);
    oom_config_done(&c);
    config_msgs_done(&m);
}

static void test_invalid(void **state)
{
    refused("[sources]\npsi = maybe\n", "psi", "maybe");
    refused("[psi]\nwindow_us = 499999\n", "window_us", "499999");
    refused("[psi]\nwindow_us = 10000001\n", "window_us", "10000001");
    refused("[psi]\nsome_stall_us = -1\n", "some_stall_us", "-1");
    refused("[psi]\nwindow_us = 500000\nsome_stall_us = 600000\n", "some_stall_us",
            "longer than the window");
    refused("[memcg]\ncgroups = relative/path\n", "cgroups", "relative/path");
    refused("[memcg]\ncgroups = /a,,/b\n", "cgroups", "empty item");
    refused("[memcg]\ncgroups = /a,/a\n", "cgroups", "twice");
    refused("[memcg]\ncgroups = /sys/fs/cgroup/memory/../../etc\n", "cgroups", "..");
    refused("[memcg]\npoll_interval = 0\n", "poll_interval", "0");
    refused("[oom_victim]\ntracefs = tracing\n", "tracefs", "tracing");
    refused("[pstore]\nstate_file = /var/lib/./x\n", "state_file", "/var/lib/./x");
    refused("[pstore]\nremove_after_report = 2\n", "remove_after_report", "2");
    refused("[alarm]\nrate_limit_interval = 86401\n", "rate_limit_interval", "86401");
    refused("[log]\nlevel = loud\n", "level", "loud");
    refused("not ini\n", "line", "1");
}

static void test_unknown_and_many(void **state)
{
    struct oom_config c;
    struct config_msgs m = {0};
    char text[8192] = "[memcg]\ncgroups = ";

    assert_int_equal(load("[psi]\nstall = 1\n[other]\nx = 1\n", &c, &m), 0);
    assert_int_equal(m.n_errors, 0);
    assert_int_equal(m.n_items, 2);
    oom_config_done(&c);
    config_msgs_done(&m);

    for (int i = 0; i < OOM_CONFIG_CGROUPS_MAX + 1; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s/c%d", i ? "," : "", i);
    strcat(text, "\n");
    assert_int_equal(load(text, &c, &m), -EINVAL);
    oom_config_done(&c);
    config_msgs_done(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_unknown_and_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
