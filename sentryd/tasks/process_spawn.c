/* process_spawn.c: see process_spawn.h.
 *
 * fork() + execve(): the child only makes async-signal-safe calls (sentryd has threads), so
 * everything it needs (resolved path, groups, fds) is prepared in the parent. A CLOEXEC pipe
 * carries the failed step and the child's errno back when its set-up or execve() fails; EOF on
 * it means exec succeeded. The child joins the task's cgroup first, while it is still root and
 * before it can fork: from then on the cgroup holds everything that descends from it. */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "macro.h"
#include "process_spawn.h"
#include "strv.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The steps of the child's set-up, for the caller's message. */
enum spawn_step {
    STEP_EXEC,
    STEP_CGROUP,
    STEP_SESSION,
    STEP_STDIO,
    STEP_USER,
    STEP_CWD,
    _STEP_MAX,
};

static const char *const spawn_step_table[_STEP_MAX] = {
    [STEP_EXEC] = NULL,
    [STEP_CGROUP] = "joining the task's cgroup",
    [STEP_SESSION] = "creating a session",
    [STEP_STDIO] = "setting up stdin, stdout and stderr",
    [STEP_USER] = "taking the task's user",
    [STEP_CWD] = "entering the working directory",
};

/* What the child sends when it fails. */
struct spawn_failure {
    int step;
    int error;
};

static int executable_check(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (access(path, X_OK) < 0)
        return -errno;
    return 0;
}

/* The program to exec: argv[0] itself when it holds a '/', else the first match in PATH. */
static int resolve_program(const char *name, char *const *env, char *buf, size_t size)
{
    const char *path = DEFAULT_PATH;
    int i, r = -ENOENT;

    if (strchr(name, '/')) {
        if (strlen(name) >= size)
            return -ENAMETOOLONG;
        strcpy(buf, name);
        return executable_check(buf);
    }
    i = strv_env_find(env, "PATH");
    if (i >= 0)
        path = env[i] + STRLEN("PATH=");
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && (size_t) snprintf(buf, size, "%.*s/%s", (int) n, p, name) < size) {
            int q = executable_check(buf);
            if (q == 0)
                return 0;
            if (q != -ENOENT && q != -ENOTDIR)
                r = q; /* remember "exists but not executable" */
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return r;
}

static _noreturn_ void child_exec(const struct spawn_params *p, const char *program, int null_fd,
                                  int err_fd)
{
    struct spawn_failure f = {STEP_EXEC, 0};
    sigset_t all;
    int out;

    /* First of all: from here on whatever this process starts is in the task's cgroup. */
    if (p->cgroup_fd >= 0 && write(p->cgroup_fd, "0", 1) != 1) {
        f.step = STEP_CGROUP;
        goto fail;
    }
    /* sentryd blocks signals for its signalfd and ignores SIGPIPE: undo both. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);

    umask(0022);
    if (setsid() < 0) {
        f.step = STEP_SESSION;
        goto fail;
    }
    out = p->output_fd >= 0 ? p->output_fd : null_fd;
    if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
        dup2(out, STDERR_FILENO) < 0) {
        f.step = STEP_STDIO;
        goto fail;
    }
    if (p->user) {
        if (setgroups((size_t) p->user->n_groups, p->user->groups) < 0 ||
            setresgid(p->user->gid, p->user->gid, p->user->gid) < 0 ||
            setresuid(p->user->uid, p->user->uid, p->user->uid) < 0) {
            f.step = STEP_USER;
            goto fail;
        }
    }
    /* As the user: a home it may not enter is an error, not something root does for it. */
    if (chdir(p->cwd ? p->cwd : "/") < 0) {
        f.step = STEP_CWD;
        goto fail;
    }
    /* Everything above stdio closes at exec; err_fd is already CLOEXEC. */
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        for (int fd = 3; fd < 1024; fd++)
            if (fd != err_fd)
                close(fd);
    }
    execve(program, p->argv, p->env);
fail:
    f.error = errno;
    ssize_t _unused_ w = write(err_fd, &f, sizeof(f));
    _exit(127);
}

int process_spawn(const struct spawn_params *p, pid_t *ret_pid, int *ret_pidfd,
                  const char **ret_step)
{
    char program[PATH_MAX];
    _cleanup_close_ int null_fd = -EBADF, pidfd = -EBADF;
    int pipefd[2] = {-1, -1};
    struct spawn_failure f = {STEP_EXEC, 0};
    pid_t pid;
    int r = 0;

    if (ret_step)
        *ret_step = NULL;
    if (!p->argv || !p->argv[0])
        return -EINVAL;
    r = resolve_program(p->argv[0], p->env, program, sizeof(program));
    if (r < 0)
        return r;
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0)
        return -errno;
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;

    pid = fork();
    if (pid < 0) {
        r = -errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return r;
    }
    if (pid == 0)
        child_exec(p, program, null_fd, pipefd[1]);

    close(pipefd[1]);
    /* The child is not reaped before we do it, so its pid cannot be reused meanwhile. */
    pidfd = pidfd_open(pid, 0);
    if (pidfd < 0)
        r = -errno;
    ssize_t n;
    do
        n = read(pipefd[0], &f, sizeof(f));
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);

    if (n == sizeof(f) || r < 0) {
        /* exec failed (or no pidfd): collect the child now, it is gone or about to be. */
        if (r >= 0) {
            r = -(f.error ? f.error : EIO);
            if (ret_step && f.step > STEP_EXEC && f.step < _STEP_MAX)
                *ret_step = spawn_step_table[f.step];
        } else
            kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return r;
    }
    *ret_pid = pid;
    *ret_pidfd = TAKE_FD(pidfd);
    return 0;
}

void process_describe_exit(int code, int status, char *buf, size_t size)
{
    switch (code) {
    case CLD_EXITED:
        snprintf(buf, size, "exited with status %d", status);
        break;
    case CLD_KILLED:
    case CLD_DUMPED:
        snprintf(buf, size, "killed by signal %d (SIG%s)%s", status,
                 sigabbrev_np(status) ? sigabbrev_np(status) : "?",
                 code == CLD_DUMPED ? ", core dumped" : "");
        break;
    default:
        snprintf(buf, size, "ended (code %d, status %d)", code, status);
    }
}

bool process_exit_is_success(int code, int status)
{
    return code == CLD_EXITED && status == 0;
}
