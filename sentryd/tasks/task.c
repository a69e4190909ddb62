/* task.c: one task's state machine (see task.h for the picture).
 *
 * Owns the task's child processes (followed through pidfd event sources), its cgroup (created at
 * the first process of a session, removed at its end), its output (task_output.c), its timers
 * (period, heartbeat, run timeout, stop grace, hook timeout, the wait for an empty cgroup) and
 * the completions waiting on it. Calls process_spawn, task_cgroup, task_output, env_file,
 * user_identity and the task_context given by the task manager.
 *
 * Draining: when the main process has ended (and at the end of a session) the processes it
 * left in the task's cgroup get SIGTERM, and SIGKILL stop_timeout after the stop began (or after
 * the main process ended on its own); the task goes on (WAITING, task_post, idle) only once
 * cgroup.events says the cgroup is empty (an inotify watch, no polling; without cgroup.kill a short
 * timer repeats the pid-by-pid SIGKILL until it is). */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/wait.h>

#include "env_file.h"
#include "fileio.h"
#include "log.h"
#include "process_conflict.h"
#include "process_spawn.h"
#include "sentry/sentry.h"
#include "split_words.h"
#include "string_table.h"
#include "strv.h"
#include "task.h"
#include "task_cgroup.h"
#include "task_log.h"
#include "terminal_escape.h"
#include "task_output.h"
#include "trusted_file.h"
#include "user_identity.h"

#define TIMER_ACCURACY (10 * USEC_PER_MSEC)
/* Without cgroup.kill: how often SIGKILL goes again to what is left in the cgroup. */
#define DRAIN_REKILL_INTERVAL (100 * USEC_PER_MSEC)
/* Longest FAIL message kept in a reason (escaped), and longest reason. */
#define TASK_RESULT_MESSAGE_MAX 512
#define TASK_REASON_MAX         (TASK_RESULT_MESSAGE_MAX + 160)

static const char *const task_state_table[_TASK_STATE_MAX] = {
    [TASK_RUNNING] = "RUNNING",
    [TASK_WAITING] = "WAITING",
    [TASK_EXITED] = "EXITED",
    [TASK_FAILED] = "FAILED",
};
DEFINE_STRING_TABLE_LOOKUP(task_state, enum task_state, task_state_table, _TASK_STATE_MAX)

static const char *const task_phase_table[_TASK_PHASE_MAX] = {
    [PHASE_IDLE] = "idle",         [PHASE_PRE] = "pre",   [PHASE_MAIN] = "main",
    [PHASE_STOPPING] = "stopping", [PHASE_POST] = "post",
};
DEFINE_STRING_TABLE_LOOKUP(task_phase, enum task_phase, task_phase_table, _TASK_PHASE_MAX)

/* Why the main process is being ended by sentryd. */
enum stop_cause {
    STOP_NONE,
    STOP_REQUEST,   /* sentryctl stop */
    STOP_HEARTBEAT, /* no heartbeat within heartbeat_interval */
    STOP_TIMEOUT,   /* ran longer than timeout */
    STOP_SHUTDOWN,  /* sentryd is stopping */
};

enum child_role {
    CHILD_MAIN,
    CHILD_HOOK,
    CHILD_STOPPER,
};

struct task_child {
    struct task *task;
    sd_event_source *source;
    pid_t pid;
    enum child_role role;
    char *what; /* command line, for messages */
};

/* What a completion waits for. */
enum waiter_kind {
    WAIT_START, /* the main process runs (or starting failed) */
    WAIT_GRACE, /* it runs: the start grace, or the end of the process if that comes first */
    WAIT_STOP,  /* the task has stopped and its task_post has run */
};

struct task_waiter {
    task_done_fn fn;
    void *userdata;
    enum waiter_kind kind;
    usec_t grace;           /* WAIT_START: how long to watch the process before answering */
    sd_event_source *timer; /* WAIT_GRACE: the end of the grace */
    struct task *task;
    struct task_waiter *next;
};

struct task {
    const struct task_context *ctx;
    struct task_config *cfg;
    enum task_state state;
    enum task_phase phase;
    enum stop_cause stop_cause;
    bool period_enabled; /* period task: keep scheduling runs */
    char *reason;        /* why the task is FAILED */
    char *last_run;      /* how the last main process ended */
    char *last_failure;  /* why the last main process failed (with its FAIL result), or NULL */
    bool run_marked;     /* the marker of the coming run is in the log already (task_pre) */
    char **warnings;     /* from loading the .mod */

    struct task_child *main, *hook, *stopper;
    char **hook_cmds; /* the task_pre or task_post commands being run */
    size_t hook_index;
    bool hooks_are_post;
    char *hook_failure; /* first failed hook command, for messages */

    sd_event_source *period_timer, *heartbeat_timer, *run_timer, *kill_timer, *hook_timer;
    usec_t last_start; /* CLOCK_MONOTONIC of the last main start; 0 never */
    uint64_t runs;

    struct task_output *output; /* its processes' stdout and stderr, to its log */
    char *cgroup;               /* <cgroup_base>/<name> while it exists */
    bool kill_sent;             /* SIGKILL went to all of the task during this stop */
    /* Draining: the processes left behind are being ended; drain_done goes on once none is. */
    void (*drain_done)(struct task *t);
    sd_event_source *drain_watch;  /* inotify on cgroup.events */
    sd_event_source *rekill_timer; /* SIGKILL pid by pid again (no cgroup.kill) */
    /* How the last main process ended, kept while what it left behind is ended. */
    bool exit_ok;
    char exit_desc[128];
    char *exit_why;

    /* result_info of the reference */
    int result_level; /* -1: none reported */
    json_object *details;
    usec_t start_time, end_time; /* CLOCK_REALTIME */

    struct task_waiter *waiters;
    char message[512]; /* text returned to callers */
};

static const char *const result_error_msg[] = {
    [SENTRY_RESULT_PASS] = "",
    [SENTRY_RESULT_FAIL] = "FAILED. config may be incorrect or the command may be invalid/killed!",
    [SENTRY_RESULT_SKIP] = "not supported. maybe some rpm package not be installed.",
    [SENTRY_RESULT_MINOR_ALM] =
        "the command output shows that the status is 'INFO' or 'GENERAL_WARN'.",
    [SENTRY_RESULT_MAJOR_ALM] =
        "the command output shows that the status is 'WARN' or 'IMPORTANT_WARN'.",
    [SENTRY_RESULT_CRITICAL_ALM] =
        "the command output shows that the status is 'FAIL' or 'EMERGENCY_WARN'.",
};

static void task_session_end(struct task *t);
static void task_run_main(struct task *t);
static void task_hooks_run(struct task *t, char *const *cmds, bool post);
static void task_drain(struct task *t, void (*done)(struct task *t));
static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* ---- small helpers ---------------------------------------------------------------------- */

