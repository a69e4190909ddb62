/* io_verbs.c: the collector's verbs of the native protocol: io_disks, io_valid, io_query,
 * io_dump. Every one of them keeps sampling going (collector_touch), so a plugin that asks each
 * period keeps the collector awake, and nobody asking lets it sleep. */
#include <math.h>
#include <sys/sysmacros.h>
#include <stdio.h>

#include "collector.h"
#include "daemon.h"
#include "log.h"

#define QUERY_DISKS_MAX  10 /* the reference client's limits */
#define QUERY_STAGES_MAX 15
#define QUERY_OPS_MAX    4
#define QUERY_PERIOD_MAX 90000

static struct collector *req_collector(struct request *r)
{
    struct daemon *d = r->userdata;
    return d->collector;
}

/* A member that is an array of at most max strings, each accepted by ok(); NULL when absent. */
static int get_names(struct request *r, const char *key, size_t max, bool (*ok)(const char *),
                     const char *what, json_object **ret)
{
    json_object *v;

    *ret = NULL;
    if (!json_object_object_get_ex(r->msg, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > max)
        return request_reply_error(r, EINVAL, "member '%s' must be an array of at most %zu %s", key,
                                   max, what);
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string) || !ok(json_object_get_string(e)))
            return request_reply_error(r, EINVAL, "member '%s': '%.64s' is not a %s", key,
                                       json_object_is_type(e, json_type_string)
                                           ? json_object_get_string(e)
                                           : "(not a string)",
                                       what);
    }
    *ret = v;
    return 0;
}

static bool stage_ok(const char *s)
{
    return io_stage_from_string(s) >= 0;
}

static bool op_ok(const char *s)
{
    return io_op_from_string(s) >= 0;
}

static bool disk_ok(const char *s)
{
    return disk_name_is_valid(s);
}

static bool list_has(json_object *list, const char *s)
{
    for (size_t i = 0; list && i < json_object_array_length(list); i++)
        if (streq(json_object_get_string(json_object_array_get_idx(list, i)), s))
            return true;
    return false;
}

/* Starts (or keeps) sampling; answers the request when no source can be opened. */
static int touch(struct request *r, struct collector **ret)
{
    struct collector *c = req_collector(r);
    if (!c)
        return request_reply_error(r, ENOTSUP,
                                   "the io collector is disabled ([collector] "
                                   "enabled = no)");
    int k = collector_touch(c);
    if (k < 0)
        return request_reply_error(r, k, "no io source can be opened on this system: %s",
                                   strerror(-k));
    *ret = c;
    return 0;
}

/* The reference stores figures rounded to one decimal, as integers when integral. */
static json_object *json_figure(double v)
{
    char buf[64];
    double rounded = round(v * 10.0) / 10.0;
    if (rounded == floor(rounded) && fabs(rounded) < 1e15)
        return json_object_new_int64((int64_t) rounded);
    snprintf(buf, sizeof(buf), "%.1f", rounded);
    return json_object_new_double_s(rounded, buf);
}

static json_object *disk_json(struct collector *c, const struct disk_info *d)
{
    json_object *o = json_object_new_object(), *stages = json_object_new_array();
    char devnum[32];

    snprintf(devnum, sizeof(devnum), "%u:%u", major(d->devnum), minor(d->devnum));
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "type", json_object_new_string(disk_type_to_string(d->type)));
    json_object_object_add(o, "model", json_object_new_string(d->model));
    json_object_object_add(o, "serial", json_object_new_string(d->serial));
    json_object_object_add(o, "wwn", json_object_new_string(d->wwn));
    json_object_object_add(o, "rotational", json_object_new_boolean(d->rotational));
    json_object_object_add(o, "devnum", json_object_new_string(devnum));
    json_object *from = json_object_new_object();
    for (int st = 0; st < _IO_STAGE_MAX; st++) {
        int k = collector_stage_source(c, d->name, st);
        if (collector_stage_valid(c, d->name, st))
            json_object_array_add(stages, json_object_new_string(io_stage_to_string(st)));
        if (k != IO_SOURCE_NONE)
            json_object_object_add(from, io_stage_to_string(st),
                                   json_object_new_string(io_source_kind_to_string(k)));
    }
    json_object_object_add(o, "stages", stages);
    json_object_object_add(o, "stage_sources", from);
    json_object_object_add(o, "samples", json_object_new_int((int) collector_samples(c, d->name)));
    return o;
}

