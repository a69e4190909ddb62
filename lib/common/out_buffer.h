/* out_buffer.h: bytes waiting to be written to a non-blocking socket. Appends copy; flush
 * writes what the socket takes. Memory of a burst is given back once drained. */
#pragma once

#include <stddef.h>

struct out_buffer {
    char *data;
    size_t start, len, alloc;
};

int out_buffer_append(struct out_buffer *b, const void *p, size_t n);
/* Room for n more bytes at the end; returns where to write them (commit with _commit). */
char *out_buffer_reserve(struct out_buffer *b, size_t n);
void out_buffer_commit(struct out_buffer *b, size_t n);
/* send() until empty or EAGAIN: 0, or -errno when the peer is gone. */
int out_buffer_flush(struct out_buffer *b, int fd);
void out_buffer_done(struct out_buffer *b);
