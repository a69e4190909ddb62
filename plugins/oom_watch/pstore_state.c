/* pstore_state.c: see pstore_state.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pstore_state.h"

void pstore_state_done(struct pstore_state *s)
{
    free(s->items);
    *s = (struct pstore_state){0};
}

bool pstore_record_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > PSTORE_RECORD_NAME_MAX || streq(name, ".") || streq(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '/')
            return false;
    return true;
}

/* Parses "name\tmtime\tsize\thash" in [p, e). */
static int parse_line(const char *p, const char *e, struct pstore_seen *ret)
{
    char buf[PSTORE_RECORD_NAME_MAX + 80], *f[4], *save = NULL, *end;
    size_t n = (size_t) (e - p);
    struct pstore_seen r = {0};

    if (n >= sizeof(buf))
        return -EBADMSG;
    memcpy(buf, p, n);
    buf[n] = '\0';
    for (int i = 0; i < 4; i++) {
        f[i] = strtok_r(i == 0 ? buf : NULL, "\t", &save);
        if (!f[i])
            return -EBADMSG;
    }
    if (strtok_r(NULL, "\t", &save) || !pstore_record_name_valid(f[0]))
        return -EBADMSG;
    snprintf(r.name, sizeof(r.name), "%s", f[0]);
    errno = 0;
    r.mtime = strtoll(f[1], &end, 10);
    if (errno || *end || end == f[1])
        return -EBADMSG;
    r.size = strtoull(f[2], &end, 10);
    if (errno || *end || end == f[2] || f[2][0] == '-')
        return -EBADMSG;
    if (strlen(f[3]) != 16)
        return -EBADMSG;
    r.hash = strtoull(f[3], &end, 16);
    if (errno || *end)
        return -EBADMSG;
    *ret = r;
    return 0;
}

int pstore_state_parse(struct pstore_state *s, const char *text, size_t len, size_t *skipped)
{
    const char *p = text, *end = text + len;
    size_t bad = 0;
    bool first = true;

    assert_return(s && text, -EINVAL);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        const char *le = eol ? eol : end;
        struct pstore_seen r;

        if (first) {
            if ((size_t) (le - p) != strlen(PSTORE_STATE_MAGIC) ||
                memcmp(p, PSTORE_STATE_MAGIC, (size_t) (le - p)) != 0)
                return -EBADMSG;
            first = false;
        } else if (le > p) {
            if (parse_line(p, le, &r) < 0 || pstore_state_add(s, &r) < 0)
                bad++;
        }
        p = eol ? eol + 1 : end;
    }
    if (first)
        return -EBADMSG;
    if (skipped)
        *skipped = bad;
    return 0;
}

char *pstore_state_format(const struct pstore_state *s)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    if (!f)
        return NULL;
    fprintf(f, "%s\n", PSTORE_STATE_MAGIC);
    for (size_t i = 0; i < s->n; i++)
        fprintf(f, "%s\t%" PRId64 "\t%" PRIu64 "\t%016" PRIx64 "\n", s->items[i].name,
                s->items[i].mtime, s->items[i].size, s->items[i].hash);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

bool pstore_state_contains(const struct pstore_state *s, const struct pstore_seen *r)
{
    for (size_t i = 0; i < s->n; i++)
        if (streq(s->items[i].name, r->name) && s->items[i].size == r->size &&
            s->items[i].hash == r->hash)
            return true;
    return false;
}

int pstore_state_add(struct pstore_state *s, const struct pstore_seen *r)
{
    if (!pstore_record_name_valid(r->name))
        return -EINVAL;
    for (size_t i = 0; i < s->n; i++)
        if (streq(s->items[i].name, r->name)) {
            s->items[i] = *r;
            return 0;
        }
    if (s->n >= PSTORE_STATE_MAX)
        return -E2BIG;
    if (!s->items) {
        s->items = calloc(PSTORE_STATE_MAX, sizeof(*s->items));
        if (!s->items)
            return -ENOMEM;
    }
    s->items[s->n++] = *r;
    return 0;
}
