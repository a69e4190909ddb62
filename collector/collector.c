/* collector.c: see collector.h. */
#include <math.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "collector.h"
#include "disk_discovery.h"
#include "io_source_report.h"
#include "io_source_set.h"
#include "log.h"
#include "strv.h"
#include "time_util.h"

#define CELLS (_IO_STAGE_MAX * _IO_OP_MAX)

struct disk_state {
    struct disk_info info;
    struct io_source_reading prev;
    bool valid[_IO_STAGE_MAX][_IO_OP_MAX]; /* in the newest period */
    usec_t prev_time;
    struct io_sample *ring; /* max_save periods of CELLS samples; newest at `head` */
    unsigned head, n;
    char (*dumps)[IO_DUMP_DETAIL_MAX];
    int n_dumps;
};

struct collector {
    sd_event *event;
    struct io_source_params src_params;
    char *source_kind;
    unsigned period_time, max_save, lease;
    char **wanted; /* NULL: every disk */

    struct io_source_set *sources; /* NULL while idle */
    struct disk_discovery *discovery;
    sd_event_source *timer, *monitor;
    usec_t lease_until, next_tick;
    uint64_t ticks; /* periods sampled since the collector started this time */
    struct disk_state *disks;
    size_t n_disks;
};

static bool collector_wants(const struct collector *c, const char *name)
{
    if (!c->wanted)
        return true;
    for (char **p = c->wanted; *p; p++)
        if (streq(*p, name))
            return true;
    return false;
}

static struct disk_state *find_state(const struct collector *c, const char *name)
{
    for (size_t i = 0; i < c->n_disks; i++)
        if (streq(c->disks[i].info.name, name))
            return &c->disks[i];
    return NULL;
}

/* ---- following disks --------------------------------------------------------------------------
 */

static void state_baseline(struct collector *c, struct disk_state *s)
{
    if (io_source_set_read(c->sources, &s->info, &s->prev) < 0) {
        memset(&s->prev, 0, sizeof(s->prev));
        for (int st = 0; st < _IO_STAGE_MAX; st++)
            s->prev.from[st] = IO_SOURCE_NONE;
    }
    for (int st = 0; st < _IO_STAGE_MAX; st++)
        for (int op = 0; op < _IO_OP_MAX; op++)
            s->valid[st][op] = s->prev.c[st][op].valid;
    s->prev_time = now_usec(CLOCK_MONOTONIC);
}

static void collector_add_disk(struct collector *c, const struct disk_info *d)
{
    struct disk_state *n;
    int r;

    if (!collector_wants(c, d->name) || find_state(c, d->name))
        return;
    r = io_source_set_add_disk(c->sources, d);
    if (r < 0) {
        log_warning_errno(r, "collector: no io source can follow disk %s: %m", d->name);
        return;
    }
    n = realloc(c->disks, (c->n_disks + 1) * sizeof(*n));
    if (!n)
        return;
    c->disks = n;
    struct disk_state *s = &c->disks[c->n_disks];
    *s = (struct disk_state){.info = *d};
    s->ring = calloc((size_t) c->max_save * CELLS, sizeof(struct io_sample));
    s->dumps = calloc(COLLECTOR_DUMPS_MAX, IO_DUMP_DETAIL_MAX);
    if (!s->ring || !s->dumps) {
        free(s->ring);
        free(s->dumps);
        io_source_set_remove_disk(c->sources, d->devnum);
        return;
    }
    c->n_disks++;
    state_baseline(c, s);
    log_info("collector: following %s (%s%s%s)", d->name, disk_type_to_string(d->type),
             *d->model ? ", " : "", d->model);
}

static void collector_remove_disk(struct collector *c, const char *name)
{
    struct disk_state *s = find_state(c, name);
    if (!s)
        return;
    io_source_set_remove_disk(c->sources, s->info.devnum);
    free(s->ring);
    free(s->dumps);
    size_t i = (size_t) (s - c->disks);
    memmove(c->disks + i, c->disks + i + 1, (c->n_disks - i - 1) * sizeof(*c->disks));
    c->n_disks--;
    log_info("collector: disk %s gone", name);
}

