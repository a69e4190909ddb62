/* config_read.h: typed, validated reads of single keys from an ini_file. Each read either
 * stores a valid value, leaves the default alone when the key is absent, or adds an error in
 * the format of config_msg.h naming the file, section, key, value and what is accepted. A
 * configuration reader calls them key by key and reports every error of a file at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config_msg.h"
#include "ini_file.h"

struct config_reader {
    struct ini_file *file;
    struct config_msgs *msgs;
};

/* The three results of a read: */
#define CONFIG_READ_ABSENT 0 /* key not in the file; *ret untouched */
#define CONFIG_READ_SET    1 /* key valid; *ret set */
/* -EINVAL: key invalid, error added, *ret untouched; -ENOMEM */

/* Carries on after an invalid value (its error is in the messages); stops on anything worse. */
static inline int config_read_keep_going(int r)
{
    return r == -EINVAL || r >= 0 ? 0 : r;
}

/* In a reader of many keys: goes on after an invalid value, returns what is worse (r must be
 * an int of the caller). */
#define CONFIG_READ_KEEP(r, expr)           \
    do {                                    \
        (r) = config_read_keep_going(expr); \
        if ((r) < 0)                        \
            return (r);                     \
    } while (0)

/* Decimal digits only, min ≤ value ≤ max. */
int config_read_uint(struct config_reader *c, const char *section, const char *key, unsigned min,
                     unsigned max, unsigned *ret);

/* A finite number in the interval from lo to hi, each end open or closed. */
struct config_interval {
    double lo, hi;
    bool lo_open, hi_open;
};
int config_read_double(struct config_reader *c, const char *section, const char *key,
                       const struct config_interval *range, double *ret);

/* One of choices (case-insensitive); *ret gets its index. */
int config_read_choice(struct config_reader *c, const char *section, const char *key,
                       const char *const *choices, size_t n_choices, int *ret);

/* yes/no, true/false, on/off, 1/0. */
int config_read_bool(struct config_reader *c, const char *section, const char *key, bool *ret);

/* An absolute path of at most PATH_MAX_LEN bytes without "." or ".." parts or control characters
 * (these paths go into the file system as root); *ret (NULL or malloc'ed) is replaced by a copy. */
int config_read_path(struct config_reader *c, const char *section, const char *key, char **ret);
bool config_path_ok(const char *s);

/* Reads a plugin's whole configuration file: path's contents, or text (named path) when text
 * is not NULL; then read_all(ctx, reader) key by key, then a warning for each key nothing read.
 * 0 when the file holds no error, -EINVAL when it does (all of them in msgs), or what failed. */
typedef int config_read_all_fn(void *ctx, struct config_reader *rd);
int config_read_file(const char *path, const char *text, config_read_all_fn *read_all, void *ctx,
                     struct config_msgs *msgs);

/* Adds an error (or warning) about an entry in the usual format. */
int config_reader_complain(struct config_reader *c, enum config_msg_level level,
                           const struct ini_entry *e, const char *format, ...) _printf_(4, 5);
