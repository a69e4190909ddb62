/* task_cgroup.c: see task_cgroup.h. Only file operations on the cgroup2 file system and kill();
 * the decisions of when to end what are task.c's. cgroup.procs is read in fixed chunks, so a
 * cgroup of any size is walked without a buffer that grows with it. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>

#include "cgroup_path.h"
#include "macro.h"
#include "names.h"
#include "task_cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* /proc/self/mountinfo can be long on a host with many mounts; more is not sane. */
#define PROC_TEXT_MAX (4 * 1024 * 1024)

/* Reads a whole /proc file (their size says 0): at most max bytes, NUL-terminated. */
static int read_proc_text(const char *path, size_t max, char **ret)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0, alloc = 0;

    if (fd < 0)
        return -errno;
    for (;;) {
        if (alloc - len < 4096) {
            if (alloc >= max)
                return -EFBIG;
            size_t n = alloc ? alloc * 2 : 16384;
            char *b = realloc(buf, n + 1);
            if (!b)
                return -ENOMEM;
            buf = b;
            alloc = n;
        }
        ssize_t k = read(fd, buf + len, alloc - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            break;
        len += (size_t) k;
    }
    buf[len] = 0;
    *ret = TAKE_PTR(buf);
    return 0;
}

static bool is_cgroup2(const char *path)
{
    struct statfs fs;
    return statfs(path, &fs) == 0 && (unsigned long) fs.f_type == CGROUP2_SUPER_MAGIC;
}

/* systemd marks a cgroup it delegated (Delegate=yes) with this extended attribute. */
static bool cgroup_is_delegated(const char *dir)
{
    static const char *const names[] = {"trusted.delegate", "user.delegate"};
    char v[8];

    for (size_t i = 0; i < ELEMENTSOF(names); i++) {
        ssize_t n = getxattr(dir, names[i], v, sizeof(v));
        if (n > 0 && v[0] == '1')
            return true;
    }
    return false;
}

/* sentryd's own cgroup (self, the v2 path) and its directory (dir). 0, or 1 with *why when
 * there is none to find, -ENOMEM. */
static int cgroup_self_dir(char *self, char *dir, size_t size, char **why)
{
    _cleanup_free_ char *proc = NULL, *mounts = NULL;
    int r;

    r = read_proc_text("/proc/self/cgroup", PROC_TEXT_MAX, &proc);
    if (r == -ENOMEM)
        return r;
    if (r >= 0)
        r = cgroup_self_from_proc(proc, self, size);
    if (r < 0)
        return asprintf(why, "sentryd is in no cgroup v2 hierarchy (/proc/self/cgroup: %s)",
                        r == -ENOMEDIUM ? "no 0:: line" : strerror(-r)) < 0
                   ? -ENOMEM
                   : 1;
    r = read_proc_text("/proc/self/mountinfo", PROC_TEXT_MAX, &mounts);
    if (r == -ENOMEM)
        return r;
    if (r >= 0)
        r = cgroup_dir_from_mountinfo(mounts, self, dir, size);
    if (r < 0)
        return asprintf(why, "%s",
                        r == -ENOMEDIUM ? "no cgroup2 file system is mounted"
                        : r == -EXDEV   ? "the cgroup2 mount does not show sentryd's cgroup"
                                        : "/proc/self/mountinfo cannot be read") < 0
                   ? -ENOMEM
                   : 1;
    return 0;
}

/* The auto base: <sentryd's cgroup>/<cgroup_tasks_dir_name(root)>. NULL and *why when there is
 * none. */
