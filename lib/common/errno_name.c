/* errno_name.c: see errno_name.h. glibc knows the names (strerrorname_np, glibc >= 2.32). */
#include <string.h>

#include "errno_name.h"
#include "macro.h"

const char *errno_to_name(int e)
{
    const char *n = strerrorname_np(e < 0 ? -e : e);
    return n ? n : "EIO";
}

int errno_from_name(const char *name)
{
    if (!name)
        return 0;
    for (int e = 1; e < 4096; e++) {
        const char *n = strerrorname_np(e);
        if (n && streq(n, name))
            return e;
    }
    return 0;
}
