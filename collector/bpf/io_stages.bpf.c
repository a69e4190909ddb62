/* io_stages.bpf.c: per-disk, per-stage, per-op io latency from block-layer events.
 *
 * Kernels may lack kprobes and refuse fentry/fexit, so every stage is bounded by tracepoints
 * (tp_btf); fentry/fexit is used only for the throtl stage, which no tracepoint can see. Each
 * stage of an io is timed from its start event to its end event and the time is added, with one
 * finished io, to a per-CPU counter of (disk slot, stage, op). While an io is in a stage its
 * start time is in an in-flight table, which userspace scans to count the ios that have been in
 * their stage longer than the disk's threshold (the dump gauge).
 *
 *  stage      starts                                 ends
 *  ---------  -------------------------------------  ---------------------------------------
 *  bio        tp block_bio_queue (once per bio), or  tp block_rq_complete, for each bio of the
 *             when blk-throttle queued it (throtl)   request that the completed bytes cover;
 *                                                    tp block_bio_complete on bio-based disks
 *  throtl     fexit __blk_throtl_bio returning true  tp block_bio_queue (the throttled bio is
 *             (only where fexit loads)               dispatched and resubmitted)
 *  wbt,       the submitting thread sleeps (tp sched_switch, not preempted) with wbt_wait,
 *  iocost,    ioc_rqos_throttle or blk_mq_get_tag on its kernel stack; the stage's time is the
 *  gettag     sum of those sleeps between tp block_bio_queue and tp block_getrq, which counts
 *             the bio as finished in all three (with 0 for a wait it did not sleep in); a bio
 *             merged into a request (tp block_bio_backmerge/frontmerge) passes none of them.
 *             The count is taken at tp block_io_start, which the kernel emits for the request
 *             right after block_getrq, with no wait in between: one program fewer per io.
 *             Kernels before 6.5 have no block_io_start: there the waits end at tp block_getrq
 *             (waits_end) and the bio itself is followed in "bios".
 *  plug       tp block_io_start (request made from   tp block_rq_insert or block_rq_issue
 *             a bio) while the thread has a plug
 *  deadline,  tp block_rq_insert of a request that   tp block_rq_issue
 *  bfq,kyber  uses the queue's scheduler (named by
 *             the elevator)
 *  hctx       tp block_rq_insert of a request that   tp block_rq_issue
 *             bypasses the scheduler, or on a queue
 *             without one
 *  requeue    tp block_rq_requeue                    tp block_rq_insert / block_rq_issue
 *  rq_driver  tp block_rq_issue                      tp block_rq_complete for the last bytes
 *                                                    (a requeue drops it uncounted)
 *
 * Where the state lives, cheapest first (every io passes here, so hash maps, whose updates and
 * deletes cost a few hundred ns each, are kept off the path of an io):
 *  - a thread submitting a bio to a request-based disk keeps the bio's start and its waits in
 *    a per-CPU "submits" slot while it runs; when it is switched out before it has its request
 *    (it sleeps in a wait, or is preempted) the state moves to the "parked" map (by thread id,
 *    where userspace sees it for the dump gauge) and back to the CPU the thread next runs on;
 *  - a request, from the event that makes it known until it completes, is in "requests", with
 *    the start of the bio it was made from;
 *  - only bios that are not the one a request was made from are in "bios": bios merged into a
 *    request, bios of bio-based disks, bios blk-throttle holds, and all bios where requests
 *    cannot be followed from their making (no block_io_start tracepoint).
 * "requests" and "bios" are arrays used as open-addressed tables: an io takes (compare and swap
 * of the key) the first free one of IO_BPF_TABLE_PROBES entries from the one its address hashes
 * to, and frees it when done; each io is touched by one event at a time, so nothing else locks.
 * A request merged into another (tp block_rq_merge) is forgotten, its bio moving to "bios".
 * Leaving a request stage starts the next one, so a request is in one stage at a time. A bio
 * split in parts counts once per part in the bio stage (each from the bio's start) and once
 * (its first part) in wbt/iocost/gettag.
 *
 * Ops: read, write, flush (REQ_OP_FLUSH, or a preflush write without data), discard (and secure
 * erase); write zeroes and zone append count as writes; other ops are not counted.
 * Only disks in the "followed" map (kernel dev_t of the whole disk -> slot) are looked at. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "io_stages.h"

/* The kernel lets only GPL-compatible programs attach to tracepoints through BTF. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define REQ_OP_MASK_BITS 0xffU
#define MAX_RQ_BIOS      128 /* bios of one request walked at completion */
#define STACK_DEPTH      32  /* kernel frames looked at when a submitter sleeps */
#define NO_WAIT          0xff
#define STALE_SUBMIT_NS  (1000 * 1000ULL) /* see submitter_out() */