static int verb_io_disks(struct request *r)
{
    static const char *const members[] = {NULL};
    struct collector *c;
    int k;

    if ((k = request_check_members(r, members)) < 0 || (k = touch(r, &c)) < 0)
        return k;
    json_object *res = json_object_new_object(), *disks = json_object_new_array();
    for (size_t i = 0; i < collector_disk_count(c); i++)
        json_object_array_add(disks, disk_json(c, collector_disk(c, i)));
    json_object_object_add(res, "source", json_object_new_string(collector_source_spec(c)));
    json_object_object_add(res, "period_time", json_object_new_int((int) collector_period_time(c)));
    json_object_object_add(res, "max_save", json_object_new_int((int) collector_max_save(c)));
    json_object_object_add(res, "disks", disks);
    return request_reply(r, res);
}

/* The reference's IS_IOCOLLECT_VALID: {disk: [stages]}, all disks / stages when none given. */
static int verb_io_valid(struct request *r)
{
    static const char *const members[] = {"disks", "stages", NULL};
    json_object *want_disks, *want_stages;
    struct collector *c;
    int k;

    if ((k = request_check_members(r, members)) < 0 ||
        (k = get_names(r, "disks", QUERY_DISKS_MAX, disk_ok, "disk name", &want_disks)) < 0 ||
        (k = get_names(r, "stages", QUERY_STAGES_MAX, stage_ok, "stage", &want_stages)) < 0 ||
        (k = touch(r, &c)) < 0)
        return k;
    json_object *res = json_object_new_object(), *disks = json_object_new_object();
    for (size_t i = 0; i < collector_disk_count(c); i++) {
        const struct disk_info *d = collector_disk(c, i);
        if (want_disks && json_object_array_length(want_disks) && !list_has(want_disks, d->name))
            continue;
        json_object *stages = json_object_new_array();
        for (int st = 0; st < _IO_STAGE_MAX; st++) {
            const char *name = io_stage_to_string(st);
            if (collector_stage_valid(c, d->name, st) &&
                (!want_stages || !json_object_array_length(want_stages) ||
                 list_has(want_stages, name)))
                json_object_array_add(stages, json_object_new_string(name));
        }
        json_object_object_add(disks, d->name, stages);
    }
    json_object_object_add(res, "disks", disks);
    return request_reply(r, res);
}

/* The reference's GET_IO_DATA: {disk: {stage: {iotype: [latency, iodump, io_length, iops]}}}
 * from period/period_time periods back. */
