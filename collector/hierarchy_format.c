/* hierarchy_format.c: parsers of the blk_io_hierarchy formats (see hierarchy_format.h). */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "hierarchy_format.h"
#include "macro.h"
#include "parse_number.h"

/* The kernel prints the ops in its STAT_READ, STAT_WRITE, STAT_DISCARD, STAT_FLUSH order. */
static const enum io_op kernel_op_order[_IO_OP_MAX] = {IO_OP_READ, IO_OP_WRITE, IO_OP_DISCARD,
                                                       IO_OP_FLUSH};

static bool stage_name_is_valid(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char) *s) && *s != '_' && *s != '-')
            return false;
    return true;
}

int hierarchy_stats_parse_line(const char *line, struct hierarchy_stats_line *ret)
{
    struct hierarchy_stats_line l = {};
    uint64_t v[16];
    size_t n = 0;
    const char *p = line, *e;

    assert_return(line && ret, -EINVAL);

    /* Fields are separated by single spaces; be lenient about other blanks but not about
     * anything that is not a number. */
    while (*p == ' ' || *p == '\t')
        p++;
    e = p;
    while (*e && !isspace((unsigned char) *e))
        e++;
    if (e == p || (size_t) (e - p) >= sizeof(l.stage))
        return -EINVAL;
    memcpy(l.stage, p, (size_t) (e - p));
    l.stage[e - p] = 0;
    if (!stage_name_is_valid(l.stage))
        return -EINVAL;

    for (p = e;;) {
        char tok[24];

        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '\n')
            break;
        e = p;
        while (*e && !isspace((unsigned char) *e))
            e++;
        if ((size_t) (e - p) >= sizeof(tok) || n >= ELEMENTSOF(v))
            return -EINVAL;
        memcpy(tok, p, (size_t) (e - p));
        tok[e - p] = 0;
        if (parse_uint_digits(tok, &v[n]) < 0)
            return -EINVAL;
        n++;
        p = e;
    }
    if (*p == '\n' && p[1])
        return -EINVAL;
    if (n != 12 && n != 16)
        return -EINVAL;

    for (size_t i = 0; i < _IO_OP_MAX; i++) {
        enum io_op op = kernel_op_order[i];
        l.dispatched[op] = v[i * 3];
        l.completed[op] = v[i * 3 + 1];
        l.latency_ns[op] = v[i * 3 + 2];
        if (n == 16)
            l.slow[op] = v[12 + i];
    }
    l.has_slow = n == 16;
    *ret = l;
    return 0;
}

static int op_from_request_name(const char *s, size_t n)
{
    static const struct {
        const char *name;
        enum io_op op;
    } table[] = {
        {"READ", IO_OP_READ},
        {"WRITE", IO_OP_WRITE},
        {"FLUSH", IO_OP_FLUSH},
        {"DISCARD", IO_OP_DISCARD},
        {"SECURE_ERASE", IO_OP_DISCARD},
        {"WRITE_ZEROES", IO_OP_WRITE},
        {"ZONE_APPEND", IO_OP_WRITE},
    };
    for (size_t i = 0; i < ELEMENTSOF(table); i++)
        if (strlen(table[i].name) == n && strncmp(table[i].name, s, n) == 0)
            return (int) table[i].op;
    return -1;
}

/* rwbs as blk_fill_rwbs() writes it: an optional 'F' for a preflush, then the op letter. A
 * preflush write without data is how a flush travels as a bio. */
static int op_from_rwbs(const char *rwbs, uint64_t sectors)
{
    bool preflush = false;

    if (rwbs[0] == 'F' && rwbs[1] && strchr("WDRFN", rwbs[1])) {
        preflush = true;
        rwbs++;
    }
    switch (rwbs[0]) {
    case 'R':
        return IO_OP_READ;
    case 'W':
        return preflush && sectors == 0 ? IO_OP_FLUSH : IO_OP_WRITE;
    case 'D':
        return IO_OP_DISCARD;
    case 'F':
        return IO_OP_FLUSH;
    case 'N':
        return preflush ? IO_OP_FLUSH : -1;
    default:
        return -1;
    }
}

/* Copies the token at *p (up to a blank) into buf and advances past it and the blanks after. */
static int take_token(const char **p, char *buf, size_t size)
{
    const char *s = *p, *e = s;

    while (*e && *e != ' ' && *e != '\t' && *e != '\n')
        e++;
    if (e == s || (size_t) (e - s) >= size)
        return -EINVAL;
    memcpy(buf, s, (size_t) (e - s));
    buf[e - s] = 0;
    while (*e == ' ' || *e == '\t')
        e++;
    *p = e;
    return 0;
}

