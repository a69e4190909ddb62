/* test_mod_file: the .mod validation tables of the reference (test_load_mods.py and the selftest
 * "mod validation" cases): each bad value gets its default and a warning that names the file,
 * the key and the value; missing required keys fail the load. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "mod_file.h"
#include "strv.h"
#include "test_util.h"

static const struct mod_defaults defaults = {.interval = 3, .stop_timeout = 10};
static char dir[] = "/tmp/test_mod_file.XXXXXX";
static int dirfd_;

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads a mod made of the base keys plus `extra` lines. */
static int load(const char *name, const char *extra, struct task_config **c, char ***warnings,
                char **error)
{
    char file[300], text[4096];
    snprintf(file, sizeof(file), "%s.mod", name);
    snprintf(text, sizeof(text),
             "[common]\nenabled = yes\ntype = oneshot\ntask_start = /bin/sleep 1\n"
             "task_stop = kill $pid\n%s",
             extra);
    write_file(file, text);
    *c = NULL;
    return mod_file_load(dirfd_, dir, file, &defaults, c, warnings, error);
}

static bool any_contains(char **l, const char *needle)
{
    for (char **p = l; p && *p; p++)
        if (strstr(*p, needle))
            return true;
    return false;
}

static void test_alarm_id_table(void **state)
{
    static const struct {
        const char *value;
        unsigned expect;
        const char *msg;
    } rows[] = {
        {"1001", 1001, NULL},
        {" 1128 ", 1128, NULL},
        {"+1050", 1050, NULL},
        {"abcd", 0, "alarm_id must be an integer, got 'abcd'"},
        {"0x10", 0, "alarm_id must be an integer, got '0x10'"},
        {"12.5", 0, "alarm_id must be an integer, got '12.5'"},
        {"", 0, "alarm_id must be an integer, got ''"},
        {"-1", 0, "alarm_id must be in [1001, 1128], got '-1'"},
        {"0", 0, "alarm_id must be in [1001, 1128], got '0'"},
        {"1000", 0, "alarm_id must be in [1001, 1128], got '1000'"},
        {"1129", 0, "alarm_id must be in [1001, 1128], got '1129'"},
        {"99999999999999999999", 0, "alarm_id must be in [1001, 1128]"},
    };
    for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
        struct task_config *c;
        char **w = NULL, *err = NULL, line[128];
        snprintf(line, sizeof(line), "alarm_id = %s\n", rows[i].value);
        assert_int_equal(load("alarm", line, &c, &w, &err), 0);
        assert_int_equal(c->alarm_id, rows[i].expect);
        if (rows[i].msg) {
            assert_true(any_contains(w, rows[i].msg));
            /* file and key named */
            assert_true(any_contains(w, "alarm.mod"));
        } else {
            assert_false(any_contains(w, "alarm_id must"));
            /* without alarm_clear_time the reference's default is announced */
            assert_true(any_contains(w, "alarm_clear_time not set, use 15 as default"));
        }
        task_config_free(c);
        strv_free(w);
    }
}

static void test_alarm_clear_time_table(void **state)
{
    static const struct {
        const char *value;
        unsigned expect;
        const char *msg;
    } rows[] = {
        {"0", 0, NULL},
        {"30", 30, NULL},
        {"-1", 15, "alarm_clear_time must be a positive integer, got '-1'"},
        {"abcd", 15, "alarm_clear_time must be an integer, got 'abcd'"},
        {"0x10", 15, "alarm_clear_time must be an integer, got '0x10'"},
        {"-1a", 15, "alarm_clear_time must be an integer, got '-1a'"},
        {"", 15, "alarm_clear_time not set, use 15 as default"},
    };
    for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
        struct task_config *c;
        char **w = NULL, *err = NULL, line[128];
        snprintf(line, sizeof(line), "alarm_id = 1002\nalarm_clear_time = %s\n", rows[i].value);
        assert_int_equal(load("clear", line, &c, &w, &err), 0);
        assert_int_equal(c->alarm_clear_time, rows[i].expect);
        assert_int_equal(c->alarm_id, 1002);
        if (rows[i].msg)
            assert_true(any_contains(w, rows[i].msg));
        else
            assert_null(w);
        task_config_free(c);
        strv_free(w);
    }
    /* alarm_clear_time is only read with a valid alarm_id */
    struct task_config *c;
    char **w = NULL, *err = NULL;
    assert_int_equal(load("clear", "alarm_clear_time = abc\n", &c, &w, &err), 0);
    assert_null(w);
    task_config_free(c);
}

