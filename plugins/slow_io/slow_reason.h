/* slow_reason.h: why the bio stage of a disk is slow, judged from which other stages are slow
 * at the same time. One table for both plugins; each plugin keeps its own spelling:
 *
 *   rows checked in order         avg_block_io   ai_block_io    avg block_stack
 *   throtl, wbt, iocost, bfq      "IO press"     "io_press"     "bio,<stage>"
 *   rq_driver                     "driver slow"  "driver_slow"  "bio,rq_driver"
 *   gettag, plug, deadline,       "kernel slow"  "kernel_slow"  "bio,<stage>"
 *     hctx, requeue
 *   none of these                 "unknown"      "unknown"      "bio"
 *
 * Within a row the stages are tried in the order listed; the first slow one names the row. */
#pragma once

#include <errno.h>
#include <stddef.h>

#include "slowio_types.h"

enum slow_reason {
    SLOW_REASON_IO_PRESS,
    SLOW_REASON_DRIVER_SLOW,
    SLOW_REASON_KERNEL_SLOW,
    SLOW_REASON_UNKNOWN,
    _SLOW_REASON_MAX,
    _SLOW_REASON_INVALID = -EINVAL,
};

/* The reason as the given plugin sends it in its alarms. */
const char *slow_reason_to_string(enum slow_reason r, enum slowio_plugin plugin);
/* Accepts either plugin's spelling. */
enum slow_reason slow_reason_from_string(const char *s);

/* slow_stages: the names of the stages found slow (any order, may include "bio", n may be 0).
 * Returns the reason; *ret_stage (may be NULL) gets the table's name of the stage that decided
 * it, or NULL for unknown. */
enum slow_reason slow_reason_select(const char *const *slow_stages, size_t n,
                                    const char **ret_stage);

/* The avg_block_io block_stack of a selection: "bio,<stage>" or "bio". -ENOBUFS when it does
 * not fit, -EINVAL when stage is missing for a reason that needs one. */
int slow_reason_block_stack(enum slow_reason r, const char *stage, char *buf, size_t size);
