/* string_table.h: enum <-> string tables. Every enum of the project keeps its names in one
 * array beside it and defines its _to_string/_from_string with this macro. */
#pragma once

#include <errno.h>
#include <string.h>

static inline int string_table_lookup(const char *const *table, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (table[i] && strcmp(table[i], s) == 0)
            return (int) i;
    return -EINVAL;
}

#define DEFINE_STRING_TABLE_LOOKUP(name, type, table, max)        \
    const char *name##_to_string(type v)                          \
    {                                                             \
        return (unsigned) v < (unsigned) (max) ? table[v] : NULL; \
    }                                                             \
    int name##_from_string(const char *s)                         \
    {                                                             \
        return string_table_lookup(table, (size_t) (max), s);     \
    }
