/* io_source_bpf.c: the eBPF io source: loads bpf/io_stages.bpf.c (libbpf CO-RE, BTF) through
 * io_bpf_load.c, follows disks by giving each a slot in its maps, and reads them.
 *
 * Counters: a per-CPU array element per slot holds (finished, latency_ns) for every stage and
 * op; a read sums the CPUs. The dump gauge comes from scanning the in-flight tables (bios and
 * requests, arrays mapped into our memory) and the map of submitters switched out (asleep in a
 * wait, say) before they had a request for entries of the disk older than its threshold; one scan
 * serves all disks read within DUMP_SCAN_REUSE_NS, so reading every disk once per period costs one
 * scan. The wbt, iocost and gettag waits are recognised by kernel text ranges taken from kallsyms
 * before loading.
 *
 * Each program loads or is refused on its own (io_bpf_load.h); a stage is measured on a disk when
 * every program it needs is on (stage_needs below), so a refused program costs only its stages,
 * which then come from another source. The scheduler stages are measured only while that
 * scheduler is the disk's; a bio-based disk (no blk-mq) has only the bio and throtl stages.
 *
 * Built without libbpf/clang/bpftool/BTF, open() says so and returns -EOPNOTSUPP. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "io_bpf_load.h"
#include "io_source_internal.h"
#include "log.h"
#include "macro.h"
#include "virtual_file.h"

#if HAVE_BPF_IO_STAGES

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "bpf/io_stages.h"
#include "io_stages.skel.h"

_Static_assert(IO_BPF_NR_STAGES == _IO_STAGE_MAX, "BPF stage numbers");
_Static_assert(IO_BPF_NR_OPS == _IO_OP_MAX, "BPF op numbers");
_Static_assert(IO_BPF_STAGE_THROTL == IO_STAGE_THROTL && IO_BPF_STAGE_WBT == IO_STAGE_WBT &&
                   IO_BPF_STAGE_IOCOST == IO_STAGE_IOCOST && IO_BPF_STAGE_BFQ == IO_STAGE_BFQ &&
                   IO_BPF_STAGE_GETTAG == IO_STAGE_GETTAG && IO_BPF_STAGE_PLUG == IO_STAGE_PLUG &&
                   IO_BPF_STAGE_DEADLINE == IO_STAGE_DEADLINE &&
                   IO_BPF_STAGE_HCTX == IO_STAGE_HCTX && IO_BPF_STAGE_REQUEUE == IO_STAGE_REQUEUE &&
                   IO_BPF_STAGE_RQ_DRIVER == IO_STAGE_RQ_DRIVER &&
                   IO_BPF_STAGE_BIO == IO_STAGE_BIO && IO_BPF_STAGE_KYBER == IO_STAGE_KYBER,
               "BPF stage numbers");
_Static_assert(sizeof(struct io_bpf_inflight) == 64, "one cache line per in-flight io");
_Static_assert(IO_BPF_OP_READ == IO_OP_READ && IO_BPF_OP_WRITE == IO_OP_WRITE &&
                   IO_BPF_OP_FLUSH == IO_OP_FLUSH && IO_BPF_OP_DISCARD == IO_OP_DISCARD,
               "BPF op numbers");

#define DUMP_SCAN_REUSE_NS   (100 * 1000 * 1000ULL)
#define BATCH_CHUNK          256
#define DROPPED_LOG_INTERVAL (60 * 1000000000ULL)

#define STAGE(s)    (1U << (s))
#define WAIT_STAGES (STAGE(IO_STAGE_WBT) | STAGE(IO_STAGE_IOCOST) | STAGE(IO_STAGE_GETTAG))

#define PROG(x) (1U << IO_BPF_PROG_##x)

/* The programs a stage needs on a blk-mq disk (either set, where there are two ways) and on a
 * bio-based one (0: the stage does not exist there). Programs that only make a stage more exact
 * (bio_split, rq_merge) are not listed: the stage is measured without them, a little less
 * completely. */
#define WAITS                                               \
    {                                                       \
        IO_BPF_SUBMITTER_PROGS, IO_BPF_WAITS_AT_GETRQ_PROGS \
    }
