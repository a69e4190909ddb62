/* mem_view_fit.h: the view must fit one protocol line (SENTRY_LINE_MAX with the request around
 * it): rows are dropped from the end of its longest tables until its JSON does. */
#pragma once

#include <stddef.h>

struct json_object;

/* Drops rows from the end of the arrays named in tables (NULL-terminated), the longest first,
 * until the JSON of d is at most max bytes; adds "rows_dropped": N when it dropped any. Returns
 * the rows dropped, or -E2BIG when d does not fit even without them. */
int mem_view_fit(struct json_object *d, const char *const *tables, size_t max);
