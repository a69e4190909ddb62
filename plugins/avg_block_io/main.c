/* avg_block_io: slow-IO detection against a moving average and absolute limits (the reference's
 * avg_block_io, docs/plugins/avg_block_io.md). Each period it feeds every (disk, stage, io type)
 * to its avg_detector and, per disk and io type, raises alarm 1002 once when the bio stage turns
 * slow (with the reason and block_stack of the stages slow with it) and RECOVER when it is not. */
#include <stdio.h>

#include "avg_config.h"
#include "config_msg.h"
#include "json_util.h"
#include "log.h"
#include "slowio_main.h"
#include "slowio_runtime.h"
#include "strv.h"

#define SERIES_MAX 300

/* "bio: [1.0, 2.0], rq_driver: [...]" for one series of every stage of (disk, io). */
static void append_series(const struct avg_disk *d, enum slowio_iotype io, enum avg_series what,
                          char *buf, size_t size)
{
    double v[SERIES_MAX];
    size_t off = 0;

    buf[0] = 0;
    for (size_t i = 0; i < avg_disk_n_detectors(d); i++) {
        const char *stage;
        enum slowio_iotype dio;
        struct avg_detector *det = avg_disk_detector_at(d, i, &stage, &dio);
        if (dio != io)
            continue;
        size_t n = avg_detector_get_series(det, what, v, SERIES_MAX);
        off += (size_t) snprintf(buf + off, off < size ? size - off : 0, "%s%s: [", off ? ", " : "",
                                 stage);
        for (size_t k = 0; k < n; k++)
            off += (size_t) snprintf(buf + off, off < size ? size - off : 0, "%s%.1f",
                                     k ? ", " : "", v[k]);
        off += (size_t) snprintf(buf + off, off < size ? size - off : 0, "]");
    }
}

/* The reference's alarm text (without disk_data). */
static char *alarm_text(const struct avg_disk *d, enum slowio_iotype io,
                        const struct avg_slow_event *ev)
{
    _cleanup_json_ json_object *o = json_object_new_object();
    json_object *details = json_object_new_object();
    char *buf = malloc(16384);

    if (!buf)
        return NULL;
    json_object_object_add(o, "alarm_source", json_object_new_string("avg_block_io"));
    json_object_object_add(o, "driver_name", json_object_new_string(avg_disk_name(d)));
    json_object_object_add(o, "io_type", json_object_new_string(slowio_iotype_to_string(io)));
    json_object_object_add(
        o, "reason",
        json_object_new_string(ev ? slow_reason_to_string(ev->reason, SLOWIO_PLUGIN_AVG_BLOCK_IO)
                                  : "recovered"));
    json_object_object_add(o, "block_stack", json_object_new_string(ev ? ev->block_stack : ""));
    json_object_object_add(o, "alarm_type", json_object_new_string(ev ? ev->alarm_type : ""));
    static const struct {
        enum avg_series s;
        const char *key;
    } series[] = {
        {AVG_SERIES_LATENCY, "latency"}, {AVG_SERIES_IODUMP, "iodump"}, {AVG_SERIES_IOPS, "iops"}};
    for (size_t i = 0; i < ELEMENTSOF(series); i++) {
        append_series(d, io, series[i].s, buf, 16384);
        json_object_object_add(details, series[i].key, json_object_new_string(buf));
    }
    json_object_object_add(o, "details", details);
    size_t len;
    const char *s = json_plain(o, &len);
    /* The alarm text has room for 8191 bytes: long series are cut from the details. */
    if (len > 8000) {
        json_object_object_add(details, "latency", json_object_new_string("(too long)"));
        json_object_object_add(details, "iodump", json_object_new_string("(too long)"));
        json_object_object_add(details, "iops", json_object_new_string("(too long)"));
        s = json_plain(o, &len);
    }
    snprintf(buf, 16384, "%s", s);
    return buf;
}

