/* io_source_diskstats.c: the always-available io source, /proc/diskstats.
 *
 * diskstats counts whole-device requests from the moment the block layer accounts them to their
 * completion, which is the closest thing it has to the life of a bio. The plugins need a "bio"
 * stage, so these figures are reported as stage bio and no other stage is valid:
 *   finished   = ios completed (per op: read, write, and discard and flush where the kernel's
 *                layout has them: 15 and 17 statistic fields),
 *   latency_ns = the ms-spent field of that op × 10⁶ (the field is the sum of the completed
 *                ios' latencies; it is printed as a 32-bit number that wraps, handled here).
 * dump is always 0: diskstats (and /sys/block/<d>/inflight) count ios in flight but do not say
 * for how long they have been in flight, so nothing can be said about the threshold.
 * read_dumps has nothing to say either. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "diskstats.h"
#include "io_source_internal.h"
#include "log.h"
#include "virtual_file.h"

#define DISKSTATS_FILE_MAX (4 * 1024 * 1024)

struct diskstats_disk {
    bool have[_IO_OP_MAX];
    struct counter_follow ios[_IO_OP_MAX];
    uint64_t last_ticks[_IO_OP_MAX]; /* raw 32-bit ms value */
    uint64_t latency_ns[_IO_OP_MAX];
};

struct diskstats_source {
    struct io_source base;
    char path[4096];
};

static int diskstats_read_entry(struct diskstats_source *ds, dev_t devnum,
                                struct diskstats_entry *ret)
{
    _cleanup_free_ char *text = NULL;
    int r;

    r = read_virtual_file(ds->path, DISKSTATS_FILE_MAX, &text, NULL);
    if (r < 0)
        return log_debug_errno(r, "cannot read %s: %m", ds->path);
    r = diskstats_find(text, devnum, ret);
    if (r < 0)
        return -ENODEV;
    return 0;
}

static int diskstats_open(struct io_source *s)
{
    struct diskstats_source *ds = (struct diskstats_source *) s;
    _cleanup_free_ char *text = NULL;
    int r;

    r = path_printf(ds->path, sizeof(ds->path), "%s/diskstats", s->procfs_root);
    if (r < 0)
        return r;
    r = read_virtual_file(ds->path, DISKSTATS_FILE_MAX, &text, NULL);
    if (r < 0)
        return io_source_unavailable(s, r, "cannot read %s", ds->path);
    return 0;
}

static bool diskstats_stage_status(struct io_source *s, struct io_source_disk *d, enum io_stage st,
                                   char *why, size_t size)
{
    if (st == IO_STAGE_BIO)
        return true;
    snprintf(why, size, "diskstats sees the whole device only (stage bio)");
    return false;
}

static void diskstats_disk_start(struct diskstats_disk *dd, const struct diskstats_entry *e)
{
    for (int op = 0; op < _IO_OP_MAX; op++) {
        int fi = diskstats_op_ios_field(op, e->n_fields);
        int ft = diskstats_op_ticks_field(op, e->n_fields);

        dd->have[op] = fi >= 0 && ft >= 0;
        if (!dd->have[op])
            continue;
        counter_follow_init(&dd->ios[op], e->field[fi]);
        dd->last_ticks[op] = e->field[ft];
        dd->latency_ns[op] = 0;
    }
}

static int diskstats_add_disk(struct io_source *s, struct io_source_disk *d)
{
    struct diskstats_source *ds = (struct diskstats_source *) s;
    _cleanup_free_ struct diskstats_disk *dd = NULL;
    struct diskstats_entry e;
    int r;

    r = diskstats_read_entry(ds, d->info.devnum, &e);
    if (r < 0)
        return r;
    dd = calloc(1, sizeof(*dd));
    if (!dd)
        return -ENOMEM;
    diskstats_disk_start(dd, &e);
    d->data = TAKE_PTR(dd);
    return 0;
}

static void diskstats_remove_disk(struct io_source *s, struct io_source_disk *d)
{
    free(d->data);
    d->data = NULL;
}

static int diskstats_read(struct io_source *s, struct io_source_disk *d,
                          struct io_stage_counters out[_IO_STAGE_MAX][_IO_OP_MAX])
{
    struct diskstats_source *ds = (struct diskstats_source *) s;
    struct diskstats_disk *dd = d->data;
    struct diskstats_entry e;
    int r;

    r = diskstats_read_entry(ds, d->info.devnum, &e);
    if (r < 0)
        return r;

    for (int op = 0; op < _IO_OP_MAX; op++) {
        int fi = diskstats_op_ios_field(op, e.n_fields);
        int ft = diskstats_op_ticks_field(op, e.n_fields);
        struct io_stage_counters *c = &out[IO_STAGE_BIO][op];

        if (!dd->have[op] || fi < 0 || ft < 0)
            continue;

        uint64_t ios = e.field[fi], ticks = e.field[ft], dticks;
        if (ios < dd->ios[op].last_raw)
            dticks = ticks; /* the device was re-created: its counters restarted from zero */
        else if (ticks >= dd->last_ticks[op])
            dticks = ticks - dd->last_ticks[op];
        else if (dd->last_ticks[op] <= UINT32_MAX)
            dticks = (uint32_t) ((uint32_t) ticks - (uint32_t) dd->last_ticks[op]); /* wrapped */
        else
            dticks = ticks;
        dd->latency_ns[op] += dticks * 1000000ULL;
        dd->last_ticks[op] = ticks;

        c->finished = counter_follow_update(&dd->ios[op], ios);
        c->latency_ns = dd->latency_ns[op];
        c->dump = 0;
        c->valid = true;
    }
    return 0;
}

const struct io_source_ops io_source_diskstats_ops = {
    .kind = IO_SOURCE_DISKSTATS,
    .size = sizeof(struct diskstats_source),
    .open = diskstats_open,
    .add_disk = diskstats_add_disk,
    .remove_disk = diskstats_remove_disk,
    .read = diskstats_read,
    .stage_status = diskstats_stage_status,
};
