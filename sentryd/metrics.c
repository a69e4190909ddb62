/* metrics.c: see metrics.h. */
#include <inttypes.h>
#include <stdio.h>

#include "alarm_stats.h"
#include "alarm_store.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "metrics.h"

struct metrics_writer {
    struct daemon *d;
    char *path;
    unsigned interval_s;
    sd_event_source *timer;
    bool scheduled;
};

static const char *const kind_names[] = {[STATS_NATIVE] = "native", [STATS_XALARM] = "xalarm"};

static json_object *json_u64(uint64_t v)
{
    return json_object_new_uint64(v);
}

static json_object *by_origin(const uint64_t *v)
{
    json_object *o = json_object_new_object();
    for (int i = 0; i < _ALARM_ORIGIN_MAX; i++)
        json_object_object_add(o, alarm_origin_to_string(i), json_u64(v[i]));
    return o;
}

static json_object *by_kind(const uint64_t *v)
{
    json_object *o = json_object_new_object();
    for (int i = 0; i < _STATS_KIND_MAX; i++)
        json_object_object_add(o, kind_names[i], json_u64(v[i]));
    return o;
}

static void count_task_states(struct daemon *d, unsigned *states)
{
    for (size_t i = 0; i < task_manager_count(d->tasks); i++)
        states[task_get_state(task_manager_get(d->tasks, i))]++;
}

json_object *metrics_stats_json(struct daemon *d)
{
    struct alarm_stats *st = alarm_bus_stats(d->bus);
    struct alarm_store *store = alarm_bus_store(d->bus);
    struct bus_gauges g;
    json_object *o = json_object_new_object(), *x;

    alarm_bus_gauges(d->bus, &g);
    json_object_object_add(o, "head", json_u64(alarm_bus_head(d->bus)));
    json_object_object_add(o, "oldest", json_u64(alarm_store_oldest_seq(store)));
    json_object_object_add(o, "reported", by_origin(st->reported));
    json_object_object_add(o, "rejected", by_origin(st->rejected));
    json_object_object_add(o, "filtered_xalarm", json_u64(st->filtered_xalarm));
    json_object_object_add(o, "rate_limited", json_u64(alarm_bus_suppressed(d->bus)));
    json_object_object_add(o, "committed", json_u64(st->committed));
    json_object_object_add(o, "commit_failed", json_u64(st->commit_failed));
    json_object_object_add(o, "transactions", json_u64(alarm_store_commits(store)));
    json_object_object_add(o, "delivered", by_kind(st->delivered));
    json_object_object_add(o, "caught_up", by_kind(st->caught_up));
    json_object_object_add(o, "fell_behind", by_kind(st->fell_behind));
    x = json_object_new_object();
    for (int l = 1; l < ALARM_LEVEL_SLOTS; l++)
        json_object_object_add(x, alarm_level_to_string(l), json_u64(st->by_level[l]));
    json_object_object_add(o, "by_level", x);
    x = json_object_new_object();
    for (int i = 0; i < (int) ELEMENTSOF(st->by_id); i++)
        if (st->by_id[i]) {
            char id[8];
            snprintf(id, sizeof(id), "%d", i + SENTRY_ALARM_ID_MIN);
            json_object_object_add(x, id, json_u64(st->by_id[i]));
        }
    json_object_object_add(o, "by_id", x);
    json_object_object_add(o, "by_id_other", json_u64(st->by_id_other));
    x = json_object_new_object();
    json_object_object_add(x, "native", json_u64(g.subscribers[SUBSCRIBER_NATIVE]));
    json_object_object_add(x, "xalarm", json_u64(g.subscribers[SUBSCRIBER_XALARM]));
    json_object_object_add(x, "catching_up", json_u64(g.catching_up));
    json_object_object_add(o, "subscribers", x);
    x = json_object_new_object();
    json_object_object_add(x, "store_inflight", json_u64(g.inflight));
    json_object_object_add(x, "subscriber_bytes_total", json_u64(g.queued_total));
    json_object_object_add(x, "subscriber_bytes_max", json_u64(g.queued_max));
    json_object_object_add(o, "queues", x);
    json_object_object_add(o, "active_alarms", json_u64(g.active));
    json_object_object_add(o, "clients", json_u64(control_server_clients(d->control)));
    unsigned states[_TASK_STATE_MAX] = {0};
    count_task_states(d, states);
    x = json_object_new_object();
    for (int s = 0; s < _TASK_STATE_MAX; s++)
        json_object_object_add(x, task_state_to_string(s), json_u64(states[s]));
    json_object_object_add(o, "tasks", x);
    return o;
}

