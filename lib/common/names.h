/* names.h: rules for names that arrive from files and clients. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A task name: 1..SENTRY_TASK_NAME_MAX characters of [A-Za-z0-9_] (the reference's ^\w+$ in
 * ASCII). Anything else is refused before it is used in a path or a log field. */
bool task_name_is_valid(const char *name);
/* Printable ASCII without control characters, at most max bytes (for ids, sources, messages that
 * end up in logs). */
bool string_is_printable(const char *s, size_t max);
