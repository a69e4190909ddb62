/* io_source_hierarchy.c: the io source of kernels with openEuler's blk_io_hierarchy statistics.
 *
 * Per disk, <debugfs>/block/<disk>/blk_io_hierarchy/stats gives cumulative dispatched,
 * completed and latency counters for every stage the kernel was built to record; its stages are
 * whatever that file lists (formats in hierarchy_format.h). When we start following a disk, each
 * <stage>/threshold is set to the disk type's iodump threshold if it differs (as the reference
 * does), and on each read the dump gauge of (stage, op) is the number of <stage>/io_dump lines of
 * that op: the kernel lists there exactly the ios over the threshold.
 *
 * Differences from the reference collector: the ops are taken in the kernel's order (read,
 * write, discard, flush; the reference reads the last two swapped), and bio-stage io_dump lines
 * (which carry no ".op=") are counted too, by their rwbs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hierarchy_format.h"
#include "io_source_internal.h"
#include "log.h"
#include "virtual_file.h"

#define HIERARCHY_STATS_MAX (64 * 1024)

DEFINE_POINTER_CLEANUP(DIR, closedir)

struct hierarchy_disk {
    bool present[_IO_STAGE_MAX];
    struct counter_follow completed[_IO_STAGE_MAX][_IO_OP_MAX];
    struct counter_follow latency[_IO_STAGE_MAX][_IO_OP_MAX];
};

struct hierarchy_source {
    struct io_source base;
};

static int hierarchy_path(struct io_source *s, const char *disk, const char *stage,
                          const char *file, char *buf, size_t size)
{
    if (stage)
        return path_printf(buf, size, "%s/block/%s/blk_io_hierarchy/%s/%s", s->debugfs_root, disk,
                           stage, file);
    return path_printf(buf, size, "%s/block/%s/blk_io_hierarchy/%s", s->debugfs_root, disk, file);
}

/* Calls f for each line of stats that parses; unknown stage names are skipped. */
static int hierarchy_read_stats(struct io_source *s, const char *disk,
                                int (*f)(const struct hierarchy_stats_line *l, enum io_stage st,
                                         void *userdata),
                                void *userdata)
{
    _cleanup_free_ char *text = NULL;
    char path[4096];
    int r;

    r = hierarchy_path(s, disk, NULL, "stats", path, sizeof(path));
    if (r < 0)
        return r;
    r = read_virtual_file(path, HIERARCHY_STATS_MAX, &text, NULL);
    if (r < 0)
        return r;

    for (char *line = text, *next; line && *line; line = next) {
        struct hierarchy_stats_line l;
        int st;

        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (!*line)
            continue;
        if (hierarchy_stats_parse_line(line, &l) < 0) {
            log_debug("%s: ignoring unparsable line in %s", disk, path);
            continue;
        }
        st = io_stage_from_string(l.stage);
        if (st < 0) {
            log_debug("%s: ignoring unknown stage '%s' in %s", disk, l.stage, path);
            continue;
        }
        r = f(&l, st, userdata);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Calls f for each line of <stage>/io_dump that parses; returns the number of lines seen.
 * A stage without io_dump (kernels without io dump support) has no lines. */
static int hierarchy_read_iodump(struct io_source *s, const char *disk, enum io_stage st,
                                 int (*f)(const struct iodump_entry *e, void *userdata),
                                 void *userdata)
{
    _cleanup_fclose_ FILE *fp = NULL;
    _cleanup_free_ char *line = NULL;
    _cleanup_close_ int fd = -EBADF;
    size_t alloc = 0;
    char path[4096];
    int r, n = 0;

    r = hierarchy_path(s, disk, io_stage_to_string(st), "io_dump", path, sizeof(path));
    if (r < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    fp = fdopen(fd, "r");
    if (!fp)
        return -errno;
    TAKE_FD(fd);

    for (;;) {
        struct iodump_entry e;
        ssize_t k;

        errno = 0;
        k = getline(&line, &alloc, fp);
        if (k < 0) {
            if (errno != 0)
                return -errno;
            break;
        }
        if (k > 0 && line[k - 1] == '\n')
            line[k - 1] = 0;
        if (iodump_parse_line(line, &e) < 0) {
            log_debug("%s: ignoring unparsable line in %s", disk, path);
            continue;
        }
        n++;
        if (f) {
            r = f(&e, userdata);
            if (r < 0)
                return r;
            if (r > 0) /* enough */
                break;
        }
    }
    return n;
}

static int hierarchy_open(struct io_source *s)
{
    _cleanup_(closedirp) DIR *d = NULL;
    char path[4096];
    struct dirent *de;
    int r;

    r = path_printf(path, sizeof(path), "%s/block", s->debugfs_root);
    if (r < 0)
        return r;
    d = opendir(path);
    if (!d)
        return io_source_unavailable(s, errno, "cannot open %s (is debugfs mounted?)", path);
    /* As the reference: usable when at least one disk has blk_io_hierarchy/stats. */
    while ((de = readdir(d))) {
        struct stat st;

        if (de->d_name[0] == '.')
            continue;
        if (hierarchy_path(s, de->d_name, NULL, "stats", path, sizeof(path)) < 0)
            continue;
        if (stat(path, &st) >= 0 && S_ISREG(st.st_mode))
            return 0;
    }
    return io_source_unavailable(s, 0,
                                 "no disk has blk_io_hierarchy statistics under %s/block "
                                 "(kernel without CONFIG_BLK_IO_HIERARCHY_STATS)",
                                 s->debugfs_root);
}

static bool hierarchy_stage_status(struct io_source *s, struct io_source_disk *d, enum io_stage st,
                                   char *why, size_t size)
{
    struct hierarchy_disk *hd = d->data;

    if (hd->present[st])
        return true;
    snprintf(why, size, "the blk_io_hierarchy statistics of %s have no stage %s", d->info.name,
             io_stage_to_string(st));
    return false;
}

static void hierarchy_set_threshold(struct io_source *s, struct io_source_disk *d, enum io_stage st)
{
    char path[4096], cur[32], want[32];
    uint64_t v;
    int r;

    if (hierarchy_path(s, d->info.name, io_stage_to_string(st), "threshold", path, sizeof(path)) <
        0)
        return;
    r = read_virtual_line(path, cur, sizeof(cur));
    if (r < 0) {
        if (r != -ENOENT)
            log_debug_errno(r, "cannot read %s: %m", path);
        return;
    }
    if (read_virtual_uint64(path, &v) >= 0 && v == d->threshold_ms)
        return;
    snprintf(want, sizeof(want), "%" PRIu64, d->threshold_ms);
    r = write_virtual_file(path, want);
    if (r < 0)
        log_warning_errno(r, "cannot set %s to %s: %m", path, want);
    else
        log_info("%s: io dump threshold of stage %s set from %s to %s ms", d->info.name,
                 io_stage_to_string(st), cur, want);
}

static int hierarchy_start_stage(const struct hierarchy_stats_line *l, enum io_stage st,
                                 void *userdata)
{
    struct hierarchy_disk *hd = userdata;

    hd->present[st] = true;
    for (int op = 0; op < _IO_OP_MAX; op++) {
        counter_follow_init(&hd->completed[st][op], l->completed[op]);
        counter_follow_init(&hd->latency[st][op], l->latency_ns[op]);
    }
    return 0;
}

static int hierarchy_add_disk(struct io_source *s, struct io_source_disk *d)
{
    _cleanup_free_ struct hierarchy_disk *hd = NULL;
    int r;

    hd = calloc(1, sizeof(*hd));
    if (!hd)
        return -ENOMEM;
    r = hierarchy_read_stats(s, d->info.name, hierarchy_start_stage, hd);
    if (r == -ENOENT)
        return -ENODEV;
    if (r < 0)
        return log_warning_errno(r, "%s: cannot read blk_io_hierarchy stats: %m", d->info.name);
    for (int st = 0; st < _IO_STAGE_MAX; st++)
        if (hd->present[st])
            hierarchy_set_threshold(s, d, st);
    d->data = TAKE_PTR(hd);
    return 0;
}

static void hierarchy_remove_disk(struct io_source *s, struct io_source_disk *d)
{
    free(d->data);
    d->data = NULL;
}

struct read_ctx {
    struct hierarchy_disk *hd;
    struct io_stage_counters (*out)[_IO_OP_MAX];
    bool seen[_IO_STAGE_MAX];
};

static int hierarchy_update_stage(const struct hierarchy_stats_line *l, enum io_stage st,
                                  void *userdata)
{
    struct read_ctx *c = userdata;

    if (c->seen[st]) /* a stage listed twice: keep the first */
        return 0;
    c->seen[st] = true;
    if (!c->hd->present[st]) /* a stage that appeared (e.g. a scheduler was chosen): from now */
        return hierarchy_start_stage(l, st, c->hd);
    for (int op = 0; op < _IO_OP_MAX; op++) {
        c->out[st][op].finished =
            counter_follow_update(&c->hd->completed[st][op], l->completed[op]);
        c->out[st][op].latency_ns =
            counter_follow_update(&c->hd->latency[st][op], l->latency_ns[op]);
        c->out[st][op].valid = true;
    }
    return 0;
}

static int count_dump(const struct iodump_entry *e, void *userdata)
{
    struct io_stage_counters *per_op = userdata;

    if (e->op >= 0 && e->op < _IO_OP_MAX)
        per_op[e->op].dump++;
    return 0;
}

static int hierarchy_read(struct io_source *s, struct io_source_disk *d,
                          struct io_stage_counters out[_IO_STAGE_MAX][_IO_OP_MAX])
{
    struct read_ctx c = {.hd = d->data, .out = out};
    int r;

    r = hierarchy_read_stats(s, d->info.name, hierarchy_update_stage, &c);
    if (r == -ENOENT)
        return -ENODEV;
    if (r < 0)
        return r;
    for (int st = 0; st < _IO_STAGE_MAX; st++) {
        if (!c.seen[st]) {
            c.hd->present[st] = false;
            continue;
        }
        r = hierarchy_read_iodump(s, d->info.name, st, count_dump, out[st]);
        if (r < 0)
            log_debug_errno(r, "%s: cannot read io_dump of stage %s: %m", d->info.name,
                            io_stage_to_string(st));
    }
    return 0;
}

struct dumps_ctx {
    char (*out)[IO_DUMP_DETAIL_MAX];
    size_t max, n;
};

static int collect_dump(const struct iodump_entry *e, void *userdata)
{
    struct dumps_ctx *c = userdata;

    if (c->n >= c->max)
        return 1;
    if (io_dump_format(c->out[c->n], IO_DUMP_DETAIL_MAX, e->task, e->pid, e->stage, e->ptr,
                       e->age_ns / 1000000) >= 0)
        c->n++;
    return c->n >= c->max;
}

static int hierarchy_read_dumps(struct io_source *s, struct io_source_disk *d,
                                char (*out)[IO_DUMP_DETAIL_MAX], size_t max)
{
    struct hierarchy_disk *hd = d->data;
    struct dumps_ctx c = {.out = out, .max = max};

    for (int st = 0; st < _IO_STAGE_MAX && c.n < max; st++) {
        if (!hd->present[st])
            continue;
        int r = hierarchy_read_iodump(s, d->info.name, st, collect_dump, &c);
        if (r < 0)
            log_debug_errno(r, "%s: cannot read io_dump of stage %s: %m", d->info.name,
                            io_stage_to_string(st));
    }
    return (int) c.n;
}

const struct io_source_ops io_source_hierarchy_ops = {
    .kind = IO_SOURCE_HIERARCHY,
    .size = sizeof(struct hierarchy_source),
    .open = hierarchy_open,
    .add_disk = hierarchy_add_disk,
    .remove_disk = hierarchy_remove_disk,
    .read = hierarchy_read,
    .read_dumps = hierarchy_read_dumps,
    .stage_status = hierarchy_stage_status,
};
