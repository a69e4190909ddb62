/* strv.h: NULL-terminated arrays of heap strings (argv, envp, command lists). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
DEFINE_POINTER_CLEANUP(char *, strv_free)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Appends s (taking ownership; freed on failure). Returns 0 or -ENOMEM. */
int strv_consume(char ***l, char *s);
/* Appends a copy of s. */
int strv_extend(char ***l, const char *s);
char **strv_copy(char *const *l);
/* Joins with sep; NULL on ENOMEM. */
char *strv_join(char *const *l, const char *sep);
/* Index of the first entry whose "KEY=" prefix matches key, or -1. */
int strv_env_find(char *const *env, const char *key);
/* Sets KEY=value in an environment array, replacing an existing KEY. */
int strv_env_set(char ***env, const char *key, const char *value);
/* Removes KEY from an environment array. */
void strv_env_unset(char **env, const char *key);
/* Whether some entry equals s. */
bool strv_contains(char *const *l, const char *s);
/* Removes every entry equal to s. */
void strv_remove(char **l, const char *s);
