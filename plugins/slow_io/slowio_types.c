/* slowio_types.c: name tables of the shared slow-IO vocabulary (see slowio_types.h). */
#include "macro.h"
#include "slowio_types.h"

static int table_lookup(const char *const *table, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (table[i] && streq(table[i], s))
            return (int) i;
    return -EINVAL;
}

static const char *const plugin_table[_SLOWIO_PLUGIN_MAX] = {
    [SLOWIO_PLUGIN_AVG_BLOCK_IO] = "avg_block_io",
    [SLOWIO_PLUGIN_AI_BLOCK_IO] = "ai_block_io",
};

const char *slowio_plugin_to_string(enum slowio_plugin p)
{
    return (unsigned) p < _SLOWIO_PLUGIN_MAX ? plugin_table[p] : NULL;
}

enum slowio_plugin slowio_plugin_from_string(const char *s)
{
    return table_lookup(plugin_table, _SLOWIO_PLUGIN_MAX, s);
}

static const char *const disk_type_table[_SLOWIO_DISK_TYPE_MAX] = {
    [SLOWIO_DISK_NVME_SSD] = "nvme_ssd",
    [SLOWIO_DISK_SATA_SSD] = "sata_ssd",
    [SLOWIO_DISK_SATA_HDD] = "sata_hdd",
    [SLOWIO_DISK_VIRTUAL] = "virtual",
};

const char *slowio_disk_type_to_string(enum slowio_disk_type t)
{
    return (unsigned) t < _SLOWIO_DISK_TYPE_MAX ? disk_type_table[t] : NULL;
}

enum slowio_disk_type slowio_disk_type_from_string(const char *s)
{
    return table_lookup(disk_type_table, _SLOWIO_DISK_TYPE_MAX, s);
}

static const char *const iotype_table[_SLOWIO_IOTYPE_MAX] = {
    [SLOWIO_IOTYPE_READ] = "read",
    [SLOWIO_IOTYPE_WRITE] = "write",
};

const char *slowio_iotype_to_string(enum slowio_iotype t)
{
    return (unsigned) t < _SLOWIO_IOTYPE_MAX ? iotype_table[t] : NULL;
}

enum slowio_iotype slowio_iotype_from_string(const char *s)
{
    return table_lookup(iotype_table, _SLOWIO_IOTYPE_MAX, s);
}

static const char *const stage_table[_SLOWIO_STAGE_MAX] = {
    [SLOWIO_STAGE_THROTL] = "throtl",     [SLOWIO_STAGE_WBT] = "wbt",
    [SLOWIO_STAGE_IOCOST] = "iocost",     [SLOWIO_STAGE_BFQ] = "bfq",
    [SLOWIO_STAGE_GETTAG] = "gettag",     [SLOWIO_STAGE_PLUG] = "plug",
    [SLOWIO_STAGE_DEADLINE] = "deadline", [SLOWIO_STAGE_HCTX] = "hctx",
    [SLOWIO_STAGE_REQUEUE] = "requeue",   [SLOWIO_STAGE_RQ_DRIVER] = "rq_driver",
    [SLOWIO_STAGE_BIO] = "bio",
};

const char *slowio_stage_to_string(enum slowio_stage s)
{
    return (unsigned) s < _SLOWIO_STAGE_MAX ? stage_table[s] : NULL;
}

enum slowio_stage slowio_stage_from_string(const char *s)
{
    return table_lookup(stage_table, _SLOWIO_STAGE_MAX, s);
}
