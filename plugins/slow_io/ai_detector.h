/* ai_detector.h: the detection of ai_block_io.
 *
 * An ai_detector watches one metric of one (disk, stage, io type) with a threshold and a
 * sliding window:
 *   latency: a learned threshold (boxplot or n_sigma) as the window's AI threshold, tot_lim as
 *            its absolute threshold, avg_lim as its floor; window threshold
 *            win_threshold_latency;
 *   io_dump: an absolute threshold iodump_lim; window threshold win_threshold_iodump;
 *   iops:    no threshold, never abnormal, kept so alarms can show it.
 * Each value first trains the threshold; when that recomputes the threshold the window re-tags
 * its contents, and then the value enters the window.
 *
 * An ai_disk holds every detector of one disk and decides once per period: the disk is slow
 * only when some detector of the bio stage is slow in that period. The alarm then names the
 * slow stages, io types and metrics (comma-joined, each once, in the order the detectors were
 * added) and the reason from slow_reason.h over the slow stages. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "sliding_window.h"
#include "slow_reason.h"
#include "slowio_types.h"
#include "threshold.h"

enum ai_metric {
    AI_METRIC_LATENCY,
    AI_METRIC_IO_DUMP,
    AI_METRIC_IOPS,
    _AI_METRIC_MAX,
    _AI_METRIC_INVALID = -EINVAL,
};
const char *ai_metric_to_string(enum ai_metric m); /* "latency", "io_dump", "iops" */
int ai_metric_from_string(const char *s);          /* enum value or -EINVAL */

struct ai_params {
    enum threshold_type algorithm; /* THRESHOLD_BOXPLOT or THRESHOLD_N_SIGMA */
    double parameter;              /* k or n */
    size_t train_size;             /* samples in the training queue */
    size_t update_size;            /* new samples between recomputations */
    enum window_type win_type;
    size_t win_size;
    size_t win_threshold_latency; /* 1..win_size */
    size_t win_threshold_iodump;  /* 1..win_size */
};

/* What one value did to its detector. */
struct ai_push_result {
    bool abnormal;          /* the value's own tag */
    bool slow;              /* the window's judgement after the value */
    bool threshold_updated; /* the value made the threshold be recomputed */
};

struct ai_detector;

/* lim: avg_lim and tot_lim (0: not set) for latency, iodump_lim for io_dump. */
int ai_detector_new(enum ai_metric metric, const struct ai_params *p,
                    const struct slowio_limits *lim, struct ai_detector **ret);
struct ai_detector *ai_detector_free(struct ai_detector *d);
DEFINE_POINTER_CLEANUP(struct ai_detector, ai_detector_free)

int ai_detector_push(struct ai_detector *d, double value, struct ai_push_result *ret);
enum ai_metric ai_detector_get_metric(const struct ai_detector *d);
bool ai_detector_is_slow(const struct ai_detector *d);
/* The threshold the window judges by (learned, or iodump_lim); -ENODATA while unset or for
 * iops. */
int ai_detector_get_threshold(const struct ai_detector *d, double *ret);
const struct sliding_window *ai_detector_get_window(const struct ai_detector *d);

/* One disk's detectors and decision. */
struct ai_disk;

/* What ai_disk_judge() found; the strings are owned by the event. */
struct ai_slow_event {
    enum slow_reason reason;
    char *block_stack; /* slow stages, e.g. "bio,rq_driver" */
    char *io_type;     /* slow io types, e.g. "read,write" */
    char *alarm_type;  /* slow metrics, e.g. "latency,io_dump" */
};
void ai_slow_event_done(struct ai_slow_event *e);

int ai_disk_new(const char *name, const struct ai_params *p, struct ai_disk **ret);
struct ai_disk *ai_disk_free(struct ai_disk *d);
DEFINE_POINTER_CLEANUP(struct ai_disk, ai_disk_free)

const char *ai_disk_name(const struct ai_disk *d);
/* Adds the latency, io_dump and iops detectors of (stage, io). -EEXIST when they exist,
 * -EINVAL for a bad stage name. */
int ai_disk_add(struct ai_disk *d, const char *stage, enum io_op io,
                const struct slowio_limits *lim);
/* Feeds one period of (stage, io) to its three detectors; results (may be NULL) is indexed by
 * enum ai_metric. -ENOENT when (stage, io) was not added. */
int ai_disk_push(struct ai_disk *d, const char *stage, enum io_op io, const struct slowio_sample *s,
                 struct ai_push_result results[_AI_METRIC_MAX]);
/* Call once per period after the pushes: returns 1 and fills ret when the disk is slow, 0 when
 * not. Only detectors pushed since the previous call count; the call starts the next period. */
int ai_disk_judge(struct ai_disk *d, struct ai_slow_event *ret);

/* For walking the detectors in the order they were added (e.g. to build alarm details). */
size_t ai_disk_n_detectors(const struct ai_disk *d);
struct ai_detector *ai_disk_detector_at(const struct ai_disk *d, size_t i, const char **ret_stage,
                                        enum io_op *ret_io);
