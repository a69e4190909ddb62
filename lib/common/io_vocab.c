/* io_vocab.c: the name tables of io_vocab.h. */
#include "io_vocab.h"
#include "macro.h"
#include "string_table.h"

static const char *const io_op_table[_IO_OP_MAX] = {
    [IO_OP_READ] = "read",
    [IO_OP_WRITE] = "write",
    [IO_OP_FLUSH] = "flush",
    [IO_OP_DISCARD] = "discard",
};

DEFINE_STRING_TABLE_LOOKUP(io_op, enum io_op, io_op_table, _IO_OP_MAX)

static const char *const io_stage_table[_IO_STAGE_MAX] = {
    [IO_STAGE_THROTL] = "throtl",     [IO_STAGE_WBT] = "wbt",
    [IO_STAGE_IOCOST] = "iocost",     [IO_STAGE_BFQ] = "bfq",
    [IO_STAGE_GETTAG] = "gettag",     [IO_STAGE_PLUG] = "plug",
    [IO_STAGE_DEADLINE] = "deadline", [IO_STAGE_HCTX] = "hctx",
    [IO_STAGE_REQUEUE] = "requeue",   [IO_STAGE_RQ_DRIVER] = "rq_driver",
    [IO_STAGE_BIO] = "bio",           [IO_STAGE_KYBER] = "kyber",
};

DEFINE_STRING_TABLE_LOOKUP(io_stage, enum io_stage, io_stage_table, _IO_STAGE_MAX)

static const char *const disk_type_table[_DISK_TYPE_MAX] = {
    [DISK_NVME_SSD] = "nvme_ssd",
    [DISK_SATA_SSD] = "sata_ssd",
    [DISK_SATA_HDD] = "sata_hdd",
    [DISK_VIRTUAL] = "virtual",
};

DEFINE_STRING_TABLE_LOOKUP(disk_type, enum disk_type, disk_type_table, _DISK_TYPE_MAX)
