/* subscriber_stream.h: one subscriber of the bus that streams to one socket: the bus subscription
 * (filter, cursor, catching up from the store) and the queue of shared records it has yet to
 * send (record_queue.h), in the socket's form (native stream lines or xalarm records). One
 * implementation for native subscriptions and xalarm clients.
 *
 * The owner (a connection) is told when records wait (on_ready: schedule a flush), flushes with
 * subscriber_stream_flush() when its socket may take them, and frees the stream when it goes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarm_bus.h"
#include "record_queue.h"

struct subscriber_stream;

struct subscriber_stream_params {
    struct alarm_bus *bus;
    enum bus_subscriber_kind kind;
    enum record_form form;
    uint64_t since;     /* UINT64_MAX: only new alarms */
    size_t queue_limit; /* records waiting before it is served from the store */
    void (*on_ready)(void *owner);
    void *owner;
};

/* Takes the filter. NULL on ENOMEM (the filter is freed then too). */
struct subscriber_stream *subscriber_stream_new(const struct subscriber_stream_params *p,
                                                struct alarm_filter *filter);
struct subscriber_stream *subscriber_stream_free(struct subscriber_stream *s);
/* Sends what fd takes; then, if the queue ran low, lets a catching-up subscription read on from
 * the store. 0, or -errno when the peer is gone. */
int subscriber_stream_flush(struct subscriber_stream *s, int fd);
bool subscriber_stream_pending(const struct subscriber_stream *s);
/* Bytes waiting to be sent. */
size_t subscriber_stream_queued_bytes(const struct subscriber_stream *s);
/* Replaces the filter (takes it). */
void subscriber_stream_set_filter(struct subscriber_stream *s, struct alarm_filter *filter);
uint64_t subscriber_stream_cursor(const struct subscriber_stream *s);
/* Records waiting (for tests and shutdown). */
size_t subscriber_stream_queued(const struct subscriber_stream *s);