static int verb_io_query(struct request *r)
{
    static const char *const members[] = {"disks", "stages", "iotypes", "period", NULL};
    json_object *disks, *stages, *ops;
    struct collector *c;
    uint64_t period = 0;
    int k;

    if ((k = request_check_members(r, members)) < 0 ||
        (k = get_names(r, "disks", QUERY_DISKS_MAX, disk_ok, "disk name", &disks)) < 0 ||
        (k = get_names(r, "stages", QUERY_STAGES_MAX, stage_ok, "stage", &stages)) < 0 ||
        (k = get_names(r, "iotypes", QUERY_OPS_MAX, op_ok, "io type", &ops)) < 0 ||
        (k = request_get_uint64(r, "period", true, QUERY_PERIOD_MAX, &period)) < 0)
        return k;
    if (!disks || !ops)
        return request_reply_error(r, EINVAL, "members 'disks' and 'iotypes' are required");
    if ((k = touch(r, &c)) < 0)
        return k;
    unsigned pt = collector_period_time(c), ms = collector_max_save(c);
    if (period < pt || period % pt || period > (uint64_t) pt * ms)
        return request_reply_error(r, EINVAL,
                                   "period %u is not a multiple of the period time %u s between "
                                   "%u and %u",
                                   (unsigned) period, pt, pt, pt * ms);
    json_object *res = json_object_new_object(), *data = json_object_new_object(),
                *unknown = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(disks); i++) {
        const char *dn = json_object_get_string(json_object_array_get_idx(disks, i));
        if (!collector_find_disk(c, dn)) {
            json_object_array_add(unknown, json_object_new_string(dn));
            continue;
        }
        json_object *dj = json_object_new_object();
        for (int st = 0; st < _IO_STAGE_MAX; st++) {
            const char *sn = io_stage_to_string(st);
            if (stages && json_object_array_length(stages) && !list_has(stages, sn))
                continue;
            json_object *sj = NULL;
            for (size_t o = 0; o < json_object_array_length(ops); o++) {
                const char *on = json_object_get_string(json_object_array_get_idx(ops, o));
                struct io_sample x;
                if (collector_sample(c, dn, st, io_op_from_string(on), (unsigned) period, &x) < 0)
                    continue;
                json_object *v = json_object_new_array();
                json_object_array_add(v, json_figure(x.latency_us));
                json_object_array_add(v, json_object_new_uint64(x.iodump));
                json_object_array_add(v, json_figure(x.io_length));
                json_object_array_add(v, json_figure(x.iops));
                if (!sj)
                    sj = json_object_new_object();
                json_object_object_add(sj, on, v);
            }
            if (sj)
                json_object_object_add(dj, sn, sj);
        }
        json_object_object_add(data, dn, dj);
    }
    json_object_object_add(res, "period", json_object_new_int((int) period));
    json_object_object_add(res, "tick", json_object_new_uint64(collector_ticks(c)));
    json_object_object_add(res, "data", data);
    json_object_object_add(res, "unknown_disks", unknown);
    return request_reply(r, res);
}

/* The reference's GET_IODUMP_DATA: the iodump details of the newest period per disk. */
static int verb_io_dump(struct request *r)
{
    static const char *const members[] = {"disks", NULL};
    json_object *disks;
    struct collector *c;
    int k;

    if ((k = request_check_members(r, members)) < 0 ||
        (k = get_names(r, "disks", QUERY_DISKS_MAX, disk_ok, "disk name", &disks)) < 0 ||
        (k = touch(r, &c)) < 0)
        return k;
    json_object *res = json_object_new_object(), *data = json_object_new_object();
    for (size_t i = 0; i < collector_disk_count(c); i++) {
        const struct disk_info *d = collector_disk(c, i);
        const char(*dumps)[IO_DUMP_DETAIL_MAX];
        if (disks && json_object_array_length(disks) && !list_has(disks, d->name))
            continue;
        int n = collector_dumps(c, d->name, &dumps);
        json_object *list = json_object_new_array();
        for (int j = 0; j < n; j++)
            json_object_array_add(list, json_object_new_string(dumps[j]));
        json_object_object_add(data, d->name, list);
    }
    json_object_object_add(res, "data", data);
    return request_reply(r, res);
}

/* Where each stage of each disk comes from, and why not from the other sources. */
static int verb_io_sources(struct request *r)
{
    static const char *const members[] = {NULL};
    struct collector *c;
    json_object *res;
    int k;

    if ((k = request_check_members(r, members)) < 0 || (k = touch(r, &c)) < 0)
        return k;
    res = collector_sources_report(c);
    if (!res)
        return request_reply_error(r, ENOMEM, "out of memory");
    return request_reply(r, res);
}

const struct verb io_verbs[] = {
    {"io_disks", verb_io_disks, 0, "the disks the collector follows, and its settings"},
    {"io_valid", verb_io_valid, 0, "the stages the io source sees per disk"},
    {"io_query", verb_io_query, 0, "latency, iodump, queue length and iops of a past period"},
    {"io_dump", verb_io_dump, 0, "details of the ios stuck over the threshold, newest period"},
    {"io_sources", verb_io_sources, 0, "where each stage comes from, and why not elsewhere"},
    {NULL, NULL, 0, NULL},
};
