/* avg_detector.c: moving-average detection of avg_block_io and its per-disk decision (see
 * avg_detector.h). Verdict windows start full of "normal", as win_size periods of nothing. */
#include <math.h>
#include <stdio.h>

#include "avg_detector.h"
#include "string_table.h"

/* The last `size` verdicts; always full. */
struct verdict_window {
    bool *flags;
    size_t size, head, abnormal;
};

/* The last `size` raw values; fills up first. */
struct value_ring {
    double *values;
    size_t size, head, length;
};

struct avg_detector {
    struct avg_params params;
    struct slowio_limits lim;
    bool has_latency_window;

    double average;
    size_t count; /* periods folded into the average, up to win_size */

    struct verdict_window latency, iodump;
    struct value_ring series[_AVG_SERIES_MAX];
};

static const char *const avg_series_table[_AVG_SERIES_MAX] = {
    [AVG_SERIES_LATENCY] = "latency",
    [AVG_SERIES_IODUMP] = "iodump",
    [AVG_SERIES_IOPS] = "iops",
};

DEFINE_STRING_TABLE_LOOKUP(avg_series, enum avg_series, avg_series_table, _AVG_SERIES_MAX)

static void verdict_window_push(struct verdict_window *w, bool abnormal)
{
    w->abnormal -= w->flags[w->head];
    w->flags[w->head] = abnormal;
    w->abnormal += abnormal;
    w->head = (w->head + 1) % w->size;
}

static void value_ring_push(struct value_ring *r, double v)
{
    if (r->length < r->size)
        r->values[r->length++] = v;
    else {
        r->values[r->head] = v;
        r->head = (r->head + 1) % r->size;
    }
}

int avg_detector_new(const struct avg_params *p, const struct slowio_limits *lim,
                     struct avg_detector **ret)
{
    _cleanup_(avg_detector_freep) struct avg_detector *d = NULL;

