/* slowio_runtime.c: see slowio_runtime.h. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "client_conn.h"
#include "json_util.h"
#include "log.h"
#include "slowio_runtime.h"
#include "strv.h"

volatile sig_atomic_t slowio_stop;

static void on_stop_signal(int sig)
{
    slowio_stop = 1;
}

void slowio_install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int slowio_runtime_open(struct slowio_runtime *rt, enum slowio_plugin plugin)
{
    int r;

    *rt = (struct slowio_runtime){.plugin = plugin};
    rt->task = sentry_task_name();
    if (!rt->task)
        rt->task = slowio_plugin_to_string(plugin);
    r = sentry_connect(NULL, &rt->client);
    if (r < 0)
        return log_error_errno(r, "cannot connect to sentryd: %m");
    r = client_conn_open(NULL, &rt->conn);
    if (r < 0)
        return log_error_errno(r, "cannot connect to sentryd: %m");
    return 0;
}

void slowio_runtime_close(struct slowio_runtime *rt)
{
    for (size_t i = 0; i < rt->n_disks; i++)
        strv_free(rt->disks[i].stages);
    free(rt->disks);
    strv_free(rt->active);
    json_object_put(rt->summary_off);
    json_object_put(rt->details);
    client_conn_free(rt->conn);
    sentry_close(rt->client);
    *rt = (struct slowio_runtime){0};
}

static void report(struct slowio_runtime *rt, enum sentry_result_level level, const char *msg)
{
    _cleanup_json_ json_object *d = json_object_new_object();
    if (msg)
        json_object_object_add(d, "msg", json_object_new_string(msg));
    int r = sentry_result(rt->client, rt->task, level, json_plain(d, NULL));
    if (r < 0)
        log_warning_errno(r, "cannot report the result: %m (%s)",
                          strna(sentry_error_message(rt->client)));
}

void slowio_runtime_fail(struct slowio_runtime *rt, const char *message)
{
    report(rt, SENTRY_RESULT_FAIL, message);
}

void slowio_runtime_pass(struct slowio_runtime *rt)
{
    if (rt->details) {
        /* what was watched stays visible after the stop */
        int r =
            sentry_result(rt->client, rt->task, SENTRY_RESULT_PASS, json_plain(rt->details, NULL));
        if (r < 0)
            log_warning_errno(r, "cannot report the result: %m (%s)",
                              strna(sentry_error_message(rt->client)));
        return;
    }
    report(rt, SENTRY_RESULT_PASS, NULL);
}

static int call(struct slowio_runtime *rt, const char *verb, json_object *args, json_object **ret)
{
    _cleanup_free_ char *msg = NULL;
    int r = client_conn_call(rt->conn, verb, args, ret, &msg);
    if (r < 0)
        log_error_errno(r, "%s: %s", verb, msg ? msg : strerror(-r));
    return r;
}

/* The reason a stage of a disk is not measured, from the io_sources report: the one of the first
 * source of the setting that is there (the others only say they are not). */
static const char *stage_off_reason(json_object *report, const char *disk, const char *stage)
{
    json_object *why = json_object_object_get(
        json_object_object_get(
            json_object_object_get(json_object_object_get(report, "disks"), disk), stage),
        "why_not");
    json_object *sources = json_object_object_get(report, "sources");
    const char *first = NULL;

    for (size_t i = 0; i < json_array_length(sources); i++) {
        json_object *src = json_object_array_get_idx(sources, i);
        const char *name = json_object_get_string(json_object_object_get(src, "name"));
        json_object *w = name ? json_object_object_get(why, name) : NULL;

        if (!json_object_is_type(w, json_type_string))
            continue;
        if (json_object_get_boolean(json_object_object_get(src, "available")))
            return json_object_get_string(w);
        if (!first)
            first = json_object_get_string(w);
    }
    return first ? first : "no io source measures it";
}

/* Records in the watch summary (the task result's details) that a stage of a disk is off, and
 * why; logs it. */
static void note_stage_off(struct slowio_runtime *rt, json_object *report, const char *disk,
                           const char *stage, bool configured)
{
    const char *why = stage_off_reason(report, disk, stage);
    json_object *off, *d;

    /* a stage the configuration names is worth a warning; with "default", information */
    log_full_errno(configured ? LOG_WARNING : LOG_INFO, 0, NULL,
                   "disk %s: stage %s is not measured here, not watched: %s", disk, stage, why);
    if (!json_object_object_get_ex(rt->summary_off, disk, &d)) {
        d = json_object_new_object();
        json_object_object_add(rt->summary_off, disk, d);
    }
    off = json_object_new_string(why);
    json_object_object_add(d, stage, off);
}

/* What the collector follows: {"disks": [{"name","type","stages"}]} and, when some stage is
 * missing, the io_sources report that says why. */
static int fetch_disks(struct slowio_runtime *rt, json_object **info, json_object **report)
{
    int r = call(rt, "io_disks", NULL, info);
    if (r < 0)
        return r;
    r = call(rt, "io_sources", NULL, report);
    if (r < 0) /* an older sentryd: the reasons are missing, not the disks */
        *report = NULL;
    return 0;
}

