/* alarm_bus.c: see alarm_bus.h. */
#include <inttypes.h>
#include <stdio.h>

#include <json-c/linkhash.h>

#include "alarm_bus.h"
#include "alarm_stats.h"
#include "alarm_store.h"
#include "control_server.h"
#include "log.h"
#include "time_util.h"

#define CATCHUP_CHUNK 256 /* rows read from the store per step */
#define CATCHUP_STEPS 8   /* steps per wake-up, so one subscriber cannot hog the loop */

struct bus_subscriber {
    struct alarm_bus *bus;
    enum bus_subscriber_kind kind;
    struct alarm_filter filter;
    uint64_t cursor; /* every alarm <= cursor was written or skipped */
    bool catching_up;
    size_t queue_limit;
    const struct bus_subscriber_ops *ops;
    void *owner;
    sd_event_source *defer; /* a catch-up step scheduled */
    struct bus_subscriber *prev, *next;
};

struct alarm_bus {
    sd_event *event;
    char *node;
    struct alarm_store *store;
    struct alarm_log *log;
    uint64_t last_seq; /* last assigned */
    uint64_t head;     /* last handed out (committed and fanned out) */
    unsigned max_inflight;
    bool paused;
    void (*on_backpressure)(bool paused, void *userdata);
    void (*on_change)(void *userdata);
    void *userdata;
    struct bus_subscriber *subs;
    struct lh_table *active; /* "id\x1fsource\x1fkey" -> struct alarm_record* (ref) */
    struct alarm_stats stats;
};

static void bus_subscriber_step(struct bus_subscriber *s);

/* ---- active set -------------------------------------------------------------------------------
 */

static char *active_key(const struct alarm *a)
{
    char *k;
    if (asprintf(&k, "%u\x1f%s\x1f%s", a->id, a->source, a->key) < 0)
        return NULL;
    return k;
}

static void active_entry_free(struct lh_entry *e)
{
    free(lh_entry_k(e));
    alarm_record_unref(lh_entry_v(e));
}

/* Decides what the alarm does to the active set and applies it in memory. */
static void bus_active_update(struct alarm_bus *b, struct alarm_record *r)
{
    _cleanup_free_ char *k = active_key(&r->a);
    void *v;

    if (!k)
        return;
    bool present = lh_table_lookup_ex(b->active, k, &v);
    if (r->a.type == SENTRY_ALARM_OCCUR && !present) {
        r->active_change = ACTIVE_SET;
        if (lh_table_insert(b->active, k, alarm_record_ref(r)) == 0)
            k = NULL;
        else
            alarm_record_unref(r);
    } else if (r->a.type == SENTRY_ALARM_RECOVER && present) {
        r->active_change = ACTIVE_CLEAR;
        lh_table_delete(b->active, k);
    }
}

static int bus_load_active(struct alarm_record *r, void *userdata)
{
    struct alarm_bus *b = userdata;
    char *k = active_key(&r->a);
    if (k && lh_table_insert(b->active, k, alarm_record_ref(r)) != 0) {
        free(k);
        alarm_record_unref(r);
    }
    return 0;
}

struct active_item {
    struct alarm_record *r;
};

static int active_item_cmp(const void *x, const void *y)
{
    const struct active_item *a = x, *b = y;
    return a->r->a.seq < b->r->a.seq ? -1 : a->r->a.seq > b->r->a.seq;
}

void alarm_bus_foreach_active(struct alarm_bus *b, void (*fn)(struct alarm_record *r, void *ud),
                              void *userdata)
{
    size_t n = (size_t) lh_table_length(b->active), i = 0;
    _cleanup_free_ struct active_item *items = calloc(n ? n : 1, sizeof(*items));
    struct lh_entry *e;

    if (!items)
        return;
    lh_foreach(b->active, e)
    {
        if (i < n)
            items[i++].r = (struct alarm_record *) lh_entry_v(e);
    }
    qsort(items, i, sizeof(*items), active_item_cmp);
    for (size_t k = 0; k < i; k++)
        fn(items[k].r, userdata);
}

/* ---- publishing and committing ------------------------------------------------------------------
 */

static void bus_check_backpressure(struct alarm_bus *b)
{
    unsigned inflight = alarm_store_inflight(b->store);
    bool pause = b->paused ? inflight > b->max_inflight / 2 : inflight >= b->max_inflight;
    if (pause == b->paused)
        return;
    b->paused = pause;
    log_debug("alarm store %s producers (%u alarms in flight)", pause ? "pauses" : "resumes",
              inflight);
    if (b->on_backpressure)
        b->on_backpressure(pause, b->userdata);
}

uint64_t alarm_bus_publish(struct alarm_bus *b, struct alarm *a, struct pending_reply *ack)
{
    struct alarm_record *r;

    a->seq = ++b->last_seq;
    a->recv_us = now_usec(CLOCK_REALTIME);
    if (a->time_us == 0)
        a->time_us = a->recv_us;
    a->node = b->node;
    r = alarm_record_new(a);
    if (!r) {
        if (ack)
            pending_reply_error(ack, ENOMEM, "out of memory");
        return 0;
    }
    r->ack = ack;
    b->stats.reported[a->origin]++;
    bus_active_update(b, r);
    alarm_store_submit(b->store, r);
    alarm_record_unref(r);
    bus_check_backpressure(b);
    return a->seq;
}

