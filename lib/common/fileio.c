/* fileio.c: see fileio.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int read_file_bounded(int dirfd, const char *path, int open_flags, size_t max, char **ret,
                      size_t *ret_len, struct stat *st)
{
    _cleanup_close_ int fd = -EBADF;
    _cleanup_free_ char *buf = NULL;
    struct stat sb;
    size_t len = 0;

    fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | open_flags);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &sb) < 0)
        return -errno;
    if (!S_ISREG(sb.st_mode))
        return S_ISDIR(sb.st_mode) ? -EISDIR : -EBADFD;
    if ((size_t) sb.st_size > max)
        return -EFBIG;
    buf = malloc((size_t) sb.st_size + 1);
    if (!buf)
        return -ENOMEM;
    /* The file may change size while we read: never read beyond what we allocated. */
    while (len < (size_t) sb.st_size) {
        ssize_t n = read(fd, buf + len, (size_t) sb.st_size - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        len += (size_t) n;
    }
    buf[len] = 0;
    if (st)
        *st = sb;
    if (ret_len)
        *ret_len = len;
    *ret = TAKE_PTR(buf);
    return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int read_exact(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EPIPE;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int fsync_directory_of(const char *path)
{
    _cleanup_free_ char *copy = strdup(path);
    _cleanup_close_ int fd = -EBADF;

    if (!copy)
        return -ENOMEM;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return fsync(fd) < 0 ? -errno : 0;
}

static int write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                              bool durable)
{
    char tmp[PATH_MAX];
    _cleanup_close_ int fd = -EBADF;
    int r;

    if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int) sizeof(tmp))
        return -ENAMETOOLONG;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    r = write_all(fd, data, len);
    if (r >= 0 && fchmod(fd, mode) < 0)
        r = -errno;
    if (r >= 0 && durable && fsync(fd) < 0)
        r = -errno;
    if (r >= 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return r;
    }
    return durable ? fsync_directory_of(path) : 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    return write_file_replace(path, data, len, mode, false);
}

int write_file_durable(const char *path, const void *data, size_t len, mode_t mode)
{
    return write_file_replace(path, data, len, mode, true);
}

int mkdir_parents(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, mode) < 0) {
                if (errno != EEXIST)
                    return -errno;
            } else if (chmod(buf, mode) < 0) /* the mode asked for, whatever the umask */
                return -errno;
            *p = c;
            if (c == 0)
                break;
        }
    }
    return 0;
}

int fd_set_nonblock(int fd, int nonblock)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -errno;
    int nflags = nonblock ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (nflags != flags && fcntl(fd, F_SETFL, nflags) < 0)
        return -errno;
    return 0;
}
