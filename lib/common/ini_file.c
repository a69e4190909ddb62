/* ini_file.c: the INI reader (see ini_file.h). inih does the parsing; this file hands it the text
 * through a reader that counts lines, so that every entry and every message carries its line,
 * continuation lines can be told from repeated keys, and an overlong line is refused before inih
 * would cut it in two. The handler only stores entries and notes what breaks the rules. */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <strings.h>

#include "fileio.h"
#include "ini_file.h"

/* One parse: the reader's position in the text and what the handler needs to remember. */
struct parse_state {
    struct ini_file *file;
    struct config_msgs *msgs;
    unsigned flags;

    const char *text;   /* the whole text, for the line of a syntax error */
    const char *next;   /* what the reader hands out next */
    unsigned line;      /* line being parsed, 1-based */
    bool at_line_start; /* the next chunk handed out starts a line */
    bool indented;      /* the current line starts with blank space */
    bool too_long;      /* parsing stopped at `line`, longer than INI_FILE_LINE_MAX */

    char *section;    /* section of the previous key line */
    char *key;        /* name of the previous key line, as inih repeats it for continuations */
    bool key_stored;  /* that key line became an entry (not refused) */
    size_t key_entry; /* its index */
    int error;        /* first -errno while storing */
};

void ini_file_done(struct ini_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_entries; i++) {
        free(f->entries[i].section);
        free(f->entries[i].key);
        free(f->entries[i].value);
    }
    free(f->entries);
    free(f->path);
    *f = (struct ini_file){};
}

/* An fgets() over the text that counts lines. */
static char *parse_reader(char *str, int num, void *stream)
{
    struct parse_state *st = stream;
    size_t n = 0;

    if (st->too_long || !*st->next || num < 2)
        return NULL;
    if (st->at_line_start) {
        st->line++;
        if (strcspn(st->next, "\n") > INI_FILE_LINE_MAX) {
            st->too_long = true;
            return NULL;
        }
        /* inih's test for a continuation: blank space before the text (its lskip()) */
        st->indented = st->next[0] != '\n' && isspace((unsigned char) st->next[0]);
    }
    while (n < (size_t) num - 1 && st->next[n])
        if (st->next[n++] == '\n')
            break;
    memcpy(str, st->next, n);
    str[n] = 0;
    st->next += n;
    st->at_line_start = str[n - 1] == '\n';
    return str;
}

static struct ini_entry *entry_lookup(const struct ini_file *f, const char *section,
                                      const char *key)
{
    for (size_t i = 0; i < f->n_entries; i++)
        if (streq(f->entries[i].section, section) && strcasecmp(f->entries[i].key, key) == 0)
            return &f->entries[i];
    return NULL;
}

/* Notices a section that comes back after others: its first key finds entries already there. */
static int parse_track_section(struct parse_state *st, const char *section)
{
    int r;

    if (st->section && streq(st->section, section))
        return 0;
    if (strlen(section) > INI_FILE_NAME_MAX) {
        char quoted[CONFIG_VALUE_QUOTE_MAX];
        config_value_escape(section, quoted, sizeof(quoted));
        r = config_msgs_add(st->msgs, CONFIG_MSG_ERROR,
                            "%s: line %u: section [%s...]: name longer than %d bytes",
                            st->file->path, st->line, quoted, INI_FILE_NAME_MAX);
        if (r < 0)
            return r;
    }
    if (ini_file_has_section(st->file, section)) {
        if (st->flags & INI_FILE_MERGE_SECTIONS)
            r = config_msgs_add(st->msgs, CONFIG_MSG_WARNING,
                                "%s: line %u: section [%s] appears more than once, read as one",
                                st->file->path, st->line, section);
        else
            r = config_msgs_add(st->msgs, CONFIG_MSG_ERROR,
                                "%s: line %u: section [%s] appears more than once", st->file->path,
                                st->line, section);
        if (r < 0)
            return r;
    }
    free(st->section);
    st->section = strdup(section);
    return st->section ? 0 : -ENOMEM;
}

