/* virtual_file.c: see virtual_file.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "parse_number.h"
#include "virtual_file.h"

int read_virtual_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = -EBADF;
    _cleanup_free_ char *buf = NULL;
    size_t len = 0, alloc = 0;
    struct stat st;

    assert_return(path && ret && max > 0, -EINVAL);

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;

    for (;;) {
        ssize_t k;

        if (len + 1 >= alloc) {
            if (alloc > max) {
                /* Holding max bytes already: only an immediate end of file is acceptable. */
                char c;
                do
                    k = read(fd, &c, 1);
                while (k < 0 && errno == EINTR);
                if (k < 0)
                    return -errno;
                if (k == 0)
                    break;
                return -EFBIG;
            }
            size_t n = MIN(alloc ? alloc * 2 : (size_t) 4096, max + 1);
            char *p = realloc(buf, n);
            if (!p)
                return -ENOMEM;
            buf = p;
            alloc = n;
        }
        k = read(fd, buf + len, alloc - 1 - len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            break;
        len += (size_t) k;
    }
    if (!buf) {
        buf = malloc(1);
        if (!buf)
            return -ENOMEM;
    }
    buf[len] = 0;
    if (ret_len)
        *ret_len = len;
    *ret = TAKE_PTR(buf);
    return 0;
}

int read_virtual_line(const char *path, char *buf, size_t size)
{
    _cleanup_free_ char *s = NULL;
    size_t n;
    int r;

    assert_return(buf && size > 0, -EINVAL);
    r = read_virtual_file(path, 64 * 1024, &s, NULL);
    if (r < 0)
        return r;
    n = strcspn(s, "\n");
    if (n >= size)
        return -ENOBUFS;
    memcpy(buf, s, n);
    buf[n] = 0;
    return 0;
}

int read_virtual_uint64(const char *path, uint64_t *ret)
{
    char line[64], *p, *e;

    int r = read_virtual_line(path, line, sizeof(line));
    if (r < 0)
        return r;
    p = line;
    while (isspace((unsigned char) *p))
        p++;
    e = p + strlen(p);
    while (e > p && isspace((unsigned char) e[-1]))
        *--e = 0;
    return parse_uint_digits(p, ret);
}

int write_virtual_file(const char *path, const char *s)
{
    _cleanup_close_ int fd = -EBADF;
    size_t n = strlen(s);
    ssize_t k;

    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return -errno;
    do
        k = write(fd, s, n);
    while (k < 0 && errno == EINTR);
    if (k < 0)
        return -errno;
    return (size_t) k == n ? 0 : -EIO;
}
