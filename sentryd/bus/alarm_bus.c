/* alarm_bus.c: see alarm_bus.h. */
#include <inttypes.h>
#include <stdio.h>

#include <json-c/linkhash.h>

#include "alarm_bus.h"
#include "alarm_idem.h"
#include "alarm_rate_limit.h"
#include "alarm_scan.h"
#include "alarm_stats.h"
#include "alarm_store.h"
#include "log.h"
#include "own_alarms.h"
#include "request.h"
#include "time_util.h"

#define CATCHUP_CHUNK 256 /* rows read from the store per step, one step per wake-up */
#define EARLY_MAX     16  /* urgent alarms sent to one xalarm client ahead of their commit */

struct bus_subscriber {
    struct alarm_bus *bus;
    enum bus_subscriber_kind kind;
    struct alarm_filter filter;
    uint64_t cursor; /* every alarm <= cursor was written or skipped */
    bool catching_up;
    size_t queue_limit;
    const struct bus_subscriber_ops *ops;
    void *owner;
    sd_event_source *defer;    /* a catch-up step scheduled */
    uint64_t early[EARLY_MAX]; /* seqs sent before their commit (bus_send_early), oldest first */
    unsigned early_head, early_n;
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
    struct alarm_rate_limit *limiter; /* per reporter (uid, source); NULL: none */
    sd_event_source *limit_timer;     /* stores the summaries of suppressed alarms */
    struct alarm_idem *idem;          /* reports with an idempotency key on their way */
    bool told_unreadable;             /* raised the store's "unreadable" alarm this run */
};

static void bus_subscriber_step(struct bus_subscriber *s);
static uint64_t bus_publish_alarm(struct alarm_bus *b, struct alarm *a, struct pending_reply *ack);

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

/* ---- rate limit ------------------------------------------------------------------------------
 */

/* The alarms a reporter's window suppressed become one record: the id, level, type and key of
 * the last one, and a text that says how many. */
static void bus_store_suppressed(const struct alarm_suppressed *s, void *userdata)
{
    struct alarm_bus *b = userdata;
    char text[ALARM_SUPPRESSED_TEXT_MAX];
    size_t len = alarm_suppressed_text(s, text, sizeof(text));
    struct alarm a = {
        .id = s->id,
        .level = s->level,
        .type = s->type,
        .origin = s->origin,
        .uid = s->uid,
        .source = s->source,
        .key = s->key,
        .text = text,
        .text_len = len,
    };

    log_notice("%" PRIu64 " alarms from %s (uid %u) suppressed by the rate limit", s->count,
               s->source, (unsigned) s->uid);
    bus_publish_alarm(b, &a, NULL);
}

static void bus_limit_schedule(struct alarm_bus *b, uint64_t when)
{
    if (when == 0)
        (void) sd_event_source_set_enabled(b->limit_timer, SD_EVENT_OFF);
    else {
        (void) sd_event_source_set_time(b->limit_timer, when);
        (void) sd_event_source_set_enabled(b->limit_timer, SD_EVENT_ONESHOT);
    }
}

static int on_limit_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct alarm_bus *b = userdata;
    bus_limit_schedule(
        b, alarm_rate_limit_expire(b->limiter, now_usec(CLOCK_MONOTONIC), bus_store_suppressed, b));
    return 0;
}

/* Whether the reporter's rate limit refuses a (then answered and counted here). Root and
 * injected alarms are not limited. */
static bool bus_rate_limited(struct alarm_bus *b, const struct alarm *a, struct pending_reply *ack)
{
    if (!b->limiter || a->uid == 0 || a->origin == ALARM_ORIGIN_INJECT)
        return false;
    uint64_t now = now_usec(CLOCK_MONOTONIC);
    if (alarm_rate_limit_check(b->limiter, a, now, bus_store_suppressed, b))
        return false;
    if (ack)
        pending_reply_error(ack, EAGAIN,
                            "rate limited: this reporter sent more alarms for this source than "
                            "the limit allows; the rest of this interval is suppressed");
    /* The summary is stored when the window ends. */
    if (sd_event_source_get_enabled(b->limit_timer, NULL) == 0)
        bus_limit_schedule(b, alarm_rate_limit_expire(b->limiter, now, bus_store_suppressed, b));
    return true;
}