static const struct stage_need {
    uint32_t mq[2], bio_based;
} stage_needs[_IO_STAGE_MAX] = {
    [IO_STAGE_BIO] = {{PROG(BIO_QUEUE) | PROG(RQ_COMPLETE)}, PROG(BIO_QUEUE) | PROG(BIO_COMPLETE)},
    [IO_STAGE_THROTL] = {{PROG(THROTL_QUEUED) | PROG(BIO_QUEUE)},
                         PROG(THROTL_QUEUED) | PROG(BIO_QUEUE)},
    [IO_STAGE_WBT] = {WAITS, 0},
    [IO_STAGE_IOCOST] = {WAITS, 0},
    [IO_STAGE_GETTAG] = {WAITS, 0},
    [IO_STAGE_PLUG] = {{PROG(RQ_MADE) | PROG(RQ_INSERT) | PROG(RQ_ISSUE)}, 0},
    [IO_STAGE_DEADLINE] = {{PROG(RQ_INSERT) | PROG(RQ_ISSUE)}, 0},
    [IO_STAGE_BFQ] = {{PROG(RQ_INSERT) | PROG(RQ_ISSUE)}, 0},
    [IO_STAGE_KYBER] = {{PROG(RQ_INSERT) | PROG(RQ_ISSUE)}, 0},
    [IO_STAGE_HCTX] = {{PROG(RQ_INSERT) | PROG(RQ_ISSUE)}, 0},
    [IO_STAGE_REQUEUE] = {{PROG(RQ_REQUEUE) | PROG(RQ_INSERT) | PROG(RQ_ISSUE)}, 0},
    [IO_STAGE_RQ_DRIVER] = {{PROG(RQ_ISSUE) | PROG(RQ_COMPLETE)}, 0},
};

/* The kernel functions a submitter sleeps in for each wait (IO_BPF_WAIT_*). */
static const char *const wait_functions[IO_BPF_NR_WAITS] = {
    [IO_BPF_WAIT_WBT] = "wbt_wait",
    [IO_BPF_WAIT_IOCOST] = "ioc_rqos_throttle",
    [IO_BPF_WAIT_GETTAG] = "blk_mq_get_tag",
};
static const enum io_stage wait_stage[IO_BPF_NR_WAITS] = {
    [IO_BPF_WAIT_WBT] = IO_STAGE_WBT,
    [IO_BPF_WAIT_IOCOST] = IO_STAGE_IOCOST,
    [IO_BPF_WAIT_GETTAG] = IO_STAGE_GETTAG,
};

/* Per slot, per stage, per op: ios in flight over the threshold, from one scan. */
struct dump_counts {
    uint32_t n[IO_BPF_MAX_DISKS][_IO_STAGE_MAX][_IO_OP_MAX];
};

struct bpf_disk {
    uint32_t slot;
    uint32_t kdev;
    bool mq; /* request-based (blk-mq) */
};

/* An in-flight table of the programs ("requests" or "bios"), mapped into our memory. Entries
 * change under us: each is copied before it is looked at. */
struct bpf_table {
    struct io_bpf_inflight *e; /* NULL: not mapped */
    size_t n, size;
};

