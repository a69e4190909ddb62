/* trusted_file.h: whether sentryd may act upon a file that says what runs as root (a task file)
 * or what environment a task's commands get (an env_file): it must be owned by root, or by the
 * user sentryd runs as, or by one more owner the caller allows (the task's own user for its
 * env_file), and nobody else may write it. Otherwise anyone who can change the file can run
 * commands with the task's rights. Pure: it judges a struct stat (from fstat() of the open file,
 * so that what is judged is what is read). */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

/* No further owner allowed. */
#define TRUSTED_FILE_NO_OWNER ((uid_t) -1)

/* 0 when st may be trusted; -EPERM with why ("owned by uid 1000, not by root", "writable by its
 * group (mode 0664)", "writable by others (mode 0646)") when not. also_owner:
 * TRUSTED_FILE_NO_OWNER or a uid that may own the file too. */
int trusted_file_check(const struct stat *st, uid_t also_owner, char *why, size_t size);
