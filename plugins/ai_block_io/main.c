/* ai_block_io: slow-IO detection with learned thresholds (the reference's ai_block_io,
 * docs/plugins/ai_block_io.md). Each period every (disk, stage, io type) trains its thresholds
 * and fills its windows; a disk whose bio stage is slow raises alarm 1002 (MAJOR) once, with
 * the slow stages, io types and metrics, and RECOVER when it is well again. */
#include <math.h>
#include <stdio.h>

#include "ai_config.h"
#include "json_util.h"
#include "log.h"
#include "slowio_main.h"
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
            enum io_op io;
            struct ai_detector *det = ai_disk_detector_at(d, i, &stage, &io);
            if ((int) ai_detector_get_metric(det) != m)
                continue;
            const char *ion = io_op_to_string(io);
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

struct ai_state {
    struct ai_disk *disks[SLOWIO_MAX_DISKS];
};

static int ai_load(void *cfg, const char *path, struct config_msgs *msgs)
{
    return ai_config_load(path, cfg, msgs);
}

static const struct slowio_common *ai_common(const void *cfg)
{
    return &((const struct ai_config *) cfg)->common;
}

static int ai_build(void *state, struct slowio_runtime *rt, const void *c)
{
    struct ai_state *st = state;
    const struct ai_config *cfg = c;
    struct ai_params params;

    ai_config_params(cfg, &params);
    for (size_t i = 0; i < rt->n_disks; i++) {
        struct slowio_disk *sd = &rt->disks[i];
        int r = ai_disk_new(sd->name, &params, &st->disks[i]);
        if (r < 0)
            return r;
        for (char **stage = sd->stages; *stage; stage++)
            for (int io = 0; io < SLOWIO_IOTYPES; io++)
                if (cfg->common.iotypes[io] &&
                    (r = ai_disk_add(st->disks[i], *stage, io,
                                     ai_config_limits(cfg, *stage, sd->type, io))) < 0)
                    return r;
        _cleanup_free_ char *stages = strv_join(sd->stages, ",");
        log_info("watching %s (%s): stages %s; training on %zu samples", sd->name,
                 disk_type_to_string(sd->type), strna(stages), params.train_size);
    }
    return 0;
}

/* Per disk: feed every stage and io type, judge once, raise or clear the alarm. */
static void ai_period(void *state, struct slowio_runtime *rt, const void *c,
                      const struct slowio_period *p)
{
    struct ai_state *st = state;
    const struct ai_config *cfg = c;

    for (size_t i = 0; i < rt->n_disks; i++) {
        struct ai_slow_event ev = {0};
        bool slow = false;

        /* A disk that is gone takes its alarm with it. */
        if (p->present[i]) {
            for (char **stage = rt->disks[i].stages; *stage; stage++) {
                int s = io_stage_from_string(*stage);
                for (int io = 0; io < SLOWIO_IOTYPES; io++)
                    if (cfg->common.iotypes[io] && p->valid[i][s][io])
                        ai_disk_push(st->disks[i], *stage, io, &p->s[i][s][io], NULL);
            }
            slow = ai_disk_judge(st->disks[i], &ev) == 1;
        }
        _cleanup_free_ char *text = alarm_text(st->disks[i], slow ? &ev : NULL);
        slowio_runtime_alarm(rt, rt->disks[i].name, slow, SENTRY_ALARM_MAJOR, text ? text : "{}");
        ai_slow_event_done(&ev);
    }
}

static void ai_done(void *state, void *cfg)
{
    struct ai_state *st = state;
    for (size_t i = 0; i < SLOWIO_MAX_DISKS; i++)
        ai_disk_free(st->disks[i]);
    ai_config_done(cfg);
}

int main(int argc, char **argv)
{
    static const struct slowio_plugin_ops ops = {
        .plugin = SLOWIO_PLUGIN_AI_BLOCK_IO,
        .load = ai_load,
        .common = ai_common,
        .build = ai_build,
        .period = ai_period,
        .done = ai_done,
    };
    struct ai_config cfg = {0};
    struct ai_state state = {0};
    return slowio_main(&ops, &cfg, &state, argc, argv);
}