struct bpf_source {
    struct io_source base;
    struct io_bpf_programs progs;
    struct io_stages_bpf *skel; /* progs.skel */
    struct bpf_table requests, bios;
    uint64_t wait_start[IO_BPF_NR_WAITS]; /* 0: the wait function was not found */
    int ncpus;
    size_t counters_size;                /* one per-CPU value as the kernel copies it */
    struct io_bpf_disk_counters *percpu; /* ncpus values, scratch for reads */
    bool slot_used[IO_BPF_MAX_DISKS];
    uint64_t slot_threshold_ns[IO_BPF_MAX_DISKS];
    struct dump_counts *dumps;
    uint64_t dumps_at_ns; /* CLOCK_MONOTONIC of the scan, 0 = none */
    uint64_t ptr_salt;
    uint64_t dropped_logged, dropped_logged_at_ns;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    /* bpf_ktime_get_ns() is CLOCK_MONOTONIC */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static uint32_t kernel_devnum(dev_t d)
{
    return (major(d) << 20) | (minor(d) & 0xfffff);
}

/* A stable, non-reversible name for an io (its key in the tables) in detail strings. */
static uint64_t ptr_hash(const struct bpf_source *bs, uint64_t p)
{
    uint64_t z = p ^ bs->ptr_salt;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int table_map(struct bpf_table *t, const struct bpf_map *map)
{
    long page = sysconf(_SC_PAGESIZE);
    void *p;

    if (page <= 0)
        page = 4096;
    t->n = bpf_map__max_entries(map);
    t->size = (t->n * sizeof(struct io_bpf_inflight) + (size_t) page - 1) & ~((size_t) page - 1);
    p = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
    if (p == MAP_FAILED)
        return log_info_errno(errno, "cannot map the BPF table %s: %m", bpf_map__name(map));
    t->e = p;
    return 0;
}

static void table_unmap(struct bpf_table *t)
{
    if (t->e)
        munmap(t->e, t->size);
    *t = (struct bpf_table){};
}

/* Calls f on a copy of every entry in use. */
static void table_for_each(const struct bpf_table *t,
                           void (*f)(const struct io_bpf_inflight *v, void *userdata),
                           void *userdata)
{
    for (size_t i = 0; i < t->n; i++) {
        struct io_bpf_inflight v;

        if (!__atomic_load_n(&t->e[i].key, __ATOMIC_RELAXED))
            continue;
        memcpy(&v, &t->e[i], sizeof(v));
        if (v.key)
            f(&v, userdata);
    }
}

static void bpf_source_unload(struct bpf_source *bs)
{
    table_unmap(&bs->requests);
    table_unmap(&bs->bios);
    io_bpf_programs_unload(&bs->progs);
    bs->skel = NULL;
}

/* After each change of "followed": the programs' per-CPU caches of it are stale. */
static void followed_changed(struct bpf_source *bs)
{
    __atomic_fetch_add(&bs->skel->bss->io_bpf_followed_gen, 1, __ATOMIC_SEQ_CST);
}

/* Finds the text ranges of the wait functions in kallsyms (vmlinux symbols are listed in
 * address order: a function ends where the next higher address begins). */
static void find_wait_functions(struct io_source *s, uint64_t start[], uint64_t end[])
{
    _cleanup_fclose_ FILE *f = NULL;
    _cleanup_free_ char *line = NULL;
    size_t alloc = 0;
    char path[4096];
    int pending = -1; /* a wait whose end is the next higher address */

    for (int w = 0; w < IO_BPF_NR_WAITS; w++)
        start[w] = end[w] = 0;
    if (path_printf(path, sizeof(path), "%s/kallsyms", s->procfs_root) < 0)
        return;
    f = fopen(path, "re");
    if (!f) {
        log_info_errno(errno, "cannot read %s (wbt, iocost, gettag not measured): %m", path);
        return;
    }
    while (getline(&line, &alloc, f) > 0) {
        char type, name[128];
        unsigned long long addr;

        if (sscanf(line, "%llx %c %127s", &addr, &type, name) != 3)
            continue;
        if (pending >= 0 && addr > start[pending]) {
            end[pending] = addr;
            pending = -1;
        }
        if (type != 't' && type != 'T')
            continue;
        for (int w = 0; w < IO_BPF_NR_WAITS; w++)
            if (start[w] == 0 && streq(name, wait_functions[w]) && addr != 0) {
                start[w] = addr;
                pending = w;
            }
    }
    for (int w = 0; w < IO_BPF_NR_WAITS; w++)
        if (!start[w] || !end[w] || end[w] - start[w] > 1024 * 1024) {
            if (start[w] || end[w])
                log_info("no usable text range for %s in %s", wait_functions[w], path);
            start[w] = end[w] = 0;
        }
}

/* The test hook: programs to be refused for real (io_stages.bpf.c, test_refuse), named in
 * $SENTRY_TEST_BPF_REFUSE. */
static uint32_t refuse_mask_from_env(void)
{
    const char *v = secure_getenv("SENTRY_TEST_BPF_REFUSE");
    uint32_t mask = 0;

    if (isempty(v))
        return 0;
    if (io_bpf_prog_mask_parse(v, &mask) < 0) {
        log_warning("SENTRY_TEST_BPF_REFUSE=%s names an unknown BPF program; ignored", v);
        return 0;
    }
    log_notice("SENTRY_TEST_BPF_REFUSE=%s: these BPF programs are made to be refused", v);
    return mask;
}

static int bpf_source_open(struct io_source *s)
{
    struct bpf_source *bs = (struct bpf_source *) s;
    struct io_bpf_load_params lp = {.refuse = refuse_mask_from_env()};
    char path[4096];
    int r;

    r = path_printf(path, sizeof(path), "%s/kernel/btf/vmlinux", s->sysfs_root);
    if (r < 0)
        return r;
    if (access(path, R_OK) < 0)
        return io_source_unavailable(s, errno, "no kernel BTF (%s)", path);
    lp.btf_path = path;
    find_wait_functions(s, lp.wait_start, lp.wait_end);
    memcpy(bs->wait_start, lp.wait_start, sizeof(bs->wait_start));

    r = io_bpf_programs_load(&bs->progs, &lp);
    if (r < 0) {
        if (r == -ENOMEM)
            return r;
        return io_source_unavailable(s, 0, "no io-stage BPF program could be loaded (%s: %s)",
                                     io_bpf_prog_name(IO_BPF_PROG_BIO_QUEUE),
                                     bs->progs.status[IO_BPF_PROG_BIO_QUEUE].reason);
    }
    bs->skel = bs->progs.skel;
    r = table_map(&bs->requests, bs->skel->maps.requests);
    if (r >= 0)
        r = table_map(&bs->bios, bs->skel->maps.bios);
    if (r < 0)
        goto fail;

    bs->ncpus = libbpf_num_possible_cpus();
    if (bs->ncpus <= 0) {
        r = bs->ncpus < 0 ? bs->ncpus : -EINVAL;
        goto fail;
    }
    bs->counters_size = (sizeof(struct io_bpf_disk_counters) + 7) & ~(size_t) 7;
    bs->percpu = calloc((size_t) bs->ncpus, bs->counters_size);
    bs->dumps = calloc(1, sizeof(*bs->dumps));
    if (!bs->percpu || !bs->dumps) {
        r = -ENOMEM;
        goto fail;
    }
    if (getrandom(&bs->ptr_salt, sizeof(bs->ptr_salt), GRND_NONBLOCK) != sizeof(bs->ptr_salt))
        bs->ptr_salt = now_ns() * 0x9e3779b97f4a7c15ULL;
    return 0;

fail:
    bpf_source_unload(bs);
    free(bs->percpu);
    free(bs->dumps);
    bs->percpu = NULL;
    bs->dumps = NULL;
    if (r == -ENOMEM)
        return r;
    return io_source_unavailable(s, r, "cannot set up the io-stage BPF maps");
}

static void bpf_source_close(struct io_source *s)
{
    struct bpf_source *bs = (struct bpf_source *) s;

    bpf_source_unload(bs);
    free(bs->percpu);
    free(bs->dumps);
}

/* Calls f on every (key, value) of a hash map; batched where the kernel can. */
static int map_for_each(int fd, size_t key_size, size_t value_size,
                        void (*f)(const void *key, const void *value, void *userdata),
                        void *userdata)
{
    _cleanup_free_ uint8_t *keys = NULL, *values = NULL;
    uint64_t in_token = 0, out_token = 0;
    bool first = true;
    int r;

    keys = calloc(BATCH_CHUNK, key_size);
    values = calloc(BATCH_CHUNK, value_size);
    if (!keys || !values)
        return -ENOMEM;

    for (;;) {
        DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
        __u32 count = BATCH_CHUNK;

        r = bpf_map_lookup_batch(fd, first ? NULL : &in_token, &out_token, keys, values, &count,
                                 &opts);
        if (r < 0 && r != -ENOENT) {
            if (first && (r == -EINVAL || r == -ENOTSUP || r == -EOPNOTSUPP))
                break; /* no batch operations on this kernel */
            return r;
        }
        for (__u32 i = 0; i < count; i++)
            f(keys + i * key_size, values + i * value_size, userdata);
        if (r == -ENOENT)
            return 0;
        in_token = out_token;
        first = false;
    }

    /* one element at a time */
    uint8_t *cursor = NULL, *next = keys + key_size;
    while (bpf_map_get_next_key(fd, cursor, next) >= 0) {
        if (bpf_map_lookup_elem(fd, next, values) >= 0)
            f(next, values, userdata);
        memcpy(keys, next, key_size);
        cursor = keys;
    }
    return 0;
}

/* Whether a submitter's bio is also in "bios" (waits_at_getrq in io_stages.bpf.c), where the
 * scans count it. */
static bool bio_in_bios(const struct bpf_source *bs)
{
    return !io_bpf_programs_on(&bs->progs, IO_BPF_SUBMITTER_PROGS) &&
           io_bpf_programs_on(&bs->progs, IO_BPF_WAITS_AT_GETRQ_PROGS);
}

struct scan_ctx {
    struct bpf_source *bs;
    uint64_t now;
};

static void count_entry(struct scan_ctx *c, uint32_t slot, uint32_t stage, uint32_t op,
                        uint64_t since)
{
    struct bpf_source *bs = c->bs;

    if (slot >= IO_BPF_MAX_DISKS || !bs->slot_used[slot] || stage >= _IO_STAGE_MAX ||
        op >= _IO_OP_MAX || since == 0 || since > c->now)
        return;
    if (c->now - since > bs->slot_threshold_ns[slot])
        bs->dumps->n[slot][stage][op]++;
}

static void count_bio(const struct io_bpf_inflight *v, void *userdata)
{
    if (v->stage == IO_BPF_STAGE_THROTL) {
        /* once out of blk-throttle the bio is counted with its request */
        if (!v->aux)
            return;
        count_entry(userdata, v->slot, IO_STAGE_THROTL, v->op, v->aux);
    }
    count_entry(userdata, v->slot, IO_STAGE_BIO, v->op, v->start_ns);
}

static void count_request(const struct io_bpf_inflight *v, void *userdata)
{
    if (v->stage < IO_BPF_NR_STAGES)
        count_entry(userdata, v->slot, v->stage, v->op, v->start_ns);
    if (!v->own_done) /* the bio it was made from */
        count_entry(userdata, v->slot, IO_STAGE_BIO, v->op, v->bio_ns);
}

/* A submitter switched out before it had a request: its bio, and the wait it sleeps in. */
static void count_parked(const void *key, const void *value, void *userdata)
{
    const struct io_bpf_submit *v = value;
    struct scan_ctx *c = userdata;

    if (v->sleep_ns && v->wait < IO_BPF_NR_WAITS)
        count_entry(c, v->slot, wait_stage[v->wait], v->op, v->since_ns);
    if (!bio_in_bios(c->bs)) /* else it is counted there */
        count_entry(c, v->slot, IO_STAGE_BIO, v->op, v->bio_ns);
}

static int bpf_source_scan(struct bpf_source *bs)
{
    struct scan_ctx c = {.bs = bs};
    int r;

    memset(bs->dumps, 0, sizeof(*bs->dumps));
    c.now = now_ns();
    table_for_each(&bs->bios, count_bio, &c);
    table_for_each(&bs->requests, count_request, &c);
    r = map_for_each(bpf_map__fd(bs->skel->maps.parked), sizeof(__u32),
                     sizeof(struct io_bpf_submit), count_parked, &c);
    if (r < 0)
        return log_debug_errno(r, "cannot scan the BPF map of parked submitters: %m");
    bs->dumps_at_ns = c.now;
    return 0;
}

static int bpf_source_add_disk(struct io_source *s, struct io_source_disk *d)
{
    struct bpf_source *bs = (struct bpf_source *) s;
    _cleanup_free_ struct bpf_disk *bd = NULL;
    char path[4096];
    uint32_t slot;
    int r;

    for (slot = 0; slot < IO_BPF_MAX_DISKS; slot++)
        if (!bs->slot_used[slot])
            break;
    if (slot >= IO_BPF_MAX_DISKS)
        return log_warning_errno(-ENOSPC, "%s: the BPF source follows %d disks already: %m",
                                 d->info.name, IO_BPF_MAX_DISKS);
    bd = calloc(1, sizeof(*bd));
    if (!bd)
        return -ENOMEM;
    bd->slot = slot;
    bd->kdev = kernel_devnum(d->info.devnum);
    /* blk-mq disks list their hardware queues in sysfs */
    if (path_printf(path, sizeof(path), "%s/block/%s/mq", s->sysfs_root, d->info.name) >= 0)
        bd->mq = access(path, F_OK) >= 0;

    /* counters from zero, then let the programs see the disk */
    memset(bs->percpu, 0, (size_t) bs->ncpus * bs->counters_size);
    r = bpf_map_update_elem(bpf_map__fd(bs->skel->maps.counters), &slot, bs->percpu, BPF_ANY);
    if (r < 0)
        return log_warning_errno(r, "%s: cannot reset BPF counters: %m", d->info.name);
    r = bpf_map_update_elem(bpf_map__fd(bs->skel->maps.followed), &bd->kdev, &slot, BPF_ANY);
    if (r < 0)
        return log_warning_errno(r, "%s: cannot follow the disk in BPF: %m", d->info.name);
    followed_changed(bs);

    bs->slot_used[slot] = true;
    bs->slot_threshold_ns[slot] = d->threshold_ms * 1000000ULL;
    bs->dumps_at_ns = 0;
    d->data = TAKE_PTR(bd);
    return 0;
}

struct purge_ctx {
    uint32_t slot;
    void *keys;
    size_t n, alloc;
};

static void purge_collect(const void *key, const void *value, void *userdata)
{
    struct purge_ctx *c = userdata;

    if (((const struct io_bpf_submit *) value)->slot != c->slot)
        return;
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 64;
        void *k = reallocarray(c->keys, na, sizeof(__u32));
        if (!k)
            return;
        c->keys = k;
        c->alloc = na;
    }
    memcpy((uint8_t *) c->keys + c->n++ * sizeof(__u32), key, sizeof(__u32));
}

/* Deletes the parked submitters of a slot (a disk we stop following); like the programs, we
 * count down io_bpf_parked for each entry we delete. */
static void purge_parked(struct bpf_source *bs, uint32_t slot)
{
    struct purge_ctx c = {.slot = slot};
    int fd = bpf_map__fd(bs->skel->maps.parked);

    (void) map_for_each(fd, sizeof(__u32), sizeof(struct io_bpf_submit), purge_collect, &c);
    for (size_t i = 0; i < c.n; i++)
        if (bpf_map_delete_elem(fd, (uint8_t *) c.keys + i * sizeof(__u32)) >= 0)
            __atomic_fetch_sub(&bs->skel->bss->io_bpf_parked, 1, __ATOMIC_SEQ_CST);
    free(c.keys);
}

/* Frees the in-flight entries of a slot; an entry taken meanwhile by another io is left. */
static void purge_table(struct bpf_table *t, uint32_t slot)
{
    for (size_t i = 0; i < t->n; i++) {
        __u64 key = __atomic_load_n(&t->e[i].key, __ATOMIC_RELAXED);

        if (key && t->e[i].slot == slot)
            (void) __atomic_compare_exchange_n(&t->e[i].key, &key, 0, false, __ATOMIC_RELAXED,
                                               __ATOMIC_RELAXED);
    }
}

static void bpf_source_remove_disk(struct io_source *s, struct io_source_disk *d)
{
    struct bpf_source *bs = (struct bpf_source *) s;
    struct bpf_disk *bd = d->data;

    if (!bd)
        return;
    (void) bpf_map_delete_elem(bpf_map__fd(bs->skel->maps.followed), &bd->kdev);
    followed_changed(bs);
    purge_table(&bs->bios, bd->slot);
    purge_table(&bs->requests, bd->slot);
    purge_parked(bs, bd->slot);
    bs->slot_used[bd->slot] = false;
    bs->dumps_at_ns = 0;
    free(bd);
    d->data = NULL;
}

/* The disk's current scheduler stage, or -1 ("none" or unknown). */
static int disk_scheduler_stage(struct io_source *s, const char *disk)
{
    char path[4096], line[256], *b, *e;

    if (path_printf(path, sizeof(path), "%s/block/%s/queue/scheduler", s->sysfs_root, disk) < 0 ||
        read_virtual_line(path, line, sizeof(line)) < 0)
        return -1;
    b = strchr(line, '[');
    e = b ? strchr(b, ']') : NULL;
    if (!e)
        return -1;
    *e = 0;
    b++;
    if (streq(b, "mq-deadline"))
        return IO_STAGE_DEADLINE;
    if (streq(b, "bfq"))
        return IO_STAGE_BFQ;
    if (streq(b, "kyber"))
        return IO_STAGE_KYBER;
    return -1;
}

/* Whether every program of a way to measure the stage on the disk is on; otherwise *off gets
 * the missing programs of the first way (0 when the stage does not exist on the disk). */
static bool stage_programs_on(const struct bpf_source *bs, const struct bpf_disk *bd,
                              enum io_stage st, uint32_t *off)
{
    const uint32_t *ways = bd->mq ? stage_needs[st].mq : &stage_needs[st].bio_based;
    size_t n_ways = bd->mq ? ELEMENTSOF(stage_needs[st].mq) : 1;

