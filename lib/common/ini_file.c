/* ini_file.c: see ini_file.h. inih does the parsing; this file collects its callbacks. */
#include <ctype.h>
#include <fcntl.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>

#include <ini.h>

#include "fileio.h"
#include "ini_file.h"

struct ini_parse_state {
    struct ini_file *file;
    size_t alloc;
    int line; /* counts handler calls only; inih reports the error line itself */
    char *error;
};

struct ini_file *ini_file_free(struct ini_file *f)
{
    if (!f)
        return NULL;
    for (size_t i = 0; i < f->n_entries; i++) {
        free(f->entries[i].section);
        free(f->entries[i].key);
        free(f->entries[i].value);
    }
    free(f->entries);
    free(f);
    return NULL;
}

static char *strdup_lower(const char *s)
{
    char *r = strdup(s);
    for (char *p = r; p && *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return r;
}

static int ini_file_handler(void *user, const char *section, const char *name, const char *value)
{
    struct ini_parse_state *st = user;
    struct ini_file *f = st->file;
    _cleanup_free_ char *key = strdup_lower(name);

    if (!key)
        return 0;
    if (ini_file_get(f, section, key)) {
        if (!st->error &&
            asprintf(&st->error, "duplicate key '%s' in section [%s]", key, section) < 0)
            st->error = NULL;
        return 0;
    }
    if (f->n_entries == st->alloc) {
        size_t n = st->alloc ? st->alloc * 2 : 16;
        struct ini_entry *e = realloc(f->entries, n * sizeof(*e));
        if (!e)
            return 0;
        f->entries = e;
        st->alloc = n;
    }
    struct ini_entry *e = &f->entries[f->n_entries];
    e->section = strdup(section);
    e->value = strdup(value ? value : "");
    e->key = TAKE_PTR(key);
    if (!e->section || !e->value) {
        free(e->section);
        free(e->value);
        free(e->key);
        return 0;
    }
    f->n_entries++;
    return 1;
}

static void ini_configure(void)
{
#if HAVE_INI_GLOBALS
    /* configparser semantics: no inline comments, no continuation lines; long lines allowed. */
    ini_allow_inline_comments = 0;
    ini_allow_multiline = 0;
    ini_use_stack = 0;
    ini_allow_realloc = 1;
    ini_max_line = 65536;
#endif
}

int ini_file_parse_string(const char *text, struct ini_file **ret, char **error)
{
    struct ini_parse_state st = {0};
    int r;

    *error = NULL;
    st.file = calloc(1, sizeof(struct ini_file));
    if (!st.file)
        return -ENOMEM;
    ini_configure();
    r = ini_parse_string(text, ini_file_handler, &st);
    if (r != 0) {
        if (st.error) {
            *error = st.error;
        } else if (r > 0) {
            if (asprintf(error, "line %d: syntax error (expected [section] or key = value)", r) < 0)
                *error = NULL;
        } else if (asprintf(error, "cannot parse (%s)", r == -2 ? "out of memory" : "error") < 0)
            *error = NULL;
        ini_file_free(st.file);
        return r == -2 ? -ENOMEM : -EBADMSG;
    }
    *ret = st.file;
    return 0;
}

int ini_file_load(int dirfd, const char *path, bool nofollow, size_t max, struct ini_file **ret,
                  char **error)
{
    _cleanup_free_ char *text = NULL;
    int r;

    *error = NULL;
    r = read_file_bounded(dirfd, path, nofollow ? O_NOFOLLOW : 0, max, &text, NULL, NULL);
    if (r < 0)
        return r;
    return ini_file_parse_string(text, ret, error);
}

const char *ini_file_get(const struct ini_file *f, const char *section, const char *key)
{
    for (size_t i = 0; i < f->n_entries; i++)
        if (streq(f->entries[i].section, section) && strcasecmp(f->entries[i].key, key) == 0)
            return f->entries[i].value;
    return NULL;
}

bool ini_file_has_section(const struct ini_file *f, const char *section)
{
    for (size_t i = 0; i < f->n_entries; i++)
        if (streq(f->entries[i].section, section))
            return true;
    return false;
}
