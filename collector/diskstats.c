/* diskstats.c: see diskstats.h. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "diskstats.h"
#include "macro.h"
#include "parse_number.h"

/* Copies the next whitespace-separated token of *p into buf; -EINVAL when there is none or it
 * does not fit. */
static int next_token(const char **p, char *buf, size_t size)
{
    const char *s = *p, *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s;
    while (*e && !isspace((unsigned char) *e))
        e++;
    if (e == s || (size_t) (e - s) >= size)
        return -EINVAL;
    memcpy(buf, s, (size_t) (e - s));
    buf[e - s] = 0;
    *p = e;
    return 0;
}

int diskstats_parse_line(const char *line, struct diskstats_entry *ret)
{
    struct diskstats_entry e = {};
    char tok[32];
    uint64_t v;
    unsigned n = 0;

    assert_return(line && ret, -EINVAL);

    if (next_token(&line, tok, sizeof(tok)) < 0 || parse_uint_digits(tok, &v) < 0 || v > UINT32_MAX)
        return -EINVAL;
    e.major = (unsigned) v;
    if (next_token(&line, tok, sizeof(tok)) < 0 || parse_uint_digits(tok, &v) < 0 || v > UINT32_MAX)
        return -EINVAL;
    e.minor = (unsigned) v;
    if (next_token(&line, e.name, sizeof(e.name)) < 0 || !disk_name_is_valid(e.name))
        return -EINVAL;

    for (;;) {
        if (next_token(&line, tok, sizeof(tok)) < 0)
            break;
        if (parse_uint_digits(tok, &v) < 0)
            return -EINVAL;
        if (n < DISKSTATS_FIELDS_MAX)
            e.field[n] = v;
        n++;
    }
    while (*line && isspace((unsigned char) *line))
        line++;
    if (*line) /* a token too long for any number */
        return -EINVAL;
    if (n < 11)
        return -EINVAL;
    e.n_fields = MIN(n, (unsigned) DISKSTATS_FIELDS_MAX);
    *ret = e;
    return 0;
}

int diskstats_find(const char *text, dev_t devnum, struct diskstats_entry *ret)
{
    assert_return(text && ret, -EINVAL);

    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t) (nl - p) : strlen(p);
        char line[512];

        if (n < sizeof(line)) {
            struct diskstats_entry e;

            memcpy(line, p, n);
            line[n] = 0;
            if (diskstats_parse_line(line, &e) >= 0 && e.major == major(devnum) &&
                e.minor == minor(devnum)) {
                *ret = e;
                return 0;
            }
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    return -ENOENT;
}

int diskstats_op_ios_field(enum io_op op, unsigned n_fields)
{
    switch (op) {
    case IO_OP_READ:
        return DISKSTATS_READ_IOS;
    case IO_OP_WRITE:
        return DISKSTATS_WRITE_IOS;
    case IO_OP_DISCARD:
        return n_fields > DISKSTATS_DISCARD_TICKS ? DISKSTATS_DISCARD_IOS : -1;
    case IO_OP_FLUSH:
        return n_fields > DISKSTATS_FLUSH_TICKS ? DISKSTATS_FLUSH_IOS : -1;
    default:
        return -1;
    }
}

int diskstats_op_ticks_field(enum io_op op, unsigned n_fields)
{
    switch (op) {
    case IO_OP_READ:
        return DISKSTATS_READ_TICKS;
    case IO_OP_WRITE:
        return DISKSTATS_WRITE_TICKS;
    case IO_OP_DISCARD:
        return n_fields > DISKSTATS_DISCARD_TICKS ? DISKSTATS_DISCARD_TICKS : -1;
    case IO_OP_FLUSH:
        return n_fields > DISKSTATS_FLUSH_TICKS ? DISKSTATS_FLUSH_TICKS : -1;
    default:
        return -1;
    }
}
