/* test_daemon_config: sentryd.conf: defaults, the root prefix, bad values keep their default. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "daemon_config.h"
#include "log.h"
#include "test_util.h"

static char dir[] = "/tmp/test_daemon_config.XXXXXX";

static void write_conf(const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/sentryd.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_defaults_under_root(void **state)
{
    char path[300];
    struct daemon_config c;

    write_conf("", path, sizeof(path));
    assert_int_equal(daemon_config_load(path, true, "/srv/r", &c), 0);
    assert_string_equal(c.tasks_dir, "/srv/r/etc/sentry/tasks");
    assert_string_equal(c.run_dir, "/srv/r/run/sentry");
    assert_string_equal(c.socket_path, "/srv/r/run/sentry/sentryd.sock");
    assert_string_equal(c.state_dir, "/srv/r/var/lib/sentry");
    assert_int_equal(c.default_interval, 3);
    assert_int_equal(c.stop_timeout, 10);
    assert_int_equal(c.socket_mode, 0660);
    assert_int_equal(c.log_level, LOG_INFO);
    assert_non_null(c.node);
    daemon_config_done(&c);
}

static void test_values_and_bad_values(void **state)
{
    char path[300];
    struct daemon_config c;

    write_conf("[daemon]\nroot = /x/\nnode = n1\nlog_level = debug\n"
               "[paths]\nlog_dir = /logs\n[control]\nsocket = /s/sock\nmax_clients = 0\n"
               "[tasks]\ndefault_interval = 60\nhook_timeout = abc\n",
               path, sizeof(path));
    assert_int_equal(daemon_config_load(path, true, NULL, &c), 0);
    assert_string_equal(c.root, "/x/");
    assert_string_equal(c.log_dir, "/x/logs");
    assert_string_equal(c.socket_path, "/x/s/sock");
    assert_string_equal(c.node, "n1");
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_int_equal(c.default_interval, 60);
    assert_int_equal(c.max_clients, 512); /* 0 is out of range: default */
    assert_int_equal(c.hook_timeout, 30);
    daemon_config_done(&c);
}

static void test_missing_files(void **state)
{
    char path[300];
    struct daemon_config c;

    snprintf(path, sizeof(path), "%s/absent.conf", dir);
    assert_int_equal(daemon_config_load(path, true, NULL, &c), -ENOENT);
    assert_int_equal(daemon_config_load(path, false, NULL, &c), 0);
    assert_null(c.config_path);
    daemon_config_done(&c);
    write_conf("[daemon\n", path, sizeof(path));
    assert_int_equal(daemon_config_load(path, true, NULL, &c), -EBADMSG);
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
        cmocka_unit_test(test_defaults_under_root),
        cmocka_unit_test(test_values_and_bad_values),
        cmocka_unit_test(test_missing_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
