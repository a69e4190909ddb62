/* slowio_types.h: what both slow-IO plugins share beyond the io vocabulary (io_vocab.h): which
 * plugin, the io types they judge, one period's sample of a (disk, stage, io type) and the limits
 * that judge it. Names are the ones used in configuration files and alarms. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "io_vocab.h"

enum slowio_plugin {
    SLOWIO_PLUGIN_AVG_BLOCK_IO, /* moving average + absolute limits */
    SLOWIO_PLUGIN_AI_BLOCK_IO,  /* learned thresholds */
    _SLOWIO_PLUGIN_MAX,
    _SLOWIO_PLUGIN_INVALID = -EINVAL,
};
const char *slowio_plugin_to_string(enum slowio_plugin p); /* "avg_block_io", "ai_block_io" */
int slowio_plugin_from_string(const char *s);              /* enum value or -EINVAL */

/* Disk types, io types and stages are the shared io vocabulary (io_vocab.h): each disk type has
 * its own [latency_<type>] section. The plugins judge two io types, the first two ops. */
#define SLOWIO_IOTYPES 2
_Static_assert(IO_OP_READ == 0 && IO_OP_WRITE == 1, "the plugins' io types are the first ops");
/* IO_OP_READ or IO_OP_WRITE for "read" or "write"; -EINVAL for anything else (also "flush"). */
int slowio_iotype_from_string(const char *s);

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
