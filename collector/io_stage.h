/* io_stage.h: the cumulative counters every io source reports for one (stage, op) of one disk.
 * The stages, ops and disk types themselves are the shared io vocabulary (io_vocab.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "io_vocab.h"

struct io_stage_counters { /* cumulative since the source started following the disk */
    uint64_t finished;     /* ios that completed this stage */
    uint64_t latency_ns;   /* sum of the time those ios spent in this stage */
    uint64_t dump;         /* gauge: ios in this stage now for longer than the disk's threshold */
    bool valid;            /* the source can see this stage for this op */
};
