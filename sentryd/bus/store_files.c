/* store_files.c: see store_files.h. */
#include <fcntl.h>
#include <stdio.h>

#include "fileio.h"
#include "macro.h"
#include "store_files.h"

static const char *const companions[] = {"", "-wal", "-shm", "-journal"};

char *store_files_state_path(const char *path)
{
    char *p;
    return asprintf(&p, "%s.state", path) < 0 ? NULL : p;
}

int store_files_move_aside(const char *path, time_t now, char **ret)
{
    _cleanup_free_ char *target = NULL;
    char stamp[32];
    struct tm tm;

    if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
        return -EINVAL;
    /* A free name: the same second may have seen a damaged store already. */
    for (int n = 0; n < 100 && !target; n++) {
        if ((n ? asprintf(&target, "%s.damaged-%s-%d", path, stamp, n)
               : asprintf(&target, "%s.damaged-%s", path, stamp)) < 0)
            return -ENOMEM;
        if (access(target, F_OK) == 0 || errno != ENOENT) {
            free(target);
            target = NULL;
        }
    }
    if (!target)
        return -EEXIST;
    for (size_t i = 0; i < ELEMENTSOF(companions); i++) {
        char from[4096], to[4096];
        if ((size_t) snprintf(from, sizeof(from), "%s%s", path, companions[i]) >= sizeof(from) ||
            (size_t) snprintf(to, sizeof(to), "%s%s", target, companions[i]) >= sizeof(to))
            return -ENAMETOOLONG;
        if (rename(from, to) < 0 && (errno != ENOENT || i == 0))
            return -errno;
    }
    int r = fsync_directory_of(path);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(target);
    return 0;
}