static void bus_deliver(struct alarm_bus *b, struct bus_subscriber *s, struct alarm_record *r,
                        bool from_store)
{
    s->ops->write(s->owner, r);
    s->cursor = r->a.seq;
    b->stats.delivered[s->kind]++;
    if (from_store)
        b->stats.caught_up[s->kind]++;
}

static void bus_subscriber_schedule(struct bus_subscriber *s)
{
    if (s->defer)
        sd_event_source_set_enabled(s->defer, SD_EVENT_ONESHOT);
}

static void bus_fall_behind(struct alarm_bus *b, struct bus_subscriber *s)
{
    s->catching_up = true;
    b->stats.fell_behind[s->kind]++;
}

/* Committed (or failed) alarms come back from the store in seq order. */
static void bus_on_committed(struct alarm_record *r, int error, void *userdata)
{
    struct alarm_bus *b = userdata;
    char res[64];

    if (error < 0) {
        b->stats.commit_failed++;
        if (r->ack)
            pending_reply_error(r->ack, error, "the alarm could not be stored");
        r->ack = NULL;
        /* An OCCUR that made a key active but was not stored must not stay active. */
        if (r->active_change == ACTIVE_SET) {
            _cleanup_free_ char *k = active_key(&r->a);
            void *v;
            if (k && lh_table_lookup_ex(b->active, k, &v) && v == r)
                lh_table_delete(b->active, k);
        }
        b->head = r->a.seq;
        bus_check_backpressure(b);
        return;
    }
    b->head = r->a.seq;
    alarm_stats_count(&b->stats, &r->a);
    if (r->ack) {
        snprintf(res, sizeof(res), "{\"seq\":%" PRIu64 "}", r->a.seq);
        pending_reply_ok_raw(r->ack, res);
        r->ack = NULL;
    }
    for (struct bus_subscriber *s = b->subs; s; s = s->next) {
        if (s->catching_up)
            continue;
        if (!alarm_filter_match(&s->filter, &r->a)) {
            s->cursor = r->a.seq;
            continue;
        }
        if (s->ops->queued(s->owner) >= s->queue_limit) {
            /* It cannot take more now: it will read this one back from the store. */
            bus_fall_behind(b, s);
            continue;
        }
        bus_deliver(b, s, r, false);
    }
    bus_check_backpressure(b);
    if (b->on_change)
        b->on_change(b->userdata);
}

static void bus_on_batch(struct alarm_record *const *recs, size_t n, void *userdata)
{
    struct alarm_bus *b = userdata;
    if (b->log)
        alarm_log_batch(b->log, recs, n);
}

/* ---- catching up --------------------------------------------------------------------------------
 */

static int catchup_row(struct alarm_record *r, void *userdata)
{
    struct bus_subscriber *s = userdata;
    if (alarm_filter_match(&s->filter, &r->a))
        bus_deliver(s->bus, s, r, true);
    else
        s->cursor = r->a.seq;
    /* Stop once two chunks wait; the rest comes at the next drain. */
    return s->ops->queued(s->owner) >= 2 * CATCHUP_CHUNK ? -1 : 0;
}

/* Reads from the store after the cursor, up to the head, while the output has room. */
static void bus_subscriber_step(struct bus_subscriber *s)
{
    struct alarm_bus *b = s->bus;

    for (int step = 0; step < CATCHUP_STEPS && s->catching_up; step++) {
        /* A chunk at a time: catching up holds records of its own, not shared ones. */
        if (s->ops->queued(s->owner) >= CATCHUP_CHUNK)
            return; /* wait for the drain */
        if (s->cursor >= b->head) {
            s->catching_up = false; /* nothing left in between: live again */
            return;
        }
        uint64_t before = s->cursor;
        int n = alarm_store_read_after(b->store, s->cursor, b->head, CATCHUP_CHUNK, catchup_row, s);
        if (n < 0) {
            log_warning_errno(n, "catching up a subscriber from the store failed: %m");
            return;
        }
        if (n < CATCHUP_CHUNK && s->cursor == before) {
            /* Rows missing up to the head (retention, or alarms that failed to commit). */
            s->cursor = b->head;
        } else if (n < CATCHUP_CHUNK && s->ops->queued(s->owner) < 2 * CATCHUP_CHUNK)
            s->cursor = b->head; /* read everything up to the head */
    }
    if (s->catching_up)
        bus_subscriber_schedule(s);
}

static int on_catchup_defer(sd_event_source *src, void *userdata)
{
    bus_subscriber_step(userdata);
    return 0;
}

void bus_subscriber_drained(struct bus_subscriber *s)
{
    if (s->catching_up)
        bus_subscriber_step(s);
}