static void on_disk_event(enum disk_event event, const struct disk_info *d, void *userdata)
{
    struct collector *c = userdata;
    switch (event) {
    case DISK_EVENT_ADDED:
        collector_add_disk(c, d);
        break;
    case DISK_EVENT_REMOVED:
        collector_remove_disk(c, d->name);
        break;
    case DISK_EVENT_CHANGED: {
        /* A loop device with a new backing file is another disk: start over. */
        struct disk_state *s = find_state(c, d->name);
        if (s) {
            collector_remove_disk(c, d->name);
            collector_add_disk(c, d);
        }
        break;
    }
    default:
        break;
    }
}

static int on_monitor(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct collector *c = userdata;
    disk_discovery_process(c->discovery, on_disk_event, c);
    return 0;
}

/* ---- sampling
 * ------------------------------------------------------------------------------------ */

static struct io_sample *ring_slot(const struct collector *c, const struct disk_state *s,
                                   unsigned back)
{
    unsigned idx = (s->head + c->max_save - back) % c->max_save;
    return s->ring + (size_t) idx * CELLS;
}

static void disk_sample(struct collector *c, struct disk_state *s, usec_t now)
{
    struct io_source_reading cur;
    double dt = (double) (now - s->prev_time) / 1e6;
    bool any_dump = false;

    if (io_source_set_read(c->sources, &s->info, &cur) < 0 || dt <= 0)
        return;
    s->head = (s->head + 1) % c->max_save;
    struct io_sample *slot = ring_slot(c, s, 0);
    for (int st = 0; st < _IO_STAGE_MAX; st++) {
        /* a stage whose source changed between the two reads has no figures this period */
        bool same = cur.from[st] != IO_SOURCE_NONE && cur.from[st] == s->prev.from[st];

        for (int op = 0; op < _IO_OP_MAX; op++) {
            const struct io_stage_counters *p = &s->prev.c[st][op], *q = &cur.c[st][op];
            struct io_sample *x = &slot[st * _IO_OP_MAX + op];
            /* Counters only grow; a smaller one means the source started over. */
            uint64_t fin = q->finished >= p->finished ? q->finished - p->finished : 0;
            uint64_t lat = q->latency_ns >= p->latency_ns ? q->latency_ns - p->latency_ns : 0;
            x->latency_us = fin ? (double) lat / (double) fin / 1000.0 : 0;
            x->iops = (double) fin / dt;
            x->io_length = (double) lat / 1e9 / dt;
            x->iodump = q->dump;
            s->valid[st][op] = q->valid && same;
            any_dump |= q->dump > 0;
        }
    }
    s->prev = cur;
    s->prev_time = now;
    if (s->n < c->max_save)
        s->n++;
    s->n_dumps = any_dump ? io_source_set_read_dumps(c->sources, &s->info, &cur, s->dumps,
                                                     COLLECTOR_DUMPS_MAX)
                          : 0;
    if (s->n_dumps < 0)
        s->n_dumps = 0;
}

static void collector_stop(struct collector *c)
{
    if (!c->sources)
        return;
    log_info("collector: nobody asked for io data for %u s, stopping (io sources closed)",
             c->lease);
    while (c->n_disks > 0)
        collector_remove_disk(c, c->disks[c->n_disks - 1].info.name);
    free(c->disks);
    c->disks = NULL;
    c->sources = io_source_set_free(c->sources);
    c->monitor = sd_event_source_disable_unref(c->monitor);
    c->discovery = disk_discovery_free(c->discovery);
    sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct collector *c = userdata;
    usec_t now = now_usec(CLOCK_MONOTONIC);

    if (now > c->lease_until) {
        collector_stop(c);
        return 0;
    }
    for (size_t i = 0; i < c->n_disks; i++)
        disk_sample(c, &c->disks[i], now);
    c->ticks++;
    /* Periods stay aligned to the start even when a wake-up comes late. */
    c->next_tick += (usec_t) c->period_time * USEC_PER_SEC;
    if (c->next_tick <= now)
        c->next_tick = now + (usec_t) c->period_time * USEC_PER_SEC;
    sd_event_source_set_time(src, c->next_tick);
    sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
    return 0;
}

