/* cgroup_mount.c: see cgroup_mount.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cgroup_mount.h"
#include "macro.h"

/* Whether the comma list of mount options holds "memory". */
static bool options_have_memory(const char *opts)
{
    size_t n = strlen(opts);
    const char *p = opts;

    while ((p = strstr(p, "memory")) != NULL) {
        bool start = p == opts || p[-1] == ',';
        bool stop = p + 6 == opts + n || p[6] == ',';
        if (start && stop)
            return true;
        p += 6;
    }
    return false;
}

static bool path_valid(const char *dir)
{
    if (dir[0] != '/' || strlen(dir) >= CGROUP_PATH_MAX)
        return false;
    for (const char *p = dir; *p; p++) {
        if (*p == '\n' || *p == '\t')
            return false;
        if (p[0] == '/' && p[1] == '.' &&
            (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
            return false;
    }
    return true;
}

int cgroup_where_find(const char *mounts, size_t len, const char *dir, struct cgroup_where *ret)
{
    const char *p = mounts, *end = mounts + len;
    char d[CGROUP_PATH_MAX];
    size_t best = 0, dl;
    bool found = false;

    assert_return(mounts && dir && ret, -EINVAL);
    if (!path_valid(dir))
        return -EINVAL;
    snprintf(d, sizeof(d), "%s", dir);
    dl = strlen(d);
    while (dl > 1 && d[dl - 1] == '/')
        d[--dl] = '\0';
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t) (end - p)), *start = p;
        size_t ll = (size_t) ((eol ? eol : end) - p);
        char line[2 * CGROUP_PATH_MAX], src[64], mnt[CGROUP_PATH_MAX], type[16], opts[512];

        p = eol ? eol + 1 : end;
        if (ll >= sizeof(line))
            continue;
        memcpy(line, start, ll);
        line[ll] = '\0';
        if (sscanf(line, "%63s %4095s %15s %511s", src, mnt, type, opts) != 4)
            continue;
        int v = streq(type, "cgroup2")                               ? CGROUP_V2
                : streq(type, "cgroup") && options_have_memory(opts) ? CGROUP_V1
                                                                     : 0;
        size_t ml = strlen(mnt);
        if (!v || (found && ml <= best))
            continue;
        /* mount points with spaces are escaped (\040) in the file: they never match, fine */
        if (strncmp(d, mnt, ml) != 0 || (d[ml] != '/' && d[ml] != '\0'))
            continue;
        found = true;
        best = ml;
        ret->version = v;
        snprintf(ret->mount, sizeof(ret->mount), "%s", mnt);
        snprintf(ret->name, sizeof(ret->name), "%s", d[ml] ? d + ml : "/");
    }
    return found ? 0 : -ENOENT;
}
