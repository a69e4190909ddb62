/* avg_config.h: avg_block_io.ini, parsed and validated.
 *
 *   [log]             level = debug|info|warning|error|critical          (info)
 *   [common]          disk = default | name,...  (at most 10)            (default)
 *                     stage = default | stage,... (must include bio)     (default)
 *                     iotype = read,write (any of them)                  (read,write)
 *                     period_time = 1..300 s                             (1)
 *   [algorithm]       win_size = 1..300                                  (30)
 *                     win_threshold_latency = 1..win_size                (6)
 *                     win_threshold_iodump = 1..win_size                 (3)
 *   [latency_<type>]  <io>_avg_lim, <io>_avg_time, <io>_tot_lim = 0..2147483647
 *                     type: nvme_ssd, sata_ssd, sata_hdd, virtual
 *   [iodump]          <io>_iodump_lim = 0..2147483647                     (0)
 *   [<stage>_<type>]  any limit key above, for that stage on that disk type
 * Integers are plain decimal digits. Missing sections and keys take their defaults; unknown
 * ones are warned about. Every invalid value is an error. */
#pragma once

#include "avg_detector.h"
#include "config_msg.h"
#include "limit_table.h"
#include "slowio_config.h"

struct avg_config {
    struct slowio_common common;
    struct slowio_windows windows;
    struct limit_table limits;
};

/* Reads path into *ret (which must be freed with avg_config_done() after success). Errors and
 * warnings are appended to msgs, never printed. Returns 0, -EINVAL when the file has errors
 * (see msgs), or another negative errno when it could not be read (also in msgs). */
int avg_config_load(const char *path, struct avg_config *ret, struct config_msgs *msgs);
void avg_config_done(struct avg_config *c);

/* The limits of (stage, disk type, io type) with the stage's overrides applied. */
const struct slowio_limits *avg_config_limits(const struct avg_config *c, const char *stage,
                                              enum disk_type type, enum io_op io);
/* The detector parameters of the configuration. */
void avg_config_params(const struct avg_config *c, struct avg_params *ret);
