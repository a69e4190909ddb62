/* process_spawn.h: starting a task's process: argv without a shell, its own session (so the
 * whole process group can be signalled), output to the task's log, optional user, a pidfd to
 * follow it. Errors of exec() in the child are reported back to the caller. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct spawn_params {
    char *const *argv; /* argv[0] is looked up in the PATH of env unless it contains '/' */
    char *const *env;
    int output_fd; /* stdout and stderr; -1 for /dev/null */
    bool set_user;
    uid_t uid;
    gid_t gid;
    const char *user; /* for the supplementary groups */
};

/* 0 with *ret_pid and *ret_pidfd (O_CLOEXEC), or -errno: -ENOENT / -EACCES / -ENOEXEC ... when
 * the program cannot be executed (checked before and after fork). */
int process_spawn(const struct spawn_params *p, pid_t *ret_pid, int *ret_pidfd);

/* Describes how a process ended, from waitid() data: "exited with status 1",
 * "killed by signal 9 (SIGKILL)", "killed by signal 11 (SIGSEGV), core dumped". */
void process_describe_exit(int code, int status, char *buf, size_t size);
/* True for a clean exit (status 0). */
bool process_exit_is_success(int code, int status);