static int cgroup_auto_base(const char *root, char **ret, char **why)
{
    char self[PATH_MAX], dir[PATH_MAX], name[64];
    int r;

    *ret = NULL;
    r = cgroup_self_dir(self, dir, sizeof(self), why);
    if (r != 0)
        return r < 0 ? r : 0;
    /* Under systemd a service's cgroup belongs to systemd unless it was delegated. */
    if (!streq(self, "/") && access("/run/systemd/system", F_OK) == 0 && !cgroup_is_delegated(dir))
        return asprintf(why,
                        "sentryd's cgroup %s is not delegated to it (Delegate=yes in its unit, "
                        "or [tasks] cgroup = PATH)",
                        self) < 0
                   ? -ENOMEM
                   : 0;
    r = cgroup_tasks_dir_name(root, name, sizeof(name));
    if (r < 0 || asprintf(ret, "%s/%s", streq(dir, "/") ? "" : dir, name) < 0) {
        *ret = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* A path the operator gave must be a directory of sentry's own: never one that holds sentryd
 * itself (its tasks' cgroups are created, emptied and removed there, and what an earlier
 * sentryd left there is ended). */
static int cgroup_check_given(const char *base, char **why)
{
    char self[PATH_MAX], dir[PATH_MAX];
    _cleanup_free_ char *ignored = NULL;
    int r = cgroup_self_dir(self, dir, sizeof(self), &ignored);

    if (r < 0)
        return r;
    if (r == 0 && (streq(dir, base) || (startswith(dir, base) && dir[strlen(base)] == '/')))
        return asprintf(why,
                        "%s holds sentryd's own cgroup %s: [tasks] cgroup must name a directory "
                        "of its own",
                        base, self) < 0
                   ? -ENOMEM
                   : 1;
    return 0;
}

int task_cgroup_setup(const char *setting, const char *root, char **ret_base, char **ret_why,
                      bool *ret_created)
{
    _cleanup_free_ char *base = NULL, *procs = NULL;
    char parent[PATH_MAX];
    bool created = false;
    int r;

    *ret_base = NULL;
    *ret_why = NULL;
    *ret_created = false;
    if (streq(setting, "off"))
        return asprintf(ret_why, "cgroups are off ([tasks] cgroup = off)") < 0 ? -ENOMEM : 0;
    if (streq(setting, "auto")) {
        r = cgroup_auto_base(root, &base, ret_why);
        if (r < 0 || !base)
            return r;
    } else {
        base = strdup(setting);
        if (!base)
            return -ENOMEM;
        r = cgroup_check_given(base, ret_why);
        if (r != 0)
            return r < 0 ? r : 0;
    }

    /* Never a directory of another file system: that would hold no process. */
    if (strlen(base) >= sizeof(parent))
        return asprintf(ret_why, "%s: path too long", base) < 0 ? -ENOMEM : 0;
    strcpy(parent, base);
    char *slash = strrchr(parent, '/');
    if (slash == parent)
        slash[1] = 0;
    else if (slash)
        *slash = 0;
    if (access(parent, F_OK) < 0)
        return asprintf(ret_why, "%s cannot be created: %s: %s", base, parent, strerror(errno)) < 0
                   ? -ENOMEM
                   : 0;
    if (!is_cgroup2(parent))
        return asprintf(ret_why, "%s is not in a cgroup2 file system", base) < 0 ? -ENOMEM : 0;
    if (mkdir(base, 0755) == 0)
        created = true;
    else if (errno != EEXIST)
        return asprintf(ret_why, "cannot create %s: %s", base, strerror(errno)) < 0 ? -ENOMEM : 0;
    if (!is_cgroup2(base))
        return asprintf(ret_why, "%s is not a cgroup", base) < 0 ? -ENOMEM : 0;
    if (asprintf(&procs, "%s/cgroup.procs", base) < 0)
        return -ENOMEM;
    if (access(procs, W_OK) < 0) {
        r = errno;
        if (created)
            (void) rmdir(base);
        return asprintf(ret_why, "%s is not writable: %s", base, strerror(r)) < 0 ? -ENOMEM : 0;
    }
    *ret_base = TAKE_PTR(base);
    *ret_created = created;
    return 0;
}

int task_cgroup_sweep(const char *base)
{
    DIR *d = opendir(base);
    struct dirent *de;
    int busy = 0;

    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        _cleanup_free_ char *path = NULL;

        /* Only what can be a task's cgroup: never anything else someone put there. */
        if (de->d_type != DT_DIR || !task_name_is_valid(de->d_name))
            continue;
        if (asprintf(&path, "%s/%s", base, de->d_name) < 0) {
            closedir(d);
            return -ENOMEM;
        }
        if (task_cgroup_is_populated(path) > 0)
            busy++;
        (void) task_cgroup_destroy(path, 2 * USEC_PER_SEC);
    }
    closedir(d);
    return busy;
}

int task_cgroup_create(const char *base, const char *name, char **ret_path)
{
    _cleanup_free_ char *path = NULL;

    if (asprintf(&path, "%s/%s", base, name) < 0)
        return -ENOMEM;
    if (mkdir(path, 0755) < 0) {
        if (errno == ENOENT) {
            /* The base went away (an operator removed it): make it again. */
            if (mkdir(base, 0755) < 0 && errno != EEXIST)
                return -errno;
            if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        } else if (errno != EEXIST)
            return -errno;
    }
    *ret_path = TAKE_PTR(path);
    return 0;
}

static int cgroup_open_file(const char *path, const char *file, int flags)
{
    char p[PATH_MAX];
    int n = snprintf(p, sizeof(p), "%s/%s", path, file);

    if (n < 0 || (size_t) n >= sizeof(p))
        return -ENAMETOOLONG;
    int fd = open(p, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
}

int task_cgroup_open_procs(const char *path)
{
    return cgroup_open_file(path, "cgroup.procs", O_WRONLY);
}

int task_cgroup_is_populated(const char *path)
{
    _cleanup_close_ int fd = cgroup_open_file(path, "cgroup.events", O_RDONLY);
    char buf[512];
    ssize_t n;

    if (fd < 0)
        return fd;
    do
        n = read(fd, buf, sizeof(buf) - 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    buf[n] = 0;
    /* "populated 0|1\nfrozen 0|1\n" */
    for (char *l = buf; l && *l;) {
        const char *v = startswith(l, "populated ");
        if (v)
            return *v == '1' ? 1 : 0;
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return -EBADMSG;
}

int task_cgroup_signal(const char *path, int sig, pid_t skip)
{
    _cleanup_close_ int fd = cgroup_open_file(path, "cgroup.procs", O_RDONLY);
    char buf[4096];
    size_t have = 0;
    int count = 0;

    if (fd < 0)
        return fd;
    /* One pid per line; a number cut by the chunk's end is kept for the next read. */
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        size_t end = have + (size_t) n, start = 0;
        for (size_t i = 0; i < end; i++) {
            if (buf[i] != '\n')
                continue;
            buf[i] = 0;
            char *e;
            long pid = strtol(buf + start, &e, 10);
            if (e != buf + start && *e == 0 && pid > 0 && pid != skip) {
                if (kill((pid_t) pid, sig) == 0)
                    count++;
                else if (errno != ESRCH)
                    return -errno;
            }
            start = i + 1;
        }
        if (n == 0)
            break;
        have = end - start;
        if (have >= sizeof(buf))
            return -EBADMSG;
        memmove(buf, buf + start, have);
    }
    return count;
}

int task_cgroup_kill_each(const char *path)
{
    return task_cgroup_signal(path, SIGKILL, 0);
}

int task_cgroup_kill(const char *path)
{
    _cleanup_close_ int fd = cgroup_open_file(path, "cgroup.kill", O_WRONLY);
    ssize_t n;

    if (fd >= 0) {
        do
            n = write(fd, "1", 1);
        while (n < 0 && errno == EINTR);
        if (n == 1)
            return 1;
    }
    /* No cgroup.kill (Linux before 5.14), or it failed: one pid at a time. */
    int r = task_cgroup_kill_each(path);
    return r < 0 ? r : 0;
}

int task_cgroup_remove(const char *path)
{
    if (rmdir(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int task_cgroup_destroy(const char *path, usec_t timeout)
{
    usec_t deadline = now_usec(CLOCK_MONOTONIC) + timeout;
    int r = task_cgroup_is_populated(path);

    if (r == -ENOENT)
        return 0;
    while (r > 0) {
        r = task_cgroup_kill(path);
        if (r < 0)
            return r;
        if (now_usec(CLOCK_MONOTONIC) >= deadline)
            return -ETIMEDOUT;
        struct timespec ts = {0, 10 * 1000 * 1000};
        (void) nanosleep(&ts, NULL);
        r = task_cgroup_is_populated(path);
    }
    if (r < 0)
        return r;
    return task_cgroup_remove(path);
}
