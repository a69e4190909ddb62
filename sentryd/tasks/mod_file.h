/* mod_file.h: reading and validating one task file (<name>.mod, INI section [common]) with the
 * keys, rules and defaults of the reference (docs/tasks.md). Invalid values get their default
 * and a warning; missing required keys or an unusable file fail the load. Every message names
 * the file, the key and the value. Pure: no daemon state, so it is unit tested with tables. */
#pragma once

#include <sentry/alarm_ids.h>

#include "task_config.h"

struct mod_defaults {
    unsigned interval;     /* period tasks without a valid interval */
    unsigned stop_timeout; /* seconds from stop to SIGKILL */
};

#define MOD_SUFFIX               ".mod"
#define MOD_FILE_SIZE_MAX        (1024 * 1024)
#define ALARM_CLEAR_TIME_DEFAULT 15

/* The task name of a file name "NAME.mod" into buf, or -EINVAL when the file is not a .mod
 * file (-ENOTNAM when it is one but NAME is not a valid task name). */
int mod_file_task_name(const char *filename, char *buf, size_t size);

/* Loads dirfd/filename; dir_path is only for messages. 0 and *ret on success. On failure a
 * negative errno and *error (malloc'ed, names the file). *warnings (malloc'ed strv, may be
 * NULL) in both cases. */
int mod_file_load(int dirfd, const char *dir_path, const char *filename,
                  const struct mod_defaults *defaults, struct task_config **ret, char ***warnings,
                  char **error);
