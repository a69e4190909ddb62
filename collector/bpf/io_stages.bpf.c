/* io_stages.bpf.c: per-disk, per-stage, per-op io latency from block-layer events.
 *
 * Kernels may lack kprobes and refuse fentry/fexit, so every stage is bounded by tracepoints
 * (tp_btf); fentry/fexit is used only for the throtl stage, which no tracepoint can see. Each
 * stage of an io is timed from its start event to its end event and the time is added, with one
 * finished io, to a per-CPU counter of (disk slot, stage, op). While an io is in a stage its
 * start time is in an in-flight map, which userspace scans to count the ios that have been in
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
 *             merged into a request (tp block_bio_backmerge/frontmerge) passes none of them
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
 * Where the state lives, cheapest first:
 *  - a thread submitting a bio to a request-based disk keeps the bio's start and its waits in
 *    task storage (also read on every context switch); a thread asleep in a wait is copied to
 *    the "sleepers" map, for the dump gauge;
 *  - a request, from the event that makes it known until it completes, is in "requests",
 *    keyed by address, with the start of the bio it was made from;
 *  - only bios that are not the one a request was made from are in "bios": bios merged into a
 *    request, bios of bio-based disks, bios blk-throttle holds, and all bios where requests
 *    cannot be followed from their making (no block_io_start tracepoint).
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

/* Set by the loader before loading. */
/* Kernel text ranges of the wait functions (IO_BPF_WAIT_*), from kallsyms; 0 = unknown. */
const volatile __u64 wait_fn_start[IO_BPF_NR_WAITS] = {};
const volatile __u64 wait_fn_end[IO_BPF_NR_WAITS] = {};
/* throtl_queued is loaded: a bio may be found held by blk-throttle. */
const volatile bool throtl_loaded = false;
/* rq_made is loaded: requests are known from their making, with their bio's start. */
const volatile bool rq_made_loaded = false;

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

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IO_BPF_MAX_BIOS);
    __type(key, __u64); /* struct bio * */
    __type(value, struct io_bpf_inflight);
} bios SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IO_BPF_MAX_REQUESTS);
    __type(key, __u64); /* struct request * */
    __type(value, struct io_bpf_inflight);
} requests SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct io_bpf_submit);
} submits SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IO_BPF_MAX_SLEEPERS);
    __type(key, __u32); /* thread id */
    __type(value, struct io_bpf_sleeper);
} sleepers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64[STACK_DEPTH]);
} stack_scratch SEC(".maps");

/* ios not tracked because an in-flight map was full */
__u64 io_bpf_dropped = 0;

static __always_inline __u32 *disk_slot(struct gendisk *disk)
{
    __u32 dev;

    if (!disk)
        return NULL;
    dev = ((__u32) disk->major << 20) | (__u32) disk->first_minor;
    return bpf_map_lookup_elem(&followed, &dev);
}

