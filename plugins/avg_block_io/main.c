/* avg_block_io: slow-IO detection against a moving average and absolute limits (the reference's
 * avg_block_io, docs/plugins/avg_block_io.md). Each period it feeds every (disk, stage, io type)
 * to its avg_detector and, per disk and io type, raises alarm 1002 once when the bio stage turns
 * slow (with the reason and block_stack of the stages slow with it) and RECOVER when it is not. */
#include <stdio.h>

#include "avg_config.h"
#include "json_util.h"
#include "log.h"
#include "slowio_main.h"
#include "strv.h"

#define SERIES_MAX 300

/* "bio: [1.0, 2.0], rq_driver: [...]" for one series of every stage of (disk, io). */
static void append_series(const struct avg_disk *d, enum io_op io, enum avg_series what, char *buf,
                          size_t size)
{
    double v[SERIES_MAX];
    size_t off = 0;

    buf[0] = 0;
    for (size_t i = 0; i < avg_disk_n_detectors(d); i++) {
        const char *stage;
        enum io_op dio;
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
static char *alarm_text(const struct avg_disk *d, enum io_op io, const struct avg_slow_event *ev)
{
    _cleanup_json_ json_object *o = json_object_new_object();
    json_object *details = json_object_new_object();
    char *buf = malloc(16384);

    if (!buf)
        return NULL;
    json_object_object_add(o, "alarm_source", json_object_new_string("avg_block_io"));
    json_object_object_add(o, "driver_name", json_object_new_string(avg_disk_name(d)));
    json_object_object_add(o, "io_type", json_object_new_string(io_op_to_string(io)));
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

struct avg_state {
    struct avg_disk *disks[SLOWIO_MAX_DISKS];
};

static int avg_load(void *cfg, const char *path, struct config_msgs *msgs)
{
    return avg_config_load(path, cfg, msgs);
}

static const struct slowio_common *avg_common(const void *cfg)
{
    return &((const struct avg_config *) cfg)->common;
}

static int avg_build(void *state, struct slowio_runtime *rt, const void *c)
{
    struct avg_state *st = state;
    const struct avg_config *cfg = c;
    struct avg_params params;

    avg_config_params(cfg, &params);
    for (size_t i = 0; i < rt->n_disks; i++) {
        struct slowio_disk *sd = &rt->disks[i];
        int r = avg_disk_new(sd->name, &params, &st->disks[i]);
        if (r < 0)
            return r;
        for (char **stage = sd->stages; *stage; stage++)
            for (int io = 0; io < SLOWIO_IOTYPES; io++)
                if (cfg->common.iotypes[io] &&
                    (r = avg_disk_add(st->disks[i], *stage, io,
                                      avg_config_limits(cfg, *stage, sd->type, io))) < 0)
                    return r;
        _cleanup_free_ char *stages = strv_join(sd->stages, ",");
        log_info("watching %s (%s): stages %s, window %u", sd->name, disk_type_to_string(sd->type),
                 strna(stages), cfg->windows.win_size);
    }
    return 0;
}

/* Per disk and io type: feed the stages, judge the bio stage, raise or clear the alarm. */
static void avg_period(void *state, struct slowio_runtime *rt, const void *c,
                       const struct slowio_period *p)
{
    struct avg_state *st = state;
    const struct avg_config *cfg = c;

    for (size_t i = 0; i < rt->n_disks; i++)
        for (int io = 0; io < SLOWIO_IOTYPES; io++) {
            char key[SLOWIO_DISK_NAME_MAX + 16];
            struct avg_slow_event ev;
            bool slow = false;

            if (!cfg->common.iotypes[io])
                continue;
            snprintf(key, sizeof(key), "%s/%s", rt->disks[i].name, io_op_to_string(io));
            /* A disk that is gone takes its alarm with it. */
            if (p->present[i]) {
                for (char **stage = rt->disks[i].stages; *stage; stage++) {
                    int s = io_stage_from_string(*stage);
                    if (p->valid[i][s][io])
                        avg_disk_push(st->disks[i], *stage, io, &p->s[i][s][io], NULL);
                }
                slow = avg_disk_judge(st->disks[i], io, &ev) == 1;
            }
            _cleanup_free_ char *text = alarm_text(st->disks[i], io, slow ? &ev : NULL);
            slowio_runtime_alarm(rt, key, slow, SENTRY_ALARM_MINOR, text ? text : "{}");
        }
}

static void avg_done(void *state, void *cfg)
{
    struct avg_state *st = state;
    for (size_t i = 0; i < SLOWIO_MAX_DISKS; i++)
        avg_disk_free(st->disks[i]);
    avg_config_done(cfg);
}

int main(int argc, char **argv)
{
    static const struct slowio_plugin_ops ops = {
        .plugin = SLOWIO_PLUGIN_AVG_BLOCK_IO,
        .load = avg_load,
        .common = avg_common,
        .build = avg_build,
        .period = avg_period,
        .done = avg_done,
    };
    struct avg_config cfg = {0};
    struct avg_state state = {0};
    return slowio_main(&ops, &cfg, &state, argc, argv);
}