/* configparser joins a continuation line to the value with a newline. */
static int parse_continue_value(struct parse_state *st, const char *value)
{
    struct ini_entry *e;
    char *joined;

    if (!st->key_stored)
        return 0; /* continues a refused line, which is reported already */
    e = &st->file->entries[st->key_entry];
    if (asprintf(&joined, "%s\n%s", e->value, value) < 0)
        return -ENOMEM;
    free(e->value);
    e->value = joined;
    return 0;
}

static int parse_entry(struct parse_state *st, const char *section, const char *name,
                       const char *value)
{
    struct ini_file *f = st->file;
    struct ini_entry *e, *entries;
    int r;

    if (st->indented && st->key && streq(name, st->key) && streq_ptr(section, st->section))
        return parse_continue_value(st, value);

    r = parse_track_section(st, section);
    if (r < 0)
        return r;
    free(st->key);
    st->key = strdup(name);
    if (!st->key)
        return -ENOMEM;
    st->key_stored = false;

    if (isempty(section)) {
        char quoted[CONFIG_VALUE_QUOTE_MAX];
        config_value_escape(value, quoted, sizeof(quoted));
        return config_msgs_add(st->msgs, CONFIG_MSG_ERROR,
                               "%s: line %u: %s = '%s': key outside any section", f->path, st->line,
                               name, quoted);
    }
    if (strlen(name) > INI_FILE_NAME_MAX) {
        char quoted[CONFIG_VALUE_QUOTE_MAX];
        /* inih repeats only this much of it on continuation lines */
        st->key[INI_FILE_NAME_MAX + 1] = 0;
        config_value_escape(st->key, quoted, sizeof(quoted));
        return config_msgs_add(st->msgs, CONFIG_MSG_ERROR,
                               "%s: line %u: key '%s...': name longer than %d bytes", f->path,
                               st->line, quoted, INI_FILE_NAME_MAX);
    }
    e = entry_lookup(f, section, name);
    if (e)
        return config_msgs_add(st->msgs, CONFIG_MSG_ERROR,
                               "%s: line %u: duplicate key '%s' in section [%s] (first given on "
                               "line %u)",
                               f->path, st->line, name, section, e->line);

    entries = reallocarray(f->entries, f->n_entries + 1, sizeof(*entries));
    if (!entries)
        return -ENOMEM;
    f->entries = entries;
    e = &f->entries[f->n_entries];
    *e = (struct ini_entry){
        .section = strdup(section),
        .key = strdup(name),
        .value = strdup(value),
        .line = st->line,
    };
    if (!e->section || !e->key || !e->value) {
        free(e->section);
        free(e->key);
        free(e->value);
        return -ENOMEM;
    }
    st->key_stored = true;
    st->key_entry = f->n_entries++;
    return 0;
}

static int parse_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    int r;

    if (st->error < 0)
        return 1;
    r = parse_entry(st, section, name, value ? value : "");
    if (r < 0)
        st->error = r;
    return 1; /* our own errors are in msgs; a 0 here would only blur inih's syntax errors */
}

/* Line n of text, escaped for a message. */
static void text_line(const char *text, unsigned n, char *buf, size_t size)
{
    _cleanup_free_ char *line = NULL;

    for (unsigned i = 1; i < n && text; i++) {
        text = strchr(text, '\n');
        if (text)
            text++;
    }
    if (text)
        line = strndup(text, strcspn(text, "\r\n"));
    config_value_escape(line, buf, size);
}

/* inih's settings are process-wide; every reader in sentry wants these. */
static void ini_set_configparser_rules(void)
{
#if defined(HAVE_INI_GLOBALS) && HAVE_INI_GLOBALS
    ini_allow_multiline = 1;
    ini_allow_inline_comments = 0; /* values may contain ';' (task_pre) */
    ini_use_stack = 0;
    ini_allow_realloc = 1;
    ini_max_line = INI_FILE_LINE_MAX + 2; /* the newline and the NUL */
#endif
}

