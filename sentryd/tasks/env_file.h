/* env_file.h: a task's env_file: KEY=VALUE lines applied on top of the task's environment,
 * with the reference's rules (docs/tasks.md). */
#pragma once

#define ENV_FILE_SIZE_MAX (256 * 1024)

/* Applies the variables of text to *env. Blank lines, '#' comments and lines without '=' are
 * skipped; surrounding double quotes of a value are removed. A line with an empty key or value
 * stops the reading (the variables before it stay) and *warning says where; a key that is not
 * a valid variable name is skipped with a warning. Returns 0 or -ENOMEM. */
int env_file_apply(const char *text, char ***env, char **warning);
