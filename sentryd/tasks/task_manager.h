/* task_manager.h: the set of tasks loaded from the tasks directory: loading, reload (one task
 * or all), lookup, onstart, and the orderly stop of every task when sentryd exits. It also owns
 * the cgroup subtree of the tasks (found once at start-up, cleared of what an earlier sentryd
 * left, removed at exit) or the reason there is none. */
#pragma once

#include <stdbool.h>

#include "mod_file.h"
#include "task.h"

struct task_manager;

struct task_manager_params {
    sd_event *event;
    const char *tasks_dir;
    const char *log_dir;
    const char *socket_path;
    char **base_env;
    const char *proc_root;
    struct mod_defaults defaults;
    unsigned hook_timeout;
    /* [tasks] cgroup: "auto", "off" or a path in a cgroup2 file system (task_cgroup.h); NULL is
     * "off". root ([daemon] root) names the auto directory. Only with an event loop. */
    const char *cgroup;
    const char *root;
    uint64_t log_max_size;  /* [tasks] log_max_size: bytes per log file, 0 no cap */
    unsigned log_max_files; /* [tasks] log_max_files */
    /* Called when a shutdown has begun and the last task went idle. */
    void (*on_all_idle)(void *userdata);
    void *userdata;
};

int task_manager_new(const struct task_manager_params *p, struct task_manager **ret);
struct task_manager *task_manager_free(struct task_manager *m);

/* Loads every valid NAME.mod of the tasks directory (sorted by name); invalid ones are logged
 * and skipped. Returns the number of tasks loaded or -errno when the directory is unusable. */
int task_manager_load_all(struct task_manager *m);
/* Starts every enabled task with onstart. */
void task_manager_start_onstart(struct task_manager *m);

/* Reloads one task (name) or, with name NULL, the whole directory: new tasks are added (and
 * started when onstart), changed ones updated, removed ones stopped and dropped.
 * 0 with *message; <0 with *message saying why. *warnings (malloc'ed strv) gets the messages of
 * the loaded file(s). */
int task_manager_reload(struct task_manager *m, const char *name, char **message, char ***warnings);

struct task *task_manager_find(const struct task_manager *m, const char *name);

/* The one message every verb answers (with ENOENT) for a name that names no task: "cannot find
 * task by name NAME: task not exist". It holds both phrasings of the reference (status and
 * get_result said the first, start and stop the second), so a script written for either still
 * finds its words. The name is escaped (it comes from a client). Returns buf. */
#define TASK_NOT_FOUND_MESSAGE_MAX 1200
const char *task_not_found_message(char *buf, size_t size, const char *name);
size_t task_manager_count(const struct task_manager *m);
struct task *task_manager_get(const struct task_manager *m, size_t i); /* sorted by name */
size_t task_manager_count_active(const struct task_manager *m);

/* Stops every task; on_all_idle is called once all are idle (maybe before this returns). */
void task_manager_shutdown(struct task_manager *m);
