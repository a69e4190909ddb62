/* test_task: the task state machine with a real event loop and real processes: every
 * transition of task.h and the reason kept for each FAILED. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "sentry/sentry.h"
#include "strv.h"
#include "task.h"
#include "test_util.h"

static char logdir[] = "/tmp/test_task.XXXXXX";
static char *base_env[] = {(char *) "PATH=/usr/bin:/bin", NULL};
static sd_event *event;
static struct task_context ctx;

struct done_record {
    int calls;
    int error;
    char message[256];
};

static void on_done(struct task *t, int error, const char *message, void *userdata)
{
    struct done_record *d = userdata;
    d->calls++;
    d->error = error;
    snprintf(d->message, sizeof(d->message), "%s", message);
}

static struct task_config *config(const char *name, enum task_type type, const char *start)
{
    struct task_config *c = calloc(1, sizeof(*c));
    c->name = strdup(name);
    c->path = strdup("/test/x.mod");
    c->enabled = true;
    c->type = type;
    c->task_start = strdup(start);
    c->task_stop = strdup("kill $pid");
    c->interval = 1;
    c->stop_timeout = 2;
    c->onstart = true;
    return c;
}

static bool pred_state(struct task *t, void *arg)
{
    return task_get_state(t) == *(enum task_state *) arg && !task_is_active(t);
}

/* Runs the loop until pred holds or timeout_ms passes; returns whether pred held. */
static bool run_until(struct task *t, bool (*pred)(struct task *, void *), void *arg,
                      unsigned timeout_ms)
{
    usec_t end = now_usec(CLOCK_MONOTONIC) + timeout_ms * 1000ULL;
    while (!pred(t, arg)) {
        if (now_usec(CLOCK_MONOTONIC) > end)
            return false;
        assert_true(sd_event_run(event, 50 * 1000) >= 0);
    }
    return true;
}

static void wait_idle_state(struct task *t, enum task_state s, unsigned ms)
{
    if (!run_until(t, pred_state, &s, ms))
        fail_msg("task %s: state %s phase %s, expected idle %s", task_name(t),
                 task_state_to_string(task_get_state(t)), task_phase_to_string(task_get_phase(t)),
                 task_state_to_string(s));
}

static void test_tables(void **state)
{
    for (int s = 0; s < _TASK_STATE_MAX; s++)
        assert_int_equal(task_state_from_string(task_state_to_string(s)), s);
    for (int p = 0; p < _TASK_PHASE_MAX; p++)
        assert_int_equal(task_phase_from_string(task_phase_to_string(p)), p);
    assert_int_equal(task_state_from_string("SLEEPING"), -EINVAL);
}

static void test_oneshot_exit_codes(void **state)
{
    struct task *ok = task_new(&ctx, config("ok", TASK_ONESHOT, "/bin/true"));
    struct task *bad = task_new(&ctx, config("bad", TASK_ONESHOT, "/bin/sh -c 'exit 3'"));
    struct done_record d = {0};
    const char *msg;

    assert_int_equal(task_get_state(ok), TASK_EXITED);
    assert_int_equal(task_start(ok, on_done, &d, &msg), 0);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.error, 0);
    assert_string_equal(d.message, "start task success");
    assert_int_equal(task_get_state(ok), TASK_RUNNING);
    assert_true(task_get_pid(ok) > 0);
    wait_idle_state(ok, TASK_EXITED, 5000);

    assert_int_equal(task_start(bad, NULL, NULL, &msg), 0);
    wait_idle_state(bad, TASK_FAILED, 5000);
    assert_string_equal(task_get_reason(bad), "exited with status 3");
    task_free(ok);
    task_free(bad);
}

