/* io_stages.h: what the io-stage BPF programs and their loader share: limits, stage and op
 * numbers (equal to enum io_stage / enum io_op, checked by the loader) and the map layouts.
 * Included by the BPF program (with vmlinux.h) and by userspace (with linux/types.h). */
#pragma once

#define IO_BPF_MAX_DISKS 64 /* followed disks at once */

/* The in-flight tables are arrays of 2^bits entries (see io_stages.bpf.c); an io is put in one
 * of the TABLE_PROBES entries from the one its address hashes to, so keep them at most half
 * full: at most about half of these are followed at once. */
#define IO_BPF_REQUESTS_BITS 15 /* requests in flight on followed disks */
#define IO_BPF_BIOS_BITS     14 /* bios followed on their own */
#define IO_BPF_MAX_REQUESTS  (1U << IO_BPF_REQUESTS_BITS)
#define IO_BPF_MAX_BIOS      (1U << IO_BPF_BIOS_BITS)
#define IO_BPF_TABLE_PROBES  8
#define IO_BPF_MAX_PARKED    4096 /* submitters switched out before they had a request */

/* stages: the values of enum io_stage */
#define IO_BPF_STAGE_THROTL    0
#define IO_BPF_STAGE_WBT       1
#define IO_BPF_STAGE_IOCOST    2
#define IO_BPF_STAGE_BFQ       3
#define IO_BPF_STAGE_GETTAG    4
#define IO_BPF_STAGE_PLUG      5
#define IO_BPF_STAGE_DEADLINE  6
#define IO_BPF_STAGE_HCTX      7
#define IO_BPF_STAGE_REQUEUE   8
#define IO_BPF_STAGE_RQ_DRIVER 9
#define IO_BPF_STAGE_BIO       10
#define IO_BPF_STAGE_KYBER     11
#define IO_BPF_NR_STAGES       12

/* ops: the values of enum io_op */
#define IO_BPF_OP_READ    0
#define IO_BPF_OP_WRITE   1
#define IO_BPF_OP_FLUSH   2
#define IO_BPF_OP_DISCARD 3
#define IO_BPF_NR_OPS     4

/* Value of the per-CPU "counters" array, one element per disk slot. Userspace sums the CPUs.
 * The wbt, iocost and gettag stages finish together (once per bio that gets a request), so
 * only c[IO_BPF_STAGE_WBT][op].finished counts them: the finished counts of iocost and gettag
 * stay 0 and mean "the same as wbt". */
struct io_bpf_stage_counter {
    __u64 finished;
    __u64 latency_ns;
};
struct io_bpf_disk_counters {
    struct io_bpf_stage_counter c[IO_BPF_NR_STAGES][IO_BPF_NR_OPS];
};

/* The programs of io_stages.bpf.c. The loader loads each on its own terms (a kernel may lack its
 * event or refuse it) and names them in what it reports; the numbers are bits of the test hook
 * test_refuse (see io_stages.bpf.c). */
#define IO_BPF_PROG_BIO_QUEUE      0  /* tp block_bio_queue */
#define IO_BPF_PROG_BIO_SPLIT      1  /* tp block_split */
#define IO_BPF_PROG_BIO_COMPLETE   2  /* tp block_bio_complete */
#define IO_BPF_PROG_THROTL_QUEUED  3  /* fexit __blk_throtl_bio */
#define IO_BPF_PROG_TASK_SWITCH    4  /* tp sched_switch */
#define IO_BPF_PROG_BIO_BACKMERGE  5  /* tp block_bio_backmerge */
#define IO_BPF_PROG_BIO_FRONTMERGE 6  /* tp block_bio_frontmerge */
#define IO_BPF_PROG_RQ_MADE        7  /* tp block_io_start */
#define IO_BPF_PROG_RQ_INSERT      8  /* tp block_rq_insert */
#define IO_BPF_PROG_RQ_ISSUE       9  /* tp block_rq_issue */
#define IO_BPF_PROG_RQ_REQUEUE     10 /* tp block_rq_requeue */
#define IO_BPF_PROG_RQ_COMPLETE    11 /* tp block_rq_complete */
#define IO_BPF_PROG_RQ_MERGE       12 /* tp block_rq_merge */
#define IO_BPF_PROG_WAITS_END      13 /* tp block_getrq, where block_io_start is missing */
#define IO_BPF_NR_PROGS            14

#define IO_BPF_STAGE_NONE 0xff /* a request made but not yet in any stage */

/* An entry of the in-flight tables "requests" and "bios": one io, found by its address. A
 * cache line each, so that an io touches one line of the table. */
struct io_bpf_inflight {
    __u64 key;      /* struct request * or struct bio *; 0 = a free entry */
    __u64 start_ns; /* bpf_ktime_get_ns() when the stage began; bios: when the bio began */
    __u64 aux;      /* bios: when blk-throttle queued it, 0 if not throttled now;
                       requests: the request's start_time_ns, to tell a reused request */
    __u64 bio_ns;   /* requests: when the bio the request was made from began */
    __u64 bio;      /* requests: that bio (address), 0 if none */
    __u32 slot;     /* disk slot */
    __u32 pid;      /* thread that submitted the io (or was running when it was first seen) */
    __u8 op;
    __u8 stage;    /* bios: IO_BPF_STAGE_BIO, or IO_BPF_STAGE_THROTL for a bio blk-throttle holds
                      or held (start_ns then includes the time throttled) */
    __u8 own_done; /* requests: the bio it was made from has completed (or there is none) */
    __u8 pad[13];
};

/* The waits a submitting task may sleep in before it gets a request, told apart by the kernel
 * function on its stack when it goes to sleep. */
#define IO_BPF_WAIT_WBT    0 /* wbt_wait */
#define IO_BPF_WAIT_IOCOST 1 /* ioc_rqos_throttle */
#define IO_BPF_WAIT_GETTAG 2 /* blk_mq_get_tag */
#define IO_BPF_NR_WAITS    3

/* A thread submitting a bio of a followed request-based disk, from block_bio_queue until the
 * request is made (or the bio merged): per CPU while the thread runs, in the "parked" map
 * (keyed by thread id) while it is switched out. */
struct io_bpf_submit {
    __u64 bio;                        /* the bio (address) */
    __u64 split;                      /* its last split part, if any */
    __u64 queue;                      /* its disk's request queue (address) */
    __u64 bio_ns;                     /* when the bio began */
    __u64 waited_ns[IO_BPF_NR_WAITS]; /* time slept so far in each wait */
    __u64 sleep_ns;                   /* start of the current sleep, 0 when running */
    __u64 since_ns;                   /* first sleep in the current wait, for the dump gauge */
    __u32 tid;                        /* the thread */
    __u32 slot;
    __u8 op;
    __u8 wait;    /* IO_BPF_WAIT_* of the current or last sleep, 0xff before the first */
    __u8 active;  /* from block_bio_queue until the request made from the bio itself, or its
                     merge: its split parts may have been made into requests before */
    __u8 waiting; /* in the waits: before the first request (or the merge) */
    __u8 pad[4];
};