#define barrier() asm volatile("" ::: "memory")

/* The start of every program: see test_refuse. Dereferencing a hash map's value without checking
 * it for NULL is refused by every verifier ("invalid mem access 'map_value_or_null'"; newer ones
 * know that an array lookup with a constant key in range cannot fail, so not an array). */
#define REFUSE_IF_ASKED(prog)                                  \
    do {                                                       \
        if (test_refuse & (1U << (prog))) {                    \
            __u32 any_ = 0;                                    \
            __u32 *v_ = bpf_map_lookup_elem(&followed, &any_); \
            return (int) *v_;                                  \
        }                                                      \
    } while (0)

/* Set by the loader before loading. */
/* Kernel text ranges of the wait functions (IO_BPF_WAIT_*), from kallsyms; 0 = unknown. */
const volatile __u64 wait_fn_start[IO_BPF_NR_WAITS] = {};
const volatile __u64 wait_fn_end[IO_BPF_NR_WAITS] = {};
/* throtl_queued is loaded: a bio may be found held by blk-throttle. */
const volatile bool throtl_loaded = false;
/* rq_made, task_switch and the two bio merges are loaded: a submitter is followed from its bio to
 * the request made from it, across context switches (the waits are measured that way), and a
 * request knows the start of its bio. Without them every bio is followed in "bios". */
const volatile bool submitters_followed = false;
/* Instead (kernels without block_io_start): waits_end, task_switch and the merges are loaded, a
 * submitter is followed for its waits only, until tp block_getrq, and its bio in "bios". */
const volatile bool waits_at_getrq = false;
/* Test hook (IO_BPF_PROG_* bits): the programs named here take a path that every verifier refuses,
 * so tests see a real refusal on any kernel. With the bit clear the verifier knows the branch is
 * dead (read-only data) and removes it: it costs nothing. */
const volatile __u32 test_refuse = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IO_BPF_MAX_DISKS);
    __type(key, __u32);   /* kernel dev_t (major << 20 | minor) of a whole disk */
    __type(value, __u32); /* slot */
} followed SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, IO_BPF_MAX_DISKS);
    __type(key, __u32); /* slot */
    __type(value, struct io_bpf_disk_counters);
} counters SEC(".maps");

/* In-flight tables (see above); mmap()ed by userspace for its scans. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, IO_BPF_MAX_REQUESTS);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, struct io_bpf_inflight);
} requests SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, IO_BPF_MAX_BIOS);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, struct io_bpf_inflight);
} bios SEC(".maps");

/* The submitter running on each CPU (valid while active). */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct io_bpf_submit);
} submits SEC(".maps");

/* Submitters switched out before they had their request (preallocated: a context switch
 * cannot wait for memory). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IO_BPF_MAX_PARKED);
    __type(key, __u32); /* thread id */
    __type(value, struct io_bpf_submit);
} parked SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64[STACK_DEPTH]);
} stack_scratch SEC(".maps");

/* Which request queues belong to followed disks, per CPU: QUEUE_CACHE_WAYS words, each
 * tag (32 bits of the queue's address hashed) | generation (16) | slot (8) | flags (8),
 * one word so that a program interrupting another on this CPU never sees half an entry. */
#define QUEUE_CACHE_WAYS 4
#define QUEUE_FOLLOWED   1
#define QUEUE_REQUESTS   2 /* request-based (blk-mq) */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64[QUEUE_CACHE_WAYS]);
} queue_cache SEC(".maps");

/* ios not tracked because an in-flight table was full */
__u64 io_bpf_dropped = 0;
/* entries in "parked" (whoever deletes one decrements it): while 0, a context switch looks up
 * nothing */
__u64 io_bpf_parked = 0;
/* bumped by userspace after each change of "followed", which makes queue_cache stale */
__u32 io_bpf_followed_gen = 0;

/* The address of a kernel object as a number, to hash and compare: its distance from one of
 * our maps. The verifier allows no arithmetic on a pointer, but the difference of two pointers
 * is a number (for a privileged loader, which tracing needs anyway). All programs share the
 * map, so they agree on the numbers; 0 is never one. p must not be NULL. */
