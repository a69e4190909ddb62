/* alarm_verbs.c: the alarm verbs of the native protocol: report, inject (root), subscribe,
 * unsubscribe, alarms (history and active set), get_alarm (the reference's per-task view) and
 * stats. The history verbs read the store in bounded steps (alarm_scan.h) and answer when done,
 * so that no request holds the event loop however many rows it looks at. */
#include <inttypes.h>
#include <stdio.h>

#include "alarm_idem.h"
#include "alarm_scan.h"
#include "alarm_stats.h"
#include "alarm_store.h"
#include "control_conn.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "record_queue.h"
#include "time_util.h"

#define ALARMS_LIMIT_DEFAULT 100
#define ALARMS_LIMIT_MAX     10000
#define ALARMS_SCAN_MAX      100000 /* rows one `alarms` request may look at */

static struct daemon *req_daemon(struct request *r)
{
    return r->userdata;
}

/* ---- report / inject --------------------------------------------------------------------------
 */

/* May this peer report alarms for `source`? Root may for any; others only for a task that runs
 * as their user. */
static bool may_report_for(struct request *r, const char *source)
{
    if (request_uid(r) == 0)
        return true;
    struct task *t = source ? task_manager_find(req_daemon(r)->tasks, source) : NULL;
    return t && task_get_config(t)->user && task_get_config(t)->uid == request_uid(r);
}

static int publish(struct request *r, bool inject)
{
    static const char *const members[] = {"alarm", "idempotency_key", NULL};
    struct daemon *d = req_daemon(r);
    json_object *obj = NULL;
    struct alarm a = {0};
    const char *why = NULL, *idem = NULL;
    int k;

    if ((k = request_check_members(r, members)) < 0 ||
        (k = request_get_object(r, "alarm", true, &obj)) < 0 ||
        (k = request_get_string(r, "idempotency_key", false, ALARM_IDEM_MAX, &idem)) < 0)
        return k;
    if (idem && (!*idem || !string_is_printable(idem, ALARM_IDEM_MAX + 1)))
        return request_reply_error(
            r, EINVAL, "'idempotency_key' must be printable text of 1 to %d bytes", ALARM_IDEM_MAX);
    if (alarm_from_json(obj, &a, &why) < 0) {
        alarm_bus_stats(d->bus)->rejected[inject ? ALARM_ORIGIN_INJECT : ALARM_ORIGIN_NATIVE]++;
        return request_reply_error(r, EINVAL, "invalid alarm: %s", why);
    }
    if (!a.source || !*a.source)
        a.source = inject ? "inject" : "local";
    if (!inject && !may_report_for(r, a.source))
        return request_reply_error(r, EPERM,
                                   "permission denied: uid %d may not report alarms for '%s'",
                                   (int) request_uid(r), a.source);
    a.origin = inject ? ALARM_ORIGIN_INJECT : ALARM_ORIGIN_NATIVE;
    a.injected = inject;
    a.uid = (uint32_t) request_uid(r);
    a.pid = (uint32_t) request_pid(r);
    a.idem = idem;
    struct pending_reply *p = request_defer(r);
    if (!p)
        return -ENOMEM;
    alarm_bus_publish(d->bus, &a, p);
    return 0;
}

static int verb_report(struct request *r)
{
    return publish(r, false);
}

static int verb_inject(struct request *r)
{
    return publish(r, true);
}

/* ---- subscribe --------------------------------------------------------------------------------
 */

/* A native subscription: the connection it lives on and the alarms it has yet to receive. */
struct native_sub {
    struct conn *conn;
    struct bus_subscriber *bs;
    struct record_queue q;
};

static void native_write(void *owner, struct alarm_record *r)
{
    struct native_sub *n = owner;
    if (record_queue_push(&n->q, r) < 0) {
        log_error("subscriber: out of memory, an alarm is left for it to read from the store");
        return;
    }
    conn_stream_ready(n->conn);
}

static size_t native_queued(void *owner)
{
    struct native_sub *n = owner;
    return record_queue_len(&n->q);
}

