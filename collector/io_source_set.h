/* io_source_set.h: the io sources the collector reads, in order of preference, and the choice of
 * a source per disk and stage.
 *
 * The choice is made per stage, not per source: each read of a disk takes every stage from the
 * first source that measures it on that disk now, so a stage one source cannot see on this kernel
 * (a refused BPF program, a kernel without blk_io_hierarchy) comes from the next one, and
 * diskstats, always there, gives the whole device as stage bio. Every open source keeps counting,
 * so a stage that moves from one source to another resumes at once (the collector skips the one
 * period whose two reads come from different sources). Nothing here runs on its own. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "io_source.h"

#define IO_SOURCE_SPEC_AUTO "auto" /* hierarchy, bpf, diskstats */

/* Parses a source setting: "auto", or kinds in order of preference separated by commas
 * ("bpf,diskstats"), each at most once. Returns how many kinds are in order[], or -EINVAL. */
int io_source_spec_parse(const char *spec, enum io_source_kind order[_IO_SOURCE_KIND_MAX]);

struct io_source_set;

/* Opens every source of the spec that this system has. -EINVAL for a bad spec, -EOPNOTSUPP when
 * none opens (io_source_set_why() of each says why, in the log too). */
int io_source_set_open(const char *spec, const struct io_source_params *p,
                       struct io_source_set **ret);
struct io_source_set *io_source_set_free(struct io_source_set *set);
const char *io_source_set_spec(const struct io_source_set *set);

/* The kinds of the spec, in order: how many, and each with its source (NULL when it could not be
 * opened, io_source_set_why() then says why). */
size_t io_source_set_size(const struct io_source_set *set);
enum io_source_kind io_source_set_kind(const struct io_source_set *set, size_t i);
struct io_source *io_source_set_source(const struct io_source_set *set, size_t i);
const char *io_source_set_why(const struct io_source_set *set, size_t i);

/* Follows a disk with every open source that can see it. -ENODEV when none can. */
int io_source_set_add_disk(struct io_source_set *set, const struct disk_info *d);
void io_source_set_remove_disk(struct io_source_set *set, dev_t devnum);

#define IO_SOURCE_NONE (-1)

/* One read of a disk: per stage, the counters of the best source measuring it now. */
struct io_source_reading {
    struct io_stage_counters c[_IO_STAGE_MAX][_IO_OP_MAX];
    int8_t from[_IO_STAGE_MAX]; /* enum io_source_kind, IO_SOURCE_NONE: no source measures it */
};
/* -ENOENT for a disk not followed; -errno when no source could be read. */
int io_source_set_read(struct io_source_set *set, const struct disk_info *d,
                       struct io_source_reading *out);
/* Up to max iodump details of the disk, each from the source a reading took its stage from. */
int io_source_set_read_dumps(struct io_source_set *set, const struct disk_info *d,
                             const struct io_source_reading *r, char (*out)[IO_DUMP_DETAIL_MAX],
                             size_t max);

/* Why a stage of a disk comes from where it comes from: the source it is taken from now
 * (IO_SOURCE_NONE when none), and for each kind of the spec before it (or every kind, when none
 * measures it), why that one does not (why_not[i] for io_source_set_kind(set, i); "" for the
 * others). */
struct io_stage_origin {
    int from;
    char why_not[_IO_SOURCE_KIND_MAX][IO_SOURCE_WHY_MAX];
};
int io_source_set_explain(struct io_source_set *set, const struct disk_info *d, enum io_stage st,
                          struct io_stage_origin *out);
