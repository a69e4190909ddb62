/* offline_state.c: see offline_state.h. Entries live in one array in the order they came; a
 * small open-addressing index by pfn keeps loading a file of a million pages linear. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "offline_state.h"
#include "parse_number.h"

/* The longest line the formatter writes: 0x + 16 digits, action, 19 digits, result, 3 blanks. */
#define FORMAT_LINE_MAX 80

static bool action_is_offline(enum mem_action a)
{
    return a == MEM_ACTION_SOFT || a == MEM_ACTION_HARD || a == MEM_ACTION_SOFT_THEN_HARD;
}

int offline_state_init(struct offline_state *s, size_t max_entries)
{
    assert_return(s, -EINVAL);
    assert_return(max_entries >= 1 && max_entries <= OFFLINE_STATE_MAX_ENTRIES, -EINVAL);
    *s = (struct offline_state){.max_entries = max_entries};
    return 0;
}

void offline_state_done(struct offline_state *s)
{
    if (!s)
        return;
    free(s->items);
    free(s->slots);
    *s = (struct offline_state){.max_entries = s->max_entries};
}

static size_t slot_of(uint64_t pfn, size_t n_slots)
{
    /* Fibonacci hashing: neighbouring pfns spread over the table. */
    return (size_t) ((pfn * 0x9E3779B97F4A7C15ULL) >> 32) & (n_slots - 1);
}

/* The slot of pfn, or the free one where it would go (there is always one: n_slots > 2 n). */
static size_t find_slot(const struct offline_state *s, uint64_t pfn)
{
    size_t i = slot_of(pfn, s->n_slots);

    while (s->slots[i] != 0 && s->items[s->slots[i] - 1].pfn != pfn)
        i = (i + 1) & (s->n_slots - 1);
    return i;
}

const struct offline_entry *offline_state_find(const struct offline_state *s, uint64_t pfn)
{
    size_t i;

    if (!s || s->n_slots == 0)
        return NULL;
    i = find_slot(s, pfn);
    return s->slots[i] ? &s->items[s->slots[i] - 1] : NULL;
}

/* Makes room for one more entry: the array and, at half full, a twice bigger index. */
static int grow(struct offline_state *s)
{
    if (s->n == s->allocated) {
        size_t a = MIN(MAX(s->allocated * 2, (size_t) 16), s->max_entries);
        struct offline_entry *items = realloc(s->items, a * sizeof(*items));
        if (!items)
            return -ENOMEM;
        s->items = items;
        s->allocated = a;
    }
    if ((s->n + 1) * 2 > s->n_slots) {
        size_t n_slots = MAX(s->n_slots * 2, (size_t) 32);
        uint32_t *slots = calloc(n_slots, sizeof(*slots));
        if (!slots)
            return -ENOMEM;
        free(s->slots);
        s->slots = slots;
        s->n_slots = n_slots;
        for (size_t k = 0; k < s->n; k++)
            s->slots[find_slot(s, s->items[k].pfn)] = (uint32_t) (k + 1);
    }
    return 0;
}

int offline_state_set(struct offline_state *s, const struct offline_entry *e)
{
    int r;

    assert_return(s && e, -EINVAL);
    assert_return(action_is_offline(e->action), -EINVAL);
    assert_return((unsigned) e->result < _PAGE_OFFLINE_RESULT_MAX, -EINVAL);
    assert_return(e->time_s >= 0, -EINVAL);

    struct offline_entry *old = (struct offline_entry *) offline_state_find(s, e->pfn);
    if (old) {
        *old = *e;
        return 0;
    }
    if (s->n >= s->max_entries)
        return -E2BIG;
    r = grow(s);
    if (r < 0)
        return r;
    s->items[s->n++] = *e;
    s->slots[find_slot(s, e->pfn)] = (uint32_t) s->n;
    return 0;
}

/* A message for the caller; msgs may be NULL (nobody listens). */
_printf_(3, 4) static void state_msg(struct config_msgs *msgs, enum config_msg_level level,
                                     const char *format, ...)
{
    va_list ap;

    if (!msgs)
        return;
    va_start(ap, format);
    (void) config_msgs_addv(msgs, level, format, ap);
    va_end(ap);
}

