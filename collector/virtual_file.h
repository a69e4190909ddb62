/* virtual_file.h: reading the small pseudo-files of procfs, sysfs and debugfs.
 *
 * Their stat size is 0 or a page whatever they hold, so they are read until end of file, into a
 * buffer that grows up to a caller-given bound. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Reads path whole, NUL-terminated, at most max bytes (-EFBIG beyond). Refuses symlinks in the
 * last component (-ELOOP) and anything that is not a regular file (-EBADFD). */
int read_virtual_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* The first line of path without its newline, into buf (-ENOBUFS when it does not fit). */
int read_virtual_line(const char *path, char *buf, size_t size);
/* A file holding one unsigned decimal number (surrounding whitespace allowed). */
int read_virtual_uint64(const char *path, uint64_t *ret);
/* Writes s to an existing pseudo-file in one write() (how sysfs and debugfs want it; a regular
 * file, as in tests, is truncated first). */
int write_virtual_file(const char *path, const char *s);