static void test_killed_and_stopped(void **state)
{
    struct task *t = task_new(&ctx, config("sleeper", TASK_ONESHOT, "/bin/sleep 30"));
    struct done_record started = {0}, stopped = {0};
    const char *msg;

    assert_int_equal(task_start(t, on_done, &started, &msg), 0);
    assert_int_equal(task_start(t, on_done, &started, &msg), -EBUSY);
    assert_string_equal(msg, "task is running, please wait");
    assert_int_equal(kill(task_get_pid(t), SIGKILL), 0);
    wait_idle_state(t, TASK_FAILED, 5000);
    assert_string_equal(task_get_reason(t), "killed by signal 9 (SIGKILL)");

    assert_int_equal(task_start(t, NULL, NULL, &msg), 0);
    assert_int_equal(task_stop(t, on_done, &stopped, &msg), 0);
    assert_int_equal(task_get_phase(t), PHASE_STOPPING);
    assert_int_equal(stopped.calls, 0); /* answered once the process is gone */
    wait_idle_state(t, TASK_FAILED, 5000);
    assert_int_equal(stopped.calls, 1);
    assert_string_equal(task_get_reason(t), "stopped: killed by signal 15 (SIGTERM)");
    assert_int_equal(task_stop(t, on_done, &stopped, &msg), 1);
    assert_string_equal(msg, "task already stopped");
    task_free(t);
}

static void test_spawn_failure(void **state)
{
    struct task *t = task_new(&ctx, config("nope", TASK_ONESHOT, "/nonexistent/prog"));
    struct done_record d = {0};
    const char *msg;

    assert_int_equal(task_start(t, on_done, &d, &msg), 0);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.error, -ENOEXEC);
    assert_non_null(strstr(d.message, "start command is invalid, popen failed"));
    assert_int_equal(task_get_state(t), TASK_FAILED);
    assert_non_null(strstr(task_get_reason(t), "No such file or directory"));
    json_object *res = task_result_json(t);
    assert_string_equal(json_object_get_string(json_object_object_get(res, "result")), "FAIL");
    json_object_put(res);
    task_free(t);
}

static bool pred_runs(struct task *t, void *arg)
{
    json_object *st = task_status_json(t);
    int runs = json_object_get_int(json_object_object_get(st, "runs"));
    json_object_put(st);
    return runs >= *(int *) arg;
}

static void test_period_schedule_and_stop(void **state)
{
    struct task *t = task_new(&ctx, config("per", TASK_PERIOD, "/bin/true"));
    struct done_record stopped = {0};
    const char *msg;
    int three = 3;

    assert_int_equal(task_get_state(t), TASK_WAITING);
    assert_int_equal(task_start(t, NULL, NULL, &msg), 0);
    usec_t t0 = now_usec(CLOCK_MONOTONIC);
    assert_true(run_until(t, pred_runs, &three, 5000));
    /* interval 1 s, measured from each start */
    assert_true(now_usec(CLOCK_MONOTONIC) - t0 >= 1900 * 1000ULL);
    wait_idle_state(t, TASK_WAITING, 3000);
    assert_int_equal(task_stop(t, on_done, &stopped, &msg), 0);
    assert_int_equal(stopped.calls, 1);
    assert_int_equal(task_get_state(t), TASK_EXITED);
    task_free(t);
}

static void test_period_crash_keeps_schedule(void **state)
{
    struct task *t = task_new(&ctx, config("crashy", TASK_PERIOD, "/bin/sh -c 'kill -9 $$'"));
    const char *msg;
    int two = 2;

    assert_int_equal(task_start(t, NULL, NULL, &msg), 0);
    assert_true(run_until(t, pred_runs, &two, 5000));
    json_object *st = task_status_json(t);
    assert_string_equal(json_object_get_string(json_object_object_get(st, "last_run")),
                        "killed by signal 9 (SIGKILL)");
    json_object_put(st);
    task_free(t);
}

static void test_heartbeat(void **state)
{
    struct task_config *c = config("hb", TASK_ONESHOT, "/bin/sleep 30");
    c->heartbeat_interval = 1;
    struct task *t = task_new(&ctx, c);
    const char *msg;

    assert_int_equal(task_heartbeat(t, &msg), -ESRCH);
    assert_int_equal(task_start(t, NULL, NULL, &msg), 0);
    usec_t t0 = now_usec(CLOCK_MONOTONIC);
    /* heartbeats keep it alive past its interval */
    for (int i = 0; i < 4; i++) {
        sd_event_run(event, 400 * 1000);
        assert_int_equal(task_heartbeat(t, &msg), 0);
    }
    assert_int_equal(task_get_state(t), TASK_RUNNING);
    usec_t last = now_usec(CLOCK_MONOTONIC);
    (void) t0;
    wait_idle_state(t, TASK_FAILED, 5000);
    assert_true(now_usec(CLOCK_MONOTONIC) - last < 2000 * 1000ULL);
    assert_string_equal(task_get_reason(t), "heartbeat lost: no heartbeat within 1 s");
    task_free(t);

    /* no heartbeat_interval: heartbeats are refused, nothing is armed */
    t = task_new(&ctx, config("nohb", TASK_ONESHOT, "/bin/sleep 30"));
    assert_int_equal(task_start(t, NULL, NULL, &msg), 0);
    assert_int_equal(task_heartbeat(t, &msg), -ENOTSUP);
    task_free(t);
}