    *off = 0;
    for (size_t k = 0; k < n_ways && ways[k]; k++) {
        uint32_t missing = ways[k] & ~bs->progs.on;
        if (!missing)
            return true;
        if (k == 0)
            *off = missing;
    }
    return false;
}

/* Of programs that are off, the first that is off for a reason of its own (not because it works
 * with another one that is off, or another does its work). */
static unsigned root_cause(const struct bpf_source *bs, uint32_t off)
{
    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++)
        if ((off & (1U << i)) && bs->progs.status[i].state != IO_BPF_PROG_UNUSED &&
            bs->progs.status[i].state != IO_BPF_PROG_NOT_NEEDED)
            return i;
    return (unsigned) __builtin_ctz(off);
}

/* Whether the stage of the disk is measured now (sched: disk_scheduler_stage()); why not
 * otherwise. */
static bool bpf_stage_measured(struct bpf_source *bs, struct io_source_disk *d, enum io_stage st,
                               int sched, char *why, size_t size)
{
    struct bpf_disk *bd = d->data;
    uint32_t off;

    if (!stage_programs_on(bs, bd, st, &off)) {
        unsigned p;

        if (!off) {
            snprintf(why, size, "%s is bio-based: it has no request stages", d->info.name);
            return false;
        }
        p = root_cause(bs, off);
        snprintf(why, size, "needs BPF program %s (%s), %s: %s", io_bpf_prog_name(p),
                 io_bpf_prog_event(p), io_bpf_prog_state_to_string(bs->progs.status[p].state),
                 bs->progs.status[p].reason);
        return false;
    }
    for (int w = 0; w < IO_BPF_NR_WAITS; w++)
        if (wait_stage[w] == st && !bs->wait_start[w]) {
            snprintf(why, size, "the kernel function %s is not in kallsyms", wait_functions[w]);
            return false;
        }
    if ((st == IO_STAGE_DEADLINE || st == IO_STAGE_BFQ || st == IO_STAGE_KYBER) &&
        sched != (int) st) {
        snprintf(why, size, "%s does not use the %s scheduler now", d->info.name,
                 st == IO_STAGE_DEADLINE ? "mq-deadline" : io_stage_to_string(st));
        return false;
    }
    return true;
}

