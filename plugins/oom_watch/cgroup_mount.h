/* cgroup_mount.h: which cgroup hierarchy a directory belongs to, from the text of
 * /proc/self/mounts: its version (v1 "cgroup" with the memory controller, or v2 "cgroup2")
 * and its name inside the hierarchy ("/" for the root, "/jobs/a" below), which is how alarms
 * and /proc/<pid>/cgroup name cgroups. Pure. */
#pragma once

#include <stddef.h>

#define CGROUP_PATH_MAX 4096

enum cgroup_version {
    CGROUP_V1 = 1,
    CGROUP_V2 = 2,
};

struct cgroup_where {
    enum cgroup_version version;
    char name[CGROUP_PATH_MAX];  /* "/" or "/a/b" */
    char mount[CGROUP_PATH_MAX]; /* the hierarchy's mount point */
};

/* dir: an absolute path without "." or ".." parts (trailing '/' allowed). -ENOENT when no cgroup
 * mount holds it (for v1: none with the memory controller), -EINVAL for a bad path. The longest
 * mount point wins. */
int cgroup_where_find(const char *mounts, size_t len, const char *dir, struct cgroup_where *ret);
