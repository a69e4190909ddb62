/* io_source_set.c: see io_source_set.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_source_set.h"
#include "log.h"
#include "macro.h"

struct set_member {
    enum io_source_kind kind;
    struct io_source *source;         /* NULL: not available here */
    char why[IO_SOURCE_WHY_MAX - 32]; /* room for "not available: " before it */
};

/* Why a source does not follow a disk it was offered (it cannot see it). */
struct set_disk {
    dev_t devnum;
    char why[_IO_SOURCE_KIND_MAX][IO_SOURCE_WHY_MAX];
};

struct io_source_set {
    char *spec;
    struct set_member members[_IO_SOURCE_KIND_MAX];
    size_t n;
    struct set_disk *disks;
    size_t n_disks;
};

int io_source_spec_parse(const char *spec, enum io_source_kind order[_IO_SOURCE_KIND_MAX])
{
    static const enum io_source_kind auto_order[] = {IO_SOURCE_HIERARCHY, IO_SOURCE_BPF,
                                                     IO_SOURCE_DISKSTATS};
    bool seen[_IO_SOURCE_KIND_MAX] = {};
    int n = 0;

    if (isempty(spec))
        return -EINVAL;
    if (streq(spec, IO_SOURCE_SPEC_AUTO)) {
        memcpy(order, auto_order, sizeof(auto_order));
        return (int) ELEMENTSOF(auto_order);
    }
    for (const char *p = spec;;) {
        const char *e = strchrnul(p, ',');
        char name[16];
        int k;

        while (*p == ' ')
            p++;
        if (e - p <= 0 || e - p >= (ptrdiff_t) sizeof(name))
            return -EINVAL;
        memcpy(name, p, (size_t) (e - p));
        name[e - p] = 0;
        for (size_t l = strlen(name); l > 0 && name[l - 1] == ' ';)
            name[--l] = 0;
        k = io_source_kind_from_string(name);
        if (k < 0 || seen[k])
            return -EINVAL;
        seen[k] = true;
        order[n++] = (enum io_source_kind) k;
        if (!*e)
            return n;
        p = e + 1;
    }
}

int io_source_set_open(const char *spec, const struct io_source_params *p,
                       struct io_source_set **ret)
{
    enum io_source_kind order[_IO_SOURCE_KIND_MAX];
    struct io_source_set *set;
    bool any = false;
    int n, r;

    assert_return(ret, -EINVAL);

    n = io_source_spec_parse(spec, order);
    if (n < 0)
        return n;
    set = calloc(1, sizeof(*set));
    if (!set)
        return -ENOMEM;
    set->spec = strdup(spec);
    if (!set->spec) {
        io_source_set_free(set);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        struct set_member *m = &set->members[set->n++];

        m->kind = order[i];
        r = io_source_open(order[i], p, &m->source, m->why, sizeof(m->why));
        if (r == -ENOMEM) {
            io_source_set_free(set);
            return r;
        }
        any |= r >= 0;
    }
    if (!any) {
        io_source_set_free(set);
        return log_error_errno(-EOPNOTSUPP, "no io source of '%s' is available here", spec);
    }
    *ret = set;
    return 0;
}

struct io_source_set *io_source_set_free(struct io_source_set *set)
{
    if (!set)
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        io_source_close(set->members[i].source);
    free(set->disks);
    free(set->spec);
    free(set);
    return NULL;
}

const char *io_source_set_spec(const struct io_source_set *set)
{
    return set->spec;
}

size_t io_source_set_size(const struct io_source_set *set)
{
    return set->n;
}

enum io_source_kind io_source_set_kind(const struct io_source_set *set, size_t i)
{
    return set->members[i].kind;
}

struct io_source *io_source_set_source(const struct io_source_set *set, size_t i)
{
    return i < set->n ? set->members[i].source : NULL;
}

const char *io_source_set_why(const struct io_source_set *set, size_t i)
{
    return i < set->n ? set->members[i].why : NULL;
}

static struct set_disk *find_disk(struct io_source_set *set, dev_t devnum)
{
    for (size_t i = 0; i < set->n_disks; i++)
        if (set->disks[i].devnum == devnum)
            return &set->disks[i];
    return NULL;
}