const char *task_name(const struct task *t)
{
    return t->cfg->name;
}

const struct task_config *task_get_config(const struct task *t)
{
    return t->cfg;
}

enum task_state task_get_state(const struct task *t)
{
    return t->state;
}

enum task_phase task_get_phase(const struct task *t)
{
    return t->phase;
}

const char *task_get_reason(const struct task *t)
{
    return t->reason;
}

pid_t task_get_pid(const struct task *t)
{
    return t->main ? t->main->pid : 0;
}

bool task_is_active(const struct task *t)
{
    return t->phase != PHASE_IDLE;
}

static const char *_printf_(2, 3) task_msg(struct task *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->message, sizeof(t->message), fmt, ap);
    va_end(ap);
    return t->message;
}

static void set_string(char **p, const char *s)
{
    free(*p);
    *p = s ? strdup(s) : NULL;
}

static void task_set_state(struct task *t, enum task_state s, const char *reason)
{
    if (s == TASK_FAILED)
        set_string(&t->reason, reason);
    if (t->state != s)
        log_task_debug(task_name(t), "state %s -> %s", task_state_to_string(t->state),
                       task_state_to_string(s));
    t->state = s;
}

static int timer_arm(struct task *t, sd_event_source **s, usec_t delay, sd_event_time_handler_t cb)
{
    int r;
    if (*s) {
        r = sd_event_source_set_time_relative(*s, delay);
        if (r >= 0)
            r = sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
    } else
        r = sd_event_add_time_relative(t->ctx->event, s, CLOCK_MONOTONIC, delay, TIMER_ACCURACY, cb,
                                       t);
    if (r < 0)
        log_task_error_errno(task_name(t), r, "cannot arm a timer: %m");
    return r;
}

