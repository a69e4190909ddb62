/* ai_detector.c: threshold + window detectors of ai_block_io and its per-disk decision (see
 * ai_detector.h). */
#include <math.h>

#include "ai_detector.h"
#include "strv.h"
#include "string_table.h"

struct ai_detector {
    enum ai_metric metric;
    struct threshold *threshold; /* NULL for iops */
    struct sliding_window *window;
};

static const char *const ai_metric_table[_AI_METRIC_MAX] = {
    [AI_METRIC_LATENCY] = "latency",
    [AI_METRIC_IO_DUMP] = "io_dump",
    [AI_METRIC_IOPS] = "iops",
};

DEFINE_STRING_TABLE_LOOKUP(ai_metric, enum ai_metric, ai_metric_table, _AI_METRIC_MAX)

static bool ai_params_valid(const struct ai_params *p)
{
    return (p->algorithm == THRESHOLD_BOXPLOT || p->algorithm == THRESHOLD_N_SIGMA) &&
           isfinite(p->parameter) && p->parameter > 0 && p->train_size >= 1 &&
           p->update_size >= 1 && (unsigned) p->win_type < _WINDOW_TYPE_MAX && p->win_size >= 1 &&
           p->win_threshold_latency >= 1 && p->win_threshold_latency <= p->win_size &&
           p->win_threshold_iodump >= 1 && p->win_threshold_iodump <= p->win_size;
}

static int ai_detector_setup(struct ai_detector *d, const struct ai_params *p,
                             const struct slowio_limits *lim)
{
    int r;

    switch (d->metric) {
    case AI_METRIC_LATENCY:
        r = threshold_new(p->algorithm, p->parameter, p->train_size, p->update_size, &d->threshold);
        if (r < 0)
            return r;
        r = sliding_window_new(p->win_type, p->win_size, p->win_threshold_latency, &d->window);
        if (r < 0)
            return r;
        if (lim->tot_lim > 0)
            (void) sliding_window_set_abs_threshold(d->window, lim->tot_lim);
        if (lim->avg_lim > 0)
            (void) sliding_window_set_avg_lim(d->window, lim->avg_lim);
        return 0;
    case AI_METRIC_IO_DUMP:
        r = threshold_new(THRESHOLD_ABSOLUTE, 0, 0, 0, &d->threshold);
        if (r < 0)
            return r;
        r = sliding_window_new(p->win_type, p->win_size, p->win_threshold_iodump, &d->window);
        if (r < 0)
            return r;
        (void) threshold_set(d->threshold, lim->iodump_lim);
        return sliding_window_set_ai_threshold(d->window, lim->iodump_lim);
    case AI_METRIC_IOPS:
        return sliding_window_new(p->win_type, p->win_size, 1, &d->window);
    default:
        return -EINVAL;
    }
}

int ai_detector_new(enum ai_metric metric, const struct ai_params *p,
                    const struct slowio_limits *lim, struct ai_detector **ret)
{
    _cleanup_(ai_detector_freep) struct ai_detector *d = NULL;
    int r;

    assert_return((unsigned) metric < _AI_METRIC_MAX && p && lim && ret, -EINVAL);
    assert_return(ai_params_valid(p), -EINVAL);

    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->metric = metric;
    r = ai_detector_setup(d, p, lim);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(d);
    return 0;
}

struct ai_detector *ai_detector_free(struct ai_detector *d)
{
    if (d) {
        threshold_free(d->threshold);
        sliding_window_free(d->window);
        free(d);
    }
    return NULL;
}

