/* test_util.h: helpers shared by the unit tests: temporary directories removed recursively,
 * files of fake kernel trees written. */
#pragma once

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int test_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

/* Removes a directory tree created by the test itself. */
static inline int test_rm_rf(const char *dir)
{
    return nftw(dir, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates root/rel and the directories above it (those that exist are fine). */
static inline int test_mkdirs(const char *root, const char *rel)
{
    char path[1024];

    if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int) sizeof(path))
        return -1;
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            (void) mkdir(path, 0755);
            *p = '/';
        }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Replaces root/rel with text at once (a new file renamed over it), as the kernel's files change
 * under a reader; creates the directories above it. */
static inline int test_write_file(const char *root, const char *rel, const char *text)
{
    char path[1024], tmp[1040], *slash;
    FILE *f;

    if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int) sizeof(path))
        return -1;
    slash = strrchr(rel, '/');
    if (slash) {
        char dir[1024];
        snprintf(dir, sizeof(dir), "%.*s", (int) (slash - rel), rel);
        if (test_mkdirs(root, dir) < 0)
            return -1;
    }
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    if (fputs(text, f) < 0) {
        fclose(f);
        return -1;
    }
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}