static void timer_disarm(sd_event_source *s)
{
    if (s)
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

static void task_waiter_free(struct task_waiter *w)
{
    sd_event_source_disable_unref(w->timer);
    free(w);
}

/* Completes the waiters of one kind. */
static void task_complete(struct task *t, enum waiter_kind kind, int error, const char *message)
{
    struct task_waiter **pp = &t->waiters;
    _cleanup_free_ char *msg = strdup(message ? message : "");

    while (*pp) {
        struct task_waiter *w = *pp;
        if (w->kind != kind) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->fn(t, error, msg ? msg : "", w->userdata);
        task_waiter_free(w);
    }
}

static int task_add_waiter(struct task *t, enum waiter_kind kind, usec_t grace, task_done_fn fn,
                           void *userdata)
{
    struct task_waiter *w;

    if (!fn)
        return 0;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    *w = (struct task_waiter){
        .fn = fn, .userdata = userdata, .kind = kind, .grace = grace, .task = t};
    w->next = t->waiters;
    t->waiters = w;
    return 0;
}

/* The grace of a start waiter is over and the process still runs: the start succeeded. */
static int on_grace_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct task_waiter *w = userdata, **pp;
    struct task *t = w->task;

    for (pp = &t->waiters; *pp && *pp != w; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = w->next;
    w->fn(t, 0, "start task success", w->userdata);
    task_waiter_free(w);
    return 0;
}

/* The main process runs: waiters without a grace are answered now, the others once the grace
 * is over or the process has ended, whichever comes first. */
static void task_complete_started(struct task *t)
{
    struct task_waiter **pp = &t->waiters;

    while (*pp) {
        struct task_waiter *w = *pp;
        if (w->kind != WAIT_START) {
            pp = &w->next;
            continue;
        }
        if (w->grace > 0) {
            int r = sd_event_add_time_relative(t->ctx->event, &w->timer, CLOCK_MONOTONIC, w->grace,
                                               TIMER_ACCURACY, on_grace_timer, w);
            if (r >= 0) {
                w->kind = WAIT_GRACE;
                pp = &w->next;
                continue;
            }
            log_task_warning_errno(task_name(t), r, "cannot arm the start grace timer: %m");
        }
        *pp = w->next;
        w->fn(t, 0, "start task success", w->userdata);
        task_waiter_free(w);
    }
}

/* ---- processes -------------------------------------------------------------------------- */

static struct task_child *task_child_free(struct task_child *c)
{
    if (!c)
        return NULL;
    sd_event_source_disable_unref(c->source);
    free(c->what);
    free(c);
    return NULL;
}

static void task_kill_group(struct task *t, struct task_child *c, int sig)
{
    if (!c || c->pid <= 0)
        return;
    /* The child leads its own session and process group; it is not reaped yet, so the id
     * cannot have been reused. */
    if (kill(-c->pid, sig) < 0 && errno != ESRCH)
        log_task_warning_errno(task_name(t), errno, "cannot send SIG%s to %s (pid %d): %m",
                               sigabbrev_np(sig), c->what, (int) c->pid);
}

static int on_rekill_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* SIGKILL to every process of the task's cgroup. Without cgroup.kill the pids are signalled one
 * by one, and a process may fork meanwhile: while the cgroup drains a timer repeats it. */
static void task_cgroup_kill_all(struct task *t)
{
    int r = task_cgroup_kill(t->cgroup);

    if (r < 0)
        log_task_warning_errno(task_name(t), r, "cannot kill the processes of cgroup %s: %m",
                               t->cgroup);
    if (r == 0 && t->drain_done)
        timer_arm(t, &t->rekill_timer, DRAIN_REKILL_INTERVAL, on_rekill_timer);
}

/* Sends sig to all of the task: every process of its cgroup (but the task_stop command, which
 * is left to finish unless it is SIGKILL), or, without one, the process groups of its main and
 * hook processes. */
static void task_signal_all(struct task *t, int sig)
{
    if (sig == SIGKILL)
        t->kill_sent = true;
    if (!t->cgroup) {
        task_kill_group(t, t->main, sig);
        task_kill_group(t, t->hook, sig);
        return;
    }
    if (sig == SIGKILL) {
        task_cgroup_kill_all(t);
        return;
    }
    int r = task_cgroup_signal(t->cgroup, sig, t->stopper ? t->stopper->pid : 0);
    if (r < 0)
        log_task_warning_errno(task_name(t), r, "cannot signal the processes of cgroup %s: %m",
                               t->cgroup);
}

/* The env_file's text, read with the rights of the user the task runs as (root's own for a task
 * without user=), from a file nobody but root or that user may change. NULL and a warning when
 * it cannot be used: the task then gets the default environment, as when it is missing. */
static char *task_read_env_file(struct task *t, const struct user_identity *user)
{
    _cleanup_free_ char *text = NULL;
    struct stat st;
    char why[128];
    int r;

    if (user)
        r = user_read_file(user, t->cfg->env_file, ENV_FILE_SIZE_MAX, &text, &st);
    else
        r = read_file_bounded(AT_FDCWD, t->cfg->env_file, 0, ENV_FILE_SIZE_MAX, &text, NULL, &st);
    if (r < 0) {
        log_task_warning_errno(task_name(t), r,
                               "env_file '%s' cannot be read%s%s: %m; using the default "
                               "environment",
                               t->cfg->env_file, user ? " by user " : "", user ? user->name : "");
        return NULL;
    }
    if (trusted_file_check(&st, user ? user->uid : TRUSTED_FILE_NO_OWNER, why, sizeof(why)) < 0) {
        log_task_warning(task_name(t), "env_file '%s' refused: %s; using the default environment",
                         t->cfg->env_file, why);
        return NULL;
    }
    return TAKE_PTR(text);
}

/* sentryd's base environment + the user's identity (HOME, SHELL, USER, LOGNAME, PATH for a user
 * other than root, PWD) + env_file + what sentry tells its tasks. */
static char **task_build_env(struct task *t, const struct user_identity *user, const char *cwd)
{
    _cleanup_strv_free_ char **env = strv_copy(t->ctx->base_env);

    if (!env)
        return NULL;
    if (user ? user_identity_apply_env(user, cwd, &env) < 0 : strv_env_set(&env, "PWD", cwd) < 0)
        return NULL;
    if (t->cfg->env_file) {
        _cleanup_free_ char *text = task_read_env_file(t, user), *warning = NULL;
        if (text && env_file_apply(text, &env, &warning) < 0)
            return NULL;
        if (warning)
            log_task_warning(task_name(t), "env_file '%s': %s", t->cfg->env_file, warning);
    }
    if (strv_env_set(&env, SENTRY_ENV_TASK, task_name(t)) < 0 ||
        strv_env_set(&env, SENTRY_ENV_SOCKET, t->ctx->socket_path) < 0)
        return NULL;
    return TAKE_PTR(env);
}

int task_get_log_path(const struct task *t, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s.log", t->ctx->log_dir, task_name(t));
    return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int task_read_log_tail(struct task *t, unsigned max_lines, char ***ret)
{
    char path[4096];
    int r = task_get_log_path(t, path, sizeof(path));

    *ret = NULL;
    if (r < 0)
        return r;
    task_output_flush(t->output);
    return task_log_read_tail(path, max_lines, ret);
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata);

/* The writer of the task's log, made at the first process. */
static int task_get_output(struct task *t, struct task_output **ret)
{
    struct task_output_limits limits = {
        .max_size = t->ctx->log_max_size,
        .max_files = t->ctx->log_max_files,
    };
    int r;

    if (!t->output) {
        r = task_output_new(t->ctx->event, t->ctx->log_dir, task_name(t), &limits, &t->output);
        if (r < 0)
            return r;
    }
    *ret = t->output;
    return 0;
}

/* The cgroup of the task, made at the first process of a session: an fd of its cgroup.procs
 * for the child to join it, -EBADF without cgroups, or -errno. */
static int task_open_cgroup(struct task *t)
{
    int r;

    if (!t->ctx->cgroup_base)
        return -EBADF;
    if (!t->cgroup) {
        r = task_cgroup_create(t->ctx->cgroup_base, task_name(t), &t->cgroup);
        if (r < 0)
            return r;
        log_task_debug(task_name(t), "cgroup %s", t->cgroup);
    }
    return task_cgroup_open_procs(t->cgroup);
}

/* Spawns argv as a child of the given role; marker (may be NULL) goes to the log first, so it
 * comes before anything the process writes. -errno with t->message set on failure. */
static int task_spawn(struct task *t, char **argv, enum child_role role, const char *what,
                      const char *marker, struct task_child **ret)
{
    _cleanup_(user_identity_done) struct user_identity user = {0};
    _cleanup_strv_free_ char **env = NULL;
    _cleanup_close_ int pidfd = -EBADF, cgroup_fd = -EBADF;
    struct task_output *output = NULL;
    const char *cwd = "/", *step = NULL;
    int r, out_fd = -1;
    struct task_child *c;
    pid_t pid;

    if (t->cfg->user) {
        r = user_identity_resolve(t->cfg->user, &user);
        if (r < 0) {
            task_msg(t, "user %s: %s", t->cfg->user,
                     r == -ESRCH ? "no such user any more" : strerror(-r));
            return r;
        }
        cwd = user_identity_cwd(&user);
    }
    env = task_build_env(t, t->cfg->user ? &user : NULL, cwd);
    if (!env) {
        task_msg(t, "out of memory");
        return -ENOMEM;
    }
    r = task_get_output(t, &output);
    if (r >= 0)
        out_fd = task_output_pipe(output);
    if (r < 0 || out_fd < 0)
        log_task_warning_errno(task_name(t), r < 0 ? r : out_fd,
                               "no pipe for the task's output: %m; it is discarded");
    if (marker)
        task_output_note(output, marker);
    cgroup_fd = task_open_cgroup(t);
    if (cgroup_fd < 0 && cgroup_fd != -EBADF) {
        r = cgroup_fd;
        task_msg(t, "cannot create cgroup %s/%s: %s", t->ctx->cgroup_base, task_name(t),
                 strerror(-r));
    } else {
        struct spawn_params p = {
            .argv = argv,
            .env = env,
            .output_fd = out_fd,
            .cgroup_fd = cgroup_fd,
            .user = t->cfg->user ? &user : NULL,
            .cwd = cwd,
        };
        r = process_spawn(&p, &pid, &pidfd, &step);
    }
    if (r < 0) {
        char note[1024];
        bool said = cgroup_fd < 0 && cgroup_fd != -EBADF; /* the cgroup's message */
        if (!said && step && strstr(step, "working directory"))
            task_msg(t, "%s: %s %s: %s", argv[0], step, cwd, strerror(-r));
        else if (!said && step)
            task_msg(t, "%s: %s: %s", argv[0], step, strerror(-r));
        else if (!said)
            task_msg(t, "%s: %s", argv[0], strerror(-r));
        snprintf(note, sizeof(note), "-- sentryd: cannot start %.400s: %s\n", what, t->message);
        task_output_note(output, note);
        return r;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->what = strdup(what))) {
        free(c);
        kill(-pid, SIGKILL);
        return -ENOMEM;
    }
    c->task = t;
    c->pid = pid;
    c->role = role;
    r = sd_event_add_child_pidfd(t->ctx->event, &c->source, pidfd, WEXITED, on_child_exit, c);
    if (r < 0) {
        kill(-pid, SIGKILL);
        task_child_free(c);
        task_msg(t, "cannot follow process %d: %s", (int) pid, strerror(-r));
        return r;
    }
    sd_event_source_set_child_pidfd_own(c->source, true);
    TAKE_FD(pidfd);
    *ret = c;
    return 0;
}

static int split_command(const char *line, char ***argv)
{
    const char *err;
    return split_words(line, argv, &err);
}

/* ---- hooks: task_pre / task_post ---------------------------------------------------------- */

static int on_hook_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct task *t = userdata;
    if (t->hook) {
        log_task_error(task_name(t), "%s command '%s' still runs after %u s, killing it",
                       t->hooks_are_post ? "task_post" : "task_pre", t->hook->what,
                       t->ctx->hook_timeout);
        set_string(&t->hook_failure, "timed out");
        task_kill_group(t, t->hook, SIGKILL);
    }
    return 0;
}