int io_source_set_add_disk(struct io_source_set *set, const struct disk_info *d)
{
    struct set_disk *sd, *l;
    bool any = false;

    assert_return(set && d, -EINVAL);

    if (find_disk(set, d->devnum))
        return -EEXIST;
    l = reallocarray(set->disks, set->n_disks + 1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    set->disks = l;
    sd = &set->disks[set->n_disks];
    memset(sd, 0, sizeof(*sd));
    sd->devnum = d->devnum;

    for (size_t i = 0; i < set->n; i++) {
        struct set_member *m = &set->members[i];
        int r;

        if (!m->source)
            continue;
        r = io_source_add_disk(m->source, d);
        if (r >= 0) {
            any = true;
            continue;
        }
        snprintf(sd->why[i], sizeof(sd->why[i]), "cannot follow %s: %s", d->name,
                 r == -ENODEV ? "it does not see the disk" : strerror(-r));
        if (r != -ENODEV)
            log_warning_errno(r, "%s: the %s io source cannot follow it: %m", d->name,
                              io_source_kind_to_string(m->kind));
    }
    if (!any) {
        io_source_set_remove_disk(set, d->devnum);
        return -ENODEV;
    }
    set->n_disks++;
    return 0;
}

void io_source_set_remove_disk(struct io_source_set *set, dev_t devnum)
{
    struct set_disk *sd;

    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        io_source_remove_disk(set->members[i].source, devnum);
    sd = find_disk(set, devnum);
    if (!sd)
        return;
    memmove(sd, sd + 1, (size_t) (set->disks + set->n_disks - (sd + 1)) * sizeof(*sd));
    set->n_disks--;
}

static bool stage_any_op(const struct io_stage_counters per_op[_IO_OP_MAX])
{
    for (int op = 0; op < _IO_OP_MAX; op++)
        if (per_op[op].valid)
            return true;
    return false;
}

int io_source_set_read(struct io_source_set *set, const struct disk_info *d,
                       struct io_source_reading *out)
{
    struct io_stage_counters c[_IO_STAGE_MAX][_IO_OP_MAX];
    bool any = false;
    int r = -ENOENT;

    assert_return(set && d && out, -EINVAL);

    if (!find_disk(set, d->devnum))
        return -ENOENT;
    memset(out->c, 0, sizeof(out->c));
    for (int st = 0; st < _IO_STAGE_MAX; st++)
        out->from[st] = IO_SOURCE_NONE;
    for (size_t i = 0; i < set->n; i++) {
        struct set_member *m = &set->members[i];
        int k;

        if (!m->source)
            continue;
        k = io_source_read(m->source, d, c);
        if (k == -ENOENT)
            continue; /* it does not follow this disk */
        if (k < 0) {
            r = k;
            continue;
        }
        any = true;
        for (int st = 0; st < _IO_STAGE_MAX; st++)
            if (out->from[st] == IO_SOURCE_NONE && stage_any_op(c[st])) {
                memcpy(out->c[st], c[st], sizeof(c[st]));
                out->from[st] = (int8_t) m->kind;
            }
    }
    return any ? 0 : r;
}

/* The stage field of a "task,pid,stage,ptr,ms" detail string. */
static int detail_stage(const char *detail)
{
    const char *p = strchr(detail, ',');
    char name[32];
    size_t n;

    p = p ? strchr(p + 1, ',') : NULL;
    if (!p)
        return -EINVAL;
    p++;
    n = strcspn(p, ",");
    if (n >= sizeof(name))
        return -EINVAL;
    memcpy(name, p, n);
    name[n] = 0;
    return io_stage_from_string(name);
}

int io_source_set_read_dumps(struct io_source_set *set, const struct disk_info *d,
                             const struct io_source_reading *r, char (*out)[IO_DUMP_DETAIL_MAX],
                             size_t max)
{
    size_t n = 0;

    assert_return(set && d && r && (out || max == 0), -EINVAL);

    for (size_t i = 0; i < set->n && n < max; i++) {
        struct set_member *m = &set->members[i];
        bool feeds = false;
        int k;

        for (int st = 0; st < _IO_STAGE_MAX; st++)
            feeds |= r->from[st] == (int) m->kind;
        if (!m->source || !feeds)
            continue;
        k = io_source_read_dumps(m->source, d, out + n, max - n);
        if (k <= 0)
            continue;
        /* keep the details of the stages this source feeds */
        for (size_t j = n, end = n + (size_t) k; j < end; j++) {
            int st = detail_stage(out[j]);

            if (st >= 0 && r->from[st] == (int) m->kind) {
                if (j != n)
                    memcpy(out[n], out[j], IO_DUMP_DETAIL_MAX);
                n++;
            }
        }
    }
    return (int) n;
}

int io_source_set_explain(struct io_source_set *set, const struct disk_info *d, enum io_stage st,
                          struct io_stage_origin *out)
{
    struct set_disk *sd;

    assert_return(set && d && out, -EINVAL);
    assert_return((unsigned) st < _IO_STAGE_MAX, -EINVAL);

    memset(out, 0, sizeof(*out));
    out->from = IO_SOURCE_NONE;
    sd = find_disk(set, d->devnum);
    if (!sd)
        return -ENOENT;
    for (size_t i = 0; i < set->n; i++) {
        struct set_member *m = &set->members[i];
        char *why = out->why_not[i];

        if (!m->source)
            snprintf(why, IO_SOURCE_WHY_MAX, "not available: %s", m->why);
        else if (*sd->why[i])
            snprintf(why, IO_SOURCE_WHY_MAX, "%s", sd->why[i]);
        else if (io_source_stage_status(m->source, d, st, why, IO_SOURCE_WHY_MAX)) {
            why[0] = 0;
            out->from = (int) m->kind;
            break;
        }
    }
    return 0;
}
