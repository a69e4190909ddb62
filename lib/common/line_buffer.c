/* line_buffer.c: see line_buffer.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line_buffer.h"
#include "macro.h"

#define LINE_BUFFER_INITIAL 4096
#define LINE_BUFFER_READ    65536

void line_buffer_init(struct line_buffer *b, size_t max)
{
    *b = (struct line_buffer){.max = max};
}

void line_buffer_done(struct line_buffer *b)
{
    free(b->data);
    *b = (struct line_buffer){.max = b->max};
}

/* Makes room for at least `want` more bytes after the held ones. */
static int line_buffer_reserve(struct line_buffer *b, size_t want)
{
    if (b->start > 0 && (b->len == 0 || b->start + b->len + want > b->alloc)) {
        memmove(b->data, b->data + b->start, b->len);
        b->start = 0;
    }
    if (b->len + want <= b->alloc)
        return 0;
    size_t need = b->len + want, n = b->alloc ? b->alloc : LINE_BUFFER_INITIAL;
    while (n < need)
        n *= 2;
    char *d = realloc(b->data, n);
    if (!d)
        return -ENOMEM;
    b->data = d;
    b->alloc = n;
    return 0;
}

ssize_t line_buffer_fill(struct line_buffer *b, int fd)
{
    /* Reads grow from 4 KiB towards 64 KiB while the peer keeps them full. */
    if (b->want < LINE_BUFFER_INITIAL)
        b->want = LINE_BUFFER_INITIAL;
    int r = line_buffer_reserve(b, b->want);
    if (r < 0)
        return r;
    size_t room = b->alloc - b->start - b->len;
    ssize_t n = read(fd, b->data + b->start + b->len, room);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    b->len += (size_t) n;
    if ((size_t) n == room && b->want < LINE_BUFFER_READ)
        b->want *= 2;
    return n;
}

int line_buffer_append(struct line_buffer *b, const void *p, size_t n)
{
    int r = line_buffer_reserve(b, n);
    if (r < 0)
        return r;
    memcpy(b->data + b->start + b->len, p, n);
    b->len += n;
    return 0;
}

int line_buffer_next(struct line_buffer *b, char **line, size_t *len)
{
    for (;;) {
        char *base = b->data + b->start;
        char *nl = b->len > b->scan ? memchr(base + b->scan, '\n', b->len - b->scan) : NULL;

        if (!nl) {
            b->scan = b->len;
            if (!b->discarding && b->len > b->max) {
                /* Over-long line without a newline yet: drop what we hold, report once. */
                b->discarding = true;
                b->start = b->len = b->scan = 0;
                return -EMSGSIZE;
            }
            if (b->discarding)
                b->start = b->len = b->scan = 0;
            return 0;
        }

        size_t n = (size_t) (nl - base);
        b->start += n + 1;
        b->len -= n + 1;
        b->scan = 0;
        if (b->discarding) {
            b->discarding = false;
            continue;
        }
        if (n > 0 && base[n - 1] == '\r')
            n--;
        if (n > b->max)
            return -EMSGSIZE;
        base[n] = 0;
        *line = base;
        *len = n;
        return 1;
    }
}