static void task_session_close(struct task *t);

static void task_hooks_done(struct task *t, bool ok)
{
    bool post = t->hooks_are_post;

    timer_disarm(t->hook_timer);
    t->hook_cmds = strv_free(t->hook_cmds);
    if (post) {
        free(t->hook_failure);
        t->hook_failure = NULL;
        task_session_close(t);
        return;
    }
    if (t->stop_cause != STOP_NONE) {
        /* Stopped while task_pre ran: the session ends without a main process. */
        t->stop_cause = STOP_NONE;
        task_set_state(t, TASK_EXITED, NULL);
        task_complete(t, WAIT_START, -ECANCELED, "task stopped before it started");
        task_session_end(t);
        return;
    }
    if (!ok) {
        task_set_state(t, TASK_FAILED, t->hook_failure);
        task_complete(t, WAIT_START, -EIO, task_msg(t, "task pre cmd failed: %s", t->hook_failure));
        task_session_end(t);
        return;
    }
    task_run_main(t);
}

static void task_hooks_next(struct task *t)
{
    while (t->hook_cmds && t->hook_cmds[t->hook_index]) {
        const char *cmd = t->hook_cmds[t->hook_index++];
        _cleanup_strv_free_ char **argv = NULL;
        int r = split_command(cmd, &argv);

        char marker[256];
        /* The first task_pre command of a session opens the log section of the coming run. */
        bool first_pre = !t->hooks_are_post && t->hook_index == 1 &&
                         task_log_format_marker(marker, sizeof(marker), t->runs + 1,
                                                now_usec(CLOCK_REALTIME), true) >= 0;

        if (r >= 0) {
            r = task_spawn(t, argv, CHILD_HOOK, cmd, first_pre ? marker : NULL, &t->hook);
            t->run_marked = t->run_marked || first_pre;
        }
        if (r >= 0) {
            timer_arm(t, &t->hook_timer, t->ctx->hook_timeout * USEC_PER_SEC, on_hook_timeout);
            return;
        }
        log_task_error(task_name(t), "%s command '%s' cannot be started: %s",
                       t->hooks_are_post ? "task_post" : "task_pre", cmd, t->message);
        if (!t->hooks_are_post) {
            _cleanup_free_ char *why = NULL;
            if (asprintf(&why, "'%s' cannot be started: %s", cmd, t->message) >= 0)
                set_string(&t->hook_failure, why);
            task_hooks_done(t, false);
            return;
        }
        /* A failing task_post command does not keep the others from running. */
    }
    task_hooks_done(t, true);
}

static void task_hooks_run(struct task *t, char *const *cmds, bool post)
{
    t->hook_cmds = strv_copy(cmds);
    t->hook_index = 0;
    t->hooks_are_post = post;
    t->phase = post ? PHASE_POST : PHASE_PRE;
    free(t->hook_failure);
    t->hook_failure = NULL;
    task_hooks_next(t);
}

static void on_hook_exit(struct task *t, const siginfo_t *si)
{
    char desc[128];
    bool ok = process_exit_is_success(si->si_code, si->si_status);

    timer_disarm(t->hook_timer);
    if (!ok) {
        _cleanup_free_ char *why = NULL;
        process_describe_exit(si->si_code, si->si_status, desc, sizeof(desc));
        log_task_error(task_name(t), "%s command '%s' %s",
                       t->hooks_are_post ? "task_post" : "task_pre", t->hook->what, desc);
        if (!t->hook_failure && asprintf(&why, "'%s' %s", t->hook->what, desc) >= 0)
            set_string(&t->hook_failure, why);
    }
    t->hook = task_child_free(t->hook);
    if (!ok && !t->hooks_are_post) {
        task_hooks_done(t, false);
        return;
    }
    task_hooks_next(t);
}

/* ---- draining: ending what a task left behind -------------------------------------------- */

/* 1 while processes of the task are left in its cgroup, 0 when none is (or there is no cgroup
 * to tell: without one nothing is waited for). */
static int task_processes_left(struct task *t)
{
    if (!t->cgroup)
        return 0;
    int r = task_cgroup_is_populated(t->cgroup);
    if (r < 0) {
        log_task_warning_errno(task_name(t), r, "cannot tell whether cgroup %s is empty: %m",
                               t->cgroup);
        return 0;
    }
    return r;
}

static void task_drain_end(struct task *t)
{
    void (*done)(struct task * t) = t->drain_done;

    t->drain_done = NULL;
    t->drain_watch = sd_event_source_disable_unref(t->drain_watch);
    timer_disarm(t->rekill_timer);
    timer_disarm(t->kill_timer);
    if (done)
        done(t);
}

/* The cgroup may be empty now: go on when it is. */
static void task_drain_check(struct task *t)
{
    if (t->drain_done && task_processes_left(t) == 0)
        task_drain_end(t);
}

static int on_drain_event(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
    task_drain_check(userdata);
    return 0;
}

static int on_rekill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct task *t = userdata;

    if (!t->drain_done || !t->cgroup)
        return 0;
    if (task_processes_left(t) == 0) {
        task_drain_end(t);
        return 0;
    }
    task_cgroup_kill_all(t);
    return 0;
}

/* Ends the processes the task left in its cgroup (SIGTERM; SIGKILL when the kill timer, armed
 * now unless a stop armed it already, fires), then calls done() once the cgroup is empty: at
 * once when it is already. */
static void task_drain(struct task *t, void (*done)(struct task *t))
{
    char events[PATH_MAX];
    int r, enabled = SD_EVENT_OFF;

    if (task_processes_left(t) == 0) {
        timer_disarm(t->kill_timer);
        done(t);
        return;
    }
    t->drain_done = done;
    r = snprintf(events, sizeof(events), "%s/cgroup.events", t->cgroup);
    if (r > 0 && (size_t) r < sizeof(events))
        r = sd_event_add_inotify(t->ctx->event, &t->drain_watch, events, IN_MODIFY, on_drain_event,
                                 t);
    else
        r = -ENAMETOOLONG;
    if (r < 0) {
        /* Without the watch the cgroup is looked at again by the timer. */
        log_task_warning_errno(task_name(t), r, "cannot watch %s: %m", events);
        t->drain_watch = NULL;
    }
    if (t->kill_sent)
        task_cgroup_kill_all(t);
    else {
        log_task_notice(task_name(t),
                        "processes left in cgroup %s: sending SIGTERM, SIGKILL "
                        "after %u s",
                        t->cgroup, t->cfg->stop_timeout);
        task_signal_all(t, SIGTERM);
        if (t->kill_timer)
            (void) sd_event_source_get_enabled(t->kill_timer, &enabled);
        if (enabled == SD_EVENT_OFF)
            timer_arm(t, &t->kill_timer, (usec_t) t->cfg->stop_timeout * USEC_PER_SEC,
                      on_kill_timer);
    }
    if (!t->drain_watch)
        timer_arm(t, &t->rekill_timer, DRAIN_REKILL_INTERVAL, on_rekill_timer);
    /* It may have emptied before the watch was there. */
    task_drain_check(t);
}