int ai_detector_push(struct ai_detector *d, double value, struct ai_push_result *ret)
{
    struct ai_push_result res = {};
    double t;
    int r;

    assert_return(d && !isnan(value), -EINVAL);
    if (d->threshold) {
        r = threshold_push(d->threshold, value);
        if (r < 0)
            return r;
        if (r > 0 && threshold_get(d->threshold, &t) >= 0) {
            res.threshold_updated = true;
            r = sliding_window_set_ai_threshold(d->window, t);
            if (r < 0)
                return r;
        }
    }
    r = sliding_window_push(d->window, value, &res.abnormal);
    if (r < 0)
        return r;
    res.slow = r > 0;
    if (ret)
        *ret = res;
    return 0;
}

enum ai_metric ai_detector_get_metric(const struct ai_detector *d)
{
    return d ? d->metric : _AI_METRIC_INVALID;
}

bool ai_detector_is_slow(const struct ai_detector *d)
{
    return d && sliding_window_is_slow(d->window);
}

int ai_detector_get_threshold(const struct ai_detector *d, double *ret)
{
    assert_return(d && ret, -EINVAL);
    if (!d->threshold)
        return -ENODATA;
    return threshold_get(d->threshold, ret);
}

const struct sliding_window *ai_detector_get_window(const struct ai_detector *d)
{
    return d ? d->window : NULL;
}

struct ai_disk_entry {
    char stage[SLOWIO_STAGE_NAME_MAX + 1];
    enum io_op io;
    struct ai_detector *detectors[_AI_METRIC_MAX];
    bool pushed; /* fed since the last judgement */
};

struct ai_disk {
    char name[SLOWIO_DISK_NAME_MAX + 1];
    struct ai_params params;
    struct ai_disk_entry *entries;
    size_t n_entries;
};

void ai_slow_event_done(struct ai_slow_event *e)
{
    if (!e)
        return;
    free(e->block_stack);
    free(e->io_type);
    free(e->alarm_type);
    *e = (struct ai_slow_event){};
}

static bool name_fits(const char *s, size_t max)
{
    return !isempty(s) && strlen(s) <= max;
}

int ai_disk_new(const char *name, const struct ai_params *p, struct ai_disk **ret)
{
    struct ai_disk *d;

    assert_return(name_fits(name, SLOWIO_DISK_NAME_MAX) && p && ret, -EINVAL);
    assert_return(ai_params_valid(p), -EINVAL);
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    strcpy(d->name, name);
    d->params = *p;
    *ret = d;
    return 0;
}

static void ai_disk_entry_done(struct ai_disk_entry *e)
{
    for (size_t m = 0; m < _AI_METRIC_MAX; m++)
        e->detectors[m] = ai_detector_free(e->detectors[m]);
}

struct ai_disk *ai_disk_free(struct ai_disk *d)
{
    if (d) {
        for (size_t i = 0; i < d->n_entries; i++)
            ai_disk_entry_done(&d->entries[i]);
        free(d->entries);
        free(d);
    }
    return NULL;
}

const char *ai_disk_name(const struct ai_disk *d)
{
    return d ? d->name : NULL;
}

static struct ai_disk_entry *ai_disk_find(const struct ai_disk *d, const char *stage, enum io_op io)
{
    for (size_t i = 0; i < d->n_entries; i++)
        if (d->entries[i].io == io && streq(d->entries[i].stage, stage))
            return &d->entries[i];
    return NULL;
}

int ai_disk_add(struct ai_disk *d, const char *stage, enum io_op io,
                const struct slowio_limits *lim)
{
    struct ai_disk_entry e = {}, *entries;
    int r;

    assert_return(d && lim, -EINVAL);
    assert_return(name_fits(stage, SLOWIO_STAGE_NAME_MAX), -EINVAL);
    assert_return((unsigned) io < SLOWIO_IOTYPES, -EINVAL);
    if (ai_disk_find(d, stage, io))
        return -EEXIST;

    strcpy(e.stage, stage);
    e.io = io;
    for (size_t m = 0; m < _AI_METRIC_MAX; m++) {
        r = ai_detector_new((enum ai_metric) m, &d->params, lim, &e.detectors[m]);
        if (r < 0) {
            ai_disk_entry_done(&e);
            return r;
        }
    }
    entries = reallocarray(d->entries, d->n_entries + 1, sizeof(*entries));
    if (!entries) {
        ai_disk_entry_done(&e);
        return -ENOMEM;
    }
    d->entries = entries;
    d->entries[d->n_entries++] = e;
    return 0;
}

