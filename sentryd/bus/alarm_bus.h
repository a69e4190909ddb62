/* alarm_bus.h: the alarm bus: where every alarm enters (native report, inject, xalarm socket),
 * gets its seq, is made durable, and leaves to every subscriber whose filter wants it.
 *
 * Order of events for one alarm, all on the main thread but the commit:
 *   publish: validate, seq = ++last_seq, active-set decision, queue for the store
 *   commit (writer thread): many alarms, one transaction
 *   committed: answer the reporter (ack), count, fan out to subscribers in seq order
 * A subscriber is live (each committed alarm is appended to its output) or catching up (its
 * output was full, or it asked for `since`): it then reads from the store, after its cursor and
 * up to what the main thread has handed out, and turns live again when it reaches that point.
 * So a slow subscriber never blocks anyone and never loses or repeats an alarm. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "alarm.h"
#include "alarm_filter.h"
#include "alarm_log.h"

struct alarm_bus;
struct control_server;
struct pending_reply;
struct alarm_stats;

struct alarm_bus_params {
    sd_event *event;
    const char *db_path;
    bool sync_full;
    uint64_t retention_count;
    uint64_t retention_age_s;
    const char *node;
    enum alarm_log_mode log_mode;
    const char *log_file;
    unsigned max_inflight; /* alarms accepted but not committed before producers are paused */
    /* Called when producers must pause (true) or may resume (false). */
    void (*on_backpressure)(bool paused, void *userdata);
    /* Called after committed alarms were handed out (for the metrics file). */
    void (*on_change)(void *userdata);
    void *userdata;
    /* At most rate_limit_burst alarms per rate_limit_interval_us from one reporter (uid and
     * source) other than root; 0 (either): no limit. See alarm_rate_limit.h. */
    unsigned rate_limit_burst;
    uint64_t rate_limit_interval_us;
};

int alarm_bus_new(const struct alarm_bus_params *p, struct alarm_bus **ret);
/* Waits until every published alarm is committed, answered and handed out; history scans under
 * way are cancelled (shutdown). */
void alarm_bus_sync(struct alarm_bus *b);
/* Commits what is queued, answers it, then frees everything. */
struct alarm_bus *alarm_bus_free(struct alarm_bus *b);

/* Puts an alarm on the bus. a->source, key, text, level, type, id, origin, uid, pid and time_us
 * (0 = now) are the caller's; seq, recv time and node are set here. ack (may be NULL) is
 * answered with pending_reply_stored() once committed, or with an error (also when the
 * reporter's rate limit refuses it: EAGAIN). An error answer means "not stored". With a->idem
 * (an idempotency key) set, a report whose source and key are stored already, or on their way,
 * is not stored again: ack gets the first one's seq with "duplicate":true. Returns the seq, 0
 * when refused. */
uint64_t alarm_bus_publish(struct alarm_bus *b, struct alarm *a, struct pending_reply *ack);
/* The highest seq handed out to subscribers (committed). */
uint64_t alarm_bus_head(const struct alarm_bus *b);
struct alarm_store *alarm_bus_store(struct alarm_bus *b);
struct alarm_stats *alarm_bus_stats(struct alarm_bus *b);
/* Alarms the rate limit refused since the start. */
uint64_t alarm_bus_suppressed(const struct alarm_bus *b);

/* ---- subscribers ---------------------------------------------------------------------------- */

struct bus_subscriber;

struct bus_subscriber_ops {
    /* Appends the record's bytes to the subscriber's output. */
    void (*write)(void *owner, struct alarm_record *r);
    /* Alarms waiting in the subscriber's output. */
    size_t (*queued)(void *owner);
    /* Bytes waiting in the subscriber's output (may be NULL: not known, counted as 0). */
    size_t (*queued_bytes)(void *owner);
    /* Seqs first..last could not be read from the store (a damaged page) and are skipped: the
     * subscriber should be told (may be NULL: it cannot be, as xalarm clients). */
    void (*unreadable)(void *owner, uint64_t first, uint64_t last);
};

enum bus_subscriber_kind {
    SUBSCRIBER_NATIVE,
    SUBSCRIBER_XALARM,
};

/* Adds a subscriber that receives the alarms after seq `since` (UINT64_MAX: only new ones).
 * Takes the filter. queue_limit: alarms waiting in its output beyond which it is served from
 * the store instead. */
struct bus_subscriber *alarm_bus_subscribe(struct alarm_bus *b, enum bus_subscriber_kind kind,
                                           struct alarm_filter *filter, uint64_t since,
                                           size_t queue_limit, const struct bus_subscriber_ops *ops,
                                           void *owner);
void alarm_bus_unsubscribe(struct bus_subscriber *s);
/* The subscriber's output drained: it may catch up further. */
void bus_subscriber_drained(struct bus_subscriber *s);
/* Replaces the filter (xalarm update_filter). Takes the filter. */
void bus_subscriber_set_filter(struct bus_subscriber *s, struct alarm_filter *filter);
uint64_t bus_subscriber_cursor(const struct bus_subscriber *s);
bool bus_subscriber_catching_up(const struct bus_subscriber *s);

/* ---- active alarms -------------------------------------------------------------------------- */

/* Calls fn for every active alarm (OCCUR without a later RECOVER for the same id, source and
 * key), oldest first. */
void alarm_bus_foreach_active(struct alarm_bus *b, void (*fn)(struct alarm_record *r, void *ud),
                              void *userdata);

struct bus_gauges {
    unsigned subscribers[2]; /* by enum bus_subscriber_kind */
    unsigned catching_up;
    size_t queued_total, queued_max; /* bytes waiting for subscribers: all, the most for one */
    unsigned active;
    unsigned inflight;
};
void alarm_bus_gauges(struct alarm_bus *b, struct bus_gauges *g);

/* Every subscriber of a kind, for shutdown notices (xalarm 1128). */
void alarm_bus_foreach_subscriber(struct alarm_bus *b, enum bus_subscriber_kind kind,
                                  void (*fn)(void *owner, void *userdata), void *userdata);
