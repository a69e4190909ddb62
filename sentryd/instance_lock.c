/* instance_lock.c: see instance_lock.h. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>

#include "fileio.h"
#include "instance_lock.h"
#include "macro.h"

int instance_lock_acquire(const char *path, int *ret_fd, pid_t *holder)
{
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    char buf[32];

    *holder = 0;
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK)
            return -errno;
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = 0;
            *holder = (pid_t) strtol(buf, NULL, 10);
        }
        return -EEXIST;
    }
    int n = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
        return -errno;
    *ret_fd = TAKE_FD(fd);
    return 0;
}