/* ---- the session ---------------------------------------------------------------------------- */

/* Nothing of the task runs any more: its cgroup goes, the stop is answered, the task is idle. */
static void task_go_idle(struct task *t)
{
    if (t->cgroup) {
        int r = task_cgroup_remove(t->cgroup);
        if (r < 0)
            log_task_warning_errno(task_name(t), r, "cannot remove cgroup %s: %m", t->cgroup);
        free(t->cgroup);
        t->cgroup = NULL;
    }
    t->kill_sent = false;
    t->phase = PHASE_IDLE;
    task_complete(t, WAIT_STOP, 0, "task stopped");
    if (t->ctx->on_idle)
        t->ctx->on_idle(t, t->ctx->userdata);
}

/* After task_post: what is left of the task is ended, then it is idle. */
static void task_session_close(struct task *t)
{
    if (t->phase == PHASE_IDLE)
        t->phase = PHASE_STOPPING; /* active until its cgroup is empty */
    task_drain(t, task_go_idle);
}

/* The session is over: run task_post (if any), then go idle. */
static void task_session_end(struct task *t)
{
    timer_disarm(t->period_timer);
    t->period_enabled = false;
    if (t->cfg->task_post) {
        task_hooks_run(t, t->cfg->task_post, true);
        return;
    }
    task_session_close(t);
}

static int on_period_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct task *t = userdata;
    if (t->phase == PHASE_IDLE && t->state == TASK_WAITING && t->period_enabled)
        task_run_main(t);
    return 0;
}

static void task_schedule_next(struct task *t)
{
    usec_t now = now_usec(CLOCK_MONOTONIC);
    usec_t next = t->last_start + (usec_t) t->cfg->interval * USEC_PER_SEC;
    timer_arm(t, &t->period_timer, next > now ? next - now : 0, on_period_timer);
}

/* Ends the task: SIGTERM now (or the task_stop command for a stop request), SIGKILL to all of
 * it after stop_timeout; while its cgroup does not empty, again every stop_timeout. */
static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct task *t = userdata;

    if (t->main) {
        log_task_warning(task_name(t), "still running %u s after the stop, killing it",
                         t->cfg->stop_timeout);
        task_signal_all(t, SIGKILL);
    } else if (t->drain_done) {
        log_task_warning(task_name(t),
                         "processes still in cgroup %s %u s after the task ended, killing them",
                         t->cgroup, t->cfg->stop_timeout);
        task_signal_all(t, SIGKILL);
    } else
        return 0;
    /* Processes in uninterruptible sleep die late: keep trying, and say so. */
    if (t->cgroup)
        timer_arm(t, &t->kill_timer, (usec_t) t->cfg->stop_timeout * USEC_PER_SEC, on_kill_timer);
    return 0;
}

static void task_terminate(struct task *t, enum stop_cause cause)
{
    t->stop_cause = cause;
    t->period_enabled = false;
    t->phase = PHASE_STOPPING;
    timer_disarm(t->heartbeat_timer);
    timer_disarm(t->run_timer);
    task_signal_all(t, SIGTERM);
    timer_arm(t, &t->kill_timer, (usec_t) t->cfg->stop_timeout * USEC_PER_SEC, on_kill_timer);
}

static int on_heartbeat_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct task *t = userdata;
    char why[128];

    if (t->phase != PHASE_MAIN)
        return 0;
    snprintf(why, sizeof(why), "heartbeat lost: no heartbeat within %u s",
             t->cfg->heartbeat_interval);
    log_task_error(task_name(t), "task %s heartbeat timeout (%s), stopping it", task_name(t), why);
    task_set_state(t, TASK_FAILED, why);
    task_terminate(t, STOP_HEARTBEAT);
    return 0;
}

static int on_run_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct task *t = userdata;
    char why[128];

    if (t->phase != PHASE_MAIN)
        return 0;
    snprintf(why, sizeof(why), "timed out: still running after %u s", t->cfg->timeout);
    log_task_error(task_name(t), "%s, stopping it", why);
    task_set_state(t, TASK_FAILED, why);
    task_terminate(t, STOP_TIMEOUT);
    return 0;
}

static void task_reset_result(struct task *t)
{
    t->result_level = -1;
    json_object_put(t->details);
    t->details = NULL;
    t->start_time = now_usec(CLOCK_REALTIME);
    t->end_time = 0;
}

/* Conflict policy before a start: 0 to go on, <0 (message set) to refuse. */
static int task_check_conflict(struct task *t)
{
    pid_t pids[64];
    int n;

    if (t->cfg->conflict == CONFLICT_UP)
        return 0;
    n = process_find_matching(t->ctx->proc_root, t->cfg->task_start, pids, ELEMENTSOF(pids));
    if (n <= 0)
        return 0;
    if (t->cfg->conflict == CONFLICT_DOWN) {
        task_msg(t, "check conflict failed: process %d already runs '%s'", (int) pids[0],
                 t->cfg->task_start);
        return -EBUSY;
    }
    for (int i = 0; i < n && i < (int) ELEMENTSOF(pids); i++) {
        log_task_notice(task_name(t), "conflict=kill: sending SIGTERM to process %d",
                        (int) pids[i]);
        if (kill(pids[i], SIGTERM) < 0 && errno != ESRCH)
            log_task_warning_errno(task_name(t), errno, "cannot kill process %d: %m",
                                   (int) pids[i]);
    }
    return 0;
}

