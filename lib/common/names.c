/* names.c: see names.h. */
#include <ctype.h>
#include <string.h>

#include "names.h"
#include "sentry/sentry.h"

bool task_name_is_valid(const char *name)
{
    size_t n = 0;

    if (!name)
        return false;
    for (const char *p = name; *p; p++, n++)
        if (!isalnum((unsigned char) *p) && *p != '_')
            return false;
    return n > 0 && n <= SENTRY_TASK_NAME_MAX;
}

bool string_is_printable(const char *s, size_t max)
{
    size_t n = 0;

    if (!s)
        return false;
    for (; *s; s++, n++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f || n >= max)
            return false;
    return true;
}