/* Seqs the store could not read are told in the stream, in their place. */
static void native_unreadable(void *owner, uint64_t first, uint64_t last)
{
    struct native_sub *n = owner;
    char line[128];
    int len =
        snprintf(line, sizeof(line),
                 "{\"unreadable\":{\"first\":%" PRIu64 ",\"last\":%" PRIu64 "}}\n", first, last);

    if (record_queue_push_line(&n->q, line, (size_t) len) < 0) {
        log_error("subscriber: out of memory, it is not told that seqs %" PRIu64 "..%" PRIu64
                  " cannot be read",
                  first, last);
        return;
    }
    conn_stream_ready(n->conn);
}

static const struct bus_subscriber_ops native_sub_ops = {
    .write = native_write,
    .queued = native_queued,
    .unreadable = native_unreadable,
};

static int native_flush(void *stream, int fd)
{
    struct native_sub *n = stream;
    return record_queue_flush(&n->q, fd);
}

static bool native_pending(void *stream)
{
    struct native_sub *n = stream;
    return record_queue_len(&n->q) > 0;
}

static void native_on_drain(void *stream)
{
    struct native_sub *n = stream;
    bus_subscriber_drained(n->bs);
}

static void native_on_close(void *stream)
{
    struct native_sub *n = stream;
    alarm_bus_unsubscribe(n->bs);
    record_queue_done(&n->q);
    free(n);
}

static const struct conn_stream_ops native_stream_ops = {
    .flush = native_flush,
    .pending = native_pending,
    .on_drain = native_on_drain,
    .on_close = native_on_close,
};

static int verb_subscribe(struct request *r)
{
    static const char *const members[] = {"ids", "min_level", "sources", "types", "since", NULL};
    struct daemon *d = req_daemon(r);
    struct alarm_filter f;
    const char *why = NULL;
    uint64_t since = UINT64_MAX;
    int k;

    if ((k = request_check_members(r, members)) < 0 ||
        (k = request_get_uint64(r, "since", false, INT64_MAX, &since)) < 0)
        return k;
    if (conn_get_stream(request_conn(r)))
        return request_reply_error(r, EBUSY, "this connection is already subscribed");
    k = alarm_filter_from_json(r->msg, &f, &why);
    if (k < 0) {
        alarm_filter_done(&f);
        return request_reply_error(r, -k, "invalid filter: %s", why);
    }
    json_object *fj = alarm_filter_to_json(&f);
    struct native_sub *n = calloc(1, sizeof(*n));
    if (!n) {
        alarm_filter_done(&f);
        json_object_put(fj);
        return -ENOMEM;
    }
    n->conn = request_conn(r);
    record_queue_init(&n->q, RECORD_FORM_LINE);
    /* The answer goes out before the first alarm: it is queued before the stream starts. */
    json_object *res = json_object_new_object();
    json_object_object_add(res, "head", json_object_new_uint64(alarm_bus_head(d->bus)));
    json_object_object_add(res, "oldest",
                           json_object_new_uint64(alarm_store_oldest_seq(alarm_bus_store(d->bus))));
    json_object_object_add(res, "filter", fj);
    request_reply(r, res);
    n->bs = alarm_bus_subscribe(d->bus, SUBSCRIBER_NATIVE, &f, since, d->config.subscriber_queue,
                                &native_sub_ops, n);
    if (!n->bs) {
        alarm_filter_done(&f);
        free(n);
        return 0;
    }
    conn_grow_sndbuf(n->conn, (int) d->config.subscriber_sndbuf);
    conn_attach_stream(n->conn, n, &native_stream_ops);
    return 0;
}

static int verb_unsubscribe(struct request *r)
{
    static const char *const members[] = {NULL};
    struct native_sub *n = conn_get_stream(request_conn(r));
    int k;

    if ((k = request_check_members(r, members)) < 0)
        return k;
    if (!n)
        return request_reply_error(r, ENOENT, "this connection has no subscription");
    json_object *res = json_object_new_object();
    json_object_object_add(res, "cursor", json_object_new_uint64(bus_subscriber_cursor(n->bs)));
    conn_detach_stream(request_conn(r));
    native_on_close(n);
    return request_reply(r, res);
}