int slowio_runtime_resolve(struct slowio_runtime *rt, const struct slowio_common *cfg, char *why,
                           size_t why_size)
{
    _cleanup_json_ json_object *info = NULL, *report = NULL;
    _cleanup_strv_free_ char **no_bio = NULL;
    json_object *disks;
    int r;

    snprintf(why, why_size, "no disk to watch");
    r = fetch_disks(rt, &info, &report);
    if (r < 0) {
        snprintf(why, why_size, "cannot get the disks from sentryd's io collector: %s",
                 strerror(-r));
        return r;
    }
    rt->period_time = cfg->period_time;
    rt->summary_off = json_object_new_object();
    disks = json_object_object_get(info, "disks");
    rt->disks = calloc(SLOWIO_MAX_DISKS, sizeof(*rt->disks));
    if (!rt->disks || !rt->summary_off)
        return -ENOMEM;
    for (size_t i = 0; i < json_array_length(disks) && rt->n_disks < SLOWIO_MAX_DISKS; i++) {
        json_object *d = json_object_array_get_idx(disks, i);
        const char *name = json_object_get_string(json_object_object_get(d, "name"));
        const char *type = json_object_get_string(json_object_object_get(d, "type"));
        json_object *seen = json_object_object_get(d, "stages");
        if (!name || strlen(name) >= SLOWIO_DISK_NAME_MAX ||
            (cfg->disks && !strv_contains(cfg->disks, name)))
            continue;
        struct slowio_disk *sd = &rt->disks[rt->n_disks];
        snprintf(sd->name, sizeof(sd->name), "%s", name);
        sd->type = type ? disk_type_from_string(type) : _DISK_TYPE_INVALID;
        if ((int) sd->type < 0)
            sd->type = DISK_VIRTUAL;
        for (size_t k = 0; k < json_array_length(seen); k++) {
            const char *st = json_object_get_string(json_object_array_get_idx(seen, k));
            if (!st || io_stage_from_string(st) < 0)
                continue; /* a stage of a newer sentryd, unknown here */
            if (cfg->stages && !strv_contains(cfg->stages, st))
                continue;
            if (strv_extend(&sd->stages, st) < 0)
                return -ENOMEM;
        }
        /* the configured stages, or with "default" every stage the plugins know */
        for (int k = 0; k < _IO_STAGE_MAX; k++) {
            const char *st = io_stage_to_string(k);
            if ((cfg->stages && !strv_contains(cfg->stages, st)) || strv_contains(sd->stages, st))
                continue;
            note_stage_off(rt, report, name, st, cfg->stages != NULL);
        }
        if (!strv_contains(sd->stages, "bio")) {
            char line[SLOWIO_DISK_NAME_MAX + 400];
            snprintf(line, sizeof(line), "disk %s has no bio stage (%s)", name,
                     stage_off_reason(report, name, "bio"));
            log_warning("%s: not watched", line);
            if (strv_extend(&no_bio, line) < 0)
                return -ENOMEM;
            sd->stages = strv_free(sd->stages);
            continue;
        }
        rt->n_disks++;
    }
    for (char **d = cfg->disks; d && *d; d++) {
        bool found = false;
        for (size_t i = 0; i < rt->n_disks && !found; i++)
            found = streq(rt->disks[i].name, *d);
        if (!found)
            log_warning("disk %s: not followed by the io collector, not watched", *d);
    }
    if (rt->n_disks > 0)
        return 0;

    /* the first line of `sentryctl status`: say which disks there were and why none is usable */
    if (no_bio) {
        _cleanup_free_ char *all = strv_join(no_bio, "; ");
        snprintf(why, why_size, "no disk to watch: %s", all ? all : no_bio[0]);
    } else if (json_array_length(disks) == 0)
        snprintf(why, why_size, "no disk to watch: sentryd's io collector follows no disk");
    else if (cfg->disks) {
        _cleanup_free_ char *all = strv_join(cfg->disks, ",");
        snprintf(why, why_size,
                 "no disk to watch: disk = %s, and the io collector follows none "
                 "of them",
                 all ? all : "?");
    }
    return log_error_errno(ENODEV, "%s", why);
}

