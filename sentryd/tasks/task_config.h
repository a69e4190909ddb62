/* task_config.h: a task as its .mod file defines it (after validation), and the enums of the
 * .mod format with their string tables. Built by mod_file.c, owned by a struct task. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

enum task_type {
    TASK_ONESHOT,
    TASK_PERIOD,
    _TASK_TYPE_MAX,
};

/* What to do at start when a process that looks like this task already runs (reference: a
 * process whose command line contains task_start). */
enum task_conflict {
    CONFLICT_UP,   /* start anyway */
    CONFLICT_DOWN, /* refuse to start */
    CONFLICT_KILL, /* SIGTERM the other processes, then start */
    _TASK_CONFLICT_MAX,
};

const char *task_type_to_string(enum task_type t);
int task_type_from_string(const char *s);
const char *task_conflict_to_string(enum task_conflict c);
int task_conflict_from_string(const char *s);

struct task_config {
    char *name;
    char *path; /* the .mod file, for messages */
    bool enabled;
    enum task_type type;
    char *task_start; /* command lines as written; each splits into argv (checked at load) */
    char *task_stop;
    char **task_pre; /* ';'-separated commands of task_pre / task_post, in order */
    char **task_post;
    unsigned interval;           /* period tasks: seconds between starts */
    unsigned heartbeat_interval; /* seconds; 0 = no heartbeat required */
    bool onstart;
    char *env_file; /* NULL = none */
    enum task_conflict conflict;
    unsigned alarm_id; /* 0 = the task raises no alarms */
    unsigned alarm_clear_time;
    /* sentry's own keys (docs/tasks.md) */
    char *user; /* NULL = run as sentryd's user */
    uid_t uid;
    gid_t gid;
    unsigned timeout;      /* seconds one run may take; 0 = no limit */
    unsigned stop_timeout; /* seconds from stop to SIGKILL; 0 = sentryd's default */
};

struct task_config *task_config_free(struct task_config *c);
DEFINE_POINTER_CLEANUP(struct task_config, task_config_free)
