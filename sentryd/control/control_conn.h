/* control_conn.h: what a long-lived stream (an alarm subscription) may do with the control
 * connection it lives on: append bytes, see how much waits, hear when the output drained and
 * when the connection is gone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

struct conn;

struct conn_stream_ops {
    /* Writes what the socket takes of the stream (after the connection's answers). 0, or -errno
     * when the peer is gone. */
    int (*flush)(void *stream, int fd);
    /* Whether the stream has bytes waiting. */
    bool (*pending)(void *stream);
    /* The connection wrote what it could: the stream may queue more (catching up). */
    void (*on_drain)(void *stream);
    /* The connection is closing: the stream must forget it. */
    void (*on_close)(void *stream);
};

struct conn *request_conn(const struct request *r);
void conn_attach_stream(struct conn *c, void *stream, const struct conn_stream_ops *ops);
void conn_detach_stream(struct conn *c);
void *conn_get_stream(const struct conn *c);
/* Appends data as is (a stream line carries its own newline). */
void conn_send_raw(struct conn *c, const void *data, size_t len);
/* The stream has new bytes: write them at the end of this loop iteration. */
void conn_stream_ready(struct conn *c);
size_t conn_queued(const struct conn *c);
/* Enlarges the kernel's send buffer (kernel memory, not sentryd's) for a streaming client. */
void conn_grow_sndbuf(struct conn *c, int bytes);
