/* limit_table.h: the latency and iodump limits of both slow-IO configuration files, resolved
 * per disk type, io type and stage:
 *   [latency_<type>]  <io>_avg_lim, <io>_avg_time (avg_block_io only), <io>_tot_lim
 *   [iodump]          <io>_iodump_lim, for every disk type
 *   [<stage>_<type>]  any of these keys, for one stage on one disk type; what it leaves out
 *                     comes from the two sections above
 * avg_block_io takes 0..2147483647 everywhere (0 turns a latency window off); ai_block_io wants
 * avg_lim and tot_lim of at least 1 and avg_lim below tot_lim. */
#pragma once

#include <stdbool.h>

#include "slowio_config.h"
#include "slowio_types.h"

/* Upper bound of every limit key. */
#define SLOWIO_LIMIT_MAX 2147483647U

struct limit_table {
    struct slowio_limits base[_DISK_TYPE_MAX][SLOWIO_IOTYPES];
    struct slowio_limits stage[_IO_STAGE_MAX][_DISK_TYPE_MAX][SLOWIO_IOTYPES];
};

/* Fills tab with the defaults and whatever the file sets; complaints go to the parser's
 * messages. Negative errno only for -ENOMEM. */
int limit_table_read(struct slowio_config_parser *p, struct limit_table *tab);

/* The limits of a stage (a name this table does not know gets the disk type's); NULL for bad
 * arguments. */
const struct slowio_limits *limit_table_get(const struct limit_table *t, const char *stage,
                                            enum disk_type type, enum io_op io);

/* Whether section is a [<stage>_<type>] override name. */
bool limit_table_section_is_override(const char *section);