static int build_disks(struct slowio_runtime *rt, const struct avg_config *cfg,
                       struct avg_disk **disks)
{
    struct avg_params params;
    avg_config_params(cfg, &params);
    for (size_t i = 0; i < rt->n_disks; i++) {
        struct slowio_disk *sd = &rt->disks[i];
        int r = avg_disk_new(sd->name, &params, &disks[i]);
        if (r < 0)
            return r;
        for (char **st = sd->stages; *st; st++)
            for (int io = 0; io < _SLOWIO_IOTYPE_MAX; io++)
                if (cfg->common.iotypes[io] &&
                    (r = avg_disk_add(disks[i], *st, io,
                                      avg_config_limits(cfg, *st, sd->type, io))) < 0)
                    return r;
        _cleanup_free_ char *stages = strv_join(sd->stages, ",");
        log_info("watching %s (%s): stages %s", sd->name, slowio_disk_type_to_string(sd->type),
                 strna(stages));
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct slowio_runtime rt;
    struct config_msgs msgs = {0};
    struct avg_config cfg;
    struct avg_disk *disks[SLOWIO_MAX_DISKS] = {0};
    _cleanup_free_ char *errors = NULL;
    static struct slowio_period period;
    int exit_code = 0, r;

    const char *path = slowio_parse_args(SLOWIO_PLUGIN_AVG_BLOCK_IO, argc, argv, &exit_code);
    if (!path)
        return exit_code;
    log_setup("avg_block_io", LOG_TARGET_STDERR, LOG_INFO);
    slowio_install_signals();
    if (slowio_runtime_open(&rt, SLOWIO_PLUGIN_AVG_BLOCK_IO) < 0)
        return 1;

    r = avg_config_load(path, &cfg, &msgs);
    slowio_log_config_msgs(&msgs, &errors);
    config_msgs_done(&msgs);
    if (r < 0) {
        /* A configuration error is a FAIL result (the reference fails too). */
        slowio_runtime_fail(&rt, errors && *errors ? errors : strerror(-r));
        slowio_runtime_close(&rt);
        return 1;
    }
    log_set_max_level(cfg.common.log_level);
    r = slowio_runtime_resolve(&rt, &cfg.common);
    if (r >= 0)
        r = build_disks(&rt, &cfg, disks);
    if (r < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "cannot start: %s", strerror(-r));
        slowio_runtime_fail(&rt, msg);
        exit_code = 1;
        goto out;
    }
    log_info("avg_block_io: %zu disk(s), period %u s, window %u", rt.n_disks, rt.period_time,
             cfg.windows.win_size);

    while ((r = slowio_runtime_next(&rt, &cfg.common, &period)) >= 0) {
        for (size_t i = 0; i < rt.n_disks; i++) {
            for (int io = 0; io < _SLOWIO_IOTYPE_MAX; io++) {
                char key[SLOWIO_DISK_NAME_MAX + 16];
                if (!cfg.common.iotypes[io])
                    continue;
                snprintf(key, sizeof(key), "%s/%s", rt.disks[i].name, slowio_iotype_to_string(io));
                if (!period.present[i]) {
                    /* The disk is gone: its alarm ends with it. */
                    _cleanup_free_ char *text = alarm_text(disks[i], io, NULL);
                    slowio_runtime_alarm(&rt, key, false, SENTRY_ALARM_MINOR, text ? text : "{}");
                    continue;
                }
                for (char **st = rt.disks[i].stages; *st; st++) {
                    int s = slowio_stage_from_string(*st);
                    if (period.valid[i][s][io])
                        avg_disk_push(disks[i], *st, io, &period.s[i][s][io], NULL);
                }
                struct avg_slow_event ev;
                bool slow = avg_disk_judge(disks[i], io, &ev) == 1;
                _cleanup_free_ char *text = alarm_text(disks[i], io, slow ? &ev : NULL);
                slowio_runtime_alarm(&rt, key, slow, SENTRY_ALARM_MINOR, text ? text : "{}");
            }
        }
    }
    if (r == -EINTR) {
        log_info("stop asked, exiting");
        slowio_runtime_pass(&rt);
    } else
        exit_code = 1;
out:
    for (size_t i = 0; i < SLOWIO_MAX_DISKS; i++)
        avg_disk_free(disks[i]);
    avg_config_done(&cfg);
    slowio_runtime_close(&rt);
    return exit_code;
}