/* ---- alarms: history and active set ------------------------------------------------------------
 */

/* An `alarms` request while its scan runs. */
struct alarms_query {
    struct pending_reply *reply;
    struct alarm_filter filter;
    json_object *list;
    json_object *unreadable; /* [{"first","last"}], NULL while none */
    unsigned limit;
    bool desc; /* the newest ones, read newest first, shown oldest first */
    uint64_t since, head;
};

static void alarms_query_free(struct alarms_query *q)
{
    alarm_filter_done(&q->filter);
    json_object_put(q->list);
    json_object_put(q->unreadable);
    free(q);
}

static int alarms_row(struct alarm_record *r, void *userdata)
{
    struct alarms_query *q = userdata;
    if (alarm_filter_match(&q->filter, &r->a))
        json_object_array_add(q->list, alarm_to_json(&r->a));
    return json_object_array_length(q->list) >= q->limit ? -1 : 0;
}

static json_object *unreadable_json(uint64_t first, uint64_t last)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "first", json_object_new_uint64(first));
    json_object_object_add(o, "last", json_object_new_uint64(last));
    return o;
}

static void alarms_unreadable(uint64_t first, uint64_t last, void *userdata)
{
    struct alarms_query *q = userdata;
    if (!q->unreadable)
        q->unreadable = json_object_new_array();
    json_object_array_add(q->unreadable, unreadable_json(first, last));
}

static void alarms_done(int error, const struct alarm_read *read, void *userdata)
{
    struct alarms_query *q = userdata;
    char msg[256];

    if (error < 0) {
        snprintf(msg, sizeof(msg), "reading the alarm store failed: %s", strerror(-error));
        pending_reply_error(q->reply, -error, msg);
        alarms_query_free(q);
        return;
    }
    if (q->desc) { /* shown oldest first */
        json_object *rev = json_object_new_array();
        for (size_t i = json_object_array_length(q->list); i-- > 0;)
            json_object_array_add(rev, json_object_get(json_object_array_get_idx(q->list, i)));
        json_object_put(q->list);
        q->list = rev;
    }
    json_object *res = json_object_new_object();
    json_object_object_add(res, "alarms", TAKE_PTR(q->list));
    json_object_object_add(res, "head", json_object_new_uint64(q->head));
    if (!q->desc) /* the last seq looked at (or skipped): `since` to page on */
        json_object_object_add(res, "next", json_object_new_uint64(MAX(read->cursor, q->since)));
    if (q->unreadable)
        json_object_object_add(res, "unreadable", TAKE_PTR(q->unreadable));
    pending_reply_ok(q->reply, res);
    alarms_query_free(q);
}

static void active_row(struct alarm_record *r, void *userdata)
{
    struct alarms_query *q = userdata;
    if (alarm_filter_match(&q->filter, &r->a) && json_object_array_length(q->list) < q->limit)
        json_object_array_add(q->list, alarm_to_json(&r->a));
}

