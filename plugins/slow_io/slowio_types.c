/* slowio_types.c: the plugin names and the io types the plugins judge (see slowio_types.h). */
#include "macro.h"
#include "slowio_types.h"
#include "string_table.h"

static const char *const plugin_table[_SLOWIO_PLUGIN_MAX] = {
    [SLOWIO_PLUGIN_AVG_BLOCK_IO] = "avg_block_io",
    [SLOWIO_PLUGIN_AI_BLOCK_IO] = "ai_block_io",
};

DEFINE_STRING_TABLE_LOOKUP(slowio_plugin, enum slowio_plugin, plugin_table, _SLOWIO_PLUGIN_MAX)

int slowio_iotype_from_string(const char *s)
{
    int op = io_op_from_string(s);

    return op >= 0 && op < SLOWIO_IOTYPES ? op : -EINVAL;
}
