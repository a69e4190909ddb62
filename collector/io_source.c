/* io_source.c: the common part of every io source: parameters, the followed disks, choosing the
 * best available kind, and dispatching to the kind's operations (see io_source.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_source_internal.h"
#include "log.h"
#include "macro.h"
#include "string_table.h"

static const char *const io_source_kind_table[_IO_SOURCE_KIND_MAX] = {
    [IO_SOURCE_HIERARCHY] = "hierarchy",
    [IO_SOURCE_BPF] = "bpf",
    [IO_SOURCE_DISKSTATS] = "diskstats",
};

static const struct io_source_ops *const io_source_ops_table[_IO_SOURCE_KIND_MAX] = {
    [IO_SOURCE_HIERARCHY] = &io_source_hierarchy_ops,
    [IO_SOURCE_BPF] = &io_source_bpf_ops,
    [IO_SOURCE_DISKSTATS] = &io_source_diskstats_ops,
};

DEFINE_STRING_TABLE_LOOKUP(io_source_kind, enum io_source_kind, io_source_kind_table,
                           _IO_SOURCE_KIND_MAX)

int path_printf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    return (size_t) n < size ? 0 : -ENAMETOOLONG;
}

void io_dump_sanitize_task(char *s)
{
    for (; *s; s++)
        if (*s == ',' || (unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
            *s = '_';
}

int io_dump_format(char *buf, size_t size, const char *task, unsigned pid, const char *stage,
                   const char *ptr, uint64_t age_ms)
{
    char t[64];

    snprintf(t, sizeof(t), "%s", isempty(task) ? "null" : task);
    io_dump_sanitize_task(t);
    int n =
        snprintf(buf, size, "%s,%u,%s,%s,%" PRIu64, t, pid, strna(stage), ptr ? ptr : "", age_ms);
    if (n < 0 || (size_t) n >= size)
        return -ENOBUFS;
    return 0;
}

static char *root_dup(const char *root, const char *dflt)
{
    return strdup(isempty(root) ? dflt : root);
}

static struct io_source_disk *disk_find(struct io_source *s, dev_t devnum, size_t *ret_idx)
{
    for (size_t i = 0; i < s->n_disks; i++)
        if (s->disks[i]->info.devnum == devnum) {
            if (ret_idx)
                *ret_idx = i;
            return s->disks[i];
        }
    return NULL;
}

int io_source_unavailable(struct io_source *s, int err, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
    n = strlen(s->why);
    if (err != 0 && n < sizeof(s->why))
        snprintf(s->why + n, sizeof(s->why) - n, ": %s", strerror(abs(err)));
    log_info("io source %s not available: %s", io_source_kind_to_string(s->ops->kind), s->why);
    return -EOPNOTSUPP;
}

int io_source_open(enum io_source_kind kind, const struct io_source_params *p,
                   struct io_source **ret, char *why, size_t why_size)
{
    const struct io_source_ops *ops;
    struct io_source *s;
    int r;

    assert_return((unsigned) kind < _IO_SOURCE_KIND_MAX, -EINVAL);
    assert_return(ret, -EINVAL);
    assert_return(!why || why_size > 0, -EINVAL);

    if (why)
        why[0] = 0;
    ops = io_source_ops_table[kind];
    s = calloc(1, ops->size);
    if (!s)
        return -ENOMEM;
    s->ops = ops;
    s->sysfs_root = root_dup(p ? p->sysfs_root : NULL, "/sys");
    s->procfs_root = root_dup(p ? p->procfs_root : NULL, "/proc");
    s->debugfs_root = root_dup(p ? p->debugfs_root : NULL, "/sys/kernel/debug");
    if (!s->sysfs_root || !s->procfs_root || !s->debugfs_root) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < _DISK_TYPE_MAX; i++)
        s->dump_threshold_ms[i] = p && p->dump_threshold_ms[i] > 0 ? p->dump_threshold_ms[i]
                                                                   : IO_SOURCE_DEFAULT_THRESHOLD_MS;

    /* On failure open() cleans up what it made; only the common part is left here. */
    r = ops->open(s);
    if (r < 0)
        goto fail;
    *ret = s;
    return 0;

