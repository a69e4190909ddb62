/* psi.c: see psi.h. The kernel prints the averages with "%lu.%02lu", so a strict reader of
 * digits, one dot and two decimals is enough and refuses what is not that. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "psi.h"

static const char *const kind_names[_PSI_KIND_MAX] = {"some", "full"};

const char *psi_kind_to_string(enum psi_kind k)
{
    return k >= 0 && k < _PSI_KIND_MAX ? kind_names[k] : NULL;
}

/* Reads "NAME=" then an unsigned decimal with an optional fraction from [*p, end). */
static int read_field(const char **p, const char *end, const char *name, double *dval,
                      uint64_t *uval)
{
    size_t n = strlen(name);
    const char *s = *p;
    uint64_t v = 0;
    double frac = 0, scale = 1;
    int digits = 0;

    while (s < end && *s == ' ')
        s++;
    if ((size_t) (end - s) < n + 1 || memcmp(s, name, n) != 0 || s[n] != '=')
        return -EBADMSG;
    s += n + 1;
    for (; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
        if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
            return -EBADMSG;
        v = v * 10 + (uint64_t) (*s - '0');
    }
    if (digits == 0 || digits > 20)
        return -EBADMSG;
    if (s < end && *s == '.') {
        if (!dval)
            return -EBADMSG;
        s++;
        digits = 0;
        for (; s < end && *s >= '0' && *s <= '9' && digits < 6; s++, digits++) {
            scale /= 10;
            frac += (*s - '0') * scale;
        }
        if (digits == 0)
            return -EBADMSG;
    }
    if (s < end && *s != ' ')
        return -EBADMSG;
    if (dval)
        *dval = (double) v + frac;
    if (uval)
        *uval = v;
    *p = s;
    return 0;
}

static int parse_line(const char *s, const char *end, struct psi_line *ret)
{
    struct psi_line l = {.present = true};
    int r;

    if ((r = read_field(&s, end, "avg10", &l.avg10, NULL)) < 0 ||
        (r = read_field(&s, end, "avg60", &l.avg60, NULL)) < 0 ||
        (r = read_field(&s, end, "avg300", &l.avg300, NULL)) < 0 ||
        (r = read_field(&s, end, "total", NULL, &l.total)) < 0)
        return r;
    while (s < end && *s == ' ')
        s++;
    if (s != end)
        return -EBADMSG;
    /* a percentage of time: anything above 100 is not what the kernel writes */
    if (l.avg10 > 100 || l.avg60 > 100 || l.avg300 > 100)
        return -EBADMSG;
    *ret = l;
    return 0;
}

int psi_stats_parse(const char *text, size_t len, struct psi_stats *ret)
{
    struct psi_stats st = {0};
    const char *p = text, *end = text + len;

    assert_return(text && ret, -EINVAL);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        const char *le = eol ? eol : end;
        struct psi_line *l = NULL;
        const char *rest;

        if ((size_t) (le - p) >= 5 && memcmp(p, "some ", 5) == 0)
            l = &st.some, rest = p + 5;
        else if ((size_t) (le - p) >= 5 && memcmp(p, "full ", 5) == 0)
            l = &st.full, rest = p + 5;
        if (l) {
            if (l->present)
                return -EBADMSG; /* twice: not a pressure file */
            int r = parse_line(rest, le, l);
            if (r < 0)
                return r;
        }
        p = eol ? eol + 1 : end;
    }
    if (!st.some.present)
        return -EBADMSG;
    *ret = st;
    return 0;
}

int psi_trigger_format(enum psi_kind kind, unsigned stall_us, unsigned window_us, char *buf,
                       size_t size)
{
    const char *k = psi_kind_to_string(kind);

    assert_return(k && buf, -EINVAL);
    if (window_us < PSI_WINDOW_MIN_US || window_us > PSI_WINDOW_MAX_US || stall_us == 0 ||
        stall_us > window_us)
        return -EINVAL;
    int n = snprintf(buf, size, "%s %u %u", k, stall_us, window_us);
    return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

unsigned psi_window_unprivileged(unsigned window_us)
{
    unsigned steps = (window_us + PSI_WINDOW_UNPRIV_STEP - 1) / PSI_WINDOW_UNPRIV_STEP;
    return MAX(steps, 1U) * PSI_WINDOW_UNPRIV_STEP;
}
