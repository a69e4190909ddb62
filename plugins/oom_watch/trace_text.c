/* trace_text.c: see trace_text.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "trace_text.h"

static bool is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* "\tfield:TYPE NAME[N];\toffset:..." : NAME is the identifier before ';' or '['. */
static int field_name(const char *s, const char *e, char *name)
{
    const char *f = memmem(s, (size_t) (e - s), "field:", 6);
    const char *semi, *b, *a;

    if (!f)
        return -EBADMSG;
    semi = memchr(f, ';', (size_t) (e - f));
    if (!semi)
        return -EBADMSG;
    /* "char name[16]": the size goes; "__data_loc char[] comm": the brackets are the type's */
    b = semi;
    if (b[-1] == ']')
        while (b > f && *b != '[')
            b--;
    a = b;
    while (a > f + 6 && is_ident(a[-1]))
        a--;
    if (a == b || (size_t) (b - a) >= TRACE_NAME_MAX)
        return -EBADMSG;
    memcpy(name, a, (size_t) (b - a));
    name[b - a] = '\0';
    return 0;
}

int trace_format_fields(const char *text, size_t len, char (*names)[TRACE_NAME_MAX], size_t max,
                        size_t *n)
{
    const char *p = text, *end = text + len;
    bool in_format = false;
    size_t k = 0;

    assert_return(text && names && n, -EINVAL);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        const char *le = eol ? eol : end;
        char name[TRACE_NAME_MAX];

        if (startswith(p, "format:") && (size_t) (le - p) >= 7)
            in_format = true;
        else if (in_format && memmem(p, (size_t) (le - p), "field:", 6)) {
            if (field_name(p, le, name) < 0)
                return -EBADMSG;
            if (!startswith(name, "common_") && k < max)
                snprintf(names[k++], TRACE_NAME_MAX, "%s", name);
        } else if (startswith(p, "print fmt:"))
            break;
        p = eol ? eol + 1 : end;
    }
    if (!in_format)
        return -EBADMSG;
    *n = k;
    return 0;
}

bool trace_fields_contain(char (*names)[TRACE_NAME_MAX], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (streq(names[i], name))
            return true;
    return false;
}

static void append_value(char *dst, const char *s, size_t n, bool space)
{
    size_t have = strlen(dst);

    if (space && have + 1 < TRACE_VALUE_MAX)
        dst[have++] = ' ';
    for (size_t i = 0; i < n && have + 1 < TRACE_VALUE_MAX; i++)
        dst[have++] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    dst[have] = '\0';
}

int trace_line_parse(const char *line, size_t len, const char *event, struct trace_kv *kv,
                     size_t max, size_t *n)
{
    char marker[TRACE_NAME_MAX + 4];
    const char *p, *end = line + len;
    size_t k = 0;

    assert_return(line && event && kv && n, -EINVAL);
    snprintf(marker, sizeof(marker), " %s: ", event);
    p = memmem(line, len, marker, strlen(marker));
    if (!p)
        return -ENOMSG;
    p += strlen(marker);
    while (p < end) {
        const char *w = p, *we, *eq = NULL;

        while (p < end && *p != ' ' && *p != '\n')
            p++;
        we = p;
        while (p < end && (*p == ' ' || *p == '\n'))
            p++;
        if (we == w)
            continue;
        for (const char *q = w; q < we; q++) {
            if (*q == '=' || *q == ':') {
                eq = q;
                break;
            }
            if (!is_ident(*q) && *q != '-')
                break;
        }
        /* "file-rss:12kB" is a pair too: the kernel's format mixes '=' and ':' */
        if (eq && eq > w && (size_t) (eq - w) < TRACE_NAME_MAX && k < max) {
            memcpy(kv[k].key, w, (size_t) (eq - w));
            kv[k].key[eq - w] = '\0';
            kv[k].value[0] = '\0';
            append_value(kv[k].value, eq + 1, (size_t) (we - eq - 1), false);
            k++;
        } else if (k > 0 && !eq)
            append_value(kv[k - 1].value, w, (size_t) (we - w), true);
    }
    *n = k;
    return 0;
}

const char *trace_kv_get(const struct trace_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (streq(kv[i].key, key))
            return kv[i].value;
    return NULL;
}
