/* ini_file.h: INI files read with inih into a list of (section, key, value), with the rules of
 * Python's configparser that the reference's files rely on: keys are case-insensitive, values
 * are stripped, '=' and ':' both delimit, only whole-line '#' and ';' comments, and a duplicate
 * key in a section is an error. Callers then validate entries with their own tables. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

struct ini_entry {
    char *section;
    char *key; /* lower-cased */
    char *value;
};

struct ini_file {
    struct ini_entry *entries;
    size_t n_entries;
};

struct ini_file *ini_file_free(struct ini_file *f);
DEFINE_POINTER_CLEANUP(struct ini_file, ini_file_free)

/* Parses text. On a syntax error or a duplicate key returns -EBADMSG with *error (malloc'ed)
 * saying where ("line 4: ..."). */
int ini_file_parse_string(const char *text, struct ini_file **ret, char **error);
/* Reads and parses a file of at most max bytes; symlinks refused when nofollow. File errors are
 * returned as -errno without *error. */
int ini_file_load(int dirfd, const char *path, bool nofollow, size_t max, struct ini_file **ret,
                  char **error);

/* The value of section/key (key in any case), or NULL. */
const char *ini_file_get(const struct ini_file *f, const char *section, const char *key);
bool ini_file_has_section(const struct ini_file *f, const char *section);