/* Starts one run of the main process (the first of a session, or the next period run). */
static void task_run_main(struct task *t)
{
    _cleanup_strv_free_ char **argv = NULL;
    int r;

    t->last_start = now_usec(CLOCK_MONOTONIC);
    task_reset_result(t);
    r = task_check_conflict(t);
    if (r >= 0) {
        r = split_command(t->cfg->task_start, &argv);
        char marker[256];
        bool mark = !t->run_marked && task_log_format_marker(marker, sizeof(marker), t->runs + 1,
                                                             now_usec(CLOCK_REALTIME), false) >= 0;
        t->run_marked = false;
        if (r >= 0)
            r = task_spawn(t, argv, CHILD_MAIN, t->cfg->task_start, mark ? marker : NULL, &t->main);
        else
            task_msg(t, "task_start cannot be split");
    }
    if (r < 0) {
        char why[600];
        snprintf(why, sizeof(why), "%s: %s",
                 r == -EBUSY ? "conflict" : "start command could not be started", t->message);
        log_task_error(task_name(t), "%s", why);
        task_set_state(t, TASK_FAILED, why);
        t->result_level = SENTRY_RESULT_FAIL;
        t->details = json_object_new_object();
        json_object_object_add(t->details, "msg", json_object_new_string(why));
        t->end_time = now_usec(CLOCK_REALTIME);
        task_complete(t, WAIT_START, r == -EBUSY ? -EBUSY : -ENOEXEC,
                      r == -EBUSY ? t->message
                      : t->cfg->type == TASK_PERIOD
                          ? task_msg(t, "period task start popen failed, invalid command (%s)", why)
                          : task_msg(t, "start command is invalid, popen failed (%s)", why));
        task_session_end(t);
        return;
    }
    t->runs++;
    t->phase = PHASE_MAIN;
    task_set_state(t, TASK_RUNNING, NULL);
    log_task_info(task_name(t), "started (pid %d, run %" PRIu64 ")", (int) t->main->pid, t->runs);
    if (t->cfg->heartbeat_interval > 0)
        timer_arm(t, &t->heartbeat_timer, (usec_t) t->cfg->heartbeat_interval * USEC_PER_SEC,
                  on_heartbeat_timeout);
    if (t->cfg->timeout > 0)
        timer_arm(t, &t->run_timer, (usec_t) t->cfg->timeout * USEC_PER_SEC, on_run_timeout);
    task_complete_started(t);
}

/* The message of a FAIL result the task reported during this run: details.msg, else the whole
 * details as JSON text; escaped for one line. "" when there is none. */
static void task_fail_message(const struct task *t, char *buf, size_t size)
{
    json_object *m;
    const char *text = NULL;
    size_t len = 0;

    buf[0] = 0;
    if (t->result_level != SENTRY_RESULT_FAIL || !t->details)
        return;
    if (json_object_object_get_ex(t->details, "msg", &m) &&
        json_object_is_type(m, json_type_string) && json_object_get_string_len(m) > 0) {
        text = json_object_get_string(m);
        len = (size_t) json_object_get_string_len(m);
    } else if (json_object_is_type(t->details, json_type_object) &&
               json_object_object_length(t->details) > 0)
        text = json_plain(t->details, &len);
    if (text)
        terminal_escape(buf, size, text, len);
}

/* Answers the start requests still in their grace: the process ended before it was over. */
static void task_complete_grace(struct task *t, bool ok)
{
    char msg[TASK_REASON_MAX + 128];

    if (ok) {
        task_complete(t, WAIT_GRACE, 0, "start task success");
        return;
    }
    if (t->state == TASK_FAILED)
        snprintf(msg, sizeof(msg), "failed right after it started: FAILED: %s", strna(t->reason));
    else /* a period task: its next run comes */
        snprintf(msg, sizeof(msg), "failed right after it started: %s (runs again every %u s): %s",
                 task_state_to_string(t->state), t->cfg->interval, strna(t->last_failure));
    task_complete(t, WAIT_GRACE, -ECHILD, msg);
}

/* The main process ended and nothing of it is left: the run is over. */
static void task_main_finish(struct task *t)
{
    enum stop_cause cause = t->stop_cause;
    bool ok = t->exit_ok;

    t->stop_cause = STOP_NONE;
    if (cause == STOP_NONE && t->cfg->type == TASK_PERIOD && t->period_enabled) {
        /* A period run ended: wait for the next one (the reference does so even after a
         * crash; the failure stays visible in last_run). */
        t->phase = PHASE_IDLE;
        task_set_state(t, TASK_WAITING, NULL);
        task_schedule_next(t);
        task_complete_grace(t, ok);
        return;
    }

    switch (cause) {
    case STOP_HEARTBEAT:
    case STOP_TIMEOUT:
        break; /* already FAILED with its reason */
    case STOP_REQUEST:
    case STOP_SHUTDOWN:
        if (ok)
            task_set_state(t, TASK_EXITED, NULL);
        else {
            char stopped[160];
            snprintf(stopped, sizeof(stopped), "stopped: %s", t->exit_desc);
            task_set_state(t, TASK_FAILED, stopped);
        }
        break;
    case STOP_NONE:
        task_set_state(t, ok ? TASK_EXITED : TASK_FAILED, t->exit_why);
        break;
    }
    task_complete_grace(t, ok);
    task_session_end(t);
}

static void on_main_exit(struct task *t, const siginfo_t *si)
{
    char fail[TASK_RESULT_MESSAGE_MAX], why[TASK_REASON_MAX];
    bool ok = process_exit_is_success(si->si_code, si->si_status);
    pid_t pid = t->main->pid;

    t->exit_ok = ok;
    process_describe_exit(si->si_code, si->si_status, t->exit_desc, sizeof(t->exit_desc));
    /* The real reason first, as the task told it, then how the process ended. */
    task_fail_message(t, fail, sizeof(fail));
    if (*fail)
        snprintf(why, sizeof(why), "%s (%s)", fail, t->exit_desc);
    else
        snprintf(why, sizeof(why), "%s", t->exit_desc);
    set_string(&t->exit_why, why);
    set_string(&t->last_failure, ok ? NULL : why);
    timer_disarm(t->heartbeat_timer);
    timer_disarm(t->run_timer);
    if (!t->cgroup) {
        /* No cgroup: what is left of the main process's group gets SIGTERM (SIGKILL when the
         * stop came to that). The process is not reaped yet: the group's id is still its. */
        timer_disarm(t->kill_timer);
        if (kill(-pid, t->kill_sent ? SIGKILL : SIGTERM) < 0 && errno != ESRCH)
            log_task_warning_errno(task_name(t), errno, "cannot signal process group %d: %m",
                                   (int) pid);
    }
    t->main = task_child_free(t->main);
    t->end_time = now_usec(CLOCK_REALTIME);
    set_string(&t->last_run, t->exit_desc);
    log_task_full_errno(ok ? LOG_INFO : LOG_WARNING, 0, task_name(t), "process %s", t->exit_desc);
    /* The run is over once nothing it started is left. */
    t->phase = PHASE_STOPPING;
    task_drain(t, task_main_finish);
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
    struct task_child *c = userdata;
    struct task *t = c->task;

    /* What the process wrote before it ended is in the pipe: into the log first. */
    task_output_flush(t->output);
    switch (c->role) {
    case CHILD_MAIN:
        on_main_exit(t, si);
        break;
    case CHILD_HOOK:
        on_hook_exit(t, si);
        break;
    case CHILD_STOPPER:
        if (!process_exit_is_success(si->si_code, si->si_status)) {
            char desc[128];
            process_describe_exit(si->si_code, si->si_status, desc, sizeof(desc));
            log_task_warning(task_name(t), "task_stop command '%s' %s", c->what, desc);
        }
        t->stopper = task_child_free(t->stopper);
        break;
    }
    return 0;
}

