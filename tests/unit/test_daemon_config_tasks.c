/* test_daemon_config_tasks: the [tasks] keys of the task cgroups and the task logs: defaults,
 * sizes with units, the cgroup setting (not put under root), bad values keep their default. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>

#include "daemon_config.h"
#include "log.h"
#include "test_util.h"

static char dir[] = "/tmp/test_daemon_config_tasks.XXXXXX";

static void load(const char *text, struct daemon_config *c)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/sentryd.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(daemon_config_load(path, true, "/srv/root", c), 0);
}

static void test_defaults(void **state)
{
    struct daemon_config c;

    load("", &c);
    assert_string_equal(c.task_cgroup, "auto");
    assert_int_equal(c.task_log_max_size, 10 * 1024 * 1024);
    assert_int_equal(c.task_log_max_files, 3);
    daemon_config_done(&c);
}

static void test_values(void **state)
{
    static const struct {
        const char *size;
        uint64_t bytes; /* 0: refused, the default stays */
    } sizes[] = {
        {"65536", 65536},
        {"64K", 65536},
        {"64k", 65536},
        {"64KiB", 65536},
        {"1M", 1048576},
        {"2MB", 2097152},
        {"1G", 1073741824},
        {"2G", 0},
        {"16K", 16384},
        {"16383", 0},
        {"10 M", 0},
        {"-1", 0},
        {"1T", 0},
        {"M", 0},
        {"", 0},
        {"64Kb", 0},
        {"99999999999999999999", 0},
    };
    struct daemon_config c;
    char text[256];

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(text, sizeof(text), "[tasks]\nlog_max_size = %s\n", sizes[i].size);
        load(text, &c);
        if (sizes[i].bytes == 0)
            assert_int_equal(c.task_log_max_size, 10 * 1024 * 1024);
        else if (c.task_log_max_size != sizes[i].bytes)
            fail_msg("log_max_size = %s: %llu", sizes[i].size,
                     (unsigned long long) c.task_log_max_size);
        daemon_config_done(&c);
    }

    load("[tasks]\nlog_max_files = 7\ncgroup = off\n", &c);
    assert_int_equal(c.task_log_max_files, 7);
    assert_string_equal(c.task_cgroup, "off");
    daemon_config_done(&c);
    load("[tasks]\nlog_max_files = 0\ncgroup = /sys/fs/cgroup/my.slice/sentry\n", &c);
    assert_int_equal(c.task_log_max_files, 3);
    /* the machine's cgroups: never put under root */
    assert_string_equal(c.task_cgroup, "/sys/fs/cgroup/my.slice/sentry");
    daemon_config_done(&c);

    static const char *const bad_cgroups[] = {
        "on", "relative/path", "/sys/fs/cgroup/../etc", "/sys/fs/cgroup/x/..", "/sys/fs/cgroup/./x",
        ""};
    for (size_t i = 0; i < sizeof(bad_cgroups) / sizeof(bad_cgroups[0]); i++) {
        snprintf(text, sizeof(text), "[tasks]\ncgroup = %s\n", bad_cgroups[i]);
        load(text, &c);
        assert_string_equal(c.task_cgroup, "auto");
        daemon_config_done(&c);
    }
}

static int setup(void **state)
{
    log_setup("test", LOG_TARGET_NULL, LOG_DEBUG);
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    return test_rm_rf(dir) != 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
