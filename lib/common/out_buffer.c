/* out_buffer.c: see out_buffer.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "out_buffer.h"

/* Allocation kept after a drain: a busy connection does not give its buffer back and grow it
 * again for every burst; only an exceptional one is released. */
#define OUT_BUFFER_KEEP (256 * 1024)

char *out_buffer_reserve(struct out_buffer *b, size_t n)
{
    if (b->start > 0 && b->start + b->len + n > b->alloc) {
        memmove(b->data, b->data + b->start, b->len);
        b->start = 0;
    }
    if (b->len + n > b->alloc) {
        size_t a = b->alloc ? b->alloc : 4096;
        while (a < b->len + n)
            a *= 2;
        char *d = realloc(b->data, a);
        if (!d)
            return NULL;
        b->data = d;
        b->alloc = a;
    }
    return b->data + b->start + b->len;
}

void out_buffer_commit(struct out_buffer *b, size_t n)
{
    b->len += n;
}

int out_buffer_append(struct out_buffer *b, const void *p, size_t n)
{
    char *d = out_buffer_reserve(b, n);
    if (!d)
        return -ENOMEM;
    memcpy(d, p, n);
    b->len += n;
    return 0;
}

int out_buffer_flush(struct out_buffer *b, int fd)
{
    while (b->len > 0) {
        ssize_t n = send(fd, b->data + b->start, b->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            return -errno;
        }
        b->start += (size_t) n;
        b->len -= (size_t) n;
    }
    b->start = 0;
    if (b->alloc > OUT_BUFFER_KEEP) {
        free(b->data);
        *b = (struct out_buffer){0};
    }
    return 0;
}

void out_buffer_done(struct out_buffer *b)
{
    free(b->data);
    *b = (struct out_buffer){0};
}