/* ---- requests ------------------------------------------------------------------------------ */

struct task *task_new(const struct task_context *ctx, struct task_config *cfg)
{
    struct task *t = calloc(1, sizeof(*t));
    if (!t) {
        task_config_free(cfg);
        return NULL;
    }
    t->ctx = ctx;
    t->cfg = cfg;
    t->result_level = -1;
    t->phase = PHASE_IDLE;
    /* Reference: oneshot starts EXITED; a period task WAITING, or EXITED without onstart. */
    t->state = cfg->type == TASK_PERIOD && cfg->onstart ? TASK_WAITING : TASK_EXITED;
    return t;
}

struct task *task_free(struct task *t)
{
    if (!t)
        return NULL;
    task_complete(t, WAIT_START, -ECANCELED, "task removed");
    task_complete(t, WAIT_GRACE, -ECANCELED, "task removed");
    task_complete(t, WAIT_STOP, -ECANCELED, "task removed");
    if (t->cgroup) {
        /* sentryd exits without having stopped it (or the task is dropped): nothing stays. */
        int r = task_cgroup_destroy(t->cgroup, USEC_PER_SEC);
        if (r < 0)
            log_task_warning_errno(task_name(t), r, "cannot end and remove cgroup %s: %m",
                                   t->cgroup);
    } else {
        task_kill_group(t, t->main, SIGKILL);
        task_kill_group(t, t->hook, SIGKILL);
    }
    task_child_free(t->main);
    task_child_free(t->hook);
    task_child_free(t->stopper);
    sd_event_source_disable_unref(t->period_timer);
    sd_event_source_disable_unref(t->heartbeat_timer);
    sd_event_source_disable_unref(t->run_timer);
    sd_event_source_disable_unref(t->kill_timer);
    sd_event_source_disable_unref(t->hook_timer);
    sd_event_source_disable_unref(t->drain_watch);
    sd_event_source_disable_unref(t->rekill_timer);
    task_output_free(t->output);
    free(t->cgroup);
    free(t->exit_why);
    strv_free(t->hook_cmds);
    strv_free(t->warnings);
    free(t->hook_failure);
    free(t->reason);
    free(t->last_run);
    free(t->last_failure);
    json_object_put(t->details);
    task_config_free(t->cfg);
    free(t);
    return NULL;
}

int task_start(struct task *t, task_done_fn done, void *userdata, const char **message)
{
    return task_start_with_grace(t, 0, done, userdata, message);
}

int task_start_with_grace(struct task *t, usec_t grace, task_done_fn done, void *userdata,
                          const char **message)
{
    if (!t->cfg->enabled) {
        *message = "mod is not enabled";
        return -ENOTSUP;
    }
    if (t->phase == PHASE_STOPPING || t->phase == PHASE_POST) {
        *message = "task is stopping, please wait";
        return -EBUSY;
    }
    if (t->phase != PHASE_IDLE || t->state == TASK_RUNNING) {
        *message = "task is running, please wait";
        return -EBUSY;
    }
    if (task_add_waiter(t, WAIT_START, grace, done, userdata) < 0) {
        *message = "out of memory";
        return -ENOMEM;
    }
    timer_disarm(t->period_timer);
    t->stop_cause = STOP_NONE;
    t->kill_sent = false;
    t->run_marked = false;
    t->period_enabled = t->cfg->type == TASK_PERIOD;
    task_set_state(t, TASK_RUNNING, NULL);
    if (t->cfg->task_pre)
        task_hooks_run(t, t->cfg->task_pre, false);
    else
        task_run_main(t);
    return 0;
}

static int task_do_stop(struct task *t, task_done_fn done, void *userdata, const char **message)
{
    _cleanup_strv_free_ char **argv = NULL;
    int r;

    switch (t->phase) {
    case PHASE_IDLE:
        if (t->state != TASK_WAITING) {
            *message = "task already stopped";
            return 1;
        }
        /* A period task between runs: its session ends now. */
        if (task_add_waiter(t, WAIT_STOP, 0, done, userdata) < 0)
            return -ENOMEM;
        task_set_state(t, TASK_EXITED, NULL);
        task_session_end(t);
        return 0;
    case PHASE_PRE:
        /* Let the running pre command go, then end the session instead of starting. */
        if (task_add_waiter(t, WAIT_STOP, 0, done, userdata) < 0)
            return -ENOMEM;
        t->stop_cause = STOP_REQUEST;
        t->period_enabled = false;
        task_kill_group(t, t->hook, SIGTERM);
        return 0;
    case PHASE_STOPPING:
    case PHASE_POST:
        /* Ending already (or what a run left behind is being ended): no more runs. */
        t->period_enabled = false;
        return task_add_waiter(t, WAIT_STOP, 0, done, userdata);
    case PHASE_MAIN:
        break;
    default:
        return -EINVAL;
    }

    /* The main process runs: task_stop with $pid replaced by its pid. */
    r = split_command(t->cfg->task_stop, &argv);
    for (size_t i = 0; r >= 0 && argv[i]; i++)
        if (streq(argv[i], "$pid")) {
            free(argv[i]);
            if (asprintf(&argv[i], "%d", (int) t->main->pid) < 0) {
                argv[i] = NULL;
                return -ENOMEM;
            }
        }
    if (r >= 0) {
        if (t->stopper) {
            log_task_warning(task_name(t), "a task_stop command still runs, starting another");
            t->stopper = task_child_free(t->stopper);
        }
        r = task_spawn(t, argv, CHILD_STOPPER, t->cfg->task_stop, NULL, &t->stopper);
    }
    if (r < 0) {
        log_task_error(task_name(t), "task %s stop Popen failed: %s", task_name(t), t->message);
        *message = task_msg(t, "task stop command could not be started: %.400s", t->message);
        return -ENOEXEC;
    }
    if (task_add_waiter(t, WAIT_STOP, 0, done, userdata) < 0)
        return -ENOMEM;
    t->stop_cause = STOP_REQUEST;
    t->period_enabled = false;
    t->phase = PHASE_STOPPING;
    timer_disarm(t->heartbeat_timer);
    timer_disarm(t->run_timer);
    timer_arm(t, &t->kill_timer, (usec_t) t->cfg->stop_timeout * USEC_PER_SEC, on_kill_timer);
    return 0;
}

int task_stop(struct task *t, task_done_fn done, void *userdata, const char **message)
{
    if (!t->cfg->enabled) {
        *message = "mod is not enabled";
        return -ENOTSUP;
    }
    return task_do_stop(t, done, userdata, message);
}

