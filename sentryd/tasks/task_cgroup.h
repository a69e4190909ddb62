/* task_cgroup.h: the cgroup v2 subtree that holds sentry's tasks, one cgroup per task, the way
 * systemd holds a service in its own cgroup.
 *
 * Every process of a task (task_pre, task_start, task_stop, task_post) joins the task's cgroup
 * <base>/<task> before it execs (process_spawn.c), and whatever it forks, double-forks or
 * setsid()s stays there: sentryd can end all of it, and knows when nothing is left
 * (cgroup.events says "populated 0"). Ending a cgroup is cgroup.kill (Linux 5.14 and later), else
 * SIGKILL to every pid of cgroup.procs, again, until it is empty.
 *
 * The base comes from [tasks] cgroup: `auto` is a directory under sentryd's own cgroup
 * (cgroup_path.h), a path is the operator's choice, `off` is no cgroup. Where there is no usable
 * cgroup v2 (none mounted, not writable, under systemd not delegated) tasks fall back to process
 * groups, and the reason is kept for the log and `sentryctl status`. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "time_util.h"

/* Finds and creates the base for setting ("auto", "off" or an absolute path in a cgroup2 file
 * system, never one that holds sentryd's own cgroup); root names the auto directory
 * (cgroup_tasks_dir_name()). 0 with *ret_base (malloc'ed)
 * when it is usable; 0 with *ret_base NULL and *ret_why (malloc'ed, says why) when tasks fall
 * back to process groups. *ret_created: the base did not exist before. -ENOMEM only. */
int task_cgroup_setup(const char *setting, const char *root, char **ret_base, char **ret_why,
                      bool *ret_created);

/* Ends and removes the task cgroups an earlier sentryd left under base (one killed before it
 * could stop its tasks): the directories named like tasks, nothing else. Returns how many of
 * them still held processes, or -errno. */
int task_cgroup_sweep(const char *base);

/* <base>/<name>, created (with base, should it have gone) when missing: *ret_path malloc'ed. */
int task_cgroup_create(const char *base, const char *name, char **ret_path);
/* An fd (O_CLOEXEC) of path's cgroup.procs: a child writes "0" to it to join the cgroup. */
int task_cgroup_open_procs(const char *path);
/* 1 when a process is in the cgroup (or below it), 0 when it is empty, -errno. */
int task_cgroup_is_populated(const char *path);
/* Sends sig to every process of the cgroup but skip (0: none). The number signalled, -errno. */
int task_cgroup_signal(const char *path, int sig, pid_t skip);
/* SIGKILL to every process of the cgroup: 1 when cgroup.kill did it (the kernel ends them all,
 * those forked meanwhile too), 0 when it was sent pid by pid (task_cgroup_kill_each(); a
 * process forked meanwhile may need another round), -errno. */
int task_cgroup_kill(const char *path);
/* SIGKILL pid by pid, from cgroup.procs (kernels before 5.14). The number signalled, -errno. */
int task_cgroup_kill_each(const char *path);
/* rmdir: -EBUSY while processes are in it, 0 when it is gone (or was). */
int task_cgroup_remove(const char *path);
/* Kills everything in path and removes it, waiting up to timeout for the processes to be gone.
 * It blocks: for teardown and start-up only. 0, -ETIMEDOUT, -errno. */
int task_cgroup_destroy(const char *path, usec_t timeout);
