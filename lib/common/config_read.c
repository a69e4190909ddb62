/* config_read.c: typed reads of configuration keys (see config_read.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_read.h"
#include "macro.h"
#include "parse_number.h"

#define PATH_MAX_LEN 4095

int config_reader_complain(struct config_reader *c, enum config_msg_level level,
                           const struct ini_entry *e, const char *format, ...)
{
    _cleanup_free_ char *what = NULL;
    va_list ap;
    int r;

    assert_return(c && e && format, -EINVAL);
    va_start(ap, format);
    r = vasprintf(&what, format, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    return config_msgs_add_key(c->msgs, level, c->file->path, e->section, e->key, e->value, "%s",
                               what);
}

/* An error result for a bad value: -EINVAL, or -ENOMEM when even the message failed. */
static int bad_value(int r)
{
    return r < 0 ? r : -EINVAL;
}

int config_read_uint(struct config_reader *c, const char *section, const char *key, unsigned min,
                     unsigned max, unsigned *ret)
{
    struct ini_entry *e;
    uint64_t v;

    assert_return(c && section && key && ret && min <= max, -EINVAL);
    e = ini_file_find(c->file, section, key);
    if (!e)
        return CONFIG_READ_ABSENT;
    if (parse_uint_digits(e->value, &v) < 0 || v < min || v > max)
        return bad_value(config_reader_complain(c, CONFIG_MSG_ERROR, e,
                                                "must be an integer in %u..%u", min, max));
    *ret = (unsigned) v;
    return CONFIG_READ_SET;
}

static bool interval_contains(const struct config_interval *i, double v)
{
    return (i->lo_open ? v > i->lo : v >= i->lo) && (i->hi_open ? v < i->hi : v <= i->hi);
}

int config_read_double(struct config_reader *c, const char *section, const char *key,
                       const struct config_interval *range, double *ret)
{
    struct ini_entry *e;
    double v;

    assert_return(c && section && key && range && ret, -EINVAL);
    e = ini_file_find(c->file, section, key);
    if (!e)
        return CONFIG_READ_ABSENT;
    if (parse_double(e->value, &v) < 0 || !interval_contains(range, v))
        return bad_value(config_reader_complain(
            c, CONFIG_MSG_ERROR, e, "must be a number in %c%g, %g%c", range->lo_open ? '(' : '[',
            range->lo, range->hi, range->hi_open ? ')' : ']'));
    *ret = v;
    return CONFIG_READ_SET;
}

int config_read_choice(struct config_reader *c, const char *section, const char *key,
                       const char *const *choices, size_t n_choices, int *ret)
{
    struct ini_entry *e;
    char list[256] = "";
    size_t o = 0;

    assert_return(c && section && key && choices && n_choices > 0 && ret, -EINVAL);
    e = ini_file_find(c->file, section, key);
    if (!e)
        return CONFIG_READ_ABSENT;
    for (size_t i = 0; i < n_choices; i++)
        if (strcasecmp(e->value, choices[i]) == 0) {
            *ret = (int) i;
            return CONFIG_READ_SET;
        }
    for (size_t i = 0; i < n_choices && o < sizeof(list); i++) {
        int n = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", choices[i]);
        if (n < 0)
            break;
        o += (size_t) n;
    }
    return bad_value(config_reader_complain(c, CONFIG_MSG_ERROR, e, "must be one of %s", list));
}

static int warn_unknown(struct config_reader *rd)
{
    for (size_t i = 0; i < rd->file->n_entries; i++) {
        const struct ini_entry *e = &rd->file->entries[i];
        if (e->used)
            continue;
        int r = config_reader_complain(rd, CONFIG_MSG_WARNING, e, "unknown key, ignored");
        if (r < 0)
            return r;
    }
    return 0;
}

int config_read_file(const char *path, const char *text, config_read_all_fn *read_all, void *ctx,
                     struct config_msgs *msgs)
{
    _cleanup_(ini_file_done) struct ini_file file = {};
    struct config_reader rd = {.file = &file, .msgs = msgs};
    size_t errors;
    int r;

    assert_return(path && read_all && msgs, -EINVAL);
    errors = msgs->n_errors;
    r = text ? ini_file_parse_string(&file, path, text, 0, msgs)
             : ini_file_load(&file, AT_FDCWD, path, NULL, 0, INI_FILE_SIZE_MAX, msgs);
    if (r >= 0 && msgs->n_errors > errors)
        r = -EINVAL; /* keys are read only from a file that parsed */
    if (r >= 0)
        r = read_all(ctx, &rd);
    if (r >= 0)
        r = warn_unknown(&rd);
    if (r >= 0 && msgs->n_errors > errors)
        r = -EINVAL;
    return r;
}

int config_read_bool(struct config_reader *rd, const char *section, const char *key, bool *ret)
{
    struct ini_entry *e = ini_file_find(rd->file, section, key);

    if (!e)
        return CONFIG_READ_ABSENT;
    if (parse_boolean(e->value, ret) < 0) {
        int r = config_reader_complain(rd, CONFIG_MSG_ERROR, e, "expected yes or no");
        return r < 0 ? r : -EINVAL;
    }
    return CONFIG_READ_SET;
}

/* An absolute path of at most PATH_MAX_LEN bytes, without "." or ".." parts or control
 * characters: these paths go into the file system as root. */
bool config_path_ok(const char *s)
{
    if (s[0] != '/' || strlen(s) > PATH_MAX_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return false;
    for (const char *p = s; (p = strstr(p, "/.")) != NULL; p++)
        if (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0')))
            return false;
    return true;
}

int config_read_path(struct config_reader *rd, const char *section, const char *key, char **ret)
{
    struct ini_entry *e = ini_file_find(rd->file, section, key);
    char *s;

    if (!e)
        return CONFIG_READ_ABSENT;
    if (!config_path_ok(e->value)) {
        int r = config_reader_complain(rd, CONFIG_MSG_ERROR, e,
                                       "expected an absolute path without . or .. parts");
        return r < 0 ? r : -EINVAL;
    }
    s = strdup(e->value);
    if (!s)
        return -ENOMEM;
    free(*ret);
    *ret = s;
    return CONFIG_READ_SET;
}
