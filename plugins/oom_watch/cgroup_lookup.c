/* cgroup_lookup.c: the file reads every watcher needs: a bounded read of a small kernel file,
 * and where a cgroup directory sits (see oom_watch.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_mount.h"
#include "fileio.h"
#include "oom_watch.h"

/* /proc/self/mounts of a container host can be long; more than this is not a sane system. */
#define MOUNTS_MAX (1024 * 1024)

int oom_watch_read(const char *path, char *buf, size_t size, size_t *len)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    size_t have = 0;

    if (fd < 0)
        return -errno;
    /* kernel files report size 0: read until EOF, refuse what does not fit */
    for (;;) {
        ssize_t n = read(fd, buf + have, size - 1 - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        have += (size_t) n;
        if (have == size - 1)
            return -EFBIG;
    }
    buf[have] = '\0';
    *len = have;
    return 0;
}

int oom_watch_cgroup_where(const char *dir, struct cgroup_where *ret)
{
    _cleanup_free_ char *text = malloc(MOUNTS_MAX);
    size_t len;
    int r;

    if (!text)
        return -ENOMEM;
    r = oom_watch_read("/proc/self/mounts", text, MOUNTS_MAX, &len);
    if (r < 0)
        return r;
    return cgroup_where_find(text, len, dir, ret);
}