static int verb_alarms(struct request *r)
{
    static const char *const members[] = {"ids",   "min_level", "sources", "types",
                                          "since", "limit",     "active",  NULL};
    struct daemon *d = req_daemon(r);
    uint64_t since = UINT64_MAX, limit = ALARMS_LIMIT_DEFAULT;
    struct alarms_query *q = NULL;
    const char *why = NULL;
    bool active = false;
    int k;

    if ((k = request_check_members(r, members)) < 0 ||
        (k = request_get_uint64(r, "since", false, INT64_MAX, &since)) < 0 ||
        (k = request_get_uint64(r, "limit", false, ALARMS_LIMIT_MAX, &limit)) < 0 ||
        (k = request_get_bool(r, "active", &active)) < 0)
        return k;
    q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    k = alarm_filter_from_json(r->msg, &q->filter, &why);
    if (k < 0) {
        alarms_query_free(q);
        return request_reply_error(r, -k, "invalid filter: %s", why);
    }
    q->limit = limit ? (unsigned) limit : ALARMS_LIMIT_DEFAULT;
    q->list = json_object_new_array();
    q->head = alarm_bus_head(d->bus);

    if (active) {
        alarm_bus_foreach_active(d->bus, active_row, q);
        json_object *res = json_object_new_object();
        json_object_object_add(res, "alarms", TAKE_PTR(q->list));
        json_object_object_add(res, "head", json_object_new_uint64(q->head));
        alarms_query_free(q);
        return request_reply(r, res);
    }
    /* With `since`: oldest first after it. Without: the newest ones. Either up to what has been
     * handed out, looking at ALARMS_SCAN_MAX rows at most. */
    q->desc = since == UINT64_MAX;
    q->since = q->desc ? 0 : since;
    struct alarm_scan_params sp = {
        .read = q->desc ? (struct alarm_read){.desc = true, .cursor = q->head + 1}
                        : (struct alarm_read){.cursor = since, .bound = q->head},
        .max_rows = ALARMS_SCAN_MAX,
        .row = alarms_row,
        .unreadable = alarms_unreadable,
        .done = alarms_done,
        .userdata = q,
    };
    q->reply = request_defer(r);
    if (!q->reply) {
        alarms_query_free(q);
        return -ENOMEM;
    }
    k = alarm_scan_start(alarm_store_scans(alarm_bus_store(d->bus)), &sp);
    if (k < 0) {
        pending_reply_error(q->reply, -k, "out of memory");
        alarms_query_free(q);
    }
    return 0;
}

/* ---- get_alarm: the reference's view of one task's recent alarms
 * --------------------------------- */

struct get_alarm_query {
    struct pending_reply *reply;
    char *task;
    uint64_t cutoff_us;
    bool detailed;
    json_object *list;
};

static void get_alarm_query_free(struct get_alarm_query *q)
{
    json_object_put(q->list);
    free(q->task);
    free(q);
}

/* With -d every value of details becomes a string; without it details is dropped. */
static void get_alarm_shape_info(json_object *info, bool detailed)
{
    json_object *details;
    if (!json_object_object_get_ex(info, "details", &details))
        return;
    if (!detailed) {
        json_object_object_del(info, "details");
        return;
    }
    if (!json_object_is_type(details, json_type_object))
        return;
    json_object *strings = json_object_new_object();
    json_object_object_foreach(details, k, v)
    {
        json_object_object_add(strings, k,
                               json_object_is_type(v, json_type_string)
                                   ? json_object_get(v)
                                   : json_object_new_string(v ? json_plain(v, NULL) : "None"));
    }
    json_object_object_add(info, "details", strings);
}

static int get_alarm_row(struct alarm_record *r, void *userdata)
{
    struct get_alarm_query *q = userdata;
    char ts[64];

    if (r->a.time_us < q->cutoff_us)
        return -1; /* newest first: everything after is older */
    if (!streq(r->a.source, q->task))
        return 0;
    /* The text must be a JSON object (the reference crashes on anything else: skipped). */
    json_object *info = json_tokener_parse(r->a.text);
    if (!info || !json_object_is_type(info, json_type_object)) {
        json_object_put(info);
        return 0;
    }
    get_alarm_shape_info(info, q->detailed);
    json_object *e = json_object_new_object();
    json_object_object_add(e, "alarm_id", json_object_new_int(r->a.id));
    json_object_object_add(e, "alarm_type",
                           json_object_new_string(alarm_type_to_reference_string(r->a.type)));
    json_object_object_add(e, "alarm_level",
                           json_object_new_string(alarm_level_to_reference_string(r->a.level)));
    json_object_object_add(
        e, "timestamp",
        json_object_new_string(format_timestamp_local(ts, sizeof(ts), r->a.time_us, false)));
    json_object_object_add(e, "alarm_info", info);
    json_object_array_add(q->list, e);
    return json_object_array_length(q->list) >= ALARMS_LIMIT_MAX ? -1 : 0;
}