/* One line per disk saying where each stage comes from, for the log. */
static void collector_log_stages(struct collector *c)
{
    for (size_t i = 0; i < c->n_disks; i++) {
        const struct disk_state *s = &c->disks[i];
        char on[512] = "", off[256] = "";
        size_t lon = 0, loff = 0;

        for (int st = 0; st < _IO_STAGE_MAX; st++) {
            int from = s->prev.from[st];
            const char *name = io_stage_to_string(st);

            if (from != IO_SOURCE_NONE && lon < sizeof(on))
                lon += (size_t) snprintf(on + lon, sizeof(on) - lon, " %s=%s", name,
                                         io_source_kind_to_string(from));
            else if (from == IO_SOURCE_NONE && loff < sizeof(off))
                loff += (size_t) snprintf(off + loff, sizeof(off) - loff, " %s", name);
        }
        log_info("collector: %s stages:%s%s%s", s->info.name, on, *off ? "; not measured:" : "",
                 off);
    }
}

static int collector_start(struct collector *c)
{
    _cleanup_free_ struct disk_info *list = NULL;
    size_t n = 0;
    int r;

    r = io_source_set_open(c->source_kind, &c->src_params, &c->sources);
    if (r < 0)
        return log_error_errno(r, "collector: cannot open the io sources '%s': %m", c->source_kind);
    r = disk_discovery_new(&c->discovery);
    if (r >= 0) {
        int fd = disk_discovery_monitor_fd(c->discovery);
        if (fd >= 0)
            (void) sd_event_add_io(c->event, &c->monitor, fd, EPOLLIN, on_monitor, c);
        r = disk_discovery_enumerate(c->discovery, &list, &n);
    }
    if (r < 0) {
        log_error_errno(r, "collector: cannot list the disks: %m");
        c->sources = io_source_set_free(c->sources);
        c->discovery = disk_discovery_free(c->discovery);
        c->monitor = sd_event_source_disable_unref(c->monitor);
        return r;
    }
    for (size_t i = 0; i < n; i++)
        collector_add_disk(c, &list[i]);
    for (char **w = c->wanted; w && *w; w++)
        if (!find_state(c, *w))
            log_warning("collector: disk %s is not here (yet): it is followed when it appears", *w);
    c->next_tick = now_usec(CLOCK_MONOTONIC) + (usec_t) c->period_time * USEC_PER_SEC;
    sd_event_source_set_time(c->timer, c->next_tick);
    sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
    log_info("collector: sampling %zu disk(s) every %u s (io sources: %s)", c->n_disks,
             c->period_time, c->source_kind);
    collector_log_stages(c);
    return 0;
}

int collector_touch(struct collector *c)
{
    c->lease_until = now_usec(CLOCK_MONOTONIC) + (usec_t) c->lease * USEC_PER_SEC;
    return c->sources ? 0 : collector_start(c);
}

/* ---- queries ------------------------------------------------------------------------------------
 */

bool collector_active(const struct collector *c)
{
    return c->sources != NULL;
}

const char *collector_source_spec(const struct collector *c)
{
    return c->source_kind;
}

struct io_source_set *collector_sources(const struct collector *c)
{
    return c->sources;
}

json_object *collector_sources_report(const struct collector *c)
{
    _cleanup_free_ struct disk_info *d = NULL;

    if (!c->sources)
        return NULL;
    d = calloc(c->n_disks ? c->n_disks : 1, sizeof(*d));
    if (!d)
        return NULL;
    for (size_t i = 0; i < c->n_disks; i++)
        d[i] = c->disks[i].info;
    return io_source_report(c->sources, d, c->n_disks);
}

int collector_stage_source(const struct collector *c, const char *disk, enum io_stage stage)
{
    struct disk_state *s = find_state(c, disk);
    if (!s || (unsigned) stage >= _IO_STAGE_MAX)
        return IO_SOURCE_NONE;
    return s->prev.from[stage];
}

uint64_t collector_ticks(const struct collector *c)
{
    return c->ticks;
}