static __always_inline bool disk_has_requests(struct gendisk *disk)
{
    return disk->queue && disk->queue->mq_ops;
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

static __always_inline struct io_bpf_submit *current_submit(bool create)
{
    return bpf_task_storage_get(&submits, bpf_get_current_task_btf(), NULL,
                                create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* Puts a bio in "bios" as a bio-stage entry. */
static __always_inline void bio_track(__u64 key, __u64 start, __u32 slot, __u32 pid, __u8 op)
{
    struct io_bpf_inflight v = {};

    v.start_ns = start;
    v.slot = slot;
    v.pid = pid;
    v.op = op;
    v.stage = IO_BPF_STAGE_BIO;
    if (bpf_map_update_elem(&bios, &key, &v, BPF_ANY) < 0)
        dropped();
}

/* ---- bios ---------------------------------------------------------------------------------- */

SEC("tp_btf/block_bio_queue")
int BPF_PROG(bio_queue, struct bio *bio)
{
    __u64 key = (__u64) bio, now = bpf_ktime_get_ns(), start = now;
    struct io_bpf_submit *sub;
    struct gendisk *disk;
    __u32 *slot;
    int op;

    if (throtl_loaded) {
        struct io_bpf_inflight *e = bpf_map_lookup_elem(&bios, &key);

        if (e && e->stage == IO_BPF_STAGE_THROTL) {
            /* leaving blk-throttle; the bio began when it was throttled */
            if (e->aux)
                account(e->slot, IO_BPF_STAGE_THROTL, e->op, now - e->aux);
            start = e->start_ns;
        }
        if (e) /* otherwise left from an earlier bio at this address */
            bpf_map_delete_elem(&bios, &key);
    }
    disk = bio->bi_bdev->bd_disk;
    slot = disk_slot(disk);
    if (!slot)
        return 0;
    op = op_of(bio->bi_opf, bio->bi_iter.bi_size);
    if (op < 0)
        return 0;
    if (!disk_has_requests(disk) || !rq_made_loaded) {
        bio_track(key, start, *slot, current_tid(), (__u8) op);
        if (!disk_has_requests(disk))
            return 0;
    }

    /* This thread now goes through wbt, iocost and a tag, then makes a request. */
    sub = current_submit(true);
    if (!sub)
        return 0;
    sub->bio = key;
    sub->split = 0;
    sub->bio_ns = start;
    sub->waited_ns[0] = sub->waited_ns[1] = sub->waited_ns[2] = 0;
    sub->sleep_ns = 0;
    sub->since_ns = 0;
    sub->slot = *slot;
    sub->op = (__u8) op;
    sub->wait = NO_WAIT;
    sub->active = 1;
    return 0;
}

SEC("tp_btf/block_split")
int BPF_PROG(bio_split, struct bio *split, unsigned int new_sector)
{
    __u64 parent = (__u64) split->bi_private, key = (__u64) split;
    struct io_bpf_submit *sub;
    struct io_bpf_inflight *p, v;

    /* bio_chain() made the parent the split part's bi_private */
    p = bpf_map_lookup_elem(&bios, &parent);
    if (p) {
        v = *p;
        v.aux = 0;
        v.stage = IO_BPF_STAGE_BIO;
        if (bpf_map_update_elem(&bios, &key, &v, BPF_ANY) < 0)
            dropped();
        return 0;
    }
    sub = current_submit(false);
    if (sub && sub->bio == parent)
        sub->split = key; /* the request made next is made from this part */
    return 0;
}

static __always_inline void bio_done_in_map(__u64 key, __u64 now)
{
    struct io_bpf_inflight *e;

    e = bpf_map_lookup_elem(&bios, &key);
    if (!e)
        return;
    account(e->slot, IO_BPF_STAGE_BIO, e->op, now - e->start_ns);
    bpf_map_delete_elem(&bios, &key);
}

SEC("tp_btf/block_bio_complete")
int BPF_PROG(bio_complete, struct request_queue *q, struct bio *bio)
{
    bio_done_in_map((__u64) bio, bpf_ktime_get_ns());
    return 0;
}

SEC("fexit/__blk_throtl_bio")
int BPF_PROG(throtl_queued, struct bio *bio, bool throttled)
{
    __u64 key = (__u64) bio, now;
    struct io_bpf_inflight *e, v = {};
    __u32 *slot;
    int op;

    if (!throttled)
        return 0;
    now = bpf_ktime_get_ns();
    e = bpf_map_lookup_elem(&bios, &key);
    if (e && e->stage == IO_BPF_STAGE_THROTL) { /* the rest of a split bio, throttled again */
        if (!e->aux)
            e->aux = now;
        return 0;
    }
    slot = disk_slot(bio->bi_bdev->bd_disk);
    if (!slot)
        return 0;
    op = op_of(bio->bi_opf, bio->bi_iter.bi_size);
    if (op < 0)
        return 0;
    v.start_ns = now;
    v.aux = now;
    v.slot = *slot;
    v.pid = current_tid();
    v.op = (__u8) op;
    v.stage = IO_BPF_STAGE_THROTL;
    if (bpf_map_update_elem(&bios, &key, &v, BPF_ANY) < 0)
        dropped();
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

SEC("tp_btf/sched_switch")
int BPF_PROG(task_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    struct io_bpf_submit *s;
    __u64 now = 0;
    __u32 tid;
    int w;

    s = bpf_task_storage_get(&submits, prev, NULL, 0);
    if (s && s->active && !preempt && !s->sleep_ns) {
        w = current_wait(ctx);
        if (w >= 0 && w < IO_BPF_NR_WAITS) {
            struct io_bpf_sleeper z = {};

            now = bpf_ktime_get_ns();
            if (s->wait != w) {
                s->wait = (__u8) w;
                s->since_ns = now;
            }
            s->sleep_ns = now;
            z.since_ns = s->since_ns;
            z.bio_ns = s->bio_ns;
            z.slot = s->slot;
            z.op = s->op;
            z.wait = (__u8) w;
            tid = (__u32) prev->pid;
            bpf_map_update_elem(&sleepers, &tid, &z, BPF_ANY);
        }
    }

    s = bpf_task_storage_get(&submits, next, NULL, 0);
    if (s && s->sleep_ns) {
        if (!now)
            now = bpf_ktime_get_ns();
        w = s->wait;
        if (w >= 0 && w < IO_BPF_NR_WAITS)
            s->waited_ns[w] += now - s->sleep_ns;
        s->sleep_ns = 0;
        tid = (__u32) next->pid;
        bpf_map_delete_elem(&sleepers, &tid);
    }
    return 0;
}

SEC("tp_btf/block_getrq")
int BPF_PROG(bio_getrq, struct bio *bio)
{
    struct io_bpf_disk_counters *c;
    struct io_bpf_submit *s;
    __u32 op;

    s = current_submit(false);
    if (!s || !s->active)
        return 0;
    s->active = 0;
    op = s->op;
    c = bpf_map_lookup_elem(&counters, &s->slot);
    if (!c || op >= IO_BPF_NR_OPS)
        return 0;
    __sync_fetch_and_add(&c->c[IO_BPF_STAGE_WBT][op].finished, 1);
    __sync_fetch_and_add(&c->c[IO_BPF_STAGE_WBT][op].latency_ns, s->waited_ns[IO_BPF_WAIT_WBT]);
    __sync_fetch_and_add(&c->c[IO_BPF_STAGE_IOCOST][op].finished, 1);
    __sync_fetch_and_add(&c->c[IO_BPF_STAGE_IOCOST][op].latency_ns,
                         s->waited_ns[IO_BPF_WAIT_IOCOST]);
    __sync_fetch_and_add(&c->c[IO_BPF_STAGE_GETTAG][op].finished, 1);
    __sync_fetch_and_add(&c->c[IO_BPF_STAGE_GETTAG][op].latency_ns,
                         s->waited_ns[IO_BPF_WAIT_GETTAG]);
    return 0;
}

/* A bio merged into a request: it needs no request of its own, so it is followed alone. */
static __always_inline void bio_merged(struct bio *bio)
{
    struct io_bpf_submit *s;

    s = current_submit(false);
    if (!s || !s->active || s->bio != (__u64) bio)
        return;
    s->active = 0;
    if (rq_made_loaded)
        bio_track((__u64) bio, s->bio_ns, s->slot, current_tid(), s->op);
}

SEC("tp_btf/block_bio_backmerge")
int BPF_PROG(bio_backmerge, struct bio *bio)
{
    bio_merged(bio);
    return 0;
}

SEC("tp_btf/block_bio_frontmerge")
int BPF_PROG(bio_frontmerge, struct bio *bio)
{
    bio_merged(bio);
    return 0;
}

/* ---- requests -------------------------------------------------------------------------------- */

/* The entry of rq, or NULL; an entry left from an earlier request at this address (told by
 * its start_time_ns) is dropped. block_io_start fires just before the kernel sets
 * start_time_ns, so an entry made there (aux 0) adopts the value at the next event. */
static __always_inline struct io_bpf_inflight *rq_lookup(struct request *rq, __u64 *key)
{
    struct io_bpf_inflight *e;
    __u64 life = rq->start_time_ns;

    e = bpf_map_lookup_elem(&requests, key);
    if (!e)
        return NULL;
    if (!e->aux)
        e->aux = life;
    else if (e->aux != life) {
        bpf_map_delete_elem(&requests, key);
        return NULL;
    }
    return e;
}

/* Moves rq into stage: ends (and counts) its current stage, or starts following it (always
 * afresh when fresh is set: the request was just made from a bio). */
static __always_inline void rq_enter(struct request *rq, __u32 stage, bool fresh)
{
    __u64 key = (__u64) rq, now = bpf_ktime_get_ns(), first_bio;
    struct io_bpf_inflight *e, v = {};
    struct io_bpf_submit *sub;
    __u32 *slot;
    int op;

    e = fresh ? NULL : rq_lookup(rq, &key);
    if (e) {
        /* a driver stage ended by requeue is not done */
        if (e->stage < IO_BPF_NR_STAGES && e->stage != IO_BPF_STAGE_RQ_DRIVER)
            account(e->slot, e->stage, e->op, now - e->start_ns);
        e->stage = (__u8) stage;
        e->start_ns = now;
        return;
    }
    slot = disk_slot(rq->q->disk);
    if (!slot)
        return;
    op = op_of(rq->cmd_flags, rq->__data_len);
    if (op < 0)
        return;
    v.start_ns = now;
    v.aux = fresh ? 0 : rq->start_time_ns;
    v.bio_ns = now;
    v.slot = *slot;
    v.pid = current_tid();
    v.op = (__u8) op;
    v.stage = (__u8) stage;
    /* The bio it is made from: the submitter's, if this thread is submitting it. */
    first_bio = (__u64) rq->bio;
    sub = fresh && rq_made_loaded ? current_submit(false) : NULL;
    if (sub && first_bio && (first_bio == sub->bio || first_bio == sub->split))
        v.bio_ns = sub->bio_ns;
    else
        v.own_done = 1; /* its bios, if any, are followed in "bios" */
    if (bpf_map_update_elem(&requests, &key, &v, BPF_ANY) < 0)
        dropped();
}

SEC("tp_btf/block_io_start")
int BPF_PROG(rq_made, struct request *rq)
{
    struct task_struct *t = bpf_get_current_task_btf();

    /* made from a bio; with a plug the submitter keeps it until the plug is flushed */
    rq_enter(rq, t->plug ? IO_BPF_STAGE_PLUG : IO_BPF_STAGE_NONE, true);
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
    rq_enter(rq, insert_stage(rq), false);
    return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(rq_issue, struct request *rq)
{
    rq_enter(rq, IO_BPF_STAGE_RQ_DRIVER, false);
    return 0;
}

SEC("tp_btf/block_rq_requeue")
int BPF_PROG(rq_requeue, struct request *rq)
{
    rq_enter(rq, IO_BPF_STAGE_REQUEUE, false);
    return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
    __u64 key = (__u64) rq, now = bpf_ktime_get_ns();
    struct io_bpf_inflight *e;
    unsigned int left = nr_bytes;
    struct bio *bio = rq->bio;

    e = rq_lookup(rq, &key);

    /* The bios these bytes complete, in order; a bio is done when all its bytes are. The one
     * not in "bios" is the bio the request was made from. */
    for (int i = 0; i < MAX_RQ_BIOS && bio; i++) {
        __u64 bkey = (__u64) bio;
        struct io_bpf_inflight *b;
        unsigned int size = bio->bi_iter.bi_size;

        if (size > left)
            break;
        left -= size;
        b = bpf_map_lookup_elem(&bios, &bkey);
        if (b) {
            account(b->slot, IO_BPF_STAGE_BIO, b->op, now - b->start_ns);
            bpf_map_delete_elem(&bios, &bkey);
        } else if (e && !e->own_done) {
            account(e->slot, IO_BPF_STAGE_BIO, e->op, now - e->bio_ns);
            e->own_done = 1;
        }
        bio = bio->bi_next;
    }

    if (!e)
        return 0;
    if (nr_bytes < rq->__data_len) /* a partial completion: more to come */
        return 0;
    if (e->stage == IO_BPF_STAGE_RQ_DRIVER)
        account(e->slot, IO_BPF_STAGE_RQ_DRIVER, e->op, now - e->start_ns);
    bpf_map_delete_elem(&requests, &key);
    return 0;
}

SEC("tp_btf/block_rq_merge")
int BPF_PROG(rq_merge, struct request *rq)
{
    __u64 key = (__u64) rq, bkey = (__u64) rq->bio;
    struct io_bpf_inflight *e, v = {};

    /* rq's bios join another request; the one rq was made from is followed alone now */
    e = bpf_map_lookup_elem(&requests, &key);
    if (!e)
        return 0;
    if (!e->own_done && bkey && !bpf_map_lookup_elem(&bios, &bkey)) {
        v.start_ns = e->bio_ns;
        v.slot = e->slot;
        v.pid = e->pid;
        v.op = e->op;
        v.stage = IO_BPF_STAGE_BIO;
        if (bpf_map_update_elem(&bios, &bkey, &v, BPF_NOEXIST) < 0)
            dropped();
    }
    bpf_map_delete_elem(&requests, &key);
    return 0;
}
