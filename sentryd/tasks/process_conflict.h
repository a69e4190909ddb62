/* process_conflict.h: finding processes that look like a task (the `conflict` key): those
 * whose command line contains the task's task_start text, as the reference's `ps aux` check. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Fills up to max pids (not counting sentryd itself) whose /proc/<pid>/cmdline, arguments
 * joined by spaces, contains needle. Returns how many matched (may exceed max), or -errno. */
int process_find_matching(const char *proc_root, const char *needle, pid_t *pids, size_t max);
