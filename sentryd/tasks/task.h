/* task.h: one task at run time: its state machine, its processes and timers.
 *
 * States (what operators see): RUNNING, WAITING (period task between runs), EXITED, FAILED,
 * with the reason of the last FAILED (and of the last failed period run) kept.
 * Underneath, a phase says what the task is doing:
 *
 *   IDLE --start--> PRE (task_pre commands, one after the other) --> MAIN (task_start runs)
 *   MAIN --exit, period task still enabled--> IDLE/WAITING --interval--> MAIN ...
 *   MAIN --exit of a oneshot, or stop / heartbeat lost / timeout--> [STOPPING] --> POST --> IDLE
 *
 * A "session" runs from a start request to the end of POST: task_pre runs once at its
 * beginning and task_post once at its end. Requests that take time (start, stop) complete
 * through a callback, so the control socket can answer when the work is done.
 *
 * Every process of a task runs in the task's cgroup (task_cgroup.h) where sentryd has one, else
 * in process groups of its own. When the main process ends, and at the end of a session, what
 * is left of the task is ended (SIGTERM, SIGKILL after stop_timeout): the run, and the stop
 * request, are over only once the cgroup is empty; it is removed at the end of the session.
 * Without a cgroup the main process's group gets a SIGTERM when the main process ends. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "json_util.h"
#include "task_config.h"
#include "time_util.h"

enum task_state {
    TASK_RUNNING,
    TASK_WAITING,
    TASK_EXITED,
    TASK_FAILED,
    _TASK_STATE_MAX,
};

enum task_phase {
    PHASE_IDLE,
    PHASE_PRE,
    PHASE_MAIN,
    PHASE_STOPPING,
    PHASE_POST,
    _TASK_PHASE_MAX,
};

const char *task_state_to_string(enum task_state s);
int task_state_from_string(const char *s);
const char *task_phase_to_string(enum task_phase p);
int task_phase_from_string(const char *s);

struct task;

/* What tasks need from their owner (the task manager). */
struct task_context {
    sd_event *event;
    const char *log_dir;     /* <log_dir>/<task>.log receives the task's output */
    const char *socket_path; /* given to tasks as $SENTRY_SOCKET */
    char **base_env;         /* environment every task starts from */
    unsigned hook_timeout;   /* seconds one task_pre / task_post command may take */
    const char *proc_root;   /* "/proc", for the conflict check */
    /* The tasks' cgroups go under cgroup_base (<cgroup_base>/<task>); NULL: no usable cgroup v2,
     * process groups instead, and cgroup_why says why (for `status`). */
    const char *cgroup_base;
    const char *cgroup_why;
    uint64_t log_max_size;  /* bytes per log file; 0: no cap */
    unsigned log_max_files; /* log files kept, the current one included */
    /* The task went back to IDLE (nothing runs any more). */
    void (*on_idle)(struct task *t, void *userdata);
    void *userdata;
};

/* Completion of start / stop: error 0 or negative errno, message for the operator. */
typedef void (*task_done_fn)(struct task *t, int error, const char *message, void *userdata);

struct task *task_new(const struct task_context *ctx, struct task_config *cfg);
/* Frees the task; pending completions get -ECANCELED; running processes are killed. */
struct task *task_free(struct task *t);

const char *task_name(const struct task *t);
const struct task_config *task_get_config(const struct task *t);
enum task_state task_get_state(const struct task *t);
enum task_phase task_get_phase(const struct task *t);
const char *task_get_reason(const struct task *t);
pid_t task_get_pid(const struct task *t);
bool task_is_active(const struct task *t); /* phase != IDLE */

/* Starts a session. 0: done() will be called once the main process runs or starting failed.
 * <0: refused at once with *message (static or owned by the task; valid until the next call). */
int task_start(struct task *t, task_done_fn done, void *userdata, const char **message);
/* task_start() whose done() waits, once the main process runs, for grace or for the end of the
 * process, whichever comes first: a process that failed by then completes with -ECHILD and a
 * message naming the state and the reason ("failed right after it started: FAILED: ..."); one
 * that ended cleanly, or still runs, with success. The event loop runs meanwhile. */
int task_start_with_grace(struct task *t, usec_t grace, task_done_fn done, void *userdata,
                          const char **message);
/* Stops the task. 0: done() will be called when it has stopped. 1: nothing to stop
 * ("task already stopped"), done() is not called. <0: refused with *message. */
int task_stop(struct task *t, task_done_fn done, void *userdata, const char **message);
/* A heartbeat from the task. -ESRCH when it is not running, -ENOTSUP without heartbeat. */
int task_heartbeat(struct task *t, const char **message);
/* A result reported by the task (level a sentry_result_level, details a JSON object; the
 * reference stores it whatever the state). Takes a reference to details. */
int task_set_result(struct task *t, int level, json_object *details);
/* New configuration from a reload (takes cfg). -EINVAL when the type changed (cfg freed). */
int task_reconfigure(struct task *t, struct task_config *cfg, const char **message);
void task_set_warnings(struct task *t, char **warnings); /* takes the strv */
/* Daemon shutdown: stop what runs (and run task_post of open sessions). Returns true when the
 * task is already idle. */
bool task_shutdown(struct task *t);

/* <log_dir>/<task>.log, where the task's output goes. -ENAMETOOLONG when it does not fit. */
int task_get_log_path(const struct task *t, char *buf, size_t size);
/* The last max_lines lines of the task's last run in its log (task_log_read_tail()), after
 * what its pipe holds was written. */
int task_read_log_tail(struct task *t, unsigned max_lines, char ***ret);

/* {"name","type","state","reason",...}: what `status` shows. The reason of a FAILED task whose
 * run reported a FAIL result is that result's message followed by how the process ended:
 * "no disk to watch (exited with status 1)". "cgroup" is the task's cgroup (null without one)
 * and "tracking" says how its processes are followed: "cgroup", or "process group: WHY". */
json_object *task_status_json(const struct task *t);
/* The reference's result_info: {"result","start_time","end_time","error_msg","details"}. */
json_object *task_result_json(const struct task *t);