static __always_inline __u64 addr_of(const void *p)
{
    __u64 n = (__u64) p - (__u64) (void *) &submits;

    barrier_var(n); /* the compiler must not fold the map's address into other arithmetic */
    return n;
}

static __always_inline __u32 *disk_slot(struct gendisk *disk)
{
    __u32 dev;

    if (!disk)
        return NULL;
    dev = ((__u32) disk->major << 20) | (__u32) disk->first_minor;
    return bpf_map_lookup_elem(&followed, &dev);
}

/* The slot of the disk of request queue q, or -1 if it is not followed; *requests tells
 * whether the disk is request-based. "followed" is looked up only when the per-CPU cache
 * misses, which spares the hash lookup and the miss on the gendisk of most events. */
static __always_inline int queue_slot(struct request_queue *q, bool *requests)
{
    __u64 h = addr_of(q) * 0x9e3779b97f4a7c15ULL, want, w;
    __u32 zero = 0, *slot;
    __u64 *ways = bpf_map_lookup_elem(&queue_cache, &zero);
    __u64 *way;

    if (!ways)
        return -1;
    way = &ways[(h >> 30) & (QUEUE_CACHE_WAYS - 1)];
    want = (h & 0xffffffff00000000ULL) | ((__u64) (io_bpf_followed_gen & 0xffff) << 16);
    w = *way;
    if ((w & ~0xffffULL) != want) {
        /* the generation is read before "followed": a change after it makes a new one */
        slot = disk_slot(q->disk);
        w = want | (q->mq_ops ? QUEUE_REQUESTS : 0);
        if (slot && *slot < IO_BPF_MAX_DISKS)
            w |= ((__u64) *slot << 8) | QUEUE_FOLLOWED;
        *way = w;
    }
    *requests = w & QUEUE_REQUESTS;
    return w & QUEUE_FOLLOWED ? (int) ((w >> 8) & 0xff) : -1;
}

static __always_inline bool queue_followed(struct request_queue *q)
{
    bool requests;

    return queue_slot(q, &requests) >= 0;
}

static __always_inline int op_of(__u32 opf, __u32 bytes)
{
    __u32 preflush = 1U << bpf_core_enum_value(enum req_flag_bits, __REQ_PREFLUSH);

    switch (opf & REQ_OP_MASK_BITS) {
    case 0: /* REQ_OP_READ */
        return IO_BPF_OP_READ;
    case 1: /* REQ_OP_WRITE */
        return (opf & preflush) && bytes == 0 ? IO_BPF_OP_FLUSH : IO_BPF_OP_WRITE;
    case 2: /* REQ_OP_FLUSH */
        return IO_BPF_OP_FLUSH;
    case 3: /* REQ_OP_DISCARD */
    case 5: /* REQ_OP_SECURE_ERASE */
        return IO_BPF_OP_DISCARD;
    case 7: /* REQ_OP_ZONE_APPEND */
    case 9: /* REQ_OP_WRITE_ZEROES */
        return IO_BPF_OP_WRITE;
    default:
        return -1;
    }
}

static __always_inline void account(__u32 slot, __u32 stage, __u32 op, __u64 delta)
{
    struct io_bpf_disk_counters *c;

    if (stage >= IO_BPF_NR_STAGES || op >= IO_BPF_NR_OPS)
        return;
    c = bpf_map_lookup_elem(&counters, &slot);
    if (!c)
        return;
    __sync_fetch_and_add(&c->c[stage][op].finished, 1);
    __sync_fetch_and_add(&c->c[stage][op].latency_ns, delta);
}

static __always_inline __u32 current_tid(void)
{
    return (__u32) bpf_get_current_pid_tgid();
}

static __always_inline void dropped(void)
{
    __sync_fetch_and_add(&io_bpf_dropped, 1);
}

static __always_inline struct io_bpf_submit *cpu_submit(void)
{
    __u32 zero = 0;

    return bpf_map_lookup_elem(&submits, &zero);
}

/* ---- in-flight tables ------------------------------------------------------------------------ */

static __always_inline __u32 table_home(__u64 key, __u32 bits)
{
    return (__u32) ((key * 0x9e3779b97f4a7c15ULL) >> (64 - bits)); /* Fibonacci hashing */
}

/* The entry of key, or NULL. */
static __always_inline struct io_bpf_inflight *table_find(void *table, __u32 bits, __u64 key)
{
    __u32 home = table_home(key, bits), mask = (1U << bits) - 1;

    for (int n = 0; n < IO_BPF_TABLE_PROBES; n++) {
        __u32 i = (home + n) & mask;
        struct io_bpf_inflight *e = bpf_map_lookup_elem(table, &i);

        if (e && e->key == key)
            return e;
    }
    return NULL;
}

