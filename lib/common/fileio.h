/* fileio.h: reading small files safely and replacing files atomically. */
#pragma once

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Reads a whole regular file of at most `max` bytes, NUL-terminated. open_flags adds to
 * O_RDONLY|O_CLOEXEC (O_NOFOLLOW refuses a symlink with -ELOOP). Non-regular files give -EBADFD
 * (-EISDIR for a directory), bigger files -EFBIG. st may be NULL. */
int read_file_bounded(int dirfd, const char *path, int open_flags, size_t max, char **ret,
                      size_t *ret_len, struct stat *st);
/* Writes data to a temporary file beside path and renames it over path. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same, with the file and then its directory fsynced: after a power cut path holds the old
 * contents or the new ones, never an empty file. For state that must not be lost. */
int write_file_durable(const char *path, const void *data, size_t len, mode_t mode);
/* fsync()s the directory that holds path: a rename or unlink in it is then durable. */
int fsync_directory_of(const char *path);
/* mkdir -p; the directories it creates get exactly mode (the umask does not apply). */
int mkdir_parents(const char *path, mode_t mode);
/* Writes all of buf (retrying on EINTR and short writes on a blocking fd). */
int write_all(int fd, const void *buf, size_t len);
/* Reads exactly len bytes from a blocking fd; -EPIPE at EOF before len. */
int read_exact(int fd, void *buf, size_t len);
int fd_set_nonblock(int fd, int nonblock);
