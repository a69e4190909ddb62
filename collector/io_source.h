/* io_source.h: where per-disk, per-stage io counters come from.
 *
 * An io source is one kind of kernel facility read for all followed disks:
 *   hierarchy  openEuler's blk_io_hierarchy debugfs statistics (every stage the kernel has),
 *   bpf        our eBPF programs on block tracepoints and fentry/fexit (stage table in
 *              bpf/io_stages.bpf.c),
 *   diskstats  /proc/diskstats: whole-device figures only, reported as stage "bio".
 * Every read returns counters that only grow (finished, latency_ns) since the source began to
 * follow the disk, plus the dump gauge; the caller turns two reads into per-period figures.
 * Nothing here runs on its own: no thread, no timer. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "disk.h"
#include "io_stage.h"
#include "macro.h"

enum io_source_kind {
    IO_SOURCE_HIERARCHY,
    IO_SOURCE_BPF,
    IO_SOURCE_DISKSTATS,
    _IO_SOURCE_KIND_MAX,
};
const char *io_source_kind_to_string(enum io_source_kind k); /* "hierarchy", "bpf", "diskstats" */
int io_source_kind_from_string(const char *s);               /* enum value or -EINVAL */

struct io_source; /* one kind of source for all disks */

struct io_source_params {
    /* "" or NULL = the real system; tests pass a fake tree */
    const char *sysfs_root;   /* holds block/<disk>/... */
    const char *procfs_root;  /* holds diskstats */
    const char *debugfs_root; /* holds block/<disk>/blk_io_hierarchy/... */
    /* iodump threshold per disk type; 0 = the reference default (1000 ms) */
    uint64_t dump_threshold_ms[_DISK_TYPE_MAX];
};

#define IO_SOURCE_DEFAULT_THRESHOLD_MS 1000
/* Detail strings of io_source_read_dumps(): "task,pid,stage,ptr,ms". */
#define IO_DUMP_DETAIL_MAX 128

#define IO_SOURCE_WHY_MAX 400 /* one line saying why something is not measured */

/* -EOPNOTSUPP when this kind is not available on this system; why (when not NULL) then says
 * why, and the log too. */
int io_source_open(enum io_source_kind kind, const struct io_source_params *p,
                   struct io_source **ret, char *why, size_t why_size);
struct io_source *io_source_close(struct io_source *s);
const char *io_source_name(const struct io_source *s);
enum io_source_kind io_source_kind(const struct io_source *s);

/* Follows a disk from now on. -EEXIST if already followed, -ENOSPC past the source's limit,
 * -ENODEV when this source cannot see that disk. */
int io_source_add_disk(struct io_source *s, const struct disk_info *d);
void io_source_remove_disk(struct io_source *s, dev_t devnum);

/* Fills out[stage][op] for a followed disk (-ENOENT if not followed). Stages and ops the source
 * cannot see have valid = false and zero counters. */
int io_source_read(struct io_source *s, const struct disk_info *d,
                   struct io_stage_counters out[_IO_STAGE_MAX][_IO_OP_MAX]);
/* Up to max iodump detail strings "task,pid,stage,ptr,ms" (reference format) for ios now over
 * the disk's threshold. Returns how many were written; may return 0. */
int io_source_read_dumps(struct io_source *s, const struct disk_info *d,
                         char (*out)[IO_DUMP_DETAIL_MAX], size_t max);

/* Whether the source measures the stage of a followed disk now; when not, why (one line).
 * false with "not followed" for a disk the source does not follow. */
bool io_source_stage_status(struct io_source *s, const struct disk_info *d, enum io_stage st,
                            char *why, size_t size);

/* A part of a source (a BPF program) and its state, for operators. */
struct io_source_part {
    char name[32];  /* "bio_split" */
    char what[64];  /* "tp_btf/block_split" */
    char state[16]; /* "on", "refused", ... */
    char reason[IO_SOURCE_WHY_MAX];
    bool on;
};
/* Fills up to max parts; returns how many. Sources without parts return 0. */
size_t io_source_parts(struct io_source *s, struct io_source_part *out, size_t max);

DEFINE_POINTER_CLEANUP(struct io_source, io_source_close)
#define _cleanup_io_source_ _cleanup_(io_source_closep)
