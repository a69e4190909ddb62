/* io_bpf_load.h: loads the io-stage BPF programs (bpf/io_stages.bpf.c) each on its own terms.
 *
 * Kernels differ: one lacks a tracepoint (block_io_start is 6.5+), another's verifier refuses a
 * program that an older one took, a third cannot attach fexit. Each program is loaded, refused
 * or left out on its own, with the reason kept (the verifier's error line for a refusal), so that
 * a missing program costs only the stages that need it (io_source_bpf.c says which). A program
 * that is useless without another one that is off is left out too ("unused"). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/io_stages.h"
#include "macro.h"

enum io_bpf_prog_state {
    IO_BPF_PROG_ON,           /* loaded and attached */
    IO_BPF_PROG_NO_EVENT,     /* this kernel has no such tracepoint or function */
    IO_BPF_PROG_REFUSED,      /* the verifier (or the kernel) refused to load it */
    IO_BPF_PROG_NOT_ATTACHED, /* loaded, but attaching it failed */
    IO_BPF_PROG_UNUSED,       /* it works together with a program that is off */
    IO_BPF_PROG_NOT_NEEDED,   /* another program does its work on this kernel */
    _IO_BPF_PROG_STATE_MAX,
};
/* "on", "no event", "refused", "not attached", "unused", "not needed" */
const char *io_bpf_prog_state_to_string(enum io_bpf_prog_state s);

#define IO_BPF_REASON_MAX 320

struct io_bpf_prog_status {
    enum io_bpf_prog_state state;
    char reason[IO_BPF_REASON_MAX]; /* empty when on */
};

const char *io_bpf_prog_name(unsigned prog);  /* "bio_queue"; NULL when out of range */
const char *io_bpf_prog_event(unsigned prog); /* "tp_btf/block_bio_queue" */
int io_bpf_prog_from_name(const char *name);  /* IO_BPF_PROG_* or -EINVAL */
/* A mask of IO_BPF_PROG_* bits from a comma-separated list of program names; "" gives 0.
 * -EINVAL on an unknown name. */
int io_bpf_prog_mask_parse(const char *list, uint32_t *ret);

/* The programs a submitter is followed with to its request (submitters_followed in
 * io_stages.bpf.c), and, on kernels without block_io_start, for its waits only
 * (waits_at_getrq). */
#define IO_BPF_SUBMITTER_PROGS                                                \
    ((1U << IO_BPF_PROG_BIO_QUEUE) | (1U << IO_BPF_PROG_TASK_SWITCH) |        \
     (1U << IO_BPF_PROG_BIO_BACKMERGE) | (1U << IO_BPF_PROG_BIO_FRONTMERGE) | \
     (1U << IO_BPF_PROG_RQ_MADE))
#define IO_BPF_WAITS_AT_GETRQ_PROGS \
    ((IO_BPF_SUBMITTER_PROGS & ~(1U << IO_BPF_PROG_RQ_MADE)) | (1U << IO_BPF_PROG_WAITS_END))

struct io_stages_bpf;
struct bpf_link;

struct io_bpf_programs {
    struct io_stages_bpf *skel; /* NULL when nothing is loaded */
    struct bpf_link *links[IO_BPF_NR_PROGS];
    struct io_bpf_prog_status status[IO_BPF_NR_PROGS];
    uint32_t on; /* IO_BPF_PROG_* bits of the programs on */
};

struct io_bpf_load_params {
    const char *btf_path; /* the kernel's BTF, which says which events exist */
    /* kernel text ranges of the wait functions (IO_BPF_WAIT_*), 0 = unknown */
    uint64_t wait_start[IO_BPF_NR_WAITS], wait_end[IO_BPF_NR_WAITS];
    uint32_t refuse; /* test hook: programs made to be refused (IO_BPF_PROG_* bits) */
};

/* Loads and attaches every program this kernel takes. 0 when at least one is on (p->status says
 * what happened to each), -EOPNOTSUPP when none is (the reasons are in p->status too). */
int io_bpf_programs_load(struct io_bpf_programs *p, const struct io_bpf_load_params *lp);
void io_bpf_programs_unload(struct io_bpf_programs *p);

static inline bool io_bpf_programs_on(const struct io_bpf_programs *p, uint32_t mask)
{
    return (p->on & mask) == mask;
}