static bool bpf_source_stage_status(struct io_source *s, struct io_source_disk *d, enum io_stage st,
                                    char *why, size_t size)
{
    return bpf_stage_measured((struct bpf_source *) s, d, st, disk_scheduler_stage(s, d->info.name),
                              why, size);
}

static size_t bpf_source_parts(struct io_source *s, struct io_source_part *out, size_t max)
{
    struct bpf_source *bs = (struct bpf_source *) s;
    size_t n = 0;

    for (unsigned i = 0; i < IO_BPF_NR_PROGS && n < max; i++, n++) {
        out[n] = (struct io_source_part){.on = bs->progs.status[i].state == IO_BPF_PROG_ON};
        snprintf(out[n].name, sizeof(out[n].name), "%s", io_bpf_prog_name(i));
        snprintf(out[n].what, sizeof(out[n].what), "%s", io_bpf_prog_event(i));
        snprintf(out[n].state, sizeof(out[n].state), "%s",
                 io_bpf_prog_state_to_string(bs->progs.status[i].state));
        snprintf(out[n].reason, sizeof(out[n].reason), "%s", bs->progs.status[i].reason);
    }
    return n;
}

static void bpf_source_check_dropped(struct bpf_source *bs)
{
    uint64_t dropped = __atomic_load_n(&bs->skel->bss->io_bpf_dropped, __ATOMIC_RELAXED);
    uint64_t now = now_ns();

    if (dropped == bs->dropped_logged)
        return;
    if (bs->dropped_logged_at_ns && now - bs->dropped_logged_at_ns < DROPPED_LOG_INTERVAL)
        return;
    log_warning("%" PRIu64 " ios not tracked by the BPF source: its in-flight tables were full "
                "(%u requests, %u bios)",
                dropped - bs->dropped_logged, IO_BPF_MAX_REQUESTS, IO_BPF_MAX_BIOS);
    bs->dropped_logged = dropped;
    bs->dropped_logged_at_ns = now;
}