uint64_t alarm_bus_suppressed(const struct alarm_bus *b)
{
    return alarm_rate_limit_suppressed_total(b->limiter);
}

/* A report whose idempotency key is stored already, or on its way, is answered with that alarm's
 * seq (once stored) and not stored again. True when answered so; *ret the seq (0: not known). */
static bool bus_idem_answered(struct alarm_bus *b, const struct alarm *a, struct pending_reply *ack,
                              uint64_t *ret)
{
    struct alarm_record *r = alarm_idem_find(b->idem, a->source, a->idem);
    uint64_t seq = 0;

    *ret = 0;
    if (r) {
        if (ack && alarm_idem_wait(b->idem, r, ack) < 0)
            pending_reply_error(ack, ENOMEM, "out of memory");
        *ret = r->a.seq;
        return true;
    }
    int k = alarm_store_find_idem(b->store, a->source, a->idem, &seq);
    if (k == 0)
        return false;
    if (ack && k < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "the alarm was not stored: its idempotency key cannot be "
                 "looked up: %s",
                 strerror(-k));
        pending_reply_error(ack, -k, msg);
    } else if (ack)
        alarm_idem_reply(ack, seq);
    *ret = k > 0 ? seq : 0;
    return true;
}

/* ---- urgent alarms
 * -------------------------------------------------------------------------------
 *
 * A kernel that waits for an answer (sentry_msg_monitor's notices 1003..1010: reboot, OOM, panic
 * and their answers) cannot wait for the store: on a node out of memory the commit's writes need
 * page cache that only the answer frees. So xalarm clients, which have no seqs to keep in order,
 * get these alarms as soon as they are published; the commit then only moves their cursor. A
 * client that is catching up gets them from the store as usual. */

static bool alarm_is_urgent(const struct alarm *a)
{
    return a->id >= SENTRY_ALARM_ID_POWER_OFF && a->id <= SENTRY_ALARM_ID_KERNEL_REBOOT_ANSWER;
}

static void bus_send_early(struct alarm_bus *b, struct alarm_record *r)
{
    for (struct bus_subscriber *s = b->subs; s; s = s->next) {
        if (s->kind != SUBSCRIBER_XALARM || s->catching_up || s->early_n == EARLY_MAX ||
            !alarm_filter_match(&s->filter, &r->a) || s->ops->queued(s->owner) >= s->queue_limit)
            continue;
        s->ops->write(s->owner, r);
        s->early[(s->early_head + s->early_n++) % EARLY_MAX] = r->a.seq;
        b->stats.delivered[s->kind]++;
    }
}

/* Whether seq was sent to s early, forgetting it: commits and store reads come in seq order. */
static bool early_take(struct bus_subscriber *s, uint64_t seq)
{
    while (s->early_n && s->early[s->early_head] <= seq) {
        bool hit = s->early[s->early_head] == seq;
        s->early_head = (s->early_head + 1) % EARLY_MAX;
        s->early_n--;
        if (hit)
            return true;
    }
    return false;
}

uint64_t alarm_bus_publish(struct alarm_bus *b, struct alarm *a, struct pending_reply *ack)
{
    uint64_t seq;

    if (a->idem && bus_idem_answered(b, a, ack, &seq))
        return seq;
    if (bus_rate_limited(b, a, ack))
        return 0;
    return bus_publish_alarm(b, a, ack);
}

