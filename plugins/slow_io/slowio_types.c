/* slowio_types.c: name tables of the shared slow-IO vocabulary (see slowio_types.h). */
#include "macro.h"
#include "slowio_types.h"
#include "string_table.h"

static const char *const plugin_table[_SLOWIO_PLUGIN_MAX] = {
    [SLOWIO_PLUGIN_AVG_BLOCK_IO] = "avg_block_io",
    [SLOWIO_PLUGIN_AI_BLOCK_IO] = "ai_block_io",
};

DEFINE_STRING_TABLE_LOOKUP(slowio_plugin, enum slowio_plugin, plugin_table, _SLOWIO_PLUGIN_MAX)

static const char *const disk_type_table[_SLOWIO_DISK_TYPE_MAX] = {
    [SLOWIO_DISK_NVME_SSD] = "nvme_ssd",
    [SLOWIO_DISK_SATA_SSD] = "sata_ssd",
    [SLOWIO_DISK_SATA_HDD] = "sata_hdd",
    [SLOWIO_DISK_VIRTUAL] = "virtual",
};

DEFINE_STRING_TABLE_LOOKUP(slowio_disk_type, enum slowio_disk_type, disk_type_table,
                           _SLOWIO_DISK_TYPE_MAX)

static const char *const iotype_table[_SLOWIO_IOTYPE_MAX] = {
    [SLOWIO_IOTYPE_READ] = "read",
    [SLOWIO_IOTYPE_WRITE] = "write",
};

DEFINE_STRING_TABLE_LOOKUP(slowio_iotype, enum slowio_iotype, iotype_table, _SLOWIO_IOTYPE_MAX)

static const char *const stage_table[_SLOWIO_STAGE_MAX] = {
    [SLOWIO_STAGE_THROTL] = "throtl",     [SLOWIO_STAGE_WBT] = "wbt",
    [SLOWIO_STAGE_IOCOST] = "iocost",     [SLOWIO_STAGE_BFQ] = "bfq",
    [SLOWIO_STAGE_GETTAG] = "gettag",     [SLOWIO_STAGE_PLUG] = "plug",
    [SLOWIO_STAGE_DEADLINE] = "deadline", [SLOWIO_STAGE_HCTX] = "hctx",
    [SLOWIO_STAGE_REQUEUE] = "requeue",   [SLOWIO_STAGE_RQ_DRIVER] = "rq_driver",
    [SLOWIO_STAGE_BIO] = "bio",
};

DEFINE_STRING_TABLE_LOOKUP(slowio_stage, enum slowio_stage, stage_table, _SLOWIO_STAGE_MAX)
