/* test_task_cgroup: the tasks' cgroups on this machine's cgroup v2: the base found and made
 * (auto, a path, off, not a cgroup), processes that joined a task's cgroup (forked, and one in a
 * session of its own) counted, signalled and ended both ways, with cgroup.kill and pid by pid
 * (what kernels before 5.14 get), cgroups an earlier sentryd left swept, and removal. Needs root
 * and a writable cgroup2 mount; skipped without them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_path.h"
#include "task_cgroup.h"

static char base[PATH_MAX];
static pid_t children[16];
static int n_children;

/* A private base under the cgroup2 mount, or "" when there is none to use. */
static int setup(void **state)
{
    char *b = NULL, *why = NULL, path[PATH_MAX];
    bool created;

    base[0] = 0;
    if (geteuid() != 0)
        return 0;
    /* auto first: it finds the mount from /proc/self/{cgroup,mountinfo} */
    if (task_cgroup_setup("auto", "/unit/test/root", &b, &why, &created) < 0 || !b) {
        free(why);
        return 0;
    }
    char *slash = strrchr(b, '/');
    snprintf(path, sizeof(path), "%.*s/sentry-unit-%d", (int) (slash - b), b, (int) getpid());
    if (created)
        rmdir(b);
    free(b);
    if (task_cgroup_setup(path, "/", &b, &why, &created) < 0 || !b) {
        free(why);
        return 0;
    }
    snprintf(base, sizeof(base), "%s", b);
    free(b);
    return 0;
}

static int teardown(void **state)
{
    if (base[0])
        rmdir(base);
    return 0;
}

static void reap_children(void)
{
    for (int i = 0; i < n_children; i++)
        while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR)
            ;
    n_children = 0;
}

/* n processes in the cgroup at path: sleepers, and (escape) one that makes a session of its own
 * and leaves a grandchild behind, as a daemon does. Returns once they are all in. */
static void start_processes(const char *path, int n, bool escape)
{
    int fd = task_cgroup_open_procs(path);
    assert_true(fd >= 0);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (write(fd, "0", 1) != 1)
                _exit(1);
            if (escape && i == 0) {
                setsid();
                if (fork() == 0)
                    execl("/bin/sleep", "sleep", "60", (char *) NULL);
                _exit(0);
            }
            execl("/bin/sleep", "sleep", "60", (char *) NULL);
            _exit(1);
        }
        children[n_children++] = pid;
    }
    close(fd);
    /* the escaping one has exited once its grandchild is started: reaped here, so that it is
     * not counted (a zombie stays in cgroup.procs until reaped); reap_children() skips it */
    if (escape)
        while (waitpid(children[0], NULL, 0) < 0 && errno == EINTR)
            ;
    /* every process is in (the escaping one's grandchild too) */
    int want = n; /* the escaping one left its grandchild in its place */
    for (int tries = 0; tries < 200; tries++) {
        if (task_cgroup_signal(path, 0, 0) >= want)
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the processes did not show up in %s", path);
}

static bool wait_empty(const char *path, bool repeat_kill)
{
    for (int tries = 0; tries < 300; tries++) {
        if (task_cgroup_is_populated(path) == 0)
            return true;
        if (repeat_kill)
            task_cgroup_kill_each(path);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void test_setup_refusals(void **state)
{
    char *b = NULL, *why = NULL;
    bool created;

    assert_int_equal(task_cgroup_setup("off", "/", &b, &why, &created), 0);
    assert_null(b);
    assert_string_equal(why, "cgroups are off ([tasks] cgroup = off)");
    free(why);
    /* a path that is no cgroup: tasks fall back, and the reason names it */
    assert_int_equal(task_cgroup_setup("/tmp/sentry-no-cgroup-here", "/", &b, &why, &created), 0);
    assert_null(b);
    assert_non_null(strstr(why, "/tmp/sentry-no-cgroup-here is not in a cgroup2 file system"));
    free(why);
    if (!base[0])
        return;
    /* never the cgroup that holds this process (sentryd), nor one above it */
    char own[PATH_MAX];
    snprintf(own, sizeof(own), "%.*s", (int) (strrchr(base, '/') - base), base);
    assert_int_equal(task_cgroup_setup(own, "/", &b, &why, &created), 0);
    assert_null(b);
    assert_non_null(strstr(why, "holds sentryd's own cgroup"));
    free(why);
}

static void test_kill_pid_by_pid(void **state)
{
    char *path = NULL;

    if (!base[0])
        skip();
    assert_int_equal(task_cgroup_create(base, "each", &path), 0);
    assert_int_equal(task_cgroup_is_populated(path), 0);
    start_processes(path, 5, true);
    assert_int_equal(task_cgroup_is_populated(path), 1);
    /* the one that made its own session left a grandchild there: 5 in all */
    assert_int_equal(task_cgroup_signal(path, 0, 0), 5);
    /* skip: every process but one */
    assert_int_equal(task_cgroup_signal(path, 0, children[1]), 4);
    assert_int_equal(task_cgroup_remove(path), -EBUSY);
    /* what kernels without cgroup.kill get: SIGKILL to each pid, again until it is empty */
    assert_true(task_cgroup_kill_each(path) >= 4);
    assert_true(wait_empty(path, true));
    reap_children();
    assert_int_equal(task_cgroup_remove(path), 0);
    assert_int_equal(access(path, F_OK), -1);
    free(path);
}

static void test_kill_and_sigterm(void **state)
{
    char *path = NULL;

    if (!base[0])
        skip();
    assert_int_equal(task_cgroup_create(base, "all", &path), 0);
    start_processes(path, 4, true);
    /* SIGTERM to all but one: three die (sleep does not catch it) */
    assert_int_equal(task_cgroup_signal(path, SIGTERM, children[1]), 3);
    for (int tries = 0; tries < 300 && task_cgroup_signal(path, 0, 0) > 1; tries++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(task_cgroup_signal(path, 0, 0), 1);
    /* cgroup.kill where the kernel has it (5.14+), else pid by pid: either way it empties */
    assert_true(task_cgroup_kill(path) >= 0);
    assert_true(wait_empty(path, false) || wait_empty(path, true));
    reap_children();
    assert_int_equal(task_cgroup_destroy(path, 1000000), 0);
    assert_int_equal(access(path, F_OK), -1);
    free(path);
}

static void test_sweep_and_destroy(void **state)
{
    char *stale = NULL, *empty = NULL;

    if (!base[0])
        skip();
    /* what an earlier sentryd left: a cgroup with processes and an empty one */
    assert_int_equal(task_cgroup_create(base, "stale", &stale), 0);
    assert_int_equal(task_cgroup_create(base, "empty", &empty), 0);
    start_processes(stale, 3, false);
    assert_int_equal(task_cgroup_sweep(base), 1);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(empty, F_OK), -1);
    reap_children();
    /* creating a task's cgroup when the base went away makes the base again */
    assert_int_equal(rmdir(base), 0);
    char *again = NULL;
    assert_int_equal(task_cgroup_create(base, "again", &again), 0);
    assert_int_equal(access(again, F_OK), 0);
    assert_int_equal(task_cgroup_destroy(again, 1000000), 0);
    free(again);
    free(stale);
    free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_refusals),
        cmocka_unit_test(test_kill_pid_by_pid),
        cmocka_unit_test(test_kill_and_sigterm),
        cmocka_unit_test(test_sweep_and_destroy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