static void test_conflict_table(void **state)
{
    static const struct {
        const char *value;
        enum task_conflict expect;
        bool warn;
    } rows[] = {
        {"up", CONFLICT_UP, false},       {"down", CONFLICT_DOWN, false},
        {" kill ", CONFLICT_KILL, false}, {"abcd", CONFLICT_UP, true},
        {"0x10", CONFLICT_UP, true},      {"UP", CONFLICT_UP, true},
        {"Up", CONFLICT_UP, true},        {"uP", CONFLICT_UP, true},
        {"", CONFLICT_UP, true},
    };
    for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
        struct task_config *c;
        char **w = NULL, *err = NULL, line[128];
        snprintf(line, sizeof(line), "conflict = %s\n", rows[i].value);
        assert_int_equal(load("conf", line, &c, &w, &err), 0);
        assert_int_equal(c->conflict, rows[i].expect);
        assert_int_equal(any_contains(w, "conflict must be one of 'up', 'down', 'kill', got"),
                         rows[i].warn);
        task_config_free(c);
        strv_free(w);
    }
}

static void test_env_file_rules(void **state)
{
    struct task_config *c;
    char **w = NULL, *err = NULL, line[600];

    write_file("real.env", "A=1\n");
    snprintf(line, sizeof(line), "env_file = %s/real.env\n", dir);
    assert_int_equal(load("env", line, &c, &w, &err), 0);
    assert_non_null(c->env_file);
    assert_null(w);
    task_config_free(c);

    assert_int_equal(load("env", "env_file = /nonexistent/x.env\n", &c, &w, &err), 0);
    assert_null(c->env_file);
    assert_true(any_contains(w, "mod env: env_file '/nonexistent/x.env' does not exist"));
    task_config_free(c);
    w = strv_free(w);

    snprintf(line, sizeof(line), "env_file = %s\n", dir);
    assert_int_equal(load("env", line, &c, &w, &err), 0);
    assert_null(c->env_file);
    assert_true(any_contains(w, "is not a regular file"));
    task_config_free(c);
    strv_free(w);
}

static void test_intervals_and_onstart(void **state)
{
    struct task_config *c;
    char **w = NULL, *err = NULL;

    /* period: default onstart yes, interval from the defaults when invalid */
    write_file("p.mod", "[common]\nenabled=yes\ntype=period\ntask_start=/bin/true\n"
                        "task_stop=kill $pid\ninterval=-1\n");
    assert_int_equal(mod_file_load(dirfd_, dir, "p.mod", &defaults, &c, &w, &err), 0);
    assert_true(c->onstart);
    assert_int_equal(c->interval, 3);
    assert_true(any_contains(w, "period delay is invalid: interval = '-1'"));
    task_config_free(c);
    w = strv_free(w);

    assert_int_equal(load("o", "onstart = Yes\nheartbeat_interval = 5\n", &c, &w, &err), 0);
    assert_false(c->onstart); /* oneshot: only exactly "yes" */
    assert_int_equal(c->heartbeat_interval, 5);
    task_config_free(c);

    assert_int_equal(load("o", "heartbeat_interval = -1\n", &c, &w, &err), 0);
    assert_int_equal(c->heartbeat_interval, 0);
    assert_true(any_contains(w, "heartbeat interval -1 is invalid"));
    task_config_free(c);
    strv_free(w);
}

