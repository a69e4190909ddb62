/* subscriber_stream.c: see subscriber_stream.h. */
#include <inttypes.h>

#include "log.h"
#include "subscriber_stream.h"
#include "xalarm_record.h"

struct subscriber_stream {
    struct bus_subscriber *sub;
    struct record_queue q;
    void (*on_ready)(void *owner);
    void *owner;
};

static void stream_write(void *owner, struct alarm_record *r)
{
    struct subscriber_stream *s = owner;

    if (record_queue_push(&s->q, r) < 0) {
        log_error("subscriber: out of memory, alarm %" PRIu64 " is not sent to it", r->a.seq);
        return;
    }
    if (s->on_ready)
        s->on_ready(s->owner);
}

static size_t stream_queued(void *owner)
{
    const struct subscriber_stream *s = owner;
    return record_queue_len(&s->q);
}

static size_t stream_queued_bytes(void *owner)
{
    return subscriber_stream_queued_bytes(owner);
}

static const struct bus_subscriber_ops stream_ops = {
    .write = stream_write,
    .queued = stream_queued,
    .queued_bytes = stream_queued_bytes,
};

struct subscriber_stream *subscriber_stream_new(const struct subscriber_stream_params *p,
                                                struct alarm_filter *filter)
{
    struct subscriber_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        alarm_filter_done(filter);
        return NULL;
    }
    record_queue_init(&s->q, p->form);
    s->on_ready = p->on_ready;
    s->owner = p->owner;
    s->sub = alarm_bus_subscribe(p->bus, p->kind, filter, p->since, p->queue_limit, &stream_ops, s);
    if (!s->sub) {
        alarm_filter_done(filter);
        free(s);
        return NULL;
    }
    return s;
}

struct subscriber_stream *subscriber_stream_free(struct subscriber_stream *s)
{
    if (!s)
        return NULL;
    alarm_bus_unsubscribe(s->sub);
    record_queue_done(&s->q);
    free(s);
    return NULL;
}

int subscriber_stream_flush(struct subscriber_stream *s, int fd)
{
    int r = record_queue_flush(&s->q, fd);
    if (r < 0)
        return r;
    bus_subscriber_drained(s->sub);
    return 0;
}

bool subscriber_stream_pending(const struct subscriber_stream *s)
{
    return record_queue_len(&s->q) > 0;
}

size_t subscriber_stream_queued(const struct subscriber_stream *s)
{
    return record_queue_len(&s->q);
}

size_t subscriber_stream_queued_bytes(const struct subscriber_stream *s)
{
    const struct record_queue *q = &s->q;
    size_t bytes = 0;

    for (size_t i = 0; i < q->n; i++) {
        struct alarm_record *r = q->ring[(q->head + i) % q->cap];
        size_t len = XALARM_RECORD_SIZE;
        if (q->form == RECORD_FORM_LINE && !alarm_record_line(r, &len))
            len = 0;
        bytes += len;
    }
    return bytes > q->off ? bytes - q->off : 0;
}

void subscriber_stream_set_filter(struct subscriber_stream *s, struct alarm_filter *filter)
{
    bus_subscriber_set_filter(s->sub, filter);
}

uint64_t subscriber_stream_cursor(const struct subscriber_stream *s)
{
    return bus_subscriber_cursor(s->sub);
}