/* "<comm>-<pid> <disk>" ends right before `at` (which points at " stage "). The comm may hold
 * '-' and blanks itself, so the pid is after the last '-' before the disk name. */
static int parse_task_disk(const char *line, const char *at, struct iodump_entry *e)
{
    const char *sp = at, *dash;
    uint64_t pid;
    char num[16];

    /* disk: from the last blank before `at` */
    while (sp > line && sp[-1] != ' ')
        sp--;
    if (sp == line || sp == at || (size_t) (at - sp) >= sizeof(e->disk))
        return -EINVAL;
    memcpy(e->disk, sp, (size_t) (at - sp));
    e->disk[at - sp] = 0;
    sp--; /* the blank before the disk */

    dash = sp;
    while (dash > line && dash[-1] != '-')
        dash--;
    if (dash == line || dash == sp || (size_t) (sp - dash) >= sizeof(num))
        return -EINVAL;
    memcpy(num, dash, (size_t) (sp - dash));
    num[sp - dash] = 0;
    if (parse_uint_digits(num, &pid) < 0 || pid > UINT32_MAX)
        return -EINVAL;
    e->pid = (unsigned) pid;
    dash--; /* the '-' */
    if (dash == line || (size_t) (dash - line) >= sizeof(e->task))
        return -EINVAL;
    memcpy(e->task, line, (size_t) (dash - line));
    e->task[dash - line] = 0;
    return 0;
}

static int parse_started(const char *p, uint64_t *ret)
{
    /* the last "started <n> ns ago" of the line */
    const char *s = NULL;
    char num[24];
    size_t n;

    for (const char *q = p; (q = strstr(q, "started ")); q++)
        s = q;
    if (!s)
        return -EINVAL;
    s += STRLEN("started ");
    n = strspn(s, "0123456789");
    if (n == 0 || n >= sizeof(num) || !startswith(s + n, " ns ago"))
        return -EINVAL;
    memcpy(num, s, n);
    num[n] = 0;
    return parse_uint_digits(num, ret);
}

static bool is_hex(const char *s)
{
    for (; *s; s++)
        if (!isxdigit((unsigned char) *s))
            return false;
    return true;
}

int iodump_parse_line(const char *line, struct iodump_entry *ret)
{
    struct iodump_entry e = {.op = -1};
    const char *at = NULL, *p;
    char tok[64];

    assert_return(line && ret, -EINVAL);

    /* The first " stage " that follows a well-formed "<comm>-<pid> <disk>". */
    for (const char *q = line; (q = strstr(q, " stage ")); q++)
        if (parse_task_disk(line, q, &e) >= 0) {
            at = q;
            break;
        }
    if (!at)
        return -EINVAL;

    p = at + STRLEN(" stage ");
    if (take_token(&p, e.stage, sizeof(e.stage)) < 0 || !stage_name_is_valid(e.stage))
        return -EINVAL;
    if (take_token(&p, tok, sizeof(tok)) < 0)
        return -EINVAL;

    if (streq(tok, "bio")) {
        char rwbs[16], sector[24], plus[4], count[24];
        uint64_t v, sectors;

        e.is_bio = true;
        if (take_token(&p, rwbs, sizeof(rwbs)) < 0 || take_token(&p, sector, sizeof(sector)) < 0 ||
            take_token(&p, plus, sizeof(plus)) < 0 || take_token(&p, count, sizeof(count)) < 0)
            return -EINVAL;
        if (parse_uint_digits(sector, &v) < 0 || !streq(plus, "+") ||
            parse_uint_digits(count, &sectors) < 0)
            return -EINVAL;
        e.op = op_from_rwbs(rwbs, sectors);
    } else {
        const char *o;
        size_t n;

        if (strlen(tok) < 8 || strlen(tok) > 16 || !is_hex(tok))
            return -EINVAL;
        strcpy(e.ptr, tok);
        o = strstr(p, ".op=");
        if (!o)
            return -EINVAL;
        o += STRLEN(".op=");
        n = strcspn(o, ", }");
        e.op = op_from_request_name(o, n);
    }

    if (parse_started(p, &e.age_ns) < 0)
        return -EINVAL;
    *ret = e;
    return 0;
}
