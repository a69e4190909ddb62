/* mem_vocab.h: the words of mem_sentry: the levels errors are counted at and the page actions,
 * each enum with its names beside it (the names are the configuration's and the alarms'). */
#pragma once

#include <errno.h>

enum mem_level {
    MEM_LEVEL_PAGE,
    MEM_LEVEL_ROW,
    MEM_LEVEL_DIMM,
    MEM_LEVEL_SOCKET,
    _MEM_LEVEL_MAX,
    _MEM_LEVEL_INVALID = -EINVAL,
};
const char *mem_level_to_string(enum mem_level l); /* "page", "row", "dimm", "socket" */
int mem_level_from_string(const char *s);

/* What to do with a page whose corrected errors cross the page threshold (mcelog's words). */
enum mem_action {
    MEM_ACTION_OFF,            /* pages are not tracked at all */
    MEM_ACTION_ACCOUNT,        /* count and alarm, never offline */
    MEM_ACTION_SOFT,           /* soft offline: migrate the data, kill nobody */
    MEM_ACTION_HARD,           /* hard offline: poison, may kill the users */
    MEM_ACTION_SOFT_THEN_HARD, /* hard when soft fails */
    _MEM_ACTION_MAX,
    _MEM_ACTION_INVALID = -EINVAL,
};
const char *mem_action_to_string(enum mem_action a); /* "off", ..., "soft-then-hard" */
int mem_action_from_string(const char *s);
