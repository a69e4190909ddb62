/* ai_block_io: slow-IO detection with learned thresholds (the reference's ai_block_io,
 * docs/plugins/ai_block_io.md). Each period every (disk, stage, io type) trains its thresholds
 * and fills its windows; a disk whose bio stage is slow raises alarm 1002 (MAJOR) once, with
 * the slow stages, io types and metrics, and RECOVER when it is well again. */
#include <math.h>
#include <stdio.h>

#include "ai_config.h"
#include "config_msg.h"
#include "json_util.h"
#include "log.h"
#include "slowio_main.h"
#include "slowio_runtime.h"
#include "strv.h"

#define WINDOW_MAX 300

/* details: {"latency": {"read": {"bio": [..], ...}, "write": {...}}, "io_dump": ..., "iops": ...}
 * with each window's values. */
static json_object *details_json(const struct ai_disk *d)
{
    json_object *o = json_object_new_object();
    double v[WINDOW_MAX];

    for (int m = 0; m < _AI_METRIC_MAX; m++) {
        json_object *per_io = json_object_new_object();
        for (size_t i = 0; i < ai_disk_n_detectors(d); i++) {
            const char *stage;
            enum slowio_iotype io;
            struct ai_detector *det = ai_disk_detector_at(d, i, &stage, &io);
            if ((int) ai_detector_get_metric(det) != m)
                continue;
            const char *ion = slowio_iotype_to_string(io);
            json_object *stages;
            if (!json_object_object_get_ex(per_io, ion, &stages)) {
                stages = json_object_new_object();
                json_object_object_add(per_io, ion, stages);
            }
            size_t n = sliding_window_get_values(ai_detector_get_window(det), v, NULL, WINDOW_MAX);
            json_object *arr = json_object_new_array();
            for (size_t k = 0; k < n; k++) {
                char num[64];
                double x = round(v[k] * 10) / 10;
                snprintf(num, sizeof(num), "%.1f", x);
                json_object_array_add(arr, json_object_new_double_s(x, num));
            }
            json_object_object_add(stages, stage, arr);
        }
        json_object_object_add(o, ai_metric_to_string(m), per_io);
    }
    return o;
}

static char *alarm_text(const struct ai_disk *d, const struct ai_slow_event *ev)
{
    _cleanup_json_ json_object *o = json_object_new_object();
    size_t len;

    json_object_object_add(o, "alarm_source", json_object_new_string("ai_block_io"));
    json_object_object_add(o, "driver_name", json_object_new_string(ai_disk_name(d)));
    json_object_object_add(o, "io_type", json_object_new_string(ev ? ev->io_type : ""));
    json_object_object_add(
        o, "reason",
        json_object_new_string(ev ? slow_reason_to_string(ev->reason, SLOWIO_PLUGIN_AI_BLOCK_IO)
                                  : "recovered"));
    json_object_object_add(o, "block_stack", json_object_new_string(ev ? ev->block_stack : ""));
    json_object_object_add(o, "alarm_type", json_object_new_string(ev ? ev->alarm_type : ""));
    json_object_object_add(o, "details", details_json(d));
    const char *s = json_plain(o, &len);
    if (len > 8000) {
        /* The alarm text has room for 8191 bytes: big windows are left out. */
        json_object_object_add(o, "details", json_object_new_string("(too long)"));
        s = json_plain(o, &len);
    }
    return strdup(s);
}

static int build_disks(struct slowio_runtime *rt, const struct ai_config *cfg,
                       struct ai_disk **disks)
{
    struct ai_params params;
    ai_config_params(cfg, &params);
    for (size_t i = 0; i < rt->n_disks; i++) {
        struct slowio_disk *sd = &rt->disks[i];
        int r = ai_disk_new(sd->name, &params, &disks[i]);
        if (r < 0)
            return r;
        for (char **st = sd->stages; *st; st++)
            for (int io = 0; io < _SLOWIO_IOTYPE_MAX; io++)
                if (cfg->common.iotypes[io] &&
                    (r = ai_disk_add(disks[i], *st, io, ai_config_limits(cfg, *st, sd->type, io))) <
                        0)
                    return r;
        _cleanup_free_ char *stages = strv_join(sd->stages, ",");
        log_info("watching %s (%s): stages %s; training on %zu samples", sd->name,
                 slowio_disk_type_to_string(sd->type), strna(stages), params.train_size);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct slowio_runtime rt;
    struct config_msgs msgs = {0};
    struct ai_config cfg;
    struct ai_disk *disks[SLOWIO_MAX_DISKS] = {0};
    _cleanup_free_ char *errors = NULL;
    static struct slowio_period period;
    int exit_code = 0, r;

    const char *path = slowio_parse_args(SLOWIO_PLUGIN_AI_BLOCK_IO, argc, argv, &exit_code);
    if (!path)
        return exit_code;
    log_setup("ai_block_io", LOG_TARGET_STDERR, LOG_INFO);
    slowio_install_signals();
    if (slowio_runtime_open(&rt, SLOWIO_PLUGIN_AI_BLOCK_IO) < 0)
        return 1;

    r = ai_config_load(path, &cfg, &msgs);
    slowio_log_config_msgs(&msgs, &errors);
    config_msgs_done(&msgs);
    if (r < 0) {
        /* A configuration error is a FAIL result (the reference reports PASS and exits). */
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

    while ((r = slowio_runtime_next(&rt, &cfg.common, &period)) >= 0) {
        for (size_t i = 0; i < rt.n_disks; i++) {
            const char *key = rt.disks[i].name;
            if (!period.present[i]) {
                _cleanup_free_ char *text = alarm_text(disks[i], NULL);
                slowio_runtime_alarm(&rt, key, false, SENTRY_ALARM_MAJOR, text ? text : "{}");
                continue;
            }
            for (char **st = rt.disks[i].stages; *st; st++) {
                int s = slowio_stage_from_string(*st);
                for (int io = 0; io < _SLOWIO_IOTYPE_MAX; io++)
                    if (cfg.common.iotypes[io] && period.valid[i][s][io])
                        ai_disk_push(disks[i], *st, io, &period.s[i][s][io], NULL);
            }
            struct ai_slow_event ev = {0};
            bool slow = ai_disk_judge(disks[i], &ev) == 1;
            _cleanup_free_ char *text = alarm_text(disks[i], slow ? &ev : NULL);
            slowio_runtime_alarm(&rt, key, slow, SENTRY_ALARM_MAJOR, text ? text : "{}");
            ai_slow_event_done(&ev);
        }
    }
    if (r == -EINTR) {
        log_info("stop asked, exiting");
        slowio_runtime_pass(&rt);
    } else
        exit_code = 1;
out:
    for (size_t i = 0; i < SLOWIO_MAX_DISKS; i++)
        ai_disk_free(disks[i]);
    ai_config_done(&cfg);
    slowio_runtime_close(&rt);
    return exit_code;
}
