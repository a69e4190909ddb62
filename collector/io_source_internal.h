/* io_source_internal.h: what the io source kinds share behind io_source.h.
 *
 * io_source.c owns the list of followed disks and the parameters; each kind supplies an
 * io_source_ops table and keeps its per-disk state in io_source_disk.data. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "io_source.h"

struct io_source_disk {
    struct disk_info info;
    uint64_t threshold_ms; /* iodump threshold for this disk */
    void *data;            /* owned by the source kind */
};

struct io_source_ops {
    enum io_source_kind kind;
    size_t size; /* of the kind's object, which starts with struct io_source */
    /* Checks that the facility exists and sets it up; -EOPNOTSUPP (logged at info) if absent. */
    int (*open)(struct io_source *s);
    void (*close)(struct io_source *s);
    int (*add_disk)(struct io_source *s, struct io_source_disk *d);
    void (*remove_disk)(struct io_source *s, struct io_source_disk *d);
    int (*read)(struct io_source *s, struct io_source_disk *d,
                struct io_stage_counters out[_IO_STAGE_MAX][_IO_OP_MAX]);
    int (*read_dumps)(struct io_source *s, struct io_source_disk *d,
                      char (*out)[IO_DUMP_DETAIL_MAX], size_t max);
    /* Whether the stage of the disk is measured now; otherwise why, one line into why. */
    bool (*stage_status)(struct io_source *s, struct io_source_disk *d, enum io_stage st, char *why,
                         size_t size);
    /* The parts of the source and their states (optional). */
    size_t (*parts)(struct io_source *s, struct io_source_part *out, size_t max);
};

extern const struct io_source_ops io_source_hierarchy_ops;
extern const struct io_source_ops io_source_bpf_ops;
extern const struct io_source_ops io_source_diskstats_ops;

struct io_source {
    const struct io_source_ops *ops;
    char *sysfs_root;   /* "/sys" or the test's tree */
    char *procfs_root;  /* "/proc" or the test's tree */
    char *debugfs_root; /* "/sys/kernel/debug" or the test's tree */
    uint64_t dump_threshold_ms[_DISK_TYPE_MAX];
    struct io_source_disk **disks;
    size_t n_disks;
    char why[IO_SOURCE_WHY_MAX]; /* why open() failed */
};

/* For open(): records why the source cannot be used here (with ": strerror(err)" when err is
 * not 0), logs it at info and returns -EOPNOTSUPP. */
int io_source_unavailable(struct io_source *s, int err, const char *fmt, ...) _printf_(3, 4);

/* snprintf into buf; -ENAMETOOLONG when it does not fit. */
int path_printf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);

/* A kernel counter followed from the moment we start watching it: the sum of its increases,
 * with a drop (the counter was reset, e.g. the device was re-created) counted as a restart from
 * zero, so that what we report never goes backwards. */
struct counter_follow {
    uint64_t last_raw;
    uint64_t total;
};
static inline void counter_follow_init(struct counter_follow *c, uint64_t raw)
{
    c->last_raw = raw;
    c->total = 0;
}
static inline uint64_t counter_follow_update(struct counter_follow *c, uint64_t raw)
{
    c->total += raw >= c->last_raw ? raw - c->last_raw : raw;
    c->last_raw = raw;
    return c->total;
}

/* Replaces what would break a "task,pid,stage,ptr,ms" detail string (',' and non-printable
 * bytes) in a task name, in place. */
void io_dump_sanitize_task(char *s);
/* Formats one detail string; -ENOBUFS when it does not fit. */
int io_dump_format(char *buf, size_t size, const char *task, unsigned pid, const char *stage,
                   const char *ptr, uint64_t age_ms);