int ai_disk_push(struct ai_disk *d, const char *stage, enum io_op io, const struct slowio_sample *s,
                 struct ai_push_result results[_AI_METRIC_MAX])
{
    struct ai_disk_entry *e;
    const double values[_AI_METRIC_MAX] = {
        [AI_METRIC_LATENCY] = s ? s->latency : 0,
        [AI_METRIC_IO_DUMP] = s ? s->iodump : 0,
        [AI_METRIC_IOPS] = s ? s->iops : 0,
    };
    int r;

    assert_return(d && stage && s, -EINVAL);
    e = ai_disk_find(d, stage, io);
    if (!e)
        return -ENOENT;
    for (size_t m = 0; m < _AI_METRIC_MAX; m++) {
        r = ai_detector_push(e->detectors[m], values[m], results ? &results[m] : NULL);
        if (r < 0)
            return r;
    }
    e->pushed = true;
    return 0;
}

static int strv_extend_unique(char ***l, const char *s)
{
    return strv_contains(*l, s) ? 0 : strv_extend(l, s);
}

static int ai_disk_collect(const struct ai_disk *d, char ***stages, char ***ios, char ***metrics)
{
    int r;

    for (size_t i = 0; i < d->n_entries; i++) {
        const struct ai_disk_entry *e = &d->entries[i];
        if (!e->pushed)
            continue;
        for (size_t m = 0; m < _AI_METRIC_MAX; m++) {
            if (!ai_detector_is_slow(e->detectors[m]))
                continue;
            r = strv_extend_unique(stages, e->stage);
            if (r >= 0)
                r = strv_extend_unique(ios, io_op_to_string(e->io));
            if (r >= 0)
                r = strv_extend_unique(metrics, ai_metric_to_string((enum ai_metric) m));
            if (r < 0)
                return r;
        }
    }
    return 0;
}

int ai_disk_judge(struct ai_disk *d, struct ai_slow_event *ret)
{
    _cleanup_strv_free_ char **stages = NULL, **ios = NULL, **metrics = NULL;
    struct ai_slow_event e = {};
    int r;

    assert_return(d && ret, -EINVAL);
    r = ai_disk_collect(d, &stages, &ios, &metrics);
    for (size_t i = 0; i < d->n_entries; i++)
        d->entries[i].pushed = false;
    if (r < 0)
        return r;
    if (!strv_contains(stages, "bio"))
        return 0;

    e.reason =
        slow_reason_select((const char *const *) stages, strv_length(stages), /* ret_stage= */
                           NULL);
    e.block_stack = strv_join(stages, ",");
    e.io_type = strv_join(ios, ",");
    e.alarm_type = strv_join(metrics, ",");
    if (!e.block_stack || !e.io_type || !e.alarm_type) {
        ai_slow_event_done(&e);
        return -ENOMEM;
    }
    *ret = e;
    return 1;
}

size_t ai_disk_n_detectors(const struct ai_disk *d)
{
    return d ? d->n_entries * _AI_METRIC_MAX : 0;
}

struct ai_detector *ai_disk_detector_at(const struct ai_disk *d, size_t i, const char **ret_stage,
                                        enum io_op *ret_io)
{
    const struct ai_disk_entry *e;

    if (!d || i >= d->n_entries * _AI_METRIC_MAX)
        return NULL;
    e = &d->entries[i / _AI_METRIC_MAX];
    if (ret_stage)
        *ret_stage = e->stage;
    if (ret_io)
        *ret_io = e->io;
    return e->detectors[i % _AI_METRIC_MAX];
}
