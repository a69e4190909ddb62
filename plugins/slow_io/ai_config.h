/* ai_config.h: ai_block_io.ini, parsed and validated.
 *
 *   [log]             level = debug|info|warning|error|critical          (info)
 *   [common]          disk = default | name,...  (at most 10)            (default)
 *                     stage = default | stage,... (must include bio)     (default)
 *                     iotype = read,write (any of them)                  (read,write)
 *                     period_time = 1..90000 s                           (1)
 *   [algorithm]       train_data_duration = (0, 720] h                   (24)
 *                     train_update_duration = (0, train_data_duration] h (2, or half of
 *                                                                         train_data_duration
 *                                                                         when that is below 2)
 *                     algorithm_type = boxplot|n_sigma                   (boxplot)
 *                     boxplot_parameter = (0, 10]                        (1.5)
 *                     n_sigma_parameter = (0, 10]                        (3)
 *                     win_type = not_continuous|continuous|median        (not_continuous)
 *                     win_size = 1..300                                  (30)
 *                     win_threshold_latency = 1..win_size                (6)
 *                     win_threshold_iodump = 1..win_size                 (3)
 *   [latency_<type>]  <io>_avg_lim, <io>_tot_lim = 1..2147483647 µs, avg_lim < tot_lim
 *                     type: nvme_ssd, sata_ssd, sata_hdd, virtual
 *   [iodump]          <io>_iodump_lim = 0..2147483647                     (0)
 *   [<stage>_<type>]  any limit key above, for that stage on that disk type
 * Missing sections and keys take their defaults; unknown ones are warned about. Every invalid
 * value is an error, whether or not the chosen algorithm uses it. */
#pragma once

#include "ai_detector.h"
#include "config_msg.h"
#include "limit_table.h"
#include "slowio_config.h"

struct ai_config {
    struct slowio_common common;
    double train_data_duration;   /* hours */
    double train_update_duration; /* hours */
    enum threshold_type algorithm_type;
    double boxplot_parameter;
    double n_sigma_parameter;
    enum window_type win_type;
    struct slowio_windows windows;
    struct limit_table limits;
};

/* As avg_config_load(), for ai_block_io.ini. */
int ai_config_load(const char *path, struct ai_config *ret, struct config_msgs *msgs);
void ai_config_done(struct ai_config *c);

const struct slowio_limits *ai_config_limits(const struct ai_config *c, const char *stage,
                                             enum disk_type type, enum io_op io);
/* The detector parameters: the chosen algorithm's parameter, and the training queue sizes in
 * samples (duration · 3600 / period_time, truncated, at least 1). */
void ai_config_params(const struct ai_config *c, struct ai_params *ret);
