/* slowio_config.h: what avg_block_io.ini and ai_block_io.ini share, read once for both:
 *   [log]                level
 *   [common]             disk, stage, iotype, period_time
 *   [algorithm]          win_size, win_threshold_latency, win_threshold_iodump
 * the loading of either file, and the warnings about sections and keys nobody reads (the limit
 * sections are limit_table.h's).
 * The ranges that differ between the plugins are chosen here by the plugin, so both files follow
 * one set of rules. The readers add their complaints to the parser's messages and return a negative
 * errno only for -ENOMEM. */
#pragma once

#include <stdbool.h>

#include "config_read.h"
#include "slowio_types.h"

/* [log] and [common]. */
struct slowio_common {
    int log_level; /* LOG_CRIT..LOG_DEBUG; default LOG_INFO */
    char **disks;  /* NULL: every disk the collector reports ("default") */
    char **stages; /* NULL: every stage the collector reports; else known names, bio among */
    bool iotypes[SLOWIO_IOTYPES]; /* default read and write */
    unsigned period_time;         /* seconds; default 1 */
};
void slowio_common_done(struct slowio_common *c);

/* The window sizes of [algorithm]. */
struct slowio_windows {
    unsigned win_size;              /* 1..300, default 30 */
    unsigned win_threshold_latency; /* 1..win_size, default 6 */
    unsigned win_threshold_iodump;  /* 1..win_size, default 3 */
};

#define SLOWIO_MAX_DISKS 10

struct slowio_config_parser {
    enum slowio_plugin plugin;
    struct config_reader reader;
};

int slowio_config_read_log(struct slowio_config_parser *p, int *ret_level);
int slowio_config_read_common(struct slowio_config_parser *p, struct slowio_common *c);
int slowio_config_read_windows(struct slowio_config_parser *p, struct slowio_windows *w);

/* A plugin's part of loading: reads its sections through p into userdata. */
typedef int (*slowio_config_read_fn)(struct slowio_config_parser *p, void *userdata);

/* Reads the plugin's file at path with read(), then warns about every entry nobody read: keys
 * of the sections both files know, and whole unknown sections. Errors and warnings go to msgs.
 * Returns 0, -EINVAL when the file has errors (see msgs), or another negative errno when it
 * could not be read (also in msgs). */
int slowio_config_load(enum slowio_plugin plugin, const char *path, slowio_config_read_fn read,
                       void *userdata, struct config_msgs *msgs);