/* An entry for key: the one an earlier io at the same address left, or a free one taken. The
 * caller fills it, start_ns last. NULL (counted) when every place is taken. */
static __always_inline struct io_bpf_inflight *table_claim(void *table, __u32 bits, __u64 key)
{
    __u32 home = table_home(key, bits), mask = (1U << bits) - 1;

    for (int n = 0; n < IO_BPF_TABLE_PROBES; n++) {
        __u32 i = (home + n) & mask;
        struct io_bpf_inflight *e = bpf_map_lookup_elem(table, &i);
        __u64 old;

        if (!e)
            continue;
        old = e->key;
        if (old == key)
            return e;
        if (!old && __sync_val_compare_and_swap(&e->key, 0, key) == 0)
            return e;
    }
    dropped();
    return NULL;
}

static __always_inline void table_free(struct io_bpf_inflight *e)
{
    e->start_ns = 0; /* what a scan that sees the key before the next io's fields skips */
    barrier();
    e->key = 0;
}

/* Puts a bio in "bios" as a bio-stage entry. */
static __always_inline void bio_track(__u64 key, __u64 start, __u32 slot, __u32 pid, __u8 op)
{
    struct io_bpf_inflight *e = table_claim(&bios, IO_BPF_BIOS_BITS, key);

    if (!e)
        return;
    e->aux = 0;
    e->bio_ns = 0;
    e->bio = 0;
    e->slot = slot;
    e->pid = pid;
    e->op = op;
    e->stage = IO_BPF_STAGE_BIO;
    e->own_done = 0;
    barrier();
    e->start_ns = start;
}

/* The "bios" entry of a bio of a followed disk, or NULL. */
static __always_inline struct io_bpf_inflight *bio_find(struct bio *bio, __u64 key)
{
    if (!queue_followed(bio->bi_bdev->bd_queue))
        return NULL;
    return table_find(&bios, IO_BPF_BIOS_BITS, key);
}

/* ---- bios ---------------------------------------------------------------------------------- */

SEC("tp_btf/block_bio_queue")
int BPF_PROG(bio_queue, struct bio *bio)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_BIO_QUEUE);
    struct request_queue *q = bio->bi_bdev->bd_queue;
    __u64 key = addr_of(bio), start = 0;
    struct io_bpf_submit *sub;
    bool requests;
    int slot, op;

    slot = queue_slot(q, &requests);
    if (slot < 0)
        return 0;
    if (throtl_loaded) {
        struct io_bpf_inflight *e = table_find(&bios, IO_BPF_BIOS_BITS, key);

        if (e && e->stage == IO_BPF_STAGE_THROTL) {
            /* leaving blk-throttle; the bio began when it was throttled */
            __u64 now = bpf_ktime_get_ns();

            if (e->aux)
                account(e->slot, IO_BPF_STAGE_THROTL, e->op, now - e->aux);
            start = e->start_ns;
        }
        if (e) /* otherwise left from an earlier bio at this address */
            table_free(e);
    }
    op = op_of(bio->bi_opf, bio->bi_iter.bi_size);
    if (op < 0)
        return 0;
    if (!start)
        start = bpf_ktime_get_ns();
    if (!requests || !(submitters_followed || waits_at_getrq)) {
        bio_track(key, start, slot, current_tid(), (__u8) op);
        return 0;
    }
    if (waits_at_getrq) /* the bio is followed alone, the submitter for its waits */
        bio_track(key, start, slot, current_tid(), (__u8) op);

    /* This thread now goes through wbt, iocost and a tag, then makes a request. */
    sub = cpu_submit();
    if (!sub)
        return 0;
    sub->bio = key;
    sub->split = 0;
    sub->queue = addr_of(q);
    sub->bio_ns = start;
    sub->waited_ns[0] = sub->waited_ns[1] = sub->waited_ns[2] = 0;
    sub->sleep_ns = 0;
    sub->since_ns = 0;
    sub->tid = current_tid();
    sub->slot = slot;
    sub->op = (__u8) op;
    sub->wait = NO_WAIT;
    sub->waiting = 1;
    sub->active = 1;
    return 0;
}

