/* process_conflict.c: see process_conflict.h. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "fileio.h"
#include "macro.h"
#include "process_conflict.h"

#define CMDLINE_MAX (64 * 1024)

int process_find_matching(const char *proc_root, const char *needle, pid_t *pids, size_t max)
{
    DIR *d = opendir(proc_root);
    struct dirent *de;
    int n = 0;

    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        char path[300];
        _cleanup_free_ char *cmd = NULL;
        size_t len;

        if (!isdigit((unsigned char) de->d_name[0]))
            continue;
        long pid = strtol(de->d_name, NULL, 10);
        if (pid <= 0 || pid == getpid())
            continue;
        snprintf(path, sizeof(path), "%s/cmdline", de->d_name);
        /* /proc files report size 0: read through a pipe-like bounded read instead. */
        int fd = openat(dirfd(d), path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        cmd = malloc(CMDLINE_MAX + 1);
        ssize_t k = cmd ? read(fd, cmd, CMDLINE_MAX) : -1;
        close(fd);
        if (k <= 0)
            continue;
        len = (size_t) k;
        cmd[len] = 0;
        for (size_t i = 0; i < len; i++)
            if (cmd[i] == 0)
                cmd[i] = ' ';
        if (strstr(cmd, needle)) {
            if ((size_t) n < max)
                pids[n] = (pid_t) pid;
            n++;
        }
    }
    closedir(d);
    return n;
}