static uint64_t bus_publish_alarm(struct alarm_bus *b, struct alarm *a, struct pending_reply *ack)
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
    if (r->a.idem && alarm_idem_add(b->idem, r) < 0)
        log_warning("out of memory: a retry of the report with idempotency key '%s' may be "
                    "refused",
                    r->a.idem);
    bus_active_update(b, r);
    if (alarm_is_urgent(&r->a))
        bus_send_early(b, r);
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

    if (r->a.idem)
        alarm_idem_done(b->idem, r, error);
    if (error < 0) {
        char msg[256];
        b->stats.commit_failed++;
        /* Not stored, for sure (alarm_store.h): a retry stores it. */
        snprintf(msg, sizeof(msg), "the alarm was not stored: %s", strerror(-error));
        if (r->ack)
            pending_reply_error(r->ack, error, msg);
        r->ack = NULL;
        /* An OCCUR that made a key active but was not stored must not stay active. */
        if (r->active_change == ACTIVE_SET) {
            _cleanup_free_ char *k = active_key(&r->a);
            void *v;
            if (k && lh_table_lookup_ex(b->active, k, &v) && v == r)
                lh_table_delete(b->active, k);
        }
        /* head stays: it is the last seq stored, and no other client learns this one. */
        for (struct bus_subscriber *s = b->subs; s; s = s->next)
            early_take(s, r->a.seq);
        bus_check_backpressure(b);
        return;
    }
    b->head = r->a.seq;
    alarm_stats_count(&b->stats, &r->a);
    if (r->ack) {
        pending_reply_stored(r->ack, r->a.seq);
        r->ack = NULL;
    }
    for (struct bus_subscriber *s = b->subs; s; s = s->next) {
        if (s->catching_up)
            continue;
        if (early_take(s, r->a.seq) || !alarm_filter_match(&s->filter, &r->a)) {
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

/* sentryd's own alarm about its store (own_alarms.h), stored and sent like any other. */
static void bus_raise_store_alarm(struct alarm_bus *b, const char *problem, const char *text)
{
    struct alarm a = {
        .id = SENTRYD_ALARM_ID_STORE,
        .level = SENTRY_ALARM_MAJOR,
        .type = SENTRY_ALARM_OCCUR,
        .origin = ALARM_ORIGIN_NATIVE,
        .pid = (uint32_t) getpid(),
        .source = SENTRYD_ALARM_SOURCE,
        .key = problem,
        .text = text,
        .text_len = strlen(text),
    };
    bus_publish_alarm(b, &a, NULL);
}

/* A read found damaged pages: raised once a run (the log names every range). */
static void bus_on_store_damage(const char *problem, const char *text, void *userdata)
{
    struct alarm_bus *b = userdata;

    if (b->told_unreadable)
        return;
    b->told_unreadable = true;
    bus_raise_store_alarm(b, problem, text);
}

/* ---- catching up --------------------------------------------------------------------------------
 */

static int catchup_row(struct alarm_record *r, void *userdata)
{
    struct bus_subscriber *s = userdata;
    if (!early_take(s, r->a.seq) && alarm_filter_match(&s->filter, &r->a))
        bus_deliver(s->bus, s, r, true);
    else
        s->cursor = r->a.seq;
    /* Stop once two chunks wait; the rest comes at the next drain. */
    return s->ops->queued(s->owner) >= 2 * CATCHUP_CHUNK ? -1 : 0;
}

static void catchup_unreadable(uint64_t first, uint64_t last, void *userdata)
{
    struct bus_subscriber *s = userdata;

    s->cursor = last;
    if (s->ops->unreadable)
        s->ops->unreadable(s->owner, first, last);
}

static const struct alarm_read_ops catchup_ops = {
    .row = catchup_row,
    .unreadable = catchup_unreadable,
};

/* Reads one chunk from the store after the cursor, up to the head, while the output has room;
 * the next chunk comes at a later wake-up of idle priority, after everything else. */
static void bus_subscriber_step(struct bus_subscriber *s)
{
    struct alarm_bus *b = s->bus;

    if (!s->catching_up)
        return;
    /* A chunk at a time: catching up holds records of its own, not shared ones. */
    if (s->ops->queued(s->owner) >= CATCHUP_CHUNK)
        return; /* wait for the drain */
    if (s->cursor < b->head) {
        struct alarm_read q = {.cursor = s->cursor, .bound = b->head};
        int n = alarm_store_read(b->store, &q, CATCHUP_CHUNK, &catchup_ops, s);
        if (n < 0) {
            log_warning_errno(n, "catching up a subscriber from the store failed: %m");
            return;
        }
        /* Seqs missing up to the head (retention, alarms not stored) are no gap. */
        s->cursor = q.done ? b->head : q.cursor;
    }
    if (s->cursor >= b->head)
        s->catching_up = false; /* nothing left in between: live again */
    else
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
        bus_subscriber_schedule(s);
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
    /* Reading the store waits for everything else (clients, timers, commits). */
    if (sd_event_add_defer(b->event, &s->defer, on_catchup_defer, s) < 0 ||
        sd_event_source_set_priority(s->defer, SD_EVENT_PRIORITY_IDLE) < 0) {
        sd_event_source_disable_unref(s->defer);
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
        size_t q = s->ops->queued_bytes ? s->ops->queued_bytes(s->owner) : 0;
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
    if (p->rate_limit_burst > 0 && p->rate_limit_interval_us > 0) {
        b->limiter = alarm_rate_limit_new(p->rate_limit_burst, p->rate_limit_interval_us);
        r = b->limiter ? sd_event_add_time(p->event, &b->limit_timer, CLOCK_MONOTONIC, 0,
                                           10 * USEC_PER_MSEC, on_limit_timer, b)
                       : -ENOMEM;
        if (r >= 0)
            r = sd_event_source_set_enabled(b->limit_timer, SD_EVENT_OFF);
        if (r < 0) {
            alarm_bus_free(b);
            return r;
        }
    }
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
        .on_damage = bus_on_store_damage,
        .userdata = b,
    };
    b->idem = alarm_idem_new();
    if (!b->idem) {
        alarm_bus_free(b);
        return -ENOMEM;
    }
    r = alarm_store_open(&sp, &b->store);
    if (r < 0) {
        alarm_bus_free(b);
        return r;
    }
    /* After a crash the next seq may be above the last stored one (alarm_store.h). */
    b->last_seq = alarm_store_last_seq(b->store);
    b->head = alarm_store_last_stored(b->store);
    alarm_store_read_active(b->store, bus_load_active, b);
    const char *problem, *damage = alarm_store_damage(b->store, &problem);
    if (damage)
        bus_raise_store_alarm(b, problem, damage);
    *ret = b;
    return 0;
}

void alarm_bus_sync(struct alarm_bus *b)
{
    if (!b || !b->store)
        return;
    /* History queries under way are answered (cancelled) before their clients go. */
    alarm_scans_cancel(alarm_store_scans(b->store));
    alarm_store_sync(b->store);
}

struct alarm_bus *alarm_bus_free(struct alarm_bus *b)
{
    if (!b)
        return NULL;
    /* Suppressed alarms still to be told are stored with the last commits. */
    if (b->limiter && b->store)
        (void) alarm_rate_limit_expire(b->limiter, UINT64_MAX, bus_store_suppressed, b);
    /* Closing the store delivers the last commits; subscribers may still be served. */
    b->store = alarm_store_close(b->store);
    while (b->subs)
        alarm_bus_unsubscribe(b->subs);
    b->limit_timer = sd_event_source_disable_unref(b->limit_timer);
    b->limiter = alarm_rate_limit_free(b->limiter);
    b->idem = alarm_idem_free(b->idem);
    if (b->active)
        lh_table_free(b->active);
    alarm_log_close(b->log);
    free(b->node);
    free(b);
    return NULL;
}
