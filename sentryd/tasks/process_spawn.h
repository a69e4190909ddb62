/* process_spawn.h: starting a task's process: argv without a shell, in the task's cgroup (joined
 * before anything else, so nothing it forks can escape it), its own session (so the whole
 * process group can be signalled where there is no cgroup), output to the task's log pipe,
 * optional user with its working directory, a pidfd to follow it. Errors of the child's set-up
 * and of exec() are reported back to the caller, with the step that failed. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "user_identity.h"

struct spawn_params {
    char *const *argv; /* argv[0] is looked up in the PATH of env unless it contains '/' */
    char *const *env;
    int output_fd;                    /* stdout and stderr; -1 for /dev/null */
    int cgroup_fd;                    /* cgroup.procs of the cgroup to join first; -1: none */
    const struct user_identity *user; /* NULL: stay sentryd's user */
    const char *cwd;                  /* working directory (entered as the user); NULL: "/" */
};

/* 0 with *ret_pid and *ret_pidfd (O_CLOEXEC), or -errno: -ENOENT / -EACCES / -ENOEXEC ... when
 * the program cannot be executed (checked before and after fork). *ret_step (may be NULL) says
 * what failed when it was not the exec itself ("joining the task's cgroup", ...), else NULL. */
int process_spawn(const struct spawn_params *p, pid_t *ret_pid, int *ret_pidfd,
                  const char **ret_step);

/* Describes how a process ended, from waitid() data: "exited with status 1",
 * "killed by signal 9 (SIGKILL)", "killed by signal 11 (SIGSEGV), core dumped". */
void process_describe_exit(int code, int status, char *buf, size_t size);
/* True for a clean exit (status 0). */
bool process_exit_is_success(int code, int status);
