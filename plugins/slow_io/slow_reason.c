/* slow_reason.c: the reason table of both slow-IO plugins (see slow_reason.h). */
#include <stdio.h>

#include "macro.h"
#include "slow_reason.h"

/* Rows in the order they are checked; the last row (unknown) has no stages. */
static const struct {
    enum slow_reason reason;
    enum io_stage stages[5];
    size_t n_stages;
} reason_table[] = {
    {SLOW_REASON_IO_PRESS, {IO_STAGE_THROTL, IO_STAGE_WBT, IO_STAGE_IOCOST, IO_STAGE_BFQ}, 4},
    {SLOW_REASON_DRIVER_SLOW, {IO_STAGE_RQ_DRIVER}, 1},
    {SLOW_REASON_KERNEL_SLOW,
     {IO_STAGE_GETTAG, IO_STAGE_PLUG, IO_STAGE_DEADLINE, IO_STAGE_HCTX, IO_STAGE_REQUEUE},
     5},
};

static const char *const reason_names[_SLOW_REASON_MAX][_SLOWIO_PLUGIN_MAX] = {
    [SLOW_REASON_IO_PRESS] = {"IO press", "io_press"},
    [SLOW_REASON_DRIVER_SLOW] = {"driver slow", "driver_slow"},
    [SLOW_REASON_KERNEL_SLOW] = {"kernel slow", "kernel_slow"},
    [SLOW_REASON_UNKNOWN] = {"unknown", "unknown"},
};

const char *slow_reason_to_string(enum slow_reason r, enum slowio_plugin plugin)
{
    if ((unsigned) r >= _SLOW_REASON_MAX || (unsigned) plugin >= _SLOWIO_PLUGIN_MAX)
        return NULL;
    return reason_names[r][plugin];
}

enum slow_reason slow_reason_from_string(const char *s)
{
    for (size_t r = 0; s && r < _SLOW_REASON_MAX; r++)
        for (size_t p = 0; p < _SLOWIO_PLUGIN_MAX; p++)
            if (streq(s, reason_names[r][p]))
                return (enum slow_reason) r;
    return _SLOW_REASON_INVALID;
}

static bool stage_listed(const char *const *stages, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (stages[i] && streq(stages[i], name))
            return true;
    return false;
}

enum slow_reason slow_reason_select(const char *const *slow_stages, size_t n,
                                    const char **ret_stage)
{
    for (size_t row = 0; row < ELEMENTSOF(reason_table); row++)
        for (size_t i = 0; i < reason_table[row].n_stages; i++) {
            const char *name = io_stage_to_string(reason_table[row].stages[i]);
            if (slow_stages && stage_listed(slow_stages, n, name)) {
                if (ret_stage)
                    *ret_stage = name;
                return reason_table[row].reason;
            }
        }
    if (ret_stage)
        *ret_stage = NULL;
    return SLOW_REASON_UNKNOWN;
}

int slow_reason_block_stack(enum slow_reason r, const char *stage, char *buf, size_t size)
{
    int n;

    assert_return(buf && size > 0, -EINVAL);
    assert_return((unsigned) r < _SLOW_REASON_MAX, -EINVAL);
    if (r == SLOW_REASON_UNKNOWN)
        n = snprintf(buf, size, "bio");
    else {
        assert_return(!isempty(stage), -EINVAL);
        n = snprintf(buf, size, "bio,%s", stage);
    }
    return n < 0 ? -EINVAL : (size_t) n >= size ? -ENOBUFS : 0;
}
