/* pstore_record.c: see pstore_record.h. */
#include <string.h>

#include "macro.h"
#include "pstore_record.h"

static const char *const finding_names[_PSTORE_FINDING_MAX] = {"none", "panic", "oops"};

const char *pstore_finding_to_string(enum pstore_finding f)
{
    return f >= 0 && f < _PSTORE_FINDING_MAX ? finding_names[f] : NULL;
}

enum pstore_name_kind pstore_name_classify(const char *name, char *backend, size_t backend_size)
{
    const char *rest = startswith(name, "dmesg-");
    const char *dash;
    size_t n;

    if (!rest)
        return PSTORE_NAME_OTHER;
    dash = strrchr(rest, '-');
    if (!dash || dash == rest || !dash[1])
        return PSTORE_NAME_OTHER;
    if (backend && backend_size > 0) {
        n = MIN((size_t) (dash - rest), backend_size - 1);
        memcpy(backend, rest, n);
        backend[n] = '\0';
    }
    return endswith(name, ".enc.z") ? PSTORE_NAME_DMESG_COMPRESSED : PSTORE_NAME_DMESG;
}

/* memmem within one line [s, e). */
static const char *find_in(const char *s, const char *e, const char *needle)
{
    return memmem(s, (size_t) (e - s), needle, strlen(needle));
}

/* Copies [s, e) into buf, printable ASCII only, after the "<N>" syslog prefix. */
static void copy_printable(const char *s, const char *e, char *buf, size_t size)
{
    size_t n = 0;

    if (e - s >= 3 && s[0] == '<' && s[1] >= '0' && s[1] <= '9' && s[2] == '>')
        s += 3;
    for (; s < e && n + 1 < size; s++)
        buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
}

void pstore_record_classify(const char *text, size_t len, struct pstore_classification *ret)
{
    const char *p = text, *end = text + len;
    const char *oops_s = NULL, *oops_e = NULL;
    bool first = true, header_panic = false, header_oops = false;

    *ret = (struct pstore_classification){0};
    for (; p < end; first = false) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        const char *le = eol ? eol : end;
        const char *line = p;

        p = eol ? eol + 1 : end;
        /* "Panic#1 Part1": the reason kmsg_dump was called with; not a log line */
        if (first && memchr(line, '#', (size_t) (le - line)) && find_in(line, le, " Part")) {
            copy_printable(line, le, ret->header, sizeof(ret->header));
            header_panic = startswith(ret->header, "Panic#") != NULL;
            header_oops = startswith(ret->header, "Oops#") != NULL;
            continue;
        }
        if (find_in(line, le, "Kernel panic - not syncing")) {
            ret->finding = PSTORE_FINDING_PANIC;
            copy_printable(line, le, ret->line, sizeof(ret->line));
            return;
        }
        if (!oops_s && find_in(line, le, "Oops"))
            oops_s = line, oops_e = le;
    }
    if (oops_s)
        copy_printable(oops_s, oops_e, ret->line, sizeof(ret->line));
    if (header_panic)
        ret->finding = PSTORE_FINDING_PANIC;
    else if (oops_s || header_oops)
        ret->finding = PSTORE_FINDING_OOPS;
}

uint64_t pstore_hash(const void *data, size_t len)
{
    const unsigned char *b = data;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
