/* control_conn.h: what a long-lived stream (an alarm subscription) may do with the control
 * connection it lives on: append bytes, see how much waits, hear when the output drained and
 * when the connection is gone. */
#pragma once

#include <stddef.h>

#include "request.h"

struct conn;

struct conn_stream_ops {
    /* The output fell below the drain mark: the stream may append more. */
    void (*on_drain)(void *stream);
    /* The connection is closing: the stream must forget it. */
    void (*on_close)(void *stream);
};

/* Bytes queued below which on_drain is called. */
#define CONN_DRAIN_MARK (64 * 1024)

struct conn *request_conn(const struct request *r);
void conn_attach_stream(struct conn *c, void *stream, const struct conn_stream_ops *ops);
void conn_detach_stream(struct conn *c);
void *conn_get_stream(const struct conn *c);
/* Appends data as is (a stream line carries its own newline). */
void conn_send_raw(struct conn *c, const void *data, size_t len);
size_t conn_queued(const struct conn *c);
/* Enlarges the kernel's send buffer (kernel memory, not sentryd's) for a streaming client. */
void conn_grow_sndbuf(struct conn *c, int bytes);