SEC("tp_btf/block_split")
int BPF_PROG(bio_split, struct bio *split, unsigned int new_sector)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_BIO_SPLIT);
    __u64 key = addr_of(split), parent;
    struct io_bpf_inflight *p, *e;
    struct io_bpf_submit *sub;

    /* bio_chain() made the parent the split part's bi_private, a plain address: its number is
     * found from the current task, which we have both as an address and as a pointer. Verifiers
     * type a void * member as untrusted memory (6.18 refuses a plain load of it): read it as the
     * number it is. */
    if (bpf_core_read(&parent, sizeof(parent), &split->bi_private) < 0)
        return 0;
    if (!parent || !queue_followed(split->bi_bdev->bd_queue))
        return 0;
    parent -= bpf_get_current_task() - addr_of(bpf_get_current_task_btf());
    p = table_find(&bios, IO_BPF_BIOS_BITS, parent);
    if (p) {
        e = table_claim(&bios, IO_BPF_BIOS_BITS, key);
        if (!e)
            return 0;
        e->aux = 0;
        e->bio_ns = 0;
        e->bio = 0;
        e->slot = p->slot;
        e->pid = p->pid;
        e->op = p->op;
        e->stage = IO_BPF_STAGE_BIO;
        e->own_done = 0;
        barrier();
        e->start_ns = p->start_ns;
        return 0;
    }
    sub = cpu_submit();
    if (sub && sub->active && sub->bio == parent)
        sub->split = key; /* the request made next is made from this part */
    return 0;
}

SEC("tp_btf/block_bio_complete")
int BPF_PROG(bio_complete, struct request_queue *q, struct bio *bio)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_BIO_COMPLETE);
    struct io_bpf_inflight *e = bio_find(bio, addr_of(bio));

    if (!e)
        return 0;
    account(e->slot, IO_BPF_STAGE_BIO, e->op, bpf_ktime_get_ns() - e->start_ns);
    table_free(e);
    return 0;
}

SEC("fexit/__blk_throtl_bio")
int BPF_PROG(throtl_queued, struct bio *bio, bool throttled)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_THROTL_QUEUED);
    __u64 key = addr_of(bio), now;
    struct io_bpf_inflight *e;
    bool requests;
    int slot, op;

    if (!throttled)
        return 0;
    now = bpf_ktime_get_ns();
    e = table_find(&bios, IO_BPF_BIOS_BITS, key);
    if (e && e->stage == IO_BPF_STAGE_THROTL) { /* the rest of a split bio, throttled again */
        if (!e->aux)
            e->aux = now;
        return 0;
    }
    slot = queue_slot(bio->bi_bdev->bd_queue, &requests);
    if (slot < 0)
        return 0;
    op = op_of(bio->bi_opf, bio->bi_iter.bi_size);
    if (op < 0)
        return 0;
    e = table_claim(&bios, IO_BPF_BIOS_BITS, key);
    if (!e)
        return 0;
    e->aux = now;
    e->bio_ns = 0;
    e->bio = 0;
    e->slot = slot;
    e->pid = current_tid();
    e->op = (__u8) op;
    e->stage = IO_BPF_STAGE_THROTL;
    e->own_done = 0;
    barrier();
    e->start_ns = now;
    return 0;
}

/* ---- waits of the submitting thread: wbt, iocost, gettag ----------------------------------- */

/* The wait the current thread is going to sleep in, from its kernel stack, or -1. */
static __always_inline int current_wait(void *ctx)
{
    __u32 zero = 0;
    __u64 *frames;
    long n;

    frames = bpf_map_lookup_elem(&stack_scratch, &zero);
    if (!frames)
        return -1;
    n = bpf_get_stack(ctx, frames, STACK_DEPTH * sizeof(__u64), 0);
    if (n <= 0)
        return -1;
    n /= sizeof(__u64);
    for (int i = 0; i < STACK_DEPTH; i++) {
        if (i >= n)
            break;
        __u64 ip = frames[i];
        for (int w = 0; w < IO_BPF_NR_WAITS; w++)
            if (wait_fn_start[w] && ip >= wait_fn_start[w] && ip < wait_fn_end[w])
                return w;
    }
    return -1;
}

/* The submitter running here is switched out before it has its request: its state is parked
 * until it runs again, with the start of a sleep in a wait. */
static __always_inline void submitter_out(void *ctx, struct io_bpf_submit *c,
                                          struct task_struct *prev, bool preempt)
{
    __u32 tid = c->tid;
    int w;