/* The reference's shape is a bare list: unreadable rows are left out (and logged). */
static void get_alarm_done(int error, const struct alarm_read *read, void *userdata)
{
    struct get_alarm_query *q = userdata;
    char msg[256];

    if (error < 0) {
        snprintf(msg, sizeof(msg), "reading the alarm store failed: %s", strerror(-error));
        pending_reply_error(q->reply, -error, msg);
    } else
        pending_reply_ok(q->reply, TAKE_PTR(q->list));
    get_alarm_query_free(q);
}

static int verb_get_alarm(struct request *r)
{
    static const char *const members[] = {"task", "time_range", "detailed", NULL};
    struct daemon *d = req_daemon(r);
    uint64_t range = 10;
    bool detailed = false;
    const char *name;
    int k;

    if ((k = request_check_members(r, members)) < 0 || (k = request_get_task_name(r, &name)) < 0 ||
        (k = request_get_uint64(r, "time_range", false, 100L * 365 * 86400, &range)) < 0 ||
        (k = request_get_bool(r, "detailed", &detailed)) < 0)
        return k;
    if (range == 0)
        return request_reply_error(r, EINVAL, "time_range is not a positive integer: 0");
    struct task *t = task_name_is_valid(name) ? task_manager_find(d->tasks, name) : NULL;
    char nf[TASK_NOT_FOUND_MESSAGE_MAX];
    if (!t)
        return request_reply_error(r, ENOENT, "%s", task_not_found_message(nf, sizeof(nf), name));
    const struct task_config *c = task_get_config(t);
    /* Tasks without alarms, or with alarm_clear_time 0, have no history (the reference). */
    if (!c->alarm_id || c->alarm_clear_time <= 0)
        return request_reply(r, json_object_new_array());
    struct get_alarm_query *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->task = strdup(name);
    q->detailed = detailed;
    q->list = json_object_new_array();
    uint64_t window = MIN(range, (uint64_t) c->alarm_clear_time) * USEC_PER_SEC;
    uint64_t now = now_usec(CLOCK_REALTIME);
    q->cutoff_us = now > window ? now - window : 0;
    struct alarm_scan_params sp = {
        .read = {.desc = true, .id = (uint16_t) c->alarm_id, .cursor = alarm_bus_head(d->bus) + 1},
        .max_rows = ALARMS_SCAN_MAX,
        .row = get_alarm_row,
        .done = get_alarm_done,
        .userdata = q,
    };
    if (!q->task || !(q->reply = request_defer(r))) {
        get_alarm_query_free(q);
        return -ENOMEM;
    }
    k = alarm_scan_start(alarm_store_scans(alarm_bus_store(d->bus)), &sp);
    if (k < 0) {
        pending_reply_error(q->reply, -k, "out of memory");
        get_alarm_query_free(q);
    }
    return 0;
}

/* ---- stats ------------------------------------------------------------------------------------
 */

static int verb_stats(struct request *r)
{
    static const char *const members[] = {NULL};
    int k;

    if ((k = request_check_members(r, members)) < 0)
        return k;
    return request_reply(r, metrics_stats_json(req_daemon(r)));
}

const struct verb alarm_verbs[] = {
    {"report", verb_report, 0, "put an alarm on the bus; answered once it is stored"},
    {"inject", verb_inject, VERB_ROOT, "put any alarm on the bus, marked as injected"},
    {"subscribe", verb_subscribe, 0, "receive alarms (filter, since) on this connection"},
    {"unsubscribe", verb_unsubscribe, 0, "stop this connection's subscription"},
    {"alarms", verb_alarms, 0, "alarm history (since, filter, limit) or the active alarms"},
    {"get_alarm", verb_get_alarm, 0, "a task's recent alarms in the sysSentry shape"},
    {"stats", verb_stats, 0, "counters of the alarm bus"},
    {NULL, NULL, 0, NULL},
};
