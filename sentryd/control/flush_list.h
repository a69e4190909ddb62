/* flush_list.h: connections with output to write at the end of this loop iteration, one
 * implementation for the control socket and the xalarm alarm socket. Whatever a connection gets
 * during one iteration (answers, a burst of alarms) goes out in one send per connection from a
 * post source, which runs after any other source was dispatched (it stays enabled and costs no
 * wake-up of its own); EPOLLOUT is asked for only when a socket is full.
 *
 * An entry is embedded in its connection; the owner removes it before freeing the connection.
 * The flush callback may close (and remove) the connection it is called for. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

struct flush_entry;
typedef void (*flush_fn)(struct flush_entry *e);

struct flush_entry {
    struct flush_entry *prev, *next;
    bool queued;
    flush_fn flush;
};

struct flush_list {
    struct flush_entry *head;
    sd_event_source *post;
};

int flush_list_init(struct flush_list *l, sd_event *event);
void flush_list_done(struct flush_list *l);
/* The connection has something to write: flush it at the end of this iteration. */
void flush_list_add(struct flush_list *l, struct flush_entry *e);
void flush_list_remove(struct flush_list *l, struct flush_entry *e);
/* Flushes every queued entry now (also called at shutdown). */
void flush_list_run(struct flush_list *l);

static inline bool flush_entry_queued(const struct flush_entry *e)
{
    return e->queued;
}