fail:
    if (why)
        snprintf(why, why_size, "%s", *s->why ? s->why : strerror(-r));
    free(s->sysfs_root);
    free(s->procfs_root);
    free(s->debugfs_root);
    free(s);
    return r;
}

struct io_source *io_source_close(struct io_source *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n_disks; i++) {
        if (s->ops->remove_disk)
            s->ops->remove_disk(s, s->disks[i]);
        free(s->disks[i]);
    }
    free(s->disks);
    if (s->ops->close)
        s->ops->close(s);
    free(s->sysfs_root);
    free(s->procfs_root);
    free(s->debugfs_root);
    free(s);
    return NULL;
}

const char *io_source_name(const struct io_source *s)
{
    return s ? io_source_kind_to_string(s->ops->kind) : NULL;
}

enum io_source_kind io_source_kind(const struct io_source *s)
{
    return s->ops->kind;
}

int io_source_add_disk(struct io_source *s, const struct disk_info *d)
{
    _cleanup_free_ struct io_source_disk *sd = NULL;
    struct io_source_disk **l;
    int r;

    assert_return(s && d, -EINVAL);
    assert_return(disk_name_is_valid(d->name), -EINVAL);
    assert_return((unsigned) d->type < _DISK_TYPE_MAX, -EINVAL);

    if (disk_find(s, d->devnum, NULL))
        return -EEXIST;

    sd = calloc(1, sizeof(*sd));
    if (!sd)
        return -ENOMEM;
    sd->info = *d;
    sd->threshold_ms = s->dump_threshold_ms[d->type];

    l = reallocarray(s->disks, s->n_disks + 1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    s->disks = l;

    r = s->ops->add_disk(s, sd);
    if (r < 0)
        return r;
    s->disks[s->n_disks++] = TAKE_PTR(sd);
    return 0;
}

void io_source_remove_disk(struct io_source *s, dev_t devnum)
{
    struct io_source_disk *sd;
    size_t i;

    if (!s)
        return;
    sd = disk_find(s, devnum, &i);
    if (!sd)
        return;
    if (s->ops->remove_disk)
        s->ops->remove_disk(s, sd);
    free(sd);
    memmove(s->disks + i, s->disks + i + 1, (s->n_disks - i - 1) * sizeof(*s->disks));
    s->n_disks--;
}

int io_source_read(struct io_source *s, const struct disk_info *d,
                   struct io_stage_counters out[_IO_STAGE_MAX][_IO_OP_MAX])
{
    struct io_source_disk *sd;

    assert_return(s && d && out, -EINVAL);

    sd = disk_find(s, d->devnum, NULL);
    if (!sd)
        return -ENOENT;
    memset(out, 0, sizeof(struct io_stage_counters) * _IO_STAGE_MAX * _IO_OP_MAX);
    return s->ops->read(s, sd, out);
}

int io_source_read_dumps(struct io_source *s, const struct disk_info *d,
                         char (*out)[IO_DUMP_DETAIL_MAX], size_t max)
{
    struct io_source_disk *sd;

    assert_return(s && d && (out || max == 0), -EINVAL);

    sd = disk_find(s, d->devnum, NULL);
    if (!sd)
        return -ENOENT;
    if (max == 0 || !s->ops->read_dumps)
        return 0;
    return s->ops->read_dumps(s, sd, out, max);
}

bool io_source_stage_status(struct io_source *s, const struct disk_info *d, enum io_stage st,
                            char *why, size_t size)
{
    struct io_source_disk *sd;

    assert_return(s && d && why && size > 0, false);
    assert_return((unsigned) st < _IO_STAGE_MAX, false);

    why[0] = 0;
    sd = disk_find(s, d->devnum, NULL);
    if (!sd) {
        snprintf(why, size, "does not follow %s", d->name);
        return false;
    }
    return s->ops->stage_status(s, sd, st, why, size);
}

size_t io_source_parts(struct io_source *s, struct io_source_part *out, size_t max)
{
    if (!s || !s->ops->parts || max == 0)
        return 0;
    return s->ops->parts(s, out, max);
}