static int bpf_source_read(struct io_source *s, struct io_source_disk *d,
                           struct io_stage_counters out[_IO_STAGE_MAX][_IO_OP_MAX])
{
    struct bpf_source *bs = (struct bpf_source *) s;
    struct bpf_disk *bd = d->data;
    int sched, r;

    r = bpf_map_lookup_elem(bpf_map__fd(bs->skel->maps.counters), &bd->slot, bs->percpu);
    if (r < 0)
        return log_debug_errno(r, "%s: cannot read BPF counters: %m", d->info.name);

    if (bs->dumps_at_ns == 0 || now_ns() - bs->dumps_at_ns > DUMP_SCAN_REUSE_NS)
        (void) bpf_source_scan(bs);
    sched = disk_scheduler_stage(s, d->info.name);

    for (int st = 0; st < _IO_STAGE_MAX; st++) {
        char why[IO_BPF_REASON_MAX];
        bool valid = bpf_stage_measured(bs, d, st, sched, why, sizeof(why));

        for (int op = 0; op < _IO_OP_MAX; op++) {
            struct io_stage_counters *c = &out[st][op];

            /* the waits share one finished count (see bpf/io_stages.h) */
            int counted = st == IO_STAGE_IOCOST || st == IO_STAGE_GETTAG ? IO_STAGE_WBT : st;

            for (int cpu = 0; cpu < bs->ncpus; cpu++) {
                const struct io_bpf_disk_counters *v =
                    (const void *) ((const uint8_t *) bs->percpu +
                                    (size_t) cpu * bs->counters_size);
                c->finished += v->c[counted][op].finished;
                c->latency_ns += v->c[st][op].latency_ns;
            }
            c->dump = bs->dumps_at_ns ? bs->dumps->n[bd->slot][st][op] : 0;
            c->valid = valid;
        }
    }
    bpf_source_check_dropped(bs);
    return 0;
}

