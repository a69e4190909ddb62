/* task_verbs.c: the task verbs of the native protocol: list, status, start, stop, reload,
 * get_result (operators) and result, heartbeat (tasks). Messages keep the reference's wording
 * where one exists; a name that names no task gets the same answer in every verb
 * (task_not_found_message()). */
#include "daemon.h"
#include "log.h"
#include "names.h"
#include "sentry/sentry.h"
#include "strv.h"
#include "task_log.h"

static struct daemon *req_daemon(struct request *r)
{
    return r->userdata;
}

/* The task named by "task"; answers the request (ENOENT / ENOTSUP) when there is none or it is
 * disabled. */
static int req_task(struct request *r, bool allow_disabled, struct task **ret)
{
    char nf[TASK_NOT_FOUND_MESSAGE_MAX];
    const char *name;
    int k = request_get_task_name(r, &name);
    if (k < 0)
        return k;
    struct task *t =
        task_name_is_valid(name) ? task_manager_find(req_daemon(r)->tasks, name) : NULL;
    if (!t)
        return request_reply_error(r, ENOENT, "%s", task_not_found_message(nf, sizeof(nf), name));
    if (!allow_disabled && !task_get_config(t)->enabled)
        return request_reply_error(r, ENOTSUP, "mod is not enabled");
    *ret = t;
    return 0;
}

static json_object *task_summary_json(const struct task *t)
{
    const struct task_config *c = task_get_config(t);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(c->name));
    json_object_object_add(o, "type", json_object_new_string(task_type_to_string(c->type)));
    json_object_object_add(o, "state",
                           json_object_new_string(task_state_to_string(task_get_state(t))));
    json_object_object_add(o, "enabled", json_object_new_boolean(c->enabled));
    json_object_object_add(o, "pid", json_object_new_int(task_get_pid(t)));
    json_object_object_add(o, "reason",
                           task_get_state(t) == TASK_FAILED && task_get_reason(t)
                               ? json_object_new_string(task_get_reason(t))
                               : NULL);
    return o;
}

static int verb_list(struct request *r)
{
    static const char *const members[] = {"all", NULL};
    struct task_manager *m = req_daemon(r)->tasks;
    bool all = false;
    int k;

    if ((k = request_check_members(r, members)) < 0 || (k = request_get_bool(r, "all", &all)) < 0)
        return k;
    json_object *tasks = json_object_new_array();
    for (size_t i = 0; i < task_manager_count(m); i++) {
        struct task *t = task_manager_get(m, i);
        /* The reference hides disabled tasks. */
        if (all || task_get_config(t)->enabled)
            json_object_array_add(tasks, task_summary_json(t));
    }
    json_object *res = json_object_new_object();
    json_object_object_add(res, "tasks", tasks);
    return request_reply(r, res);
}

static const char *const task_only[] = {"task", NULL};

/* status: the task's state and settings, and, like systemctl status, the last lines of its log
 * for its last run ("lines", default TASK_LOG_LINES_DEFAULT, 0 for none). */
static int verb_status(struct request *r)
{
    static const char *const members[] = {"task", "lines", NULL};
    _cleanup_strv_free_ char **tail = NULL;
    uint64_t lines = TASK_LOG_LINES_DEFAULT;
    struct task *t;
    int k;

    if ((k = request_check_members(r, members)) < 0 || (k = req_task(r, false, &t)) < 0 ||
        (k = request_get_uint64(r, "lines", false, TASK_LOG_LINES_MAX, &lines)) < 0)
        return k;
    json_object *res = task_status_json(t), *arr = json_object_new_array();
    if (!res || !arr) {
        json_object_put(res);
        json_object_put(arr);
        return -ENOMEM;
    }
    if (lines > 0) {
        k = task_read_log_tail(t, (unsigned) lines, &tail);
        if (k == -ENOMEM) {
            json_object_put(res);
            json_object_put(arr);
            return k;
        }
        if (k < 0 && k != -ENOENT) {
            /* A symlink or a FIFO where the log should be: say so, show nothing of it. */
            char msg[128];
            snprintf(msg, sizeof(msg), "cannot read the log: %s", strerror(-k));
            log_task_warning_errno(task_name(t), k, "status: cannot read the task's log: %m");
            json_object_object_add(res, "log_error", json_object_new_string(msg));
        }
    }
    for (char **p = tail; p && *p; p++)
        json_object_array_add(arr, json_object_new_string(*p));
    json_object_object_add(res, "log_tail", arr);
    return request_reply(r, res);
}

static int verb_get_result(struct request *r)
{
    struct task *t;
    int k;

    if ((k = request_check_members(r, task_only)) < 0 || (k = req_task(r, true, &t)) < 0)
        return k;
    if (!task_get_config(t)->enabled)
        return request_reply_error(r, ENOTSUP, "mod %s is not enabled", task_name(t));
    return request_reply(r, task_result_json(t));
}

/* Completion of a deferred start/stop: answer with the message and the task's state. */
static void on_task_done(struct task *t, int error, const char *message, void *userdata)
{
    struct pending_reply *p = userdata;

    if (error < 0) {
        pending_reply_error(p, error, message);
        return;
    }
    json_object *res = json_object_new_object();
    json_object_object_add(res, "message", json_object_new_string(message));
    json_object_object_add(res, "task", task_summary_json(t));
    pending_reply_ok(p, res);
}

/* start and stop: answered once the task has started / stopped (on_task_done). A start is
 * answered after [tasks] start_grace_ms, or as soon as the process ends within it, so that a
 * task that dies at once is reported as failed, not as started. */