    /* A bio that ended before it had a request (an error, REQ_NOWAIT without a tag) leaves its
     * state behind. The thread is submitting while it has a bio list, which it gets just after
     * block_bio_queue: a state without it is dropped unless it is that fresh. */
    if (!prev->bio_list && bpf_ktime_get_ns() - c->bio_ns > STALE_SUBMIT_NS) {
        c->active = 0;
        return;
    }
    if (c->waiting && !preempt) {
        w = current_wait(ctx);
        if (w >= 0 && w < IO_BPF_NR_WAITS) {
            __u64 now = bpf_ktime_get_ns();

            if (c->wait != w) {
                c->wait = (__u8) w;
                c->since_ns = now;
            }
            c->sleep_ns = now;
        }
    }
    if (bpf_map_update_elem(&parked, &tid, c, BPF_ANY) == 0)
        __sync_fetch_and_add(&io_bpf_parked, 1);
    c->active = 0;
}

/* A parked submitter runs again, here: its sleep ends and its state comes to this CPU. */
static __always_inline void submitter_in(struct io_bpf_submit *c, struct task_struct *next)
{
    __u32 tid = (__u32) next->pid;
    struct io_bpf_submit *s;
    int w;

    s = bpf_map_lookup_elem(&parked, &tid);
    if (!s)
        return;
    if (c) {
        *c = *s;
        if (c->sleep_ns) {
            w = c->wait;
            if (w >= 0 && w < IO_BPF_NR_WAITS)
                c->waited_ns[w] += bpf_ktime_get_ns() - c->sleep_ns;
            c->sleep_ns = 0;
        }
    }
    if (bpf_map_delete_elem(&parked, &tid) == 0)
        __sync_fetch_and_sub(&io_bpf_parked, 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(task_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_TASK_SWITCH);
    struct io_bpf_submit *c = cpu_submit();

    /* every context switch of the machine comes here: two loads when no submitter is about */
    if (c && c->active && c->tid == (__u32) prev->pid)
        submitter_out(ctx, c, prev, preempt);
    if (io_bpf_parked)
        submitter_in(c, next);
    return 0;
}

/* The submitter has its request: its waits are done. */
static __always_inline void waits_done(struct io_bpf_submit *s)
{
    struct io_bpf_disk_counters *c;
    __u32 op = s->op;

    c = bpf_map_lookup_elem(&counters, &s->slot);
    if (!c || op >= IO_BPF_NR_OPS)
        return;
    /* one finished count for the three (see io_stages.h) */
    __sync_fetch_and_add(&c->c[IO_BPF_STAGE_WBT][op].finished, 1);
    if (s->waited_ns[IO_BPF_WAIT_WBT])
        __sync_fetch_and_add(&c->c[IO_BPF_STAGE_WBT][op].latency_ns, s->waited_ns[IO_BPF_WAIT_WBT]);
    if (s->waited_ns[IO_BPF_WAIT_IOCOST])
        __sync_fetch_and_add(&c->c[IO_BPF_STAGE_IOCOST][op].latency_ns,
                             s->waited_ns[IO_BPF_WAIT_IOCOST]);
    if (s->waited_ns[IO_BPF_WAIT_GETTAG])
        __sync_fetch_and_add(&c->c[IO_BPF_STAGE_GETTAG][op].latency_ns,
                             s->waited_ns[IO_BPF_WAIT_GETTAG]);
}

/* A bio merged into a request: it needs no request of its own, so it is followed alone. */
static __always_inline void bio_merged(struct bio *bio)
{
    struct io_bpf_submit *s = cpu_submit();

    if (!s || !s->active || s->tid != current_tid() || s->bio != addr_of(bio))
        return;
    s->active = 0;
    s->waiting = 0;
    if (!waits_at_getrq) /* there the bio is in "bios" already */
        bio_track(s->bio, s->bio_ns, s->slot, s->tid, s->op);
}

SEC("tp_btf/block_bio_backmerge")
int BPF_PROG(bio_backmerge, struct bio *bio)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_BIO_BACKMERGE);
    bio_merged(bio);
    return 0;
}

SEC("tp_btf/block_bio_frontmerge")
int BPF_PROG(bio_frontmerge, struct bio *bio)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_BIO_FRONTMERGE);
    bio_merged(bio);
    return 0;
}

/* Kernels without block_io_start: the submitter got a request for its bio (or a split part of
 * it), its waits are done. */
