/* task_commands.c: sentryctl list, status, start, stop, reload, get_result. */
#include <stdio.h>
#include <string.h>

#include "sentryctl.h"

static const char *json_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return json_object_get_string(v);
}

static int json_int(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : 0;
}

/* A command that takes exactly one task name and no options of its own. */
static int task_arg(struct ctl *ctl, int argc, char **argv, const char *help, const char **name,
                    bool *done)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int c = ctl_getopt(ctl, argc, argv, "+" CTL_COMMON_SHORT, opts, help, done);
    if (*done)
        return c;
    if (c != -1) {
        *done = true;
        return EXIT_USAGE;
    }
    int r = ctl_task_operand(argc, argv, name);
    *done = r != EXIT_OK;
    return r;
}

/* The commands that take one task name and send it with their verb: *ret gets the result.
 * Returns the exit code; *ret stays NULL when there is nothing to print. */
static int call_with_task(struct ctl *ctl, int argc, char **argv, const char *verb,
                          const char *help, json_object **ret)
{
    const char *name = NULL;
    bool done;
    int r = task_arg(ctl, argc, argv, help, &name, &done);

    *ret = NULL;
    if (done)
        return r;
    return ctl_call_task(ctl, verb, name, ret);
}

static int cmd_list(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl list [--all] [--json]\n\n"
        "Shows the tasks and their states (RUNNING, WAITING, EXITED, FAILED).\n"
        "  -a, --all   also the disabled tasks (enabled=no)\n";
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'}, CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *args = json_object_new_object(), *res = NULL;
    bool done, all = false;
    int c, r;

    while ((c = ctl_getopt(ctl, argc, argv, "a" CTL_COMMON_SHORT, opts, help, &done)) != -1) {
        if (done)
            return c;
        if (c == 'a')
            all = true;
    }
    if (optind != argc)
        return ctl_usage_error(argv[0], "unrecognized arguments: %s", argv[optind]);
    if (all)
        json_object_object_add(args, "all", json_object_new_boolean(true));
    r = ctl_call(ctl, "list", args, &res);
    if (r != EXIT_OK)
        return r;
    if (ctl->json) {
        ctl_print_json(res);
        return EXIT_OK;
    }
    json_object *tasks;
    json_object_object_get_ex(res, "tasks", &tasks);
    int w = 4;
    for (size_t i = 0; i < json_object_array_length(tasks); i++) {
        int l = (int) strlen(strna(json_str(json_object_array_get_idx(tasks, i), "name")));
        w = l > w ? l : w;
    }
    ctl_print_line("%-*s  %-7s  %-7s  %7s  %s", w, "NAME", "TYPE", "STATE", "PID", "REASON");
    for (size_t i = 0; i < json_object_array_length(tasks); i++) {
        json_object *t = json_object_array_get_idx(tasks, i);
        char pid[16] = "-";
        if (json_int(t, "pid") > 0)
            snprintf(pid, sizeof(pid), "%d", json_int(t, "pid"));
        const char *state = json_str(t, "state");
        ctl_print_line(
            "%-*s  %-7s  %-7s  %7s  %s%s", w, strna(json_str(t, "name")),
            strna(json_str(t, "type")), strna(state), pid,
            json_str(t, "reason") ? json_str(t, "reason") : "",
            json_object_get_boolean(json_object_object_get(t, "enabled")) ? "" : "(disabled)");
    }
    return EXIT_OK;
}

static void print_field(json_object *o, const char *key, const char *label)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return;
    const char *s = json_object_get_string(v);
    if (isempty(s))
        return;
    ctl_print_line("%s: %s", label, s);
}

