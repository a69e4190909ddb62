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

int slowio_runtime_resolve(struct slowio_runtime *rt, const struct slowio_common *cfg)
{
    _cleanup_json_ json_object *info = NULL;
    json_object *disks;
    int r;

    r = call(rt, "io_disks", NULL, &info);
    if (r < 0)
        return r;
    rt->period_time = cfg->period_time;
    disks = json_object_object_get(info, "disks");
    rt->disks = calloc(SLOWIO_MAX_DISKS, sizeof(*rt->disks));
    if (!rt->disks)
        return -ENOMEM;
    for (size_t i = 0; i < json_object_array_length(disks) && rt->n_disks < SLOWIO_MAX_DISKS; i++) {
        json_object *d = json_object_array_get_idx(disks, i);
        const char *name = json_object_get_string(json_object_object_get(d, "name"));
        const char *type = json_object_get_string(json_object_object_get(d, "type"));
        json_object *seen = json_object_object_get(d, "stages");
        if (cfg->disks && !strv_contains(cfg->disks, name))
            continue;
        struct slowio_disk *sd = &rt->disks[rt->n_disks];
        snprintf(sd->name, sizeof(sd->name), "%s", name);
        sd->type = slowio_disk_type_from_string(type);
        if ((int) sd->type < 0)
            sd->type = SLOWIO_DISK_VIRTUAL;
        for (size_t k = 0; k < json_object_array_length(seen); k++) {
            const char *st = json_object_get_string(json_object_array_get_idx(seen, k));
            if (slowio_stage_from_string(st) < 0)
                continue; /* a stage the plugins have no rule for (e.g. kyber) */
            if (cfg->stages && !strv_contains(cfg->stages, st))
                continue;
            if (strv_extend(&sd->stages, st) < 0)
                return -ENOMEM;
        }
        for (char **s = cfg->stages; s && *s; s++)
            if (!strv_contains(sd->stages, *s))
                log_warning("disk %s: the io source does not see stage %s, it is not watched", name,
                            *s);
        if (!strv_contains(sd->stages, "bio")) {
            log_warning("disk %s: no bio stage from the io source: not watched", name);
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
    if (rt->n_disks == 0)
        return log_error_errno(ENODEV, "no disk to watch");
    return 0;
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
    for (int io = 0; io < _SLOWIO_IOTYPE_MAX; io++)
        if (cfg->iotypes[io])
            json_object_array_add(ops, json_object_new_string(slowio_iotype_to_string(io)));
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
        if (!json_object_object_get_ex(data, rt->disks[i].name, &dj))
            continue;
        p->present[i] = true;
        json_object_object_foreach(dj, stage, iot)
        {
            int st = slowio_stage_from_string(stage);
            if (st < 0)
                continue;
            json_object_object_foreach(iot, ion, v)
            {
                int io = slowio_iotype_from_string(ion);
                if (io < 0 || json_object_array_length(v) < 4)
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
