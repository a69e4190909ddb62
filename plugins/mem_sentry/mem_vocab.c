/* mem_vocab.c: see mem_vocab.h. */
#include "mem_vocab.h"
#include "string_table.h"

static const char *const level_names[_MEM_LEVEL_MAX] = {
    [MEM_LEVEL_PAGE] = "page",
    [MEM_LEVEL_ROW] = "row",
    [MEM_LEVEL_DIMM] = "dimm",
    [MEM_LEVEL_SOCKET] = "socket",
};
DEFINE_STRING_TABLE_LOOKUP(mem_level, enum mem_level, level_names, _MEM_LEVEL_MAX)

static const char *const action_names[_MEM_ACTION_MAX] = {
    [MEM_ACTION_OFF] = "off",
    [MEM_ACTION_ACCOUNT] = "account",
    [MEM_ACTION_SOFT] = "soft",
    [MEM_ACTION_HARD] = "hard",
    [MEM_ACTION_SOFT_THEN_HARD] = "soft-then-hard",
};
DEFINE_STRING_TABLE_LOOKUP(mem_action, enum mem_action, action_names, _MEM_ACTION_MAX)
