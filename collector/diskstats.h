/* diskstats.h: parsing /proc/diskstats.
 *
 * A line is "major minor name" and then the statistic fields. Kernels have printed 11 fields
 * (before 4.18), 15 (4.18: + discards) and 17 (5.5: + flushes):
 *   1 reads completed   2 reads merged   3 sectors read     4 ms reading
 *   5 writes completed  6 writes merged  7 sectors written  8 ms writing
 *   9 ios in flight    10 ms doing io   11 weighted ms doing io
 *  12 discards completed 13 discards merged 14 sectors discarded 15 ms discarding
 *  16 flushes completed  17 ms flushing
 * The ms fields are printed as 32-bit unsigned numbers and wrap around. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "disk.h"
#include "io_stage.h"

#define DISKSTATS_FIELDS_MAX 17

enum diskstats_field {
    DISKSTATS_READ_IOS,
    DISKSTATS_READ_MERGES,
    DISKSTATS_READ_SECTORS,
    DISKSTATS_READ_TICKS,
    DISKSTATS_WRITE_IOS,
    DISKSTATS_WRITE_MERGES,
    DISKSTATS_WRITE_SECTORS,
    DISKSTATS_WRITE_TICKS,
    DISKSTATS_IN_FLIGHT,
    DISKSTATS_IO_TICKS,
    DISKSTATS_TIME_IN_QUEUE,
    DISKSTATS_DISCARD_IOS,
    DISKSTATS_DISCARD_MERGES,
    DISKSTATS_DISCARD_SECTORS,
    DISKSTATS_DISCARD_TICKS,
    DISKSTATS_FLUSH_IOS,
    DISKSTATS_FLUSH_TICKS,
};

struct diskstats_entry {
    unsigned major, minor;
    char name[DISK_NAME_MAX];
    unsigned n_fields; /* statistic fields present: 11, 15 or 17 (more are ignored) */
    uint64_t field[DISKSTATS_FIELDS_MAX];
};

/* Parses one line. -EINVAL when it is not a diskstats line (too few fields, not numbers, a bad
 * name). */
int diskstats_parse_line(const char *line, struct diskstats_entry *ret);
/* Finds the line of devnum in the text of the whole file; -ENOENT when absent. */
int diskstats_find(const char *text, dev_t devnum, struct diskstats_entry *ret);

/* For each op: the completed-ios field and the ms field, or -1 when this layout lacks them. */
int diskstats_op_ios_field(enum io_op op, unsigned n_fields);
int diskstats_op_ticks_field(enum io_op op, unsigned n_fields);