SEC("tp_btf/block_getrq")
int BPF_PROG(waits_end, struct bio *bio)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_WAITS_END);
    struct io_bpf_submit *sub = cpu_submit();
    __u64 key;

    if (!sub || !sub->active || sub->tid != current_tid())
        return 0;
    key = addr_of(bio);
    if (key != sub->bio && key != sub->split)
        return 0;
    if (sub->waiting) {
        sub->waiting = 0;
        waits_done(sub);
    }
    if (key == sub->bio)
        sub->active = 0; /* the last part: the thread is done with this bio */
    return 0;
}

/* ---- requests -------------------------------------------------------------------------------- */

/* The entry of rq, or NULL; an entry left from an earlier request at this address (told by its
 * start_time_ns) is dropped. block_io_start fires just before the kernel sets start_time_ns,
 * so an entry made there (aux 0) adopts the value at the next event. */
static __always_inline struct io_bpf_inflight *rq_find(struct request *rq, __u64 key)
{
    struct io_bpf_inflight *e = table_find(&requests, IO_BPF_REQUESTS_BITS, key);
    __u64 life;

    if (!e)
        return NULL;
    life = rq->start_time_ns;
    if (!e->aux)
        e->aux = life;
    else if (e->aux != life) {
        table_free(e);
        return NULL;
    }
    return e;
}

/* The entry of rq, or NULL; *slot is the disk's, -1 if it is not followed (the per-CPU cache
 * says so before the table, whose lines other CPUs write, is touched). */
static __always_inline struct io_bpf_inflight *rq_entry(struct request *rq, __u64 key, int *slot)
{
    bool requests;

    *slot = queue_slot(rq->q, &requests);
    if (*slot < 0)
        return NULL;
    return rq_find(rq, key);
}

/* Starts following rq in stage, made now (or first seen now) on disk slot. */
static __always_inline void rq_track(__u64 key, __u32 stage, __u64 now, __u32 slot, __u32 pid,
                                     __u8 op, __u64 bio, __u64 bio_ns, __u64 life)
{
    struct io_bpf_inflight *e = table_claim(&requests, IO_BPF_REQUESTS_BITS, key);

    if (!e)
        return;
    e->aux = life;
    e->bio_ns = bio_ns;
    e->bio = bio;
    e->slot = slot;
    e->pid = pid;
    e->op = op;
    e->stage = (__u8) stage;
    e->own_done = bio ? 0 : 1; /* without it, its bios (if any) are followed in "bios" */
    barrier();
    e->start_ns = now;
}

/* Moves rq into stage: ends (and counts) its current stage, or starts following it. */
static __always_inline void rq_enter(struct request *rq, __u32 stage)
{
    __u64 key = addr_of(rq), now;
    struct io_bpf_inflight *e;
    int slot, op;

    e = rq_entry(rq, key, &slot);
    if (e) {
        now = bpf_ktime_get_ns();
        /* a driver stage ended by requeue is not done */
        if (e->stage < IO_BPF_NR_STAGES && e->stage != IO_BPF_STAGE_RQ_DRIVER)
            account(e->slot, e->stage, e->op, now - e->start_ns);
        e->stage = (__u8) stage;
        e->start_ns = now;
        return;
    }
    if (slot < 0)
        return;
    op = op_of(rq->cmd_flags, rq->__data_len);
    if (op < 0)
        return;
    rq_track(key, stage, bpf_ktime_get_ns(), slot, current_tid(), (__u8) op, 0, 0,
             rq->start_time_ns);
}

SEC("tp_btf/block_io_start")
int BPF_PROG(rq_made, struct request *rq)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_RQ_MADE);
    struct task_struct *t = bpf_get_current_task_btf();
    struct io_bpf_submit *sub = cpu_submit();
    __u64 key = addr_of(rq), first = 0;
    /* made from a bio; with a plug the submitter keeps it until the plug is flushed */
    __u32 stage = t->plug ? IO_BPF_STAGE_PLUG : IO_BPF_STAGE_NONE;
    bool requests;
    int slot, op;

    if (rq->bio)
        first = addr_of(rq->bio);
    if (sub && sub->active && sub->tid == (__u32) t->pid && sub->queue == addr_of(rq->q)) {
        /* the submitter got a request (block_getrq was just before): its waits are done */
        if (sub->waiting) {
            sub->waiting = 0;
            waits_done(sub);
        }
        if (first && first == sub->bio)
            sub->active = 0; /* the last part: the thread is done with this bio */
        if (first && (first == sub->bio || first == sub->split)) {
            rq_track(key, stage, bpf_ktime_get_ns(), sub->slot, sub->tid, sub->op, first,
                     sub->bio_ns, 0);
            return 0;
        }
    }
    slot = queue_slot(rq->q, &requests);
    if (slot < 0)
        return 0;
    op = op_of(rq->cmd_flags, rq->__data_len);
    if (op < 0)
        return 0;
    rq_track(key, stage, bpf_ktime_get_ns(), slot, (__u32) t->pid, (__u8) op, 0, 0, 0);
    return 0;
}

