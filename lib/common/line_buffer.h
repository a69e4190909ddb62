/* line_buffer.h: bounded reader of newline-delimited messages from a (non-blocking) stream fd.
 *
 * The buffer grows from a small start up to `max` bytes per line, so idle connections cost
 * little. A line longer than `max` is discarded up to its newline and reported once with
 * -EMSGSIZE, so the peer gets an error reply and the connection stays usable. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct line_buffer {
    char *data;
    size_t alloc;    /* bytes allocated */
    size_t start;    /* first unconsumed byte */
    size_t len;      /* bytes held from start */
    size_t scan;     /* bytes after start already known to hold no newline */
    size_t max;      /* longest accepted line, without its newline */
    size_t want;     /* free space to offer the next read */
    bool discarding; /* inside an over-long line: drop bytes up to the next newline */
};

void line_buffer_init(struct line_buffer *b, size_t max);
void line_buffer_done(struct line_buffer *b);
/* One read() into the free space. >0 bytes read, 0 at EOF, -EAGAIN, or -errno. */
ssize_t line_buffer_fill(struct line_buffer *b, int fd);
/* Appends bytes (for tests and non-fd sources). 0 or -ENOMEM. */
int line_buffer_append(struct line_buffer *b, const void *p, size_t n);
/* Next complete line: 1 and *line (NUL-terminated in place, without "\n" or "\r\n"; valid until
 * the next call that changes b), 0 when no complete line is held, -EMSGSIZE once per over-long
 * line. */
int line_buffer_next(struct line_buffer *b, char **line, size_t *len);
/* Bytes held that are not yet part of a complete line. */
static inline size_t line_buffer_pending(const struct line_buffer *b)
{
    return b->len;
}