static void test_pre_post(void **state)
{
    char marks[300], cmd[600];
    struct task_config *c = config("hooks", TASK_ONESHOT, "/bin/true");
    struct done_record d = {0};
    const char *msg;

    snprintf(marks, sizeof(marks), "%s/marks", logdir);
    snprintf(cmd, sizeof(cmd), "/bin/sh -c 'echo pre >> %s'", marks);
    assert_int_equal(strv_extend(&c->task_pre, cmd), 0);
    snprintf(cmd, sizeof(cmd), "/bin/sh -c 'echo post >> %s'", marks);
    assert_int_equal(strv_extend(&c->task_post, cmd), 0);
    struct task *t = task_new(&ctx, c);
    assert_int_equal(task_start(t, on_done, &d, &msg), 0);
    assert_int_equal(task_get_phase(t), PHASE_PRE);
    assert_int_equal(task_get_state(t), TASK_RUNNING);
    wait_idle_state(t, TASK_EXITED, 5000);
    assert_int_equal(d.calls, 1);
    FILE *f = fopen(marks, "r");
    char buf[64] = {0};
    assert_non_null(f);
    assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
    fclose(f);
    assert_string_equal(buf, "pre\npost\n");
    task_free(t);

    c = config("badpre", TASK_ONESHOT, "/bin/true");
    assert_int_equal(strv_extend(&c->task_pre, "/bin/false"), 0);
    t = task_new(&ctx, c);
    d = (struct done_record){0};
    assert_int_equal(task_start(t, on_done, &d, &msg), 0);
    wait_idle_state(t, TASK_FAILED, 5000);
    assert_int_equal(d.error, -EIO);
    assert_non_null(strstr(d.message, "task pre cmd failed"));
    assert_non_null(strstr(task_get_reason(t), "'/bin/false' exited with status 1"));
    task_free(t);
}

static void test_reconfigure(void **state)
{
    struct task *t = task_new(&ctx, config("re", TASK_ONESHOT, "/bin/true"));
    const char *msg;

    assert_int_equal(task_reconfigure(t, config("re", TASK_PERIOD, "/bin/true"), &msg), -EINVAL);
    assert_string_equal(msg, "type of mod is different from old type, reload failed");
    assert_int_equal(task_reconfigure(t, config("re", TASK_ONESHOT, "/bin/false"), &msg), 0);
    assert_string_equal(task_get_config(t)->task_start, "/bin/false");

    struct task_config *off = config("re", TASK_ONESHOT, "/bin/true");
    off->enabled = false;
    assert_int_equal(task_reconfigure(t, off, &msg), 0);
    assert_int_equal(task_start(t, NULL, NULL, &msg), -ENOTSUP);
    assert_string_equal(msg, "mod is not enabled");
    task_free(t);
}

static int setup(void **state)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    assert_non_null(mkdtemp(logdir));
    assert_int_equal(sd_event_new(&event), 0);
    ctx = (struct task_context){
        .event = event,
        .log_dir = logdir,
        .socket_path = "/nonexistent.sock",
        .base_env = base_env,
        .hook_timeout = 10,
        .proc_root = "/proc",
    };
    return 0;
}

static int teardown(void **state)
{
    sd_event_unref(event);
    return test_rm_rf(logdir) != 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_oneshot_exit_codes),
        cmocka_unit_test(test_killed_and_stopped),
        cmocka_unit_test(test_spawn_failure),
        cmocka_unit_test(test_period_schedule_and_stop),
        cmocka_unit_test(test_period_crash_keeps_schedule),
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_pre_post),
        cmocka_unit_test(test_reconfigure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