struct dump_item {
    uint64_t age_ns;
    uint64_t ptr; /* 0: none */
    uint32_t pid;
    uint8_t stage;
};

struct dumps_ctx {
    struct bpf_source *bs;
    uint32_t slot;
    uint64_t now, threshold_ns;
    struct dump_item *items;
    size_t n, alloc;
};

static void dumps_add(struct dumps_ctx *c, uint64_t ptr, uint32_t slot, uint32_t pid,
                      uint32_t stage, uint64_t since)
{
    if (slot != c->slot || since == 0 || since > c->now || c->now - since <= c->threshold_ns)
        return;
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 64;
        struct dump_item *p = reallocarray(c->items, na, sizeof(*p));
        if (!p)
            return;
        c->items = p;
        c->alloc = na;
    }
    c->items[c->n++] = (struct dump_item){
        .age_ns = c->now - since, .ptr = ptr, .pid = pid, .stage = (uint8_t) stage};
}

static void dumps_bio(const struct io_bpf_inflight *v, void *userdata)
{
    uint64_t ptr = v->key;

    if (v->stage == IO_BPF_STAGE_THROTL) {
        if (!v->aux)
            return;
        dumps_add(userdata, ptr, v->slot, v->pid, IO_STAGE_THROTL, v->aux);
    }
    dumps_add(userdata, ptr, v->slot, v->pid, IO_STAGE_BIO, v->start_ns);
}

