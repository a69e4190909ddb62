/* avg_detector.h: the detection of avg_block_io.
 *
 * An avg_detector watches one (disk, stage, io type). Its first win_size periods are a warm-up:
 * the values are folded into a cumulative mean and nothing is judged. After that each period is
 *   latency-abnormal when (v > avg × avg_time and v > avg_lim) or v > tot_lim, judged against
 *                    the average before this period;
 *   iodump-abnormal  when iodump > iodump_lim;
 * and the average moves on, avg = (avg × (win_size − 1) + v) / win_size, only with periods that
 * were not latency-abnormal, so a slow spell cannot raise the bar it is judged by. Each kind has
 * a window of the last win_size verdicts; the latency window is slow when at least
 * win_threshold_latency of them are abnormal, the iodump window at win_threshold_iodump. A
 * latency window exists only when avg_lim, avg_time and tot_lim are all non-zero; the iodump
 * window always exists (iodump_lim 0: any stuck io is abnormal).
 *
 * An avg_disk holds the detectors of one disk and makes the per-disk decision: for an io type,
 * only when its bio stage is slow, with the reason from slow_reason.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "slow_reason.h"
#include "slowio_types.h"

struct avg_params {
    size_t win_size;              /* 1..300 */
    size_t win_threshold_latency; /* 1..win_size */
    size_t win_threshold_iodump;  /* 1..win_size */
};

/* The display series every detector keeps (last win_size raw values). */
enum avg_series {
    AVG_SERIES_LATENCY,
    AVG_SERIES_IODUMP,
    AVG_SERIES_IOPS,
    _AVG_SERIES_MAX,
    _AVG_SERIES_INVALID = -EINVAL,
};
const char *avg_series_to_string(enum avg_series s); /* "latency", "iodump", "iops" */
int avg_series_from_string(const char *s);           /* enum value or -EINVAL */

/* What one period turned out to be. */
struct avg_period {
    bool judged;           /* false during the warm-up */
    bool latency_abnormal; /* only with a latency window */
    bool iodump_abnormal;
    double average; /* the average the period was judged against */
};

struct avg_detector;

int avg_detector_new(const struct avg_params *p, const struct slowio_limits *lim,
                     struct avg_detector **ret);
struct avg_detector *avg_detector_free(struct avg_detector *d);
DEFINE_POINTER_CLEANUP(struct avg_detector, avg_detector_free)

/* Feeds one period. ret may be NULL. */
int avg_detector_push(struct avg_detector *d, const struct slowio_sample *s,
                      struct avg_period *ret);

bool avg_detector_has_latency_window(const struct avg_detector *d);
bool avg_detector_is_warm(const struct avg_detector *d);
double avg_detector_average(const struct avg_detector *d);
bool avg_detector_latency_slow(const struct avg_detector *d);
bool avg_detector_iodump_slow(const struct avg_detector *d);
bool avg_detector_is_slow(const struct avg_detector *d); /* either window */
/* The slow windows as the alarm's alarm_type: "latency", "iodump", "latency, iodump" or "". */
int avg_detector_alarm_type(const struct avg_detector *d, char *buf, size_t size);
/* Copies up to n values of a display series, oldest first; returns how many. */
size_t avg_detector_get_series(const struct avg_detector *d, enum avg_series s, double *buf,
                               size_t n);

/* One disk's detectors and decision. */
struct avg_disk;

/* What avg_disk_judge() found for one io type. */
struct avg_slow_event {
    enum slow_reason reason;
    const char *stage; /* the stage that decided the reason; "bio" for unknown */
    char block_stack[SLOWIO_STAGE_NAME_MAX + 8];
    char alarm_type[32]; /* slow windows of that stage, e.g. "latency, iodump" */
};

int avg_disk_new(const char *name, const struct avg_params *p, struct avg_disk **ret);
struct avg_disk *avg_disk_free(struct avg_disk *d);
DEFINE_POINTER_CLEANUP(struct avg_disk, avg_disk_free)

const char *avg_disk_name(const struct avg_disk *d);
/* Adds the detector of (stage, io). -EEXIST when there is one, -EINVAL for a bad stage name. */
int avg_disk_add(struct avg_disk *d, const char *stage, enum io_op io,
                 const struct slowio_limits *lim);
/* The detector of (stage, io), or NULL. */
struct avg_detector *avg_disk_get(const struct avg_disk *d, const char *stage, enum io_op io);
/* Feeds one period of (stage, io); -ENOENT when that detector was not added. */
int avg_disk_push(struct avg_disk *d, const char *stage, enum io_op io,
                  const struct slowio_sample *s, struct avg_period *ret);
/* Returns 1 and fills ret when the bio stage of io is slow, 0 when not. */
int avg_disk_judge(const struct avg_disk *d, enum io_op io, struct avg_slow_event *ret);

/* For walking the detectors in the order they were added (e.g. to build alarm details). */
size_t avg_disk_n_detectors(const struct avg_disk *d);
struct avg_detector *avg_disk_detector_at(const struct avg_disk *d, size_t i,
                                          const char **ret_stage, enum io_op *ret_io);
