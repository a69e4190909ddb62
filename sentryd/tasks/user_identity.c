/* user_identity.c: see user_identity.h. The reading child makes only async-signal-safe calls
 * (sentryd has threads): everything it needs is prepared before fork(). */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>

#include "fileio.h"
#include "macro.h"
#include "strv.h"
#include "user_identity.h"

#define PASSWD_BUF_MAX (1024 * 1024)

int user_identity_resolve(const char *name, struct user_identity *ret)
{
    _cleanup_free_ char *buf = NULL;
    struct passwd pw, *res = NULL;
    size_t size = 16384;
    int r;

    *ret = (struct user_identity){0};
    for (;;) {
        free(buf);
        buf = malloc(size);
        if (!buf)
            return -ENOMEM;
        r = getpwnam_r(name, &pw, buf, size, &res);
        if (r != ERANGE || size >= PASSWD_BUF_MAX)
            break;
        size *= 2;
    }
    if (r != 0 || !res)
        return r == 0 || r == ENOENT || r == ESRCH ? -ESRCH : -r;
    ret->uid = pw.pw_uid;
    ret->gid = pw.pw_gid;
    ret->name = strdup(name);
    ret->home = strdup(isempty(pw.pw_dir) ? "/" : pw.pw_dir);
    ret->shell = strdup(isempty(pw.pw_shell) ? "/bin/sh" : pw.pw_shell);
    if (!ret->name || !ret->home || !ret->shell) {
        user_identity_done(ret);
        return -ENOMEM;
    }
    ret->n_groups = USER_GROUPS_MAX;
    if (getgrouplist(name, pw.pw_gid, ret->groups, &ret->n_groups) < 0) {
        user_identity_done(ret);
        return -E2BIG;
    }
    return 0;
}

void user_identity_done(struct user_identity *id)
{
    free(id->name);
    free(id->home);
    free(id->shell);
    *id = (struct user_identity){0};
}

const char *user_identity_cwd(const struct user_identity *id)
{
    struct stat st;

    if (id->home && id->home[0] == '/' && stat(id->home, &st) == 0 && S_ISDIR(st.st_mode))
        return id->home;
    return "/";
}

int user_identity_apply_env(const struct user_identity *id, const char *cwd, char ***env)
{
    if (strv_env_set(env, "HOME", id->home) < 0 || strv_env_set(env, "SHELL", id->shell) < 0 ||
        strv_env_set(env, "USER", id->name) < 0 || strv_env_set(env, "LOGNAME", id->name) < 0 ||
        strv_env_set(env, "PWD", cwd) < 0)
        return -ENOMEM;
    /* root's PATH (sentryd's) has the sbin directories a user has no business with. */
    if (id->uid != 0 && strv_env_set(env, "PATH", USER_DEFAULT_PATH) < 0)
        return -ENOMEM;
    return 0;
}

/* What the reading child sends first. */
struct read_header {
    int error; /* errno, 0 when the bytes follow */
    struct stat st;
};

static _noreturn_ void reader_child(const struct user_identity *id, const char *path, size_t max,
                                    int out)
{
    struct read_header h = {0};
    char buf[4096];
    int fd = -1;

    if (setgroups((size_t) id->n_groups, id->groups) < 0 ||
        setresgid(id->gid, id->gid, id->gid) < 0 || setresuid(id->uid, id->uid, id->uid) < 0)
        h.error = errno;
    if (!h.error) {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &h.st) < 0)
            h.error = errno;
        else if (!S_ISREG(h.st.st_mode))
            h.error = S_ISDIR(h.st.st_mode) ? EISDIR : EBADFD;
        else if ((size_t) h.st.st_size > max)
            h.error = EFBIG;
    }
    if (write_all(out, &h, sizeof(h)) < 0 || h.error)
        _exit(1);
    for (size_t sent = 0; sent <= max;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (write_all(out, buf, (size_t) n) < 0)
            _exit(1);
        sent += (size_t) n;
    }
    _exit(0);
}

int user_read_file(const struct user_identity *id, const char *path, size_t max, char **ret,
                   struct stat *st)
{
    _cleanup_close_ int in = -EBADF;
    _cleanup_free_ char *buf = NULL;
    struct read_header h;
    int pipefd[2], r;
    size_t len = 0;
    pid_t pid;

    buf = malloc(max + 1);
    if (!buf)
        return -ENOMEM;
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        r = -errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return r;
    }
    if (pid == 0) {
        close(pipefd[0]);
        reader_child(id, path, max, pipefd[1]);
    }
    close(pipefd[1]);
    in = pipefd[0];

    r = read_exact(in, &h, sizeof(h));
    if (r >= 0 && h.error)
        r = -h.error;
    while (r >= 0) {
        ssize_t n = read(in, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            r = -errno;
        else if (n == 0)
            break;
        else if ((len += (size_t) n) > max)
            r = -EFBIG;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return r == -EPIPE ? -EIO : r;
    buf[len] = 0;
    if (st)
        *st = h.st;
    *ret = TAKE_PTR(buf);
    return 0;
}