static void dumps_request(const struct io_bpf_inflight *v, void *userdata)
{
    uint64_t ptr = v->key;

    if (v->stage < IO_BPF_NR_STAGES)
        dumps_add(userdata, ptr, v->slot, v->pid, v->stage, v->start_ns);
    if (!v->own_done)
        dumps_add(userdata, ptr, v->slot, v->pid, IO_STAGE_BIO, v->bio_ns);
}

static void dumps_parked(const void *key, const void *value, void *userdata)
{
    const struct io_bpf_submit *v = value;
    struct dumps_ctx *c = userdata;
    uint32_t tid;

    memcpy(&tid, key, sizeof(tid));
    if (v->sleep_ns && v->wait < IO_BPF_NR_WAITS)
        dumps_add(c, 0, v->slot, tid, wait_stage[v->wait], v->since_ns);
    if (!bio_in_bios(c->bs))
        dumps_add(c, 0, v->slot, tid, IO_STAGE_BIO, v->bio_ns);
}

static int dump_item_cmp(const void *a, const void *b)
{
    const struct dump_item *x = a, *y = b;

    return x->age_ns < y->age_ns ? 1 : x->age_ns > y->age_ns ? -1 : 0;
}

static int bpf_source_read_dumps(struct io_source *s, struct io_source_disk *d,
                                 char (*out)[IO_DUMP_DETAIL_MAX], size_t max)
{
    struct bpf_source *bs = (struct bpf_source *) s;
    struct bpf_disk *bd = d->data;
    struct dumps_ctx c = {.bs = bs, .slot = bd->slot, .threshold_ns = d->threshold_ms * 1000000ULL};
    size_t n = 0;

    c.now = now_ns();
    table_for_each(&bs->bios, dumps_bio, &c);
    table_for_each(&bs->requests, dumps_request, &c);
    (void) map_for_each(bpf_map__fd(bs->skel->maps.parked), sizeof(__u32),
                        sizeof(struct io_bpf_submit), dumps_parked, &c);
    if (c.n > 0)
        qsort(c.items, c.n, sizeof(*c.items), dump_item_cmp);

    for (size_t i = 0; i < c.n && n < max; i++) {
        const struct dump_item *it = &c.items[i];
        char path[4096], comm[64] = "", ptr[17] = "";

        if (path_printf(path, sizeof(path), "%s/%u/comm", s->procfs_root, it->pid) >= 0 &&
            read_virtual_line(path, comm, sizeof(comm)) < 0)
            comm[0] = 0;
        if (it->ptr)
            snprintf(ptr, sizeof(ptr), "%016" PRIx64, ptr_hash(bs, it->ptr));
        if (io_dump_format(out[n], IO_DUMP_DETAIL_MAX, comm, it->pid, io_stage_to_string(it->stage),
                           ptr, it->age_ns / 1000000) >= 0)
            n++;
    }
    free(c.items);
    return (int) n;
}

#else /* !HAVE_BPF_IO_STAGES */

struct bpf_source {
    struct io_source base;
};

static int bpf_source_open(struct io_source *s)
{
    return io_source_unavailable(s, 0,
                                 "built without the eBPF io collector (libbpf, clang, bpftool or "
                                 "kernel BTF were missing at build time)");
}

static bool bpf_source_stage_status(struct io_source *s, struct io_source_disk *d, enum io_stage st,
                                    char *why, size_t size)
{
    snprintf(why, size, "built without the eBPF io collector");
    return false;
}

static size_t bpf_source_parts(struct io_source *s, struct io_source_part *out, size_t max)
{
    return 0;
}

static void bpf_source_close(struct io_source *s)
{
}

static int bpf_source_add_disk(struct io_source *s, struct io_source_disk *d)
{
    return -EOPNOTSUPP;
}

static void bpf_source_remove_disk(struct io_source *s, struct io_source_disk *d)
{
}

static int bpf_source_read(struct io_source *s, struct io_source_disk *d,
                           struct io_stage_counters out[_IO_STAGE_MAX][_IO_OP_MAX])
{
    return -EOPNOTSUPP;
}

static int bpf_source_read_dumps(struct io_source *s, struct io_source_disk *d,
                                 char (*out)[IO_DUMP_DETAIL_MAX], size_t max)
{
    return 0;
}

#endif

const struct io_source_ops io_source_bpf_ops = {
    .kind = IO_SOURCE_BPF,
    .size = sizeof(struct bpf_source),
    .open = bpf_source_open,
    .close = bpf_source_close,
    .add_disk = bpf_source_add_disk,
    .remove_disk = bpf_source_remove_disk,
    .read = bpf_source_read,
    .read_dumps = bpf_source_read_dumps,
    .stage_status = bpf_source_stage_status,
    .parts = bpf_source_parts,
};
