/* io_stage.c: name tables of io_stage.h. */
#include <errno.h>

#include "io_stage.h"
#include "macro.h"

static const char *const io_op_table[_IO_OP_MAX] = {
    [IO_OP_READ] = "read",
    [IO_OP_WRITE] = "write",
    [IO_OP_FLUSH] = "flush",
    [IO_OP_DISCARD] = "discard",
};

static const char *const io_stage_table[_IO_STAGE_MAX] = {
    [IO_STAGE_THROTL] = "throtl",     [IO_STAGE_WBT] = "wbt",
    [IO_STAGE_IOCOST] = "iocost",     [IO_STAGE_BFQ] = "bfq",
    [IO_STAGE_GETTAG] = "gettag",     [IO_STAGE_PLUG] = "plug",
    [IO_STAGE_DEADLINE] = "deadline", [IO_STAGE_HCTX] = "hctx",
    [IO_STAGE_REQUEUE] = "requeue",   [IO_STAGE_RQ_DRIVER] = "rq_driver",
    [IO_STAGE_BIO] = "bio",           [IO_STAGE_KYBER] = "kyber",
};

static int table_lookup(const char *const *table, size_t n, const char *s)
{
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (table[i] && streq(table[i], s))
            return (int) i;
    return -EINVAL;
}

const char *io_op_to_string(enum io_op op)
{
    return (unsigned) op < _IO_OP_MAX ? io_op_table[op] : NULL;
}

int io_op_from_string(const char *s)
{
    return table_lookup(io_op_table, _IO_OP_MAX, s);
}

const char *io_stage_to_string(enum io_stage stage)
{
    return (unsigned) stage < _IO_STAGE_MAX ? io_stage_table[stage] : NULL;
}

int io_stage_from_string(const char *s)
{
    return table_lookup(io_stage_table, _IO_STAGE_MAX, s);
}