void slowio_runtime_report_watch(struct slowio_runtime *rt)
{
    _cleanup_json_ json_object *d = json_object_new_object();
    json_object *watched = json_object_new_object();
    char msg[512];
    size_t n = 0, off = 0;

    n += (size_t) snprintf(msg, sizeof(msg), "watching %zu disk(s):", rt->n_disks);
    for (size_t i = 0; i < rt->n_disks; i++) {
        json_object *st = json_object_new_array();
        for (char **s = rt->disks[i].stages; s && *s; s++)
            json_object_array_add(st, json_object_new_string(*s));
        json_object_object_add(watched, rt->disks[i].name, st);
        if (n < sizeof(msg))
            n += (size_t) snprintf(msg + n, sizeof(msg) - n, "%s %s", i ? "," : "",
                                   rt->disks[i].name);
    }
    json_object_object_foreach(rt->summary_off, disk, stages)
    {
        (void) disk;
        off += (size_t) json_object_object_length(stages);
    }
    if (off > 0 && n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - n, "; %zu stage(s) not measured here (see stages_off)",
                 off);
    json_object_object_add(d, "msg", json_object_new_string(msg));
    json_object_object_add(d, "watched", watched);
    json_object_object_add(d, "stages_off", json_object_get(rt->summary_off));
    rt->details = json_object_get(d);
    int r = sentry_result(rt->client, rt->task, SENTRY_RESULT_PASS, json_plain(d, NULL));
    if (r < 0)
        log_warning_errno(r, "cannot report the result: %m (%s)",
                          strna(sentry_error_message(rt->client)));
}

static void sleep_until(struct timespec *at)
{
    while (!slowio_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, at, NULL) == EINTR)
        ;
}

int slowio_runtime_next(struct slowio_runtime *rt, const struct slowio_common *cfg,
                        struct slowio_period *p)
{
    static struct timespec next;
    _cleanup_json_ json_object *args = json_object_new_object(), *res = NULL;
    json_object *disks = json_object_new_array(), *ops = json_object_new_array();
    int r;

    if (next.tv_sec == 0)
        clock_gettime(CLOCK_MONOTONIC, &next);
    next.tv_sec += rt->period_time;
    sleep_until(&next);
    if (slowio_stop)
        return -EINTR;

    for (size_t i = 0; i < rt->n_disks; i++)
        json_object_array_add(disks, json_object_new_string(rt->disks[i].name));
    for (int io = 0; io < SLOWIO_IOTYPES; io++)
        if (cfg->iotypes[io])
            json_object_array_add(ops, json_object_new_string(io_op_to_string(io)));
    json_object_object_add(args, "disks", disks);
    json_object_object_add(args, "iotypes", ops);
    json_object_object_add(args, "period", json_object_new_int((int) rt->period_time));

    /* The collector may not have a new period yet (clocks drift a little): wait for it. */
    for (int attempt = 0;; attempt++) {
        json_object_put(res);
        res = NULL;
        r = call(rt, "io_query", args, &res);
        if (r < 0)
            return r;
        uint64_t tick = json_object_get_uint64(json_object_object_get(res, "tick"));
        if (tick != rt->last_tick || attempt >= 10 || slowio_stop) {
            rt->last_tick = tick;
            break;
        }
        struct timespec t = {.tv_nsec = 100 * 1000 * 1000};
        nanosleep(&t, NULL);
    }

    memset(p, 0, sizeof(*p));
    json_object *data = json_object_object_get(res, "data");
    for (size_t i = 0; i < rt->n_disks; i++) {
        json_object *dj;
        if (!json_object_object_get_ex(data, rt->disks[i].name, &dj) ||
            !json_object_is_type(dj, json_type_object))
            continue;
        p->present[i] = true;
        json_object_object_foreach(dj, stage, iot)
        {
            int st = io_stage_from_string(stage);
            if (st < 0 || !json_object_is_type(iot, json_type_object))
                continue;
            json_object_object_foreach(iot, ion, v)
            {
                int io = slowio_iotype_from_string(ion);
                if (io < 0 || json_array_length(v) < 4)
                    continue;
                struct slowio_sample *s = &p->s[i][st][io];
                s->latency = json_object_get_double(json_object_array_get_idx(v, 0));
                s->iodump = json_object_get_double(json_object_array_get_idx(v, 1));
                s->iops = json_object_get_double(json_object_array_get_idx(v, 3));
                p->valid[i][st][io] = true;
            }
        }
    }
    (void) sentry_heartbeat(rt->client, rt->task); /* refused when no heartbeat is configured */
    return 0;
}

int slowio_runtime_alarm(struct slowio_runtime *rt, const char *key, bool slow, int level,
                         const char *text)
{
    bool was = strv_contains(rt->active, key);
    uint64_t seq = 0;
    int r;

    if (was == slow)
        return 0;
    struct sentry_alarm a = {
        .id = SLOWIO_ALARM_ID,
        .level = level,
        .type = slow ? SENTRY_ALARM_OCCUR : SENTRY_ALARM_RECOVER,
        .source = rt->task,
        .key = key,
        .text = text,
    };
    r = sentry_report(rt->client, &a, &seq);
    if (r < 0)
        return log_error_errno(r, "cannot report alarm %d for %s: %m (%s)", SLOWIO_ALARM_ID, key,
                               strna(sentry_error_message(rt->client)));
    log_full_errno(slow ? LOG_WARNING : LOG_INFO, 0, NULL, "%s: alarm %d %s (seq %" PRIu64 "): %s",
                   key, SLOWIO_ALARM_ID, slow ? "OCCUR" : "RECOVER", seq, text);
    if (slow)
        return strv_extend(&rt->active, key);
    strv_remove(rt->active, key);
    return 0;
}