static int parse_pfn(const char *s, uint64_t *ret)
{
    uint64_t v = 0;
    size_t n = 0;

    s = startswith(s, "0x");
    if (!s)
        return -EINVAL;
    for (; s[n]; n++) {
        char c = s[n];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned) (c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned) (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned) (c - 'A' + 10);
        else
            return -EINVAL;
        if (n >= 16)
            return -ERANGE;
        v = v << 4 | d;
    }
    if (n == 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* Parses one line (NUL-terminated, no newline) into e, or says in why what is wrong. */
static int parse_line(char *line, struct offline_entry *e, char *why, size_t why_size)
{
    char *field[4], quoted[CONFIG_VALUE_QUOTE_MAX];
    size_t n = 0;
    uint64_t t;
    int v;

    for (char *p = line;; p++) {
        if (n == ELEMENTSOF(field)) {
            snprintf(why, why_size, "more than 4 fields");
            return -EINVAL;
        }
        field[n++] = p;
        p = strchr(p, ' ');
        if (!p)
            break;
        *p = 0;
    }
    if (n != ELEMENTSOF(field)) {
        snprintf(why, why_size, "%zu fields instead of 4 (pfn action time result)", n);
        return -EINVAL;
    }
    if (parse_pfn(field[0], &e->pfn) < 0) {
        config_value_escape(field[0], quoted, sizeof(quoted));
        snprintf(why, why_size, "pfn '%s' is not 0x and 1 to 16 hex digits", quoted);
        return -EINVAL;
    }
    v = mem_action_from_string(field[1]);
    if (v < 0 || !action_is_offline(v)) {
        config_value_escape(field[1], quoted, sizeof(quoted));
        snprintf(why, why_size, "action '%s' is not soft, hard or soft-then-hard", quoted);
        return -EINVAL;
    }
    e->action = v;
    if (parse_uint_digits(field[2], &t) < 0 || t > INT64_MAX) {
        config_value_escape(field[2], quoted, sizeof(quoted));
        snprintf(why, why_size, "time '%s' is not a unix time in seconds", quoted);
        return -EINVAL;
    }
    e->time_s = (int64_t) t;
    v = page_offline_result_from_string(field[3]);
    if (v < 0) {
        config_value_escape(field[3], quoted, sizeof(quoted));
        snprintf(why, why_size, "result '%s' is not known", quoted);
        return -EINVAL;
    }
    e->result = v;
    return 0;
}

/* The first line: 0 for our version, else an error in msgs. */
static int parse_header(const char *path, const char *line, size_t len, struct config_msgs *msgs)
{
    char buf[64], quoted[CONFIG_VALUE_QUOTE_MAX];
    const char *v;
    uint64_t version;

    if (len < sizeof(buf) && !memchr(line, 0, len)) {
        memcpy(buf, line, len);
        buf[len] = 0;
        v = startswith(buf, OFFLINE_STATE_HEADER " ");
        if (v && parse_uint_digits(v, &version) >= 0) {
            if (version == OFFLINE_STATE_VERSION)
                return 0;
            state_msg(msgs, CONFIG_MSG_ERROR,
                      "%s: line 1: state file version %s, this mem_sentry reads only version %d: "
                      "the file is not used",
                      path, v, OFFLINE_STATE_VERSION);
            return -EPROTONOSUPPORT;
        }
    }
    snprintf(buf, sizeof(buf), "%.*s", (int) MIN(len, sizeof(buf) - 1), line);
    config_value_escape(buf, quoted, sizeof(quoted));
    state_msg(msgs, CONFIG_MSG_ERROR,
              "%s: line 1: '%s' is not the header '%s %d' of a mem_sentry offline state file: "
              "the file is not used",
              path, quoted, OFFLINE_STATE_HEADER, OFFLINE_STATE_VERSION);
    return -EBADMSG;
}

int offline_state_parse(struct offline_state *s, const char *path, const char *text, size_t len,
                        struct config_msgs *msgs)
{
    const char *p = text, *end = text + len;
    unsigned lineno = 0;
    int r;

    assert_return(s && path && (text || len == 0), -EINVAL);
    offline_state_done(s);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
        char line[OFFLINE_STATE_LINE_MAX + 1], why[256];
        struct offline_entry e;

        lineno++;
        if (lineno == 1) {
            r = parse_header(path, p, n, msgs);
            if (r < 0)
                return r;
        } else if (n == 0)
            ; /* an empty line says nothing */
        else if (n > OFFLINE_STATE_LINE_MAX || memchr(p, 0, n))
            state_msg(msgs, CONFIG_MSG_WARNING,
                      "%s: line %u: longer than %d bytes or not text, line skipped", path, lineno,
                      OFFLINE_STATE_LINE_MAX);
        else {
            memcpy(line, p, n);
            line[n] = 0;
            if (parse_line(line, &e, why, sizeof(why)) < 0)
                state_msg(msgs, CONFIG_MSG_WARNING, "%s: line %u: %s, line skipped", path, lineno,
                          why);
            else if (offline_state_find(s, e.pfn)) {
                state_msg(msgs, CONFIG_MSG_WARNING,
                          "%s: line %u: page 0x%" PRIx64 " again, this line replaces the earlier",
                          path, lineno, e.pfn);
                (void) offline_state_set(s, &e);
            } else {
                r = offline_state_set(s, &e);
                if (r == -E2BIG)
                    state_msg(msgs, CONFIG_MSG_WARNING,
                              "%s: line %u: more than %zu pages, line skipped", path, lineno,
                              s->max_entries);
                else if (r < 0) {
                    offline_state_done(s); /* half a list would look like the whole */
                    return r;
                }
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (lineno == 0)
        return parse_header(path, "", 0, msgs);
    return 0;
}

int offline_state_load(struct offline_state *s, const char *path, struct config_msgs *msgs)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r;

    assert_return(s && path, -EINVAL);
    /* Real lines are under 70 bytes: twice the bound's worth of them fits. */
    r = read_file_bounded(AT_FDCWD, path, O_NOFOLLOW,
                          (size_t) (OFFLINE_STATE_LINE_MAX + 1) * (s->max_entries + 16), &text,
                          &len, NULL);
    if (r == -ENOENT) {
        offline_state_done(s);
        return 0;
    }
    if (r < 0) {
        state_msg(msgs, CONFIG_MSG_ERROR, "%s: cannot read the state file: %s", path, strerror(-r));
        return r;
    }
    return offline_state_parse(s, path, text, len, msgs);
}

char *offline_state_format(const struct offline_state *s)
{
    size_t size, len;
    char *text;
    int n;

    if (!s)
        return NULL;
    size = 64 + s->n * FORMAT_LINE_MAX;
    text = malloc(size);
    if (!text)
        return NULL;
    n = snprintf(text, size, "%s %d\n", OFFLINE_STATE_HEADER, OFFLINE_STATE_VERSION);
    len = (size_t) n;
    for (size_t i = 0; i < s->n; i++) {
        const struct offline_entry *e = &s->items[i];
        n = snprintf(text + len, size - len, "0x%" PRIx64 " %s %" PRId64 " %s\n", e->pfn,
                     mem_action_to_string(e->action), e->time_s,
                     page_offline_result_to_string(e->result));
        if (n < 0 || (size_t) n >= size - len) { /* cannot be: every field is bounded */
            free(text);
            return NULL;
        }
        len += (size_t) n;
    }
    return text;
}

/* Durable (file and directory fsynced): a lost list of bad pages is what this file prevents. */
int offline_state_save(const struct offline_state *s, const char *path)
{
    _cleanup_free_ char *text = NULL;

    assert_return(s && path, -EINVAL);
    text = offline_state_format(s);
    if (!text)
        return -ENOMEM;
    return write_file_durable(path, text, strlen(text), 0644);
}

size_t offline_state_pending(const struct offline_state *s, struct offline_entry *out, size_t max)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < s->n && i < max; i++)
        out[i] = s->items[i];
    return s->n;
}
