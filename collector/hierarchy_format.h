/* hierarchy_format.h: the text formats of openEuler's blk_io_hierarchy debugfs files.
 *
 * <debugfs>/block/<disk>/blk_io_hierarchy/stats has one line per stage the kernel records:
 *   "<stage> R_disp R_done R_lat W_disp W_done W_lat D_disp D_done D_lat F_disp F_done F_lat"
 * (dispatched, completed, latency in ns; read, write, discard, flush in this order, which is the
 * kernel's STAT_* order), followed on kernels with io dump support by four "slow" counters
 * (ios that completed over the threshold: read, write, discard, flush). Request-based stages
 * measure in jiffies, printed as ms × 10⁶.
 *
 * <stage>/io_dump lists the ios now in that stage for longer than <stage>/threshold (ms):
 *   request stages: "<comm>-<pid> <disk> stage <stage> <ptr> {.op=READ, .cmd_flags=..., ...
 *                    started <ns> ns ago}"
 *   bio stages:     "<comm>-<pid> <disk> stage <stage> bio <rwbs> <sector> + <sectors>
 *                    cgroup <path> started <ns> ns ago" */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "io_stage.h"

#define HIERARCHY_STAGE_NAME_MAX 24

struct hierarchy_stats_line {
    char stage[HIERARCHY_STAGE_NAME_MAX];
    uint64_t dispatched[_IO_OP_MAX]; /* indexed by enum io_op */
    uint64_t completed[_IO_OP_MAX];
    uint64_t latency_ns[_IO_OP_MAX];
    bool has_slow;
    uint64_t slow[_IO_OP_MAX];
};

/* Parses one line of stats (without its newline). -EINVAL when the line is not 13 or 17 fields
 * of a stage name and numbers. */
int hierarchy_stats_parse_line(const char *line, struct hierarchy_stats_line *ret);

struct iodump_entry {
    char task[64];
    unsigned pid;
    char disk[32];
    char stage[HIERARCHY_STAGE_NAME_MAX];
    bool is_bio;  /* a bio stage line (no request pointer) */
    char ptr[17]; /* hex request pointer as printed, "" for bio lines */
    int op;       /* enum io_op, or -1 for ops that are none of the four */
    uint64_t age_ns;
};

/* Parses one io_dump line; -EINVAL when it is not one. */
int iodump_parse_line(const char *line, struct iodump_entry *ret);
