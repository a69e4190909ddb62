/* io_vocab.h: the io vocabulary the collector, sentryd and the slow-io plugins share: io types
 * (ops), block-layer stages and disk types, each with its one name table (io_vocab.c).
 *
 * Names are the ones of the reference collector and of the plugin configurations; the plugins
 * use a subset (the read and write ops). */
#pragma once

#include <errno.h>

enum io_op {
    IO_OP_READ,
    IO_OP_WRITE,
    IO_OP_FLUSH,
    IO_OP_DISCARD,
    _IO_OP_MAX,
    _IO_OP_INVALID = -EINVAL,
};
const char *io_op_to_string(enum io_op op); /* "read", "write", "flush", "discard"; NULL if out of
                                               range */
int io_op_from_string(const char *s);       /* enum value or -EINVAL */

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
    _IO_STAGE_INVALID = -EINVAL,
};
const char *io_stage_to_string(enum io_stage stage); /* "throtl", ..., "bio", "kyber" */
int io_stage_from_string(const char *s);             /* enum value or -EINVAL */

/* Disk types: they decide the iodump threshold of the collector and the latency limits of the
 * plugins. */
enum disk_type {
    DISK_NVME_SSD,
    DISK_SATA_SSD,
    DISK_SATA_HDD,
    DISK_VIRTUAL, /* loop, virtio, nbd, zram, ...: anything that is not one of the above */
    _DISK_TYPE_MAX,
    _DISK_TYPE_INVALID = -EINVAL,
};
const char *
disk_type_to_string(enum disk_type t);    /* "nvme_ssd", "sata_ssd", "sata_hdd", "virtual" */
int disk_type_from_string(const char *s); /* enum value or -EINVAL */
