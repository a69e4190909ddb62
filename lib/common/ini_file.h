/* ini_file.h: the one INI reader of sentry (task files, sentryd.conf, the plugins' .ini files).
 * inih parses; this file keeps (section, key, value) entries under the rules of Python's
 * configparser, which the reference reads all these files with:
 *   - keys are case-insensitive (they keep the file's spelling, so messages show what the
 *     operator wrote); section names are case-sensitive;
 *   - values are stripped; '=' and ':' both delimit;
 *   - only whole-line '#' and ';' comments (a ';' inside a value is part of it);
 *   - a duplicate key in a section and a key before any section are errors; so is a section
 *     given twice, unless the caller asks for it to be read as one (INI_FILE_MERGE_SECTIONS:
 *     sentryd.conf and task files, which sentry has always read so; a warning then).
 * Continuation lines are accepted in every file, as configparser accepts them: an indented line
 * after a key continues its value, joined with '\n'. One rule for all readers keeps a file that
 * configparser reads meaning the same here; a task file never needs one, and a value that must
 * be one line is refused by its own check (a command splits a '\n' like a blank, as shlex does).
 * Where inih differs from configparser: any indentation continues (configparser wants more than
 * the key's), a blank line inside a continued value is dropped, and a section repeated right
 * after itself, or a repeated section without keys, goes unnoticed (inih reports keys, not
 * headers; the keys still meet the duplicate check). Fixed limits: the file size (the caller's),
 * INI_FILE_LINE_MAX and INI_FILE_NAME_MAX, each an error when passed.
 *
 * Every entry remembers its line and whether a reader asked for it, so that what nobody asked
 * for can be reported as unknown. Problems in the text are messages (config_msg.h) naming the
 * file and line, never printed here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config_msg.h"

/* The size limit of every configuration file sentry reads: one this size is a mistake. */
#define INI_FILE_SIZE_MAX (1024 * 1024)
/* Longest line, newline excluded; a longer one is an error (inih would split it in two). */
#define INI_FILE_LINE_MAX 65536
/* Longest section or key name; a longer one is an error (inih keeps 49 bytes, silently). */
#define INI_FILE_NAME_MAX 48

struct ini_entry {
    char *section;
    char *key;     /* as written; looked up case-insensitively */
    char *value;   /* stripped; continuation lines joined with '\n' */
    unsigned line; /* of the key */
    bool used;     /* returned by ini_file_find() or ini_file_get() */
};

/* Zero-initialise; free with ini_file_done() (usable as _cleanup_(ini_file_done)). */
struct ini_file {
    char *path; /* names the file in messages */
    struct ini_entry *entries;
    size_t n_entries;
};

enum ini_file_flags {
    INI_FILE_NOFOLLOW = 1 << 0,       /* ini_file_load(): refuse a symlink (-ELOOP) */
    INI_FILE_MERGE_SECTIONS = 1 << 1, /* a section given again continues the first (a warning) */
};

/* Parses text; path names it in messages. Every problem in the text (syntax, duplicates, key
 * outside a section, an overlong line) becomes an error in msgs and the entries that could be
 * read are kept: 0 is returned all the same, so that a caller can report every error at once;
 * it must check msgs->n_errors. Negative errno only for -ENOMEM and -EINVAL. */
int ini_file_parse_string(struct ini_file *f, const char *path, const char *text, unsigned flags,
                          struct config_msgs *msgs);

/* Reads the regular file path (relative to dirfd; AT_FDCWD works) of at most max bytes and
 * parses it as above. name names it in messages (NULL: path). When the
 * file cannot be read an error is added and -errno returned: -ELOOP for a symlink under
 * INI_FILE_NOFOLLOW, -EISDIR or -EBADFD for what is not a regular file, -EFBIG when too big. */
int ini_file_load(struct ini_file *f, int dirfd, const char *path, const char *name, unsigned flags,
                  size_t max, struct config_msgs *msgs);

void ini_file_done(struct ini_file *f);

/* The entry of section/key (key in any case), marked used; NULL when absent. */
struct ini_entry *ini_file_find(struct ini_file *f, const char *section, const char *key);
/* Its value, or NULL. */
const char *ini_file_get(struct ini_file *f, const char *section, const char *key);
/* Whether section has at least one key. */
bool ini_file_has_section(const struct ini_file *f, const char *section);