static void test_required_and_failures(void **state)
{
    static const struct {
        const char *file, *text, *msg;
    } rows[] = {
        {"a.mod", "[other]\nenabled=yes\n", "common not in this mod file"},
        {"b.mod", "[common]\ntype=oneshot\n", "enabled not in this mod file"},
        {"c.mod", "[common]\nenabled=Yes\n", "enabled conf error Yes"},
        {"d.mod", "[common]\nenabled=yes\ntype=aaa\n", "mod d: type conf is invalid, got 'aaa'"},
        {"e.mod", "[common]\nenabled=yes\ntype=Oneshot\n", "type conf is invalid"},
        {"f.mod", "[common]\nenabled=yes\ntype=oneshot\ntask_stop=x\n",
         "task_start not in this mod file"},
        {"g.mod", "[common]\nenabled=yes\ntype=oneshot\ntask_start=a\n",
         "task_stop not in this mod file"},
        {"h.mod", "[common]\nenabled=yes\ntype=oneshot\ntask_start='x\ntask_stop=k\n",
         "No closing quotation"},
        {"i.mod", "[common]\nenabled=yes\nenabled=no\n", "duplicate key 'enabled'"},
        {"j.mod", "[common]\nenabled=yes\ntype=oneshot\ntask_start=   \ntask_stop=k\n",
         "task_start is empty"},
        {"k.mod",
         "[common]\nenabled=yes\ntype=oneshot\ntask_start=a\ntask_stop=k\ntask_pre=ok; 'bad\n",
         "task_pre = ''bad'"},
    };
    for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
        struct task_config *c = NULL;
        char **w = NULL, *err = NULL;
        write_file(rows[i].file, rows[i].text);
        assert_true(mod_file_load(dirfd_, dir, rows[i].file, &defaults, &c, &w, &err) < 0);
        assert_null(c);
        assert_non_null(err);
        if (!strstr(err, rows[i].msg))
            fail_msg("%s: '%s' does not contain '%s'", rows[i].file, err, rows[i].msg);
        assert_non_null(strstr(err, rows[i].file));
        free(err);
        strv_free(w);
    }
}

static void test_names(void **state)
{
    char name[300];
    struct task_config *c = NULL;
    char **w = NULL, *err = NULL;

    assert_int_equal(mod_file_task_name("abc_1.mod", name, sizeof(name)), 0);
    assert_string_equal(name, "abc_1");
    assert_int_equal(mod_file_task_name("abc.txt", name, sizeof(name)), -EINVAL);
    assert_int_equal(mod_file_task_name(".mod", name, sizeof(name)), -EINVAL);
    assert_int_equal(mod_file_task_name("this is a1122+#modname.mod", name, sizeof(name)),
                     -ENOTNAM);
    assert_int_equal(mod_file_task_name("a-b.mod", name, sizeof(name)), -ENOTNAM);

    /* a symlink is refused */
    write_file("target.mod", "[common]\nenabled=yes\ntype=oneshot\ntask_start=a\ntask_stop=b\n");
    assert_int_equal(symlinkat("target.mod", dirfd_, "link.mod"), 0);
    assert_int_equal(mod_file_load(dirfd_, dir, "link.mod", &defaults, &c, &w, &err), -ELOOP);
    assert_non_null(strstr(err, "mod name invalid"));
    free(err);
    assert_int_equal(mod_file_load(dirfd_, dir, "target.mod", &defaults, &c, &w, &err), 0);
    task_config_free(c);
}

static void test_commands_and_extras(void **state)
{
    struct task_config *c;
    char **w = NULL, *err = NULL;

    assert_int_equal(load("x",
                          "task_pre = /bin/a 1; ;/bin/b '2 x'\ntask_post=/bin/c\ntimeout=5\n"
                          "stop_timeout=2\nuser=root\n",
                          &c, &w, &err),
                     0);
    assert_int_equal(strv_length(c->task_pre), 2);
    assert_string_equal(c->task_pre[0], "/bin/a 1");
    assert_string_equal(c->task_pre[1], "/bin/b '2 x'");
    assert_int_equal(c->timeout, 5);
    assert_int_equal(c->stop_timeout, 2);
    assert_string_equal(c->user, "root");
    assert_int_equal(c->uid, 0);
    task_config_free(c);
    strv_free(w);

    /* ';' splits commands before the words are split (the reference's rule): a quoted ';'
     * leaves an unterminated quote, which is refused at load time */
    assert_true(load("z", "task_pre = /bin/b '2;x'\n", &c, &w, &err) < 0);
    assert_non_null(strstr(err, "No closing quotation"));
    free(err);

    assert_true(load("y", "user = nosuchuser_x\n", &c, &w, &err) < 0);
    assert_non_null(strstr(err, "user = 'nosuchuser_x': no such user"));
    free(err);
    strv_free(w);
}

static int setup(void **state)
{
    assert_non_null(mkdtemp(dir));
    dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
    return dirfd_ < 0;
}

static int teardown(void **state)
{
    close(dirfd_);
    return test_rm_rf(dir) != 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alarm_id_table),
        cmocka_unit_test(test_alarm_clear_time_table),
        cmocka_unit_test(test_conflict_table),
        cmocka_unit_test(test_env_file_rules),
        cmocka_unit_test(test_intervals_and_onstart),
        cmocka_unit_test(test_required_and_failures),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_commands_and_extras),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
