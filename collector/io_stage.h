/* io_stage.h: the vocabulary of per-stage io statistics: io types (ops), block-layer stages and
 * the cumulative counters every io source reports for one (stage, op) of one disk.
 *
 * Names are the ones of the reference collector and of the plugin configurations. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum io_op {
    IO_OP_READ,
    IO_OP_WRITE,
    IO_OP_FLUSH,
    IO_OP_DISCARD,
    _IO_OP_MAX,
};
const char *
io_op_to_string(enum io_op op); /* "read", "write", "flush", "discard"; NULL if out of range */
int io_op_from_string(const char *s); /* enum value or -EINVAL */

/* Stages in the order an io meets them; bio (the whole life of a bio as its submitter sees it)
 * last among the reference's, then the stages of ours that the reference has no name for. */
enum io_stage {
    IO_STAGE_THROTL,    /* blk-throttle (cgroup io limits) */
    IO_STAGE_WBT,       /* writeback throttling */
    IO_STAGE_IOCOST,    /* iocost controller */
    IO_STAGE_BFQ,       /* in the bfq scheduler */
    IO_STAGE_GETTAG,    /* waiting for a request tag */
    IO_STAGE_PLUG,      /* in the submitter's plug list */
    IO_STAGE_DEADLINE,  /* in the mq-deadline scheduler */
    IO_STAGE_HCTX,      /* on a hardware queue's dispatch path */
    IO_STAGE_REQUEUE,   /* requeued, waiting to be dispatched again */
    IO_STAGE_RQ_DRIVER, /* issued to the driver until completion */
    IO_STAGE_BIO,       /* the whole bio, submission to completion */
    IO_STAGE_KYBER,     /* in the kyber scheduler */
    _IO_STAGE_MAX,
};
const char *io_stage_to_string(enum io_stage stage); /* "throtl", ..., "bio", "kyber" */
int io_stage_from_string(const char *s);             /* enum value or -EINVAL */

struct io_stage_counters { /* cumulative since the source started following the disk */
    uint64_t finished;     /* ios that completed this stage */
    uint64_t latency_ns;   /* sum of the time those ios spent in this stage */
    uint64_t dump;         /* gauge: ios in this stage now for longer than the disk's threshold */
    bool valid;            /* the source can see this stage for this op */
};
