/* cgroup_path.h: where the cgroups of sentry's tasks live, derived from what the kernel says about
 * sentryd itself: its cgroup in the v2 hierarchy (the "0::PATH" line of /proc/self/cgroup) and
 * where that hierarchy is mounted (the cgroup2 lines of /proc/self/mountinfo). Pure: the text
 * comes from the caller, so the unit tests feed it the files of a hybrid host (cgroup2 at
 * /sys/fs/cgroup/unified), of a unified one (/sys/fs/cgroup) and of containers. */
#pragma once

#include <stddef.h>

/* The name of the directory, under sentryd's own cgroup, that holds one cgroup per task. */
#define CGROUP_TASKS_DIR "sentry-tasks"

/* The v2 cgroup of the process whose /proc/PID/cgroup text is given (the path of its "0::" line,
 * e.g. "/system.slice/sentryd.service") into buf. -ENOMEDIUM when there is no such line (the
 * process is in no v2 hierarchy), -EBADMSG when the line is not an absolute path,
 * -ENAMETOOLONG when it does not fit. */
int cgroup_self_from_proc(const char *proc_cgroup, char *buf, size_t size);

/* The directory of the v2 cgroup `cgroup` in the file system, from /proc/self/mountinfo text: the
 * first cgroup2 mount whose root holds the cgroup (its root is "/" outside containers), its mount
 * point (unescaped: "\040" is a blank) joined with the rest of the path. -ENOMEDIUM when no
 * cgroup2 file system is mounted, -EXDEV when none of them shows that cgroup (a container that
 * sees another part of the tree), -EBADMSG for a malformed line, -ENAMETOOLONG. */
int cgroup_dir_from_mountinfo(const char *mountinfo, const char *cgroup, char *buf, size_t size);

/* The name of the directory under sentryd's cgroup for `[tasks] cgroup = auto`: CGROUP_TASKS_DIR
 * for the root "/", CGROUP_TASKS_DIR "-" and 16 hex digits of a hash of the root for any other
 * one, so that daemons with different roots (tests) never share their tasks' cgroups. */
int cgroup_tasks_dir_name(const char *root, char *buf, size_t size);