struct bus_subscriber *alarm_bus_subscribe(struct alarm_bus *b, enum bus_subscriber_kind kind,
                                           struct alarm_filter *filter, uint64_t since,
                                           size_t queue_limit, const struct bus_subscriber_ops *ops,
                                           void *owner)
{
    struct bus_subscriber *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->bus = b;
    s->kind = kind;
    s->filter = *filter;
    *filter = (struct alarm_filter){0};
    s->queue_limit = queue_limit;
    s->ops = ops;
    s->owner = owner;
    s->cursor = since == UINT64_MAX || since > b->head ? b->head : since;
    s->catching_up = s->cursor < b->head;
    if (sd_event_add_defer(b->event, &s->defer, on_catchup_defer, s) < 0) {
        alarm_filter_done(&s->filter);
        free(s);
        return NULL;
    }
    sd_event_source_set_enabled(s->defer, s->catching_up ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
    s->next = b->subs;
    if (b->subs)
        b->subs->prev = s;
    b->subs = s;
    return s;
}

void alarm_bus_unsubscribe(struct bus_subscriber *s)
{
    struct alarm_bus *b;

    if (!s)
        return;
    b = s->bus;
    if (s->prev)
        s->prev->next = s->next;
    else
        b->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    sd_event_source_disable_unref(s->defer);
    alarm_filter_done(&s->filter);
    free(s);
}

void bus_subscriber_set_filter(struct bus_subscriber *s, struct alarm_filter *filter)
{
    alarm_filter_done(&s->filter);
    s->filter = *filter;
    *filter = (struct alarm_filter){0};
}

uint64_t bus_subscriber_cursor(const struct bus_subscriber *s)
{
    return s->cursor;
}

bool bus_subscriber_catching_up(const struct bus_subscriber *s)
{
    return s->catching_up;
}

void alarm_bus_foreach_subscriber(struct alarm_bus *b, enum bus_subscriber_kind kind,
                                  void (*fn)(void *owner, void *userdata), void *userdata)
{
    for (struct bus_subscriber *s = b->subs, *n; s; s = n) {
        n = s->next;
        if (s->kind == kind)
            fn(s->owner, userdata);
    }
}

void alarm_bus_gauges(struct alarm_bus *b, struct bus_gauges *g)
{
    *g = (struct bus_gauges){0};
    for (struct bus_subscriber *s = b->subs; s; s = s->next) {
        size_t q = s->ops->queued(s->owner);
        g->subscribers[s->kind]++;
        g->catching_up += s->catching_up;
        g->queued_total += q;
        g->queued_max = MAX(g->queued_max, q);
    }
    g->active = (unsigned) lh_table_length(b->active);
    g->inflight = alarm_store_inflight(b->store);
}

uint64_t alarm_bus_head(const struct alarm_bus *b)
{
    return b->head;
}

struct alarm_store *alarm_bus_store(struct alarm_bus *b)
{
    return b->store;
}

struct alarm_stats *alarm_bus_stats(struct alarm_bus *b)
{
    return &b->stats;
}

/* ---- life -------------------------------------------------------------------------------------
 */

int alarm_bus_new(const struct alarm_bus_params *p, struct alarm_bus **ret)
{
    struct alarm_bus *b = calloc(1, sizeof(*b));
    int r;

    if (!b)
        return -ENOMEM;
    b->event = p->event;
    b->node = strdup(p->node);
    b->max_inflight = p->max_inflight ? p->max_inflight : 65536;
    b->on_backpressure = p->on_backpressure;
    b->on_change = p->on_change;
    b->userdata = p->userdata;
    b->active = lh_kchar_table_new(64, active_entry_free);
    if (!b->node || !b->active) {
        alarm_bus_free(b);
        return -ENOMEM;
    }
    r = alarm_log_open(p->log_mode, p->log_file, &b->log);
    if (r < 0) {
        alarm_bus_free(b);
        return r;
    }
    struct alarm_store_params sp = {
        .event = p->event,
        .path = p->db_path,
        .sync_full = p->sync_full,
        .retention_count = p->retention_count,
        .retention_age_s = p->retention_age_s,
        .on_committed = bus_on_committed,
        .on_batch = bus_on_batch,
        .userdata = b,
    };
    r = alarm_store_open(&sp, &b->store);
    if (r < 0) {
        alarm_bus_free(b);
        return r;
    }
    b->last_seq = b->head = alarm_store_last_seq(b->store);
    alarm_store_read_active(b->store, bus_load_active, b);
    *ret = b;
    return 0;
}

void alarm_bus_sync(struct alarm_bus *b)
{
    if (b && b->store)
        alarm_store_sync(b->store);
}

struct alarm_bus *alarm_bus_free(struct alarm_bus *b)
{
    if (!b)
        return NULL;
    /* Closing the store delivers the last commits; subscribers may still be served. */
    b->store = alarm_store_close(b->store);
    while (b->subs)
        alarm_bus_unsubscribe(b->subs);
    if (b->active)
        lh_table_free(b->active);
    alarm_log_close(b->log);
    free(b->node);
    free(b);
    return NULL;
}