static void prom(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *metrics_textfile(struct daemon *d)
{
    struct alarm_stats *st = alarm_bus_stats(d->bus);
    struct bus_gauges g;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    if (!f)
        return NULL;
    alarm_bus_gauges(d->bus, &g);
    prom(f, "sentry_alarms_reported_total", "counter", "Alarms accepted onto the bus.");
    for (int i = 0; i < _ALARM_ORIGIN_MAX; i++)
        fprintf(f, "sentry_alarms_reported_total{origin=\"%s\"} %" PRIu64 "\n",
                alarm_origin_to_string(i), st->reported[i]);
    prom(f, "sentry_alarms_rejected_total", "counter", "Alarms refused as invalid.");
    for (int i = 0; i < _ALARM_ORIGIN_MAX; i++)
        fprintf(f, "sentry_alarms_rejected_total{origin=\"%s\"} %" PRIu64 "\n",
                alarm_origin_to_string(i), st->rejected[i]);
    prom(f, "sentry_alarms_rate_limited_total", "counter",
         "Alarms refused by the per-reporter rate limit.");
    fprintf(f, "sentry_alarms_rate_limited_total %" PRIu64 "\n", alarm_bus_suppressed(d->bus));
    prom(f, "sentry_alarms_committed_total", "counter", "Alarms stored.");
    fprintf(f, "sentry_alarms_committed_total %" PRIu64 "\n", st->committed);
    prom(f, "sentry_alarms_commit_failed_total", "counter", "Alarms that could not be stored.");
    fprintf(f, "sentry_alarms_commit_failed_total %" PRIu64 "\n", st->commit_failed);
    prom(f, "sentry_alarms_by_level_total", "counter", "Stored alarms by level.");
    for (int l = 1; l < ALARM_LEVEL_SLOTS; l++)
        fprintf(f, "sentry_alarms_by_level_total{level=\"%s\"} %" PRIu64 "\n",
                alarm_level_to_string(l), st->by_level[l]);
    prom(f, "sentry_alarms_by_id_total", "counter", "Stored alarms by id.");
    for (int i = 0; i < (int) ELEMENTSOF(st->by_id); i++)
        if (st->by_id[i])
            fprintf(f, "sentry_alarms_by_id_total{id=\"%d\"} %" PRIu64 "\n",
                    i + SENTRY_ALARM_ID_MIN, st->by_id[i]);
    fprintf(f, "sentry_alarms_by_id_total{id=\"other\"} %" PRIu64 "\n", st->by_id_other);
    prom(f, "sentry_alarms_delivered_total", "counter", "Alarms written to subscribers.");
    prom(f, "sentry_alarms_caught_up_total", "counter",
         "Alarms delivered to subscribers from the store.");
    for (int k = 0; k < _STATS_KIND_MAX; k++) {
        fprintf(f, "sentry_alarms_delivered_total{kind=\"%s\"} %" PRIu64 "\n", kind_names[k],
                st->delivered[k]);
        fprintf(f, "sentry_alarms_caught_up_total{kind=\"%s\"} %" PRIu64 "\n", kind_names[k],
                st->caught_up[k]);
    }
    prom(f, "sentry_alarm_subscribers", "gauge", "Connected subscribers.");
    fprintf(f, "sentry_alarm_subscribers{kind=\"native\"} %u\n", g.subscribers[SUBSCRIBER_NATIVE]);
    fprintf(f, "sentry_alarm_subscribers{kind=\"xalarm\"} %u\n", g.subscribers[SUBSCRIBER_XALARM]);
    prom(f, "sentry_alarm_subscribers_catching_up", "gauge", "Subscribers reading from the store.");
    fprintf(f, "sentry_alarm_subscribers_catching_up %u\n", g.catching_up);
    prom(f, "sentry_alarm_queue_bytes", "gauge", "Bytes waiting for subscribers.");
    fprintf(f, "sentry_alarm_queue_bytes %zu\n", g.queued_total);
    prom(f, "sentry_alarm_store_inflight", "gauge", "Alarms accepted, not yet committed.");
    fprintf(f, "sentry_alarm_store_inflight %u\n", g.inflight);
    prom(f, "sentry_alarms_active", "gauge", "Active alarms (OCCUR without RECOVER).");
    fprintf(f, "sentry_alarms_active %u\n", g.active);
    prom(f, "sentry_alarm_seq", "gauge", "Highest alarm seq handed out.");
    fprintf(f, "sentry_alarm_seq %" PRIu64 "\n", alarm_bus_head(d->bus));
    unsigned states[_TASK_STATE_MAX] = {0};
    count_task_states(d, states);
    prom(f, "sentry_tasks", "gauge", "Tasks by state.");
    for (int s = 0; s < _TASK_STATE_MAX; s++)
        fprintf(f, "sentry_tasks{state=\"%s\"} %u\n", task_state_to_string(s), states[s]);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int metrics_write(struct metrics_writer *m)
{
    _cleanup_free_ char *text = metrics_textfile(m->d);
    if (!text)
        return -ENOMEM;
    int r = write_file_atomic(m->path, text, strlen(text), 0644);
    if (r < 0)
        log_warning_errno(r, "cannot write %s: %m", m->path);
    return r;
}

static int on_metrics_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct metrics_writer *m = userdata;
    m->scheduled = false;
    metrics_write(m);
    return 0;
}

void metrics_writer_touch(struct metrics_writer *m)
{
    if (!m || m->scheduled)
        return;
    m->scheduled = true;
    sd_event_source_set_time_relative(m->timer, (uint64_t) m->interval_s * USEC_PER_SEC);
    sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

int metrics_writer_new(struct daemon *d, const char *dir, unsigned interval_s,
                       struct metrics_writer **ret)
{
    struct metrics_writer *m = calloc(1, sizeof(*m));
    int r;

    if (!m)
        return -ENOMEM;
    m->d = d;
    m->interval_s = interval_s;
    if (asprintf(&m->path, "%s/sentry.prom", dir) < 0) {
        free(m);
        return -ENOMEM;
    }
    r = mkdir_parents(dir, 0755);
    if (r >= 0)
        r = sd_event_add_time_relative(d->event, &m->timer, CLOCK_MONOTONIC, USEC_PER_SEC,
                                       USEC_PER_SEC, on_metrics_timer, m);
    if (r < 0) {
        log_error_errno(r, "metrics textfile in %s: %m", dir);
        metrics_writer_free(m);
        return r;
    }
    /* First write right after start-up, so the file exists. */
    m->scheduled = true;
    *ret = m;
    return 0;
}

struct metrics_writer *metrics_writer_free(struct metrics_writer *m)
{
    if (!m)
        return NULL;
    if (m->timer && m->d->bus)
        metrics_write(m);
    sd_event_source_disable_unref(m->timer);
    free(m->path);
    free(m);
    return NULL;
}