static __always_inline __u32 insert_stage(struct request *rq)
{
    struct elevator_queue *elv = rq->q->elevator;
    const char *name;
    char n[4] = {};

    if (!elv)
        return IO_BPF_STAGE_HCTX;
    if (bpf_core_enum_value_exists(enum rqf_flags, __RQF_USE_SCHED) &&
        !(rq->rq_flags & (1U << bpf_core_enum_value(enum rqf_flags, __RQF_USE_SCHED))))
        return IO_BPF_STAGE_HCTX; /* bypasses the scheduler (flush, passthrough) */
    name = elv->type->elevator_name;
    if (!name || bpf_probe_read_kernel(n, sizeof(n), name) < 0)
        return IO_BPF_STAGE_HCTX;
    if (n[0] == 'm' && n[1] == 'q' && n[2] == '-' && n[3] == 'd')
        return IO_BPF_STAGE_DEADLINE;
    if (n[0] == 'b' && n[1] == 'f' && n[2] == 'q' && n[3] == 0)
        return IO_BPF_STAGE_BFQ;
    if (n[0] == 'k' && n[1] == 'y' && n[2] == 'b' && n[3] == 'e')
        return IO_BPF_STAGE_KYBER;
    return IO_BPF_STAGE_HCTX;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(rq_insert, struct request *rq)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_RQ_INSERT);
    rq_enter(rq, insert_stage(rq));
    return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(rq_issue, struct request *rq)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_RQ_ISSUE);
    rq_enter(rq, IO_BPF_STAGE_RQ_DRIVER);
    return 0;
}

SEC("tp_btf/block_rq_requeue")
int BPF_PROG(rq_requeue, struct request *rq)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_RQ_REQUEUE);
    rq_enter(rq, IO_BPF_STAGE_REQUEUE);
    return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_RQ_COMPLETE);
    __u64 key = addr_of(rq), now;
    struct io_bpf_inflight *e;
    unsigned int left = nr_bytes;
    struct bio *bio = rq->bio;
    int slot;

    e = rq_entry(rq, key, &slot);
    if (!e && slot < 0)
        return 0;
    now = bpf_ktime_get_ns();

    /* The bios these bytes complete, in order; a bio is done when all its bytes are. The one
     * the request was made from is in the request's entry, the others in "bios". */
    for (int i = 0; i < MAX_RQ_BIOS && bio; i++) {
        unsigned int size = bio->bi_iter.bi_size;
        __u64 bkey = addr_of(bio);
        struct io_bpf_inflight *b;

        if (size > left)
            break;
        left -= size;
        if (e && !e->own_done && bkey == e->bio) {
            account(e->slot, IO_BPF_STAGE_BIO, e->op, now - e->bio_ns);
            e->own_done = 1;
        } else {
            b = table_find(&bios, IO_BPF_BIOS_BITS, bkey);
            if (b) {
                account(b->slot, IO_BPF_STAGE_BIO, b->op, now - b->start_ns);
                table_free(b);
            }
        }
        bio = bio->bi_next;
    }

    if (!e)
        return 0;
    if (nr_bytes < rq->__data_len) /* a partial completion: more to come */
        return 0;
    if (e->stage == IO_BPF_STAGE_RQ_DRIVER)
        account(e->slot, IO_BPF_STAGE_RQ_DRIVER, e->op, now - e->start_ns);
    table_free(e);
    return 0;
}

SEC("tp_btf/block_rq_merge")
int BPF_PROG(rq_merge, struct request *rq)
{
    REFUSE_IF_ASKED(IO_BPF_PROG_RQ_MERGE);
    __u64 key = addr_of(rq);
    struct io_bpf_inflight *e;
    int slot;

    /* rq's bios join another request; the one rq was made from is followed alone now */
    e = rq_entry(rq, key, &slot);
    if (!e)
        return 0;
    if (!e->own_done && e->bio && !table_find(&bios, IO_BPF_BIOS_BITS, e->bio))
        bio_track(e->bio, e->bio_ns, e->slot, e->pid, e->op);
    table_free(e);
    return 0;
}