int task_heartbeat(struct task *t, const char **message)
{
    if (t->phase != PHASE_MAIN || t->state != TASK_RUNNING) {
        *message = "task is not running";
        return -ESRCH;
    }
    if (t->cfg->heartbeat_interval == 0) {
        *message = "task has no heartbeat_interval";
        return -ENOTSUP;
    }
    return timer_arm(t, &t->heartbeat_timer, (usec_t) t->cfg->heartbeat_interval * USEC_PER_SEC,
                     on_heartbeat_timeout);
}

int task_set_result(struct task *t, int level, json_object *details)
{
    if (!sentry_result_level_to_string(level))
        return -EINVAL;
    t->result_level = level;
    json_object_put(t->details);
    t->details = json_object_get(details);
    log_task_info(task_name(t), "result %s", sentry_result_level_to_string(level));
    return 0;
}

void task_set_warnings(struct task *t, char **warnings)
{
    strv_free(t->warnings);
    t->warnings = warnings;
}

int task_reconfigure(struct task *t, struct task_config *cfg, const char **message)
{
    if (cfg->type != t->cfg->type) {
        task_config_free(cfg);
        *message = "type of mod is different from old type, reload failed";
        return -EINVAL;
    }
    task_config_free(t->cfg);
    t->cfg = cfg;

    if (t->phase == PHASE_IDLE && t->state == TASK_WAITING && t->period_enabled)
        task_schedule_next(t);
    if (t->phase == PHASE_MAIN) {
        if (cfg->heartbeat_interval > 0)
            timer_arm(t, &t->heartbeat_timer, (usec_t) cfg->heartbeat_interval * USEC_PER_SEC,
                      on_heartbeat_timeout);
        else
            timer_disarm(t->heartbeat_timer);
    }
    if (!cfg->enabled && (task_is_active(t) || t->state == TASK_WAITING)) {
        const char *m;
        /* Disabled while it runs: stop it. */
        if (task_do_stop(t, NULL, NULL, &m) < 0)
            log_task_warning(task_name(t), "disabled by reload but cannot be stopped: %s", m);
    }
    *message = "";
    return 0;
}

bool task_shutdown(struct task *t)
{
    switch (t->phase) {
    case PHASE_IDLE:
        if (t->state != TASK_WAITING)
            return true;
        task_set_state(t, TASK_EXITED, NULL);
        task_session_end(t);
        return t->phase == PHASE_IDLE;
    case PHASE_MAIN:
        task_terminate(t, STOP_SHUTDOWN);
        return false;
    case PHASE_PRE:
        t->stop_cause = STOP_SHUTDOWN;
        t->period_enabled = false;
        task_kill_group(t, t->hook, SIGTERM);
        return false;
    default:
        /* Stopping, or task_post runs, or what a run left is being ended: no next run. */
        t->period_enabled = false;
        return false;
    }
}

/* ---- views ----------------------------------------------------------------------------------- */

static json_object *json_string_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *json_time(usec_t usec)
{
    char buf[64];
    return json_object_new_string(format_timestamp_local(buf, sizeof(buf), usec, false));
}

json_object *task_result_json(const struct task *t)
{
    json_object *o = json_object_new_object();
    const char *level = t->result_level >= 0 ? sentry_result_level_to_string(t->result_level) : "";

    if (!o)
        return NULL;
    json_object_object_add(o, "result", json_object_new_string(level));
    json_object_object_add(o, "start_time", json_time(t->start_time));
    json_object_object_add(o, "end_time", json_time(t->end_time));
    json_object_object_add(
        o, "error_msg",
        json_object_new_string(t->result_level >= 0 ? result_error_msg[t->result_level] : ""));
    json_object_object_add(o, "details",
                           t->details ? json_object_get(t->details) : json_object_new_object());
    return o;
}

json_object *task_status_json(const struct task *t)
{
    const struct task_config *c = t->cfg;
    json_object *o = json_object_new_object(), *w;

    if (!o)
        return NULL;
    json_object_object_add(o, "name", json_object_new_string(c->name));
    json_object_object_add(o, "type", json_object_new_string(task_type_to_string(c->type)));
    json_object_object_add(o, "enabled", json_object_new_boolean(c->enabled));
    json_object_object_add(o, "state", json_object_new_string(task_state_to_string(t->state)));
    json_object_object_add(o, "phase", json_object_new_string(task_phase_to_string(t->phase)));
    json_object_object_add(o, "reason",
                           json_string_or_null(t->state == TASK_FAILED ? t->reason : NULL));
    json_object_object_add(o, "last_run", json_string_or_null(t->last_run));
    json_object_object_add(o, "pid", json_object_new_int(t->main ? t->main->pid : 0));
    json_object_object_add(o, "runs", json_object_new_uint64(t->runs));
    json_object_object_add(o, "start_time", json_time(t->start_time));
    json_object_object_add(o, "end_time", json_time(t->end_time));
    json_object_object_add(o, "interval",
                           c->type == TASK_PERIOD ? json_object_new_int((int) c->interval) : NULL);
    json_object_object_add(o, "heartbeat_interval",
                           json_object_new_int((int) c->heartbeat_interval));
    json_object_object_add(o, "onstart", json_object_new_boolean(c->onstart));
    json_object_object_add(o, "alarm_id",
                           c->alarm_id ? json_object_new_int((int) c->alarm_id) : NULL);
    json_object_object_add(o, "alarm_clear_time",
                           c->alarm_id ? json_object_new_int((int) c->alarm_clear_time) : NULL);
    json_object_object_add(o, "conflict",
                           json_object_new_string(task_conflict_to_string(c->conflict)));
    json_object_object_add(o, "user", json_string_or_null(c->user));
    json_object_object_add(o, "timeout", json_object_new_int((int) c->timeout));
    json_object_object_add(o, "task_start", json_object_new_string(c->task_start));
    json_object_object_add(o, "task_stop", json_object_new_string(c->task_stop));
    json_object_object_add(o, "mod_file", json_object_new_string(c->path));
    char log_path[4096];
    json_object_object_add(o, "log_file",
                           task_get_log_path(t, log_path, sizeof(log_path)) >= 0
                               ? json_object_new_string(log_path)
                               : NULL);
    if (t->ctx->cgroup_base) {
        char cg[4096];
        snprintf(cg, sizeof(cg), "%s/%s", t->ctx->cgroup_base, c->name);
        json_object_object_add(o, "cgroup", json_object_new_string(cg));
        json_object_object_add(o, "tracking", json_object_new_string("cgroup"));
    } else {
        char how[600];
        snprintf(how, sizeof(how), "process group: %s", strna(t->ctx->cgroup_why));
        json_object_object_add(o, "cgroup", NULL);
        json_object_object_add(o, "tracking", json_object_new_string(how));
    }
    w = json_object_new_array();
    for (char **p = t->warnings; p && *p; p++)
        json_object_array_add(w, json_object_new_string(*p));
    json_object_object_add(o, "warnings", w);
    return o;
}