int ini_file_parse_string(struct ini_file *f, const char *path, const char *text, unsigned flags,
                          struct config_msgs *msgs)
{
    struct parse_state st = {
        .file = f,
        .msgs = msgs,
        .flags = flags,
        .text = text,
        .next = text,
        .at_line_start = true,
    };
    char quoted[CONFIG_VALUE_QUOTE_MAX];
    int r;

    assert_return(f && path && text && msgs, -EINVAL);
    ini_file_done(f);
    f->path = strdup(path);
    if (!f->path)
        return -ENOMEM;

    ini_set_configparser_rules();
    r = ini_parse_stream(parse_reader, &st, parse_handler, &st);
    free(st.section);
    free(st.key);
    if (st.error < 0)
        return st.error;
    if (r == -2)
        return -ENOMEM;
    if (r > 0) {
        text_line(text, (unsigned) r, quoted, sizeof(quoted));
        r = config_msgs_add(msgs, CONFIG_MSG_ERROR,
                            "%s: line %d: '%s': neither a [section] header nor a key = value line",
                            path, r, quoted);
        if (r < 0)
            return r;
    }
    if (st.too_long)
        return config_msgs_add(msgs, CONFIG_MSG_ERROR,
                               "%s: line %u: longer than %d bytes, the rest is not read", path,
                               st.line, INI_FILE_LINE_MAX);
    return 0;
}

static unsigned text_line_of(const char *text, size_t offset)
{
    unsigned line = 1;

    for (size_t i = 0; i < offset; i++)
        line += text[i] == '\n';
    return line;
}

int ini_file_load(struct ini_file *f, int dirfd, const char *path, const char *name, unsigned flags,
                  size_t max, struct config_msgs *msgs)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r;

    assert_return(f && path && max > 0 && msgs, -EINVAL);
    if (!name)
        name = path;

    r = read_file_bounded(dirfd, path, flags & INI_FILE_NOFOLLOW ? O_NOFOLLOW : 0, max, &text, &len,
                          NULL);
    if (r < 0) {
        ini_file_done(f);
        if (r == -ELOOP && (flags & INI_FILE_NOFOLLOW))
            (void) config_msgs_add(msgs, CONFIG_MSG_ERROR, "%s: is a symlink, refused", name);
        else if (r == -EISDIR || r == -EBADFD)
            (void) config_msgs_add(msgs, CONFIG_MSG_ERROR, "%s: not a regular file", name);
        else if (r == -EFBIG)
            (void) config_msgs_add(msgs, CONFIG_MSG_ERROR, "%s: larger than %zu bytes", name, max);
        else
            (void) config_msgs_add(msgs, CONFIG_MSG_ERROR, "%s: cannot open: %s", name,
                                   strerror(-r));
        return r;
    }

    r = ini_file_parse_string(f, name, text, flags, msgs);
    if (r >= 0 && strlen(text) != len)
        /* A text file has none; inih saw the text up to it. */
        r = config_msgs_add(msgs, CONFIG_MSG_ERROR, "%s: line %u: NUL byte, the rest is not read",
                            name, text_line_of(text, strlen(text)));
    return r;
}

struct ini_entry *ini_file_find(struct ini_file *f, const char *section, const char *key)
{
    struct ini_entry *e;

    if (!f || !section || !key)
        return NULL;
    e = entry_lookup(f, section, key);
    if (e)
        e->used = true;
    return e;
}

const char *ini_file_get(struct ini_file *f, const char *section, const char *key)
{
    struct ini_entry *e = ini_file_find(f, section, key);

    return e ? e->value : NULL;
}

bool ini_file_has_section(const struct ini_file *f, const char *section)
{
    for (size_t i = 0; f && section && i < f->n_entries; i++)
        if (streq(f->entries[i].section, section))
            return true;
    return false;
}