static int task_action(struct request *r, bool start)
{
    struct pending_reply *p;
    const char *msg = NULL;
    struct task *t;
    int k;

    if ((k = request_check_members(r, task_only)) < 0 || (k = req_task(r, false, &t)) < 0)
        return k;
    p = request_defer(r);
    if (!p)
        return -ENOMEM;
    log_task_info(task_name(t), "%s requested by uid %d pid %d", start ? "start" : "stop",
                  (int) request_uid(r), (int) request_pid(r));
    if (start)
        k = task_start_with_grace(t, (usec_t) req_daemon(r)->config.start_grace_ms * USEC_PER_MSEC,
                                  on_task_done, p, &msg);
    else
        k = task_stop(t, on_task_done, p, &msg);
    if (k < 0)
        pending_reply_error(p, k, msg);
    else if (k > 0)
        on_task_done(t, 0, msg, p); /* nothing to wait for ("task already stopped") */
    return 0;
}

static int verb_start(struct request *r)
{
    return task_action(r, true);
}

static int verb_stop(struct request *r)
{
    return task_action(r, false);
}

static int verb_reload(struct request *r)
{
    static const char *const members[] = {"task", NULL};
    _cleanup_free_ char *message = NULL;
    _cleanup_strv_free_ char **warnings = NULL;
    const char *name = NULL;
    int k;

    if ((k = request_check_members(r, members)) < 0 ||
        (k = request_get_string(r, "task", false, 256, &name)) < 0)
        return k;
    log_info("reload of %s requested by uid %d pid %d", name ? name : "all tasks",
             (int) request_uid(r), (int) request_pid(r));
    k = task_manager_reload(req_daemon(r)->tasks, name, &message, &warnings);
    if (k < 0) {
        if (warnings) {
            _cleanup_free_ char *w = strv_join(warnings, "\n");
            return request_reply_error(r, k, "%s%s%s", message ? message : "reload failed",
                                       w ? "\n" : "", w ? w : "");
        }
        return request_reply_error(r, k, "%s", message ? message : "reload failed");
    }
    json_object *res = json_object_new_object(), *w = json_object_new_array();
    for (char **p = warnings; p && *p; p++)
        json_object_array_add(w, json_object_new_string(*p));
    json_object_object_add(res, "message", json_object_new_string(message ? message : ""));
    json_object_object_add(res, "warnings", w);
    return request_reply(r, res);
}

/* result and heartbeat come from the task itself: root, or the user the task runs as. */
static int req_task_from_task(struct request *r, struct task **ret)
{
    int k = req_task(r, true, ret);
    if (k < 0)
        return k;
    const struct task_config *c = task_get_config(*ret);
    uid_t uid = request_uid(r);
    if (uid != 0 && !(c->user && c->uid == uid))
        return request_reply_error(r, EPERM, "permission denied: uid %d may not report for task %s",
                                   (int) uid, c->name);
    return 0;
}

static int verb_result(struct request *r)
{
    static const char *const members[] = {"task", "result", "details", NULL};
    const char *level_name = NULL;
    json_object *details = NULL, *dv;
    _cleanup_json_ json_object *parsed = NULL;
    struct task *t;
    int k, level;

    if ((k = request_check_members(r, members)) < 0 || (k = req_task_from_task(r, &t)) < 0 ||
        (k = request_get_string(r, "result", true, 32, &level_name)) < 0)
        return k;
    level = sentry_result_level_from_string(level_name);
    if (level < 0)
        return request_reply_error(r, EINVAL,
                                   "result '%s' is not one of PASS, FAIL, SKIP, MINOR_ALM, "
                                   "MAJOR_ALM, CRITICAL_ALM",
                                   level_name);
    if (json_object_object_get_ex(r->msg, "details", &dv) && dv &&
        !json_object_is_type(dv, json_type_null)) {
        if (json_object_is_type(dv, json_type_string)) {
            /* The reference accepts details as a JSON string holding an object. */
            parsed = json_tokener_parse(json_object_get_string(dv));
            details = parsed;
        } else
            details = dv;
        if (!details || !json_object_is_type(details, json_type_object))
            return request_reply_error(r, EINVAL, "member 'details' must be a JSON object");
    }
    _cleanup_json_ json_object *empty = details ? NULL : json_object_new_object();
    task_set_result(t, level, details ? details : empty);
    return request_reply(r, NULL);
}

static int verb_heartbeat(struct request *r)
{
    const char *msg = NULL;
    struct task *t;
    int k;

    if ((k = request_check_members(r, task_only)) < 0 || (k = req_task_from_task(r, &t)) < 0)
        return k;
    k = task_heartbeat(t, &msg);
    if (k < 0)
        return request_reply_error(r, k, "%s", msg);
    return request_reply(r, NULL);
}

const struct verb task_verbs[] = {
    {"list", verb_list, 0, "the tasks and their states"},
    {"status", verb_status, 0, "one task in detail"},
    {"get_result", verb_get_result, 0, "the last result a task reported"},
    {"start", verb_start, VERB_ROOT, "start a task"},
    {"stop", verb_stop, VERB_ROOT, "stop a task"},
    {"reload", verb_reload, VERB_ROOT, "reload one task's .mod file, or all of them"},
    {"result", verb_result, 0, "a task reports its result (root or the task's user)"},
    {"heartbeat", verb_heartbeat, 0, "a task says it is alive (root or the task's user)"},
    {NULL, NULL, 0, NULL},
};