static int cmd_status(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl status TASK [-n LINES] [--json]\n\n"
        "Shows the state of a task, why it failed (the message of the FAIL result it reported,\n"
        "and how its process ended), its settings, then the last lines of its log for its last\n"
        "run.\n"
        "  -n, --lines LINES   how many log lines (default 10, 0 for none, at most 1000)\n";
    static const struct option opts[] = {
        {"lines", required_argument, NULL, 'n'}, CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *res = NULL, *args = NULL;
    uint64_t lines = 10;
    bool done;
    int c, r;

    while ((c = ctl_getopt(ctl, argc, argv, "n:" CTL_COMMON_SHORT, opts, help, &done)) != -1) {
        if (done)
            return c;
        if (c != 'n')
            return EXIT_USAGE;
        if (ctl_parse_uint(optarg, 0, CTL_STATUS_LINES_MAX, &lines) < 0)
            return ctl_usage_error(argv[0], "--lines needs a number of lines 0..%d, got '%s'",
                                   CTL_STATUS_LINES_MAX, optarg);
    }
    const char *name;
    if (ctl_task_operand(argc, argv, &name) != EXIT_OK)
        return EXIT_USAGE;
    args = ctl_task_args(name);
    json_object_object_add(args, "lines", json_object_new_uint64(lines));
    r = ctl_call(ctl, "status", args, &res);
    if (r != EXIT_OK || !res)
        return r;
    if (ctl->json) {
        ctl_print_json(res);
        return EXIT_OK;
    }
    /* Like systemctl status: a failed task says why on its first line. */
    const char *state = json_str(res, "state"), *reason = json_str(res, "reason");
    bool headline = streq_ptr(state, "FAILED") && reason;
    if (headline)
        ctl_print_line("%s: FAILED: %s", strna(json_str(res, "name")), reason);
    static const char *const fields[][2] = {
        {"state", "status"},
        {"reason", "reason"},
        {"last_run", "last run"},
        {"type", "type"},
        {"pid", "pid"},
        {"runs", "runs"},
        {"start_time", "started"},
        {"end_time", "ended"},
        {"interval", "interval"},
        {"heartbeat_interval", "heartbeat interval"},
        {"alarm_id", "alarm id"},
        {"user", "user"},
        {"mod_file", "mod file"},
        {"log_file", "log file"},
        {"task_start", "task_start"},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if ((streq(fields[i][0], "pid") || streq(fields[i][0], "heartbeat_interval")) &&
            json_int(res, fields[i][0]) == 0)
            continue;
        if (headline && streq(fields[i][0], "reason"))
            continue; /* said on the first line */
        print_field(res, fields[i][0], fields[i][1]);
    }
    json_object *w, *tail;
    if (json_object_object_get_ex(res, "warnings", &w))
        for (size_t i = 0; i < json_object_array_length(w); i++)
            ctl_print_line("warning: %s", json_object_get_string(json_object_array_get_idx(w, i)));
    if (json_str(res, "log_error"))
        ctl_print_line("log: %s", json_str(res, "log_error"));
    /* The log's last lines for the last run (sentryd escaped them), after a blank line. */
    if (json_object_object_get_ex(res, "log_tail", &tail) && json_object_array_length(tail) > 0) {
        printf("\n");
        for (size_t i = 0; i < json_object_array_length(tail); i++)
            ctl_print_line("%s", json_object_get_string(json_object_array_get_idx(tail, i)));
    }
    return EXIT_OK;
}

/* start, stop: the answer's message ("start task success", "task already stopped", ...). */
static int cmd_task_action(struct ctl *ctl, int argc, char **argv, const char *verb,
                           const char *help)
{
    _cleanup_json_ json_object *res = NULL;
    int r = call_with_task(ctl, argc, argv, verb, help, &res);

    if (r != EXIT_OK || !res)
        return r;
    if (ctl->json)
        ctl_print_json(res);
    else {
        json_object *t = json_object_object_get(res, "task");
        ctl_print_line("%s (%s)", strna(json_str(res, "message")), strna(json_str(t, "state")));
    }
    return EXIT_OK;
}

static int cmd_start(struct ctl *ctl, int argc, char **argv)
{
    return cmd_task_action(
        ctl, argc, argv, "start",
        "Usage: sentryctl start TASK [--json]\n\n"
        "Starts a task (root only). Returns once its process has run for sentryd's start grace\n"
        "([tasks] start_grace_ms, 1 s by default) or has ended, whichever comes first: a task\n"
        "that fails at once is an error naming its state and why (exit status 1).\n");
}

static int cmd_stop(struct ctl *ctl, int argc, char **argv)
{
    return cmd_task_action(
        ctl, argc, argv, "stop",
        "Usage: sentryctl stop TASK [--json]\n\n"
        "Stops a task (root only): runs its task_stop command, waits for it to\n"
        "end (SIGKILL after stop_timeout), runs task_post. Returns when done.\n");
}

static int cmd_reload(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl reload [TASK] [--json]\n\n"
        "Reloads one task's .mod file, or every task file without TASK (root only; SIGHUP to\n"
        "sentryd does the same). Changes of type are refused; problems found are printed.\n";
    static const struct option opts[] = {CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *res = NULL, *args = json_object_new_object();
    bool done;
    int c = ctl_getopt(ctl, argc, argv, "+" CTL_COMMON_SHORT, opts, help, &done);

    if (done)
        return c;
    if (argc - optind > 1)
        return ctl_usage_error(argv[0], "unrecognized arguments: %s", argv[optind + 1]);
    if (optind < argc) {
        if (ctl_check_task_arg(argv[0], argv[optind]) != EXIT_OK)
            return EXIT_USAGE;
        json_object_object_add(args, "task", json_object_new_string(argv[optind]));
    }
    int r = ctl_call(ctl, "reload", args, &res);
    if (r != EXIT_OK)
        return r;
    if (ctl->json) {
        ctl_print_json(res);
        return EXIT_OK;
    }
    const char *m = json_str(res, "message");
    ctl_print_line("%s", isempty(m) ? "reloaded" : m);
    json_object *w;
    if (json_object_object_get_ex(res, "warnings", &w))
        for (size_t i = 0; i < json_object_array_length(w); i++)
            ctl_print_line("warning: %s", json_object_get_string(json_object_array_get_idx(w, i)));
    return EXIT_OK;
}

static int cmd_get_result(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl get_result TASK [--json]\n\n"
        "Shows the last result the task reported: result (PASS, FAIL, SKIP, MINOR_ALM,\n"
        "MAJOR_ALM, CRITICAL_ALM), start_time, end_time, error_msg and details.\n";
    _cleanup_json_ json_object *res = NULL;
    int r = call_with_task(ctl, argc, argv, "get_result", help, &res);

    if (r != EXIT_OK || !res)
        return r;
    ctl_print_json(res);
    return EXIT_OK;
}

const struct ctl_command task_commands[] = {
    {"list", cmd_list, "[--all]", "show the tasks and their states"},
    {"status", cmd_status, "TASK [-n LINES]", "show one task: why it failed, settings, its log"},
    {"start", cmd_start, "TASK", "start a task (root)"},
    {"stop", cmd_stop, "TASK", "stop a task (root)"},
    {"reload", cmd_reload, "[TASK]", "reload one task file or all of them (root)"},
    {"get_result", cmd_get_result, "TASK", "show the last result a task reported"},
    {NULL, NULL, NULL, NULL},
};