    assert_return(p && lim && ret, -EINVAL);
    assert_return(p->win_size >= 1 && p->win_size <= 100000, -EINVAL);
    assert_return(p->win_threshold_latency >= 1 && p->win_threshold_latency <= p->win_size,
                  -EINVAL);
    assert_return(p->win_threshold_iodump >= 1 && p->win_threshold_iodump <= p->win_size, -EINVAL);

    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->params = *p;
    d->lim = *lim;
    d->has_latency_window = lim->avg_lim > 0 && lim->avg_time > 0 && lim->tot_lim > 0;
    d->latency.size = d->iodump.size = p->win_size;
    d->latency.flags = calloc(p->win_size, sizeof(bool));
    d->iodump.flags = calloc(p->win_size, sizeof(bool));
    if (!d->latency.flags || !d->iodump.flags)
        return -ENOMEM;
    for (size_t i = 0; i < _AVG_SERIES_MAX; i++) {
        d->series[i].size = p->win_size;
        d->series[i].values = calloc(p->win_size, sizeof(double));
        if (!d->series[i].values)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(d);
    return 0;
}

struct avg_detector *avg_detector_free(struct avg_detector *d)
{
    if (d) {
        free(d->latency.flags);
        free(d->iodump.flags);
        for (size_t i = 0; i < _AVG_SERIES_MAX; i++)
            free(d->series[i].values);
        free(d);
    }
    return NULL;
}

static bool latency_is_abnormal(const struct avg_detector *d, double v)
{
    return (v > d->average * d->lim.avg_time && v > d->lim.avg_lim) || v > d->lim.tot_lim;
}

int avg_detector_push(struct avg_detector *d, const struct slowio_sample *s, struct avg_period *ret)
{
    struct avg_period p = {};
    size_t w;

    assert_return(d && s, -EINVAL);
    assert_return(isfinite(s->latency) && isfinite(s->iodump) && isfinite(s->iops), -EINVAL);

    value_ring_push(&d->series[AVG_SERIES_LATENCY], s->latency);
    value_ring_push(&d->series[AVG_SERIES_IODUMP], s->iodump);
    value_ring_push(&d->series[AVG_SERIES_IOPS], s->iops);

    w = d->params.win_size;
    p.average = d->average;
    if (d->count < w) {
        /* Warm-up: learn what normal looks like before judging anything. */
        d->average = (d->average * (double) d->count + s->latency) / (double) (d->count + 1);
        d->count++;
    } else {
        p.judged = true;
        if (d->has_latency_window) {
            p.latency_abnormal = latency_is_abnormal(d, s->latency);
            verdict_window_push(&d->latency, p.latency_abnormal);
        }
        p.iodump_abnormal = s->iodump > d->lim.iodump_lim;
        verdict_window_push(&d->iodump, p.iodump_abnormal);
        if (!p.latency_abnormal)
            d->average = (d->average * (double) (w - 1) + s->latency) / (double) w;
    }
    if (ret)
        *ret = p;
    return 0;
}

bool avg_detector_has_latency_window(const struct avg_detector *d)
{
    return d && d->has_latency_window;
}

bool avg_detector_is_warm(const struct avg_detector *d)
{
    return d && d->count >= d->params.win_size;
}

double avg_detector_average(const struct avg_detector *d)
{
    return d ? d->average : 0;
}

bool avg_detector_latency_slow(const struct avg_detector *d)
{
    return d && d->has_latency_window && d->latency.abnormal >= d->params.win_threshold_latency;
}

bool avg_detector_iodump_slow(const struct avg_detector *d)
{
    return d && d->iodump.abnormal >= d->params.win_threshold_iodump;
}

bool avg_detector_is_slow(const struct avg_detector *d)
{
    return avg_detector_latency_slow(d) || avg_detector_iodump_slow(d);
}

int avg_detector_alarm_type(const struct avg_detector *d, char *buf, size_t size)
{
    bool lat, dump;
    int n;

    assert_return(d && buf && size > 0, -EINVAL);
    lat = avg_detector_latency_slow(d);
    dump = avg_detector_iodump_slow(d);
    n = snprintf(buf, size, "%s%s%s", lat ? "latency" : "", lat && dump ? ", " : "",
                 dump ? "iodump" : "");
    return n < 0 ? -EINVAL : (size_t) n >= size ? -ENOBUFS : 0;
}

size_t avg_detector_get_series(const struct avg_detector *d, enum avg_series s, double *buf,
                               size_t n)
{
    const struct value_ring *r;
    size_t m;

    if (!d || (unsigned) s >= _AVG_SERIES_MAX || !buf)
        return 0;
    r = &d->series[s];
    m = MIN(n, r->length);
    for (size_t i = 0; i < m; i++)
        buf[i] = r->values[(r->head + i) % r->length];
    return m;
}

struct avg_disk_entry {
    char stage[SLOWIO_STAGE_NAME_MAX + 1];
    enum io_op io;
    struct avg_detector *detector;
};

struct avg_disk {
    char name[SLOWIO_DISK_NAME_MAX + 1];
    struct avg_params params;
    struct avg_disk_entry *entries;
    size_t n_entries;
};

static bool name_fits(const char *s, size_t max)
{
    return !isempty(s) && strlen(s) <= max;
}

int avg_disk_new(const char *name, const struct avg_params *p, struct avg_disk **ret)
{
    struct avg_disk *d;

    assert_return(name_fits(name, SLOWIO_DISK_NAME_MAX) && p && ret, -EINVAL);
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    strcpy(d->name, name);
    d->params = *p;
    *ret = d;
    return 0;
}

struct avg_disk *avg_disk_free(struct avg_disk *d)
{
    if (d) {
        for (size_t i = 0; i < d->n_entries; i++)
            avg_detector_free(d->entries[i].detector);
        free(d->entries);
        free(d);
    }
    return NULL;
}

const char *avg_disk_name(const struct avg_disk *d)
{
    return d ? d->name : NULL;
}

struct avg_detector *avg_disk_get(const struct avg_disk *d, const char *stage, enum io_op io)
{
    for (size_t i = 0; d && stage && i < d->n_entries; i++)
        if (d->entries[i].io == io && streq(d->entries[i].stage, stage))
            return d->entries[i].detector;
    return NULL;
}

int avg_disk_add(struct avg_disk *d, const char *stage, enum io_op io,
                 const struct slowio_limits *lim)
{
    _cleanup_(avg_detector_freep) struct avg_detector *det = NULL;
    struct avg_disk_entry *e;
    int r;

    assert_return(d && lim, -EINVAL);
    assert_return(name_fits(stage, SLOWIO_STAGE_NAME_MAX), -EINVAL);
    assert_return((unsigned) io < SLOWIO_IOTYPES, -EINVAL);
    if (avg_disk_get(d, stage, io))
        return -EEXIST;

    r = avg_detector_new(&d->params, lim, &det);
    if (r < 0)
        return r;
    e = reallocarray(d->entries, d->n_entries + 1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    d->entries = e;
    e = &d->entries[d->n_entries++];
    strcpy(e->stage, stage);
    e->io = io;
    e->detector = TAKE_PTR(det);
    return 0;
}

int avg_disk_push(struct avg_disk *d, const char *stage, enum io_op io,
                  const struct slowio_sample *s, struct avg_period *ret)
{
    struct avg_detector *det;

    assert_return(d && stage && s, -EINVAL);
    det = avg_disk_get(d, stage, io);
    if (!det)
        return -ENOENT;
    return avg_detector_push(det, s, ret);
}

int avg_disk_judge(const struct avg_disk *d, enum io_op io, struct avg_slow_event *ret)
{
    _cleanup_free_ const char **slow = NULL;
    const struct avg_detector *bio, *decider;
    const char *stage;
    size_t n = 0;
    int r;

    assert_return(d && ret, -EINVAL);
    bio = avg_disk_get(d, "bio", io);
    if (!bio || !avg_detector_is_slow(bio))
        return 0;

    slow = calloc(d->n_entries, sizeof(char *));
    if (!slow)
        return -ENOMEM;
    for (size_t i = 0; i < d->n_entries; i++)
        if (d->entries[i].io == io && avg_detector_is_slow(d->entries[i].detector))
            slow[n++] = d->entries[i].stage;

    *ret = (struct avg_slow_event){};
    ret->reason = slow_reason_select(slow, n, &stage);
    ret->stage = stage ? stage : "bio";
    r = slow_reason_block_stack(ret->reason, stage, ret->block_stack, sizeof(ret->block_stack));
    if (r < 0)
        return r;
    decider = avg_disk_get(d, ret->stage, io);
    r = avg_detector_alarm_type(decider, ret->alarm_type, sizeof(ret->alarm_type));
    if (r < 0)
        return r;
    return 1;
}

size_t avg_disk_n_detectors(const struct avg_disk *d)
{
    return d ? d->n_entries : 0;
}

struct avg_detector *avg_disk_detector_at(const struct avg_disk *d, size_t i,
                                          const char **ret_stage, enum io_op *ret_io)
{
    if (!d || i >= d->n_entries)
        return NULL;
    if (ret_stage)
        *ret_stage = d->entries[i].stage;
    if (ret_io)
        *ret_io = d->entries[i].io;
    return d->entries[i].detector;
}