unsigned collector_period_time(const struct collector *c)
{
    return c->period_time;
}

unsigned collector_max_save(const struct collector *c)
{
    return c->max_save;
}

size_t collector_disk_count(const struct collector *c)
{
    return c->n_disks;
}

const struct disk_info *collector_disk(const struct collector *c, size_t i)
{
    return i < c->n_disks ? &c->disks[i].info : NULL;
}

const struct disk_info *collector_find_disk(const struct collector *c, const char *name)
{
    struct disk_state *s = find_state(c, name);
    return s ? &s->info : NULL;
}

bool collector_stage_valid(const struct collector *c, const char *disk, enum io_stage stage)
{
    struct disk_state *s = find_state(c, disk);
    if (!s || (unsigned) stage >= _IO_STAGE_MAX)
        return false;
    for (int op = 0; op < _IO_OP_MAX; op++)
        if (s->valid[stage][op])
            return true;
    return false;
}

unsigned collector_samples(const struct collector *c, const char *disk)
{
    struct disk_state *s = find_state(c, disk);
    return s ? s->n : 0;
}

int collector_sample(const struct collector *c, const char *disk, enum io_stage stage,
                     enum io_op op, unsigned period, struct io_sample *ret)
{
    struct disk_state *s;

    if (period < c->period_time || period % c->period_time || period > c->period_time * c->max_save)
        return -EINVAL;
    s = find_state(c, disk);
    if (!s)
        return -ENOENT;
    if ((unsigned) stage >= _IO_STAGE_MAX || (unsigned) op >= _IO_OP_MAX || !s->valid[stage][op])
        return -ENODATA;
    unsigned back = period / c->period_time - 1;
    if (back >= s->n)
        return -ENODATA;
    *ret = ring_slot(c, s, back)[stage * _IO_OP_MAX + op];
    return 0;
}

int collector_dumps(const struct collector *c, const char *disk,
                    const char (**ret)[IO_DUMP_DETAIL_MAX])
{
    struct disk_state *s = find_state(c, disk);
    if (!s)
        return -ENOENT;
    *ret = (const char(*)[IO_DUMP_DETAIL_MAX]) s->dumps;
    return s->n_dumps;
}

/* ---- life --------------------------------------------------------------------------------------
 */

int collector_new(const struct collector_params *p, struct collector **ret)
{
    struct collector *c = calloc(1, sizeof(*c));
    int r;

    if (!c)
        return -ENOMEM;
    c->event = p->event;
    c->src_params = p->src;
    c->period_time = p->period_time ? p->period_time : 1;
    c->max_save = CLAMP(p->max_save ? p->max_save : 10, 1, COLLECTOR_MAX_SAVE_MAX);
    c->lease = p->lease ? p->lease : 60;
    c->source_kind = strdup(p->source ? p->source : IO_SOURCE_SPEC_AUTO);
    if (c->source_kind) {
        enum io_source_kind order[_IO_SOURCE_KIND_MAX];
        if (io_source_spec_parse(c->source_kind, order) < 0) {
            collector_free(c);
            return -EINVAL;
        }
    }
    c->wanted = p->disks ? strv_copy(p->disks) : NULL;
    if (!c->source_kind || (p->disks && !c->wanted)) {
        collector_free(c);
        return -ENOMEM;
    }
    r = sd_event_add_time(p->event, &c->timer, CLOCK_MONOTONIC, 0, 10 * USEC_PER_MSEC, on_tick, c);
    if (r < 0) {
        collector_free(c);
        return r;
    }
    sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
    *ret = c;
    return 0;
}

struct collector *collector_free(struct collector *c)
{
    if (!c)
        return NULL;
    while (c->n_disks > 0)
        collector_remove_disk(c, c->disks[c->n_disks - 1].info.name);
    free(c->disks);
    io_source_set_free(c->sources);
    sd_event_source_disable_unref(c->monitor);
    disk_discovery_free(c->discovery);
    sd_event_source_disable_unref(c->timer);
    strv_free(c->wanted);
    free(c->source_kind);
    free(c);
    return NULL;
}
