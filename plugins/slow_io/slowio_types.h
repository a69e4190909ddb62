/* slowio_types.h: the vocabulary both slow-IO plugins share: which plugin, disk types, io types
 * and block-layer stages, each with its name table, plus one period's sample of a
 * (disk, stage, io type). Names are the ones used in configuration files and alarms. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

enum slowio_plugin {
    SLOWIO_PLUGIN_AVG_BLOCK_IO, /* moving average + absolute limits */
    SLOWIO_PLUGIN_AI_BLOCK_IO,  /* learned thresholds */
    _SLOWIO_PLUGIN_MAX,
    _SLOWIO_PLUGIN_INVALID = -EINVAL,
};
const char *slowio_plugin_to_string(enum slowio_plugin p); /* "avg_block_io", "ai_block_io" */
int slowio_plugin_from_string(const char *s);              /* enum value or -EINVAL */

/* Disk types as the collector classifies them; each has its own [latency_<type>] section. */
enum slowio_disk_type {
    SLOWIO_DISK_NVME_SSD,
    SLOWIO_DISK_SATA_SSD,
    SLOWIO_DISK_SATA_HDD,
    SLOWIO_DISK_VIRTUAL, /* loop, virtio, nbd, ...: no reference counterpart */
    _SLOWIO_DISK_TYPE_MAX,
    _SLOWIO_DISK_TYPE_INVALID = -EINVAL,
};
const char *slowio_disk_type_to_string(enum slowio_disk_type t); /* "nvme_ssd", ... */
int slowio_disk_type_from_string(const char *s);                 /* enum value or -EINVAL */

enum slowio_iotype {
    SLOWIO_IOTYPE_READ,
    SLOWIO_IOTYPE_WRITE,
    _SLOWIO_IOTYPE_MAX,
    _SLOWIO_IOTYPE_INVALID = -EINVAL,
};
const char *slowio_iotype_to_string(enum slowio_iotype t); /* "read", "write" */
int slowio_iotype_from_string(const char *s);              /* enum value or -EINVAL */

/* The block-layer stages a configuration may name, in the order an io passes them (bio, the
 * whole path as the submitter sees it, last). */
enum slowio_stage {
    SLOWIO_STAGE_THROTL,
    SLOWIO_STAGE_WBT,
    SLOWIO_STAGE_IOCOST,
    SLOWIO_STAGE_BFQ,
    SLOWIO_STAGE_GETTAG,
    SLOWIO_STAGE_PLUG,
    SLOWIO_STAGE_DEADLINE,
    SLOWIO_STAGE_HCTX,
    SLOWIO_STAGE_REQUEUE,
    SLOWIO_STAGE_RQ_DRIVER,
    SLOWIO_STAGE_BIO,
    _SLOWIO_STAGE_MAX,
    _SLOWIO_STAGE_INVALID = -EINVAL,
};
const char *slowio_stage_to_string(enum slowio_stage s); /* "throtl", ..., "bio" */
int slowio_stage_from_string(const char *s);             /* enum value or -EINVAL */

/* One period of one (disk, stage, io type), as the collector reports it. */
struct slowio_sample {
    double latency; /* average completion latency in the period, µs */
    double iodump;  /* ios in flight longer than the collector's threshold */
    double iops;    /* completions per second */
};

/* Longest names the collector accepts; longer ones are refused where they enter. */
#define SLOWIO_DISK_NAME_MAX  32
#define SLOWIO_STAGE_NAME_MAX 20

/* The limits of one (stage, disk type, io type), from [latency_<type>], [iodump] and the
 * [<stage>_<type>] overrides. 0 in a latency field means "not set". */
struct slowio_limits {
    unsigned avg_lim;    /* µs: below it a period is never slow */
    unsigned avg_time;   /* avg_block_io: slow above avg_time × the moving average */
    unsigned tot_lim;    /* µs: above it a period is always slow */
    unsigned iodump_lim; /* a period is slow with more than this many stuck ios */
};
