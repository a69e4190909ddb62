/* fuzz_input_file.h: what the file-parser fuzz targets share: the fuzz input written to a file in
 * a private directory (the parsers under test read files, as sentryd and the plugins do). */
#pragma once

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

/* The private directory, made once per process; its path. */
static const char *fuzz_dir(void)
{
    static char dir[] = "/tmp/sentry-fuzz.XXXXXX";
    static bool made;

    if (!made) {
        if (!mkdtemp(dir))
            abort();
        log_setup("fuzz", LOG_TARGET_NULL, LOG_ERR);
        made = true;
    }
    return dir;
}

/* Writes data to dir/name (replacing it); aborts when the file system fails us. */
static void fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            abort();
        done += (size_t) n;
    }
    close(fd);
}
