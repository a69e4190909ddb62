/* io_bpf_load.c: see io_bpf_load.h.
 *
 * The object is loaded whole (one load of all programs is the common case and the cheapest);
 * when the load fails, the program that failed is found, marked and the load repeated without
 * it, so the number of loads is bounded by the number of programs:
 *  1. before any load, a program whose event this kernel lacks (no btf_trace_<tracepoint>
 *     typedef, no function of that name in the kernel's BTF) is left out;
 *  2. each program gets its own log buffer: libbpf loads without a log and, on a refusal, loads
 *     that program again with the verifier's log into its buffer, so the refused program is the
 *     one whose buffer is not empty;
 *  3. a load that fails with no log names no program: each is then loaded alone to find it;
 *  4. a program that does not attach is marked too, and the set loaded again, because the
 *     programs were told at load time (read-only data) which others run with them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_verifier_log.h"
#include "io_bpf_load.h"
#include "log.h"
#include "string_table.h"

#define P(x) (1U << IO_BPF_PROG_##x)

static const char *const state_table[_IO_BPF_PROG_STATE_MAX] = {
    [IO_BPF_PROG_ON] = "on",           [IO_BPF_PROG_NO_EVENT] = "no event",
    [IO_BPF_PROG_REFUSED] = "refused", [IO_BPF_PROG_NOT_ATTACHED] = "not attached",
    [IO_BPF_PROG_UNUSED] = "unused",   [IO_BPF_PROG_NOT_NEEDED] = "not needed",
};

const char *io_bpf_prog_state_to_string(enum io_bpf_prog_state s)
{
    return (unsigned) s < _IO_BPF_PROG_STATE_MAX ? state_table[s] : NULL;
}

/* The programs, their events, the programs each is of no use without (either set, when there
 * are two ways), and the program that does its work where both can be loaded. */
#define WAITERS                                             \
    {                                                       \
        IO_BPF_SUBMITTER_PROGS, IO_BPF_WAITS_AT_GETRQ_PROGS \
    }

static const struct prog_desc {
    const char *name;
    const char *event;
    uint32_t partners[2];
    uint32_t superseded_by;
} progs[IO_BPF_NR_PROGS] = {
    [IO_BPF_PROG_BIO_QUEUE] = {"bio_queue", "tp_btf/block_bio_queue", {0}, 0},
    [IO_BPF_PROG_BIO_SPLIT] = {"bio_split", "tp_btf/block_split", {P(BIO_QUEUE)}, 0},
    [IO_BPF_PROG_BIO_COMPLETE] = {"bio_complete", "tp_btf/block_bio_complete", {P(BIO_QUEUE)}, 0},
    [IO_BPF_PROG_THROTL_QUEUED] = {"throtl_queued", "fexit/__blk_throtl_bio", {P(BIO_QUEUE)}, 0},
    [IO_BPF_PROG_TASK_SWITCH] = {"task_switch", "tp_btf/sched_switch", WAITERS, 0},
    [IO_BPF_PROG_BIO_BACKMERGE] = {"bio_backmerge", "tp_btf/block_bio_backmerge", WAITERS, 0},
    [IO_BPF_PROG_BIO_FRONTMERGE] = {"bio_frontmerge", "tp_btf/block_bio_frontmerge", WAITERS, 0},
    [IO_BPF_PROG_RQ_MADE] = {"rq_made", "tp_btf/block_io_start", {0}, 0},
    [IO_BPF_PROG_RQ_INSERT] = {"rq_insert", "tp_btf/block_rq_insert", {0}, 0},
    [IO_BPF_PROG_RQ_ISSUE] = {"rq_issue", "tp_btf/block_rq_issue", {0}, 0},
    [IO_BPF_PROG_RQ_REQUEUE] = {"rq_requeue", "tp_btf/block_rq_requeue", {0}, 0},
    [IO_BPF_PROG_RQ_COMPLETE] = {"rq_complete", "tp_btf/block_rq_complete", {0}, 0},
    [IO_BPF_PROG_RQ_MERGE] = {"rq_merge", "tp_btf/block_rq_merge", {0}, 0},
    [IO_BPF_PROG_WAITS_END] = {"waits_end",
                               "tp_btf/block_getrq",
                               {IO_BPF_WAITS_AT_GETRQ_PROGS},
                               P(RQ_MADE)},
};

const char *io_bpf_prog_name(unsigned prog)
{
    return prog < IO_BPF_NR_PROGS ? progs[prog].name : NULL;
}

const char *io_bpf_prog_event(unsigned prog)
{
    return prog < IO_BPF_NR_PROGS ? progs[prog].event : NULL;
}

int io_bpf_prog_from_name(const char *name)
{
    for (unsigned i = 0; name && i < IO_BPF_NR_PROGS; i++)
        if (streq(progs[i].name, name))
            return (int) i;
    return -EINVAL;
}

int io_bpf_prog_mask_parse(const char *list, uint32_t *ret)
{
    uint32_t mask = 0;

    for (const char *p = list ? list : ""; *p;) {
        const char *e = strchrnul(p, ',');
        char name[32];

        if (e - p >= (ptrdiff_t) sizeof(name))
            return -EINVAL;
        memcpy(name, p, (size_t) (e - p));
        name[e - p] = 0;
        if (*name) {
            int k = io_bpf_prog_from_name(name);
            if (k < 0)
                return k;
            mask |= 1U << k;
        }
        p = *e ? e + 1 : e;
    }
    *ret = mask;
    return 0;
}

#if HAVE_BPF_IO_STAGES

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>

#include "io_stages.skel.h"

/* Big enough for the whole refusal log of our largest program on an old kernel, whose log keeps
 * its beginning when it overflows (newer ones keep the end). Mapped, so only what the kernel
 * writes takes memory. */
#define VERIFIER_LOG_SIZE (4U << 20)

static void set_status(struct io_bpf_programs *p, unsigned i, enum io_bpf_prog_state state,
                       const char *fmt, ...) _printf_(4, 5);
static void set_status(struct io_bpf_programs *p, unsigned i, enum io_bpf_prog_state state,
                       const char *fmt, ...)
{
    va_list ap;

    p->status[i].state = state;
    va_start(ap, fmt);
    vsnprintf(p->status[i].reason, sizeof(p->status[i].reason), fmt, ap);
    va_end(ap);
}

/* Marks what is off and logs it once per process and program (the collector reopens the source
 * each time sampling resumes). */
static void note_off(struct io_bpf_programs *p, unsigned i)
{
    static uint32_t logged;
    int level = logged & (1U << i) ? LOG_DEBUG : LOG_INFO;

    logged |= 1U << i;
    log_full_errno(level, 0, NULL, "BPF program %s (%s) is off: %s", progs[i].name, progs[i].event,
                   p->status[i].reason);
}

/* The program libbpf last complained about (its messages about one program start with
 * "prog 'NAME': "): when a load fails without a verifier log, the one that failed. A hint only:
 * without it each program is loaded alone to find the one. */
static char hint_name[64];
static char hint_text[IO_BPF_REASON_MAX - 64];

static int _printf_(2, 0) libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char buf[1024];
    const char *name;
    size_t n;

    vsnprintf(buf, sizeof(buf), fmt, ap);
    n = strlen(buf);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = 0;
    name = startswith(buf, "libbpf: ") ? buf + STRLEN("libbpf: ") : buf;
    /* the first complaint of a failed load is the precise one ("failed to load: -1" follows) */
    if (level == LIBBPF_WARN && !hint_name[0] && (name = startswith(name, "prog '"))) {
        const char *q = strchr(name, '\'');

        if (q && (size_t) (q - name) < sizeof(hint_name) && startswith(q, "': ")) {
            memcpy(hint_name, name, (size_t) (q - name));
            hint_name[q - name] = 0;
            snprintf(hint_text, sizeof(hint_text), "%s", q + 3);
        }
    }
    /* libbpf explains failures (the expected ones too) in many lines: for debugging only */
    if (log_get_max_level() >= LOG_DEBUG)
        log_debug("%s", buf);
    return 0;
}

/* 1. Which events this kernel has. */
static void check_events(struct io_bpf_programs *p, const char *btf_path, uint32_t *candidates)
{
    struct btf *btf = btf__parse(btf_path, NULL);

    if (!btf) {
        /* the load will tell; no program is left out on a guess */
        log_info_errno(errno, "cannot read the kernel BTF %s: %m", btf_path);
        return;
    }
    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++) {
        const char *ev = progs[i].event, *name;
        char type[128];
        bool found;

        if ((name = startswith(ev, "tp_btf/"))) {
            snprintf(type, sizeof(type), "btf_trace_%s", name);
            found = btf__find_by_name_kind(btf, type, BTF_KIND_TYPEDEF) > 0;
        } else if ((name = startswith(ev, "fexit/")) || (name = startswith(ev, "fentry/")))
            found = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
        else
            continue;
        if (!found) {
            set_status(p, i, IO_BPF_PROG_NO_EVENT, "this kernel has no %s %s",
                       startswith(ev, "tp_btf/") ? "tracepoint" : "function", name);
            *candidates &= ~(1U << i);
            note_off(p, i);
        }
    }
    btf__free(btf);
}

/* Whether the partners a program needs are among the candidates, one way or the other. */
static bool partners_there(const struct prog_desc *d, unsigned self, uint32_t candidates)
{
    if (!d->partners[0] && !d->partners[1])
        return true;
    for (int k = 0; k < 2; k++)
        if (d->partners[k] && (d->partners[k] & ~(1U << self) & ~candidates) == 0)
            return true;
    return false;
}

/* Leaves out the programs that are of no use without one that is off, and those whose work a
 * candidate does; takes back one left out for a program that is off now (possible: the programs
 * whose event this kernel has). */
static void drop_unused(struct io_bpf_programs *p, uint32_t *candidates, uint32_t possible)
{
    bool changed;

    do {
        changed = false;
        for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++) {
            const struct prog_desc *d = &progs[i];
            bool cand = *candidates & (1U << i);
            bool superseded =
                d->superseded_by && (d->superseded_by & *candidates) == d->superseded_by;

            if (cand && superseded) {
                unsigned m = (unsigned) __builtin_ctz(d->superseded_by);
                set_status(p, i, IO_BPF_PROG_NOT_NEEDED, "%s does its work on this kernel",
                           progs[m].name);
                *candidates &= ~(1U << i);
                changed = true;
            } else if (!cand && !superseded && p->status[i].state == IO_BPF_PROG_NOT_NEEDED &&
                       (possible & (1U << i))) {
                set_status(p, i, IO_BPF_PROG_ON, "%s", "");
                *candidates |= 1U << i;
                changed = true;
            } else if (cand && !partners_there(d, i, *candidates)) {
                uint32_t missing = d->partners[0] & ~(1U << i) & ~*candidates;
                unsigned m = (unsigned) __builtin_ctz(missing ? missing : d->partners[1]);
                set_status(p, i, IO_BPF_PROG_UNUSED, "works together with %s, which is off",
                           progs[m].name);
                *candidates &= ~(1U << i);
                note_off(p, i);
                changed = true;
            }
        }
    } while (changed);
}

/* Opens the object with the candidates to load and what they are told of each other. */
static int open_object(struct io_bpf_programs *p, const struct io_bpf_load_params *lp,
                       uint32_t candidates, char *logs)
{
    p->skel = io_stages_bpf__open();
    if (!p->skel)
        return log_info_errno(errno, "cannot open the io-stage BPF object: %m");
    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++) {
        struct bpf_program *prog = bpf_object__find_program_by_name(p->skel->obj, progs[i].name);
        int r;

        if (!prog)
            return log_error_errno(-ENOENT, "BPF program %s missing from the object",
                                   progs[i].name);
        r = bpf_program__set_autoload(prog, candidates & (1U << i));
        if (r >= 0 && logs) {
            logs[(size_t) i * VERIFIER_LOG_SIZE] = 0;
            r = bpf_program__set_log_buf(prog, logs + (size_t) i * VERIFIER_LOG_SIZE,
                                         VERIFIER_LOG_SIZE);
        }
        if (r < 0)
            return r;
    }
    for (int w = 0; w < IO_BPF_NR_WAITS; w++) {
        p->skel->rodata->wait_fn_start[w] = lp->wait_start[w];
        p->skel->rodata->wait_fn_end[w] = lp->wait_end[w];
    }
    p->skel->rodata->throtl_loaded = candidates & P(THROTL_QUEUED);
    p->skel->rodata->submitters_followed =
        (candidates & IO_BPF_SUBMITTER_PROGS) == IO_BPF_SUBMITTER_PROGS;
    p->skel->rodata->waits_at_getrq =
        !p->skel->rodata->submitters_followed &&
        (candidates & IO_BPF_WAITS_AT_GETRQ_PROGS) == IO_BPF_WAITS_AT_GETRQ_PROGS;
    p->skel->rodata->test_refuse = lp->refuse;
    return 0;
}

static void close_object(struct io_bpf_programs *p)
{
    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++) {
        bpf_link__destroy(p->links[i]);
        p->links[i] = NULL;
    }
    io_stages_bpf__destroy(p->skel);
    p->skel = NULL;
}

/* 3. Loads each candidate alone; marks those that fail. Returns how many were marked. */
static unsigned find_failing_alone(struct io_bpf_programs *p, const struct io_bpf_load_params *lp,
                                   uint32_t *candidates)
{
    unsigned marked = 0;

    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++) {
        int r;

        if (!(*candidates & (1U << i)))
            continue;
        r = open_object(p, lp, 1U << i, NULL);
        if (r >= 0)
            r = io_stages_bpf__load(p->skel);
        close_object(p);
        if (r < 0) {
            set_status(p, i, IO_BPF_PROG_REFUSED, "cannot be loaded: %s", strerror(-r));
            marked++;
        }
    }
    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++)
        if ((*candidates & (1U << i)) && p->status[i].state == IO_BPF_PROG_REFUSED) {
            *candidates &= ~(1U << i);
            note_off(p, i);
        }
    return marked;
}

/* 2. After a failed load: the programs whose log is not empty were refused; without a log, the
 * program libbpf named. */
static unsigned mark_refused(struct io_bpf_programs *p, const char *logs, uint32_t *candidates)
{
    unsigned marked = 0;
    int hinted = io_bpf_prog_from_name(hint_name);

    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++) {
        const char *log = logs + (size_t) i * VERIFIER_LOG_SIZE;
        char why[IO_BPF_REASON_MAX - 32];

        if (!(*candidates & (1U << i)) || !*log)
            continue;
        bpf_verifier_log_reason(log, VERIFIER_LOG_SIZE, why, sizeof(why));
        set_status(p, i, IO_BPF_PROG_REFUSED, "refused by the verifier: %s", why);
        *candidates &= ~(1U << i);
        note_off(p, i);
        marked++;
    }
    if (!marked && hinted >= 0 && (*candidates & (1U << hinted))) {
        set_status(p, (unsigned) hinted, IO_BPF_PROG_REFUSED, "%s", hint_text);
        *candidates &= ~(1U << hinted);
        note_off(p, (unsigned) hinted);
        marked++;
    }
    return marked;
}

/* 4. Attaches the loaded programs; marks those that do not attach. */
static unsigned attach_all(struct io_bpf_programs *p, uint32_t *candidates)
{
    unsigned marked = 0;

    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++) {
        struct bpf_program *prog;

        if (!(*candidates & (1U << i)))
            continue;
        prog = bpf_object__find_program_by_name(p->skel->obj, progs[i].name);
        p->links[i] = bpf_program__attach(prog);
        if (!p->links[i]) {
            set_status(p, i, IO_BPF_PROG_NOT_ATTACHED, "cannot be attached: %s", strerror(errno));
            *candidates &= ~(1U << i);
            note_off(p, i);
            marked++;
        }
    }
    return marked;
}

int io_bpf_programs_load(struct io_bpf_programs *p, const struct io_bpf_load_params *lp)
{
    uint32_t candidates = (1U << IO_BPF_NR_PROGS) - 1, possible;
    libbpf_print_fn_t old_print;
    char *logs;
    int r = -EOPNOTSUPP;

    *p = (struct io_bpf_programs){};
    logs = mmap(NULL, (size_t) IO_BPF_NR_PROGS * VERIFIER_LOG_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (logs == MAP_FAILED)
        return -errno;

    old_print = libbpf_set_print(libbpf_log);
    check_events(p, lp->btf_path, &candidates);
    possible = candidates;
    /* every round takes at least one program out for good, or ends */
    for (unsigned round = 0; round <= IO_BPF_NR_PROGS; round++) {
        drop_unused(p, &candidates, possible);
        if (!candidates) {
            r = -EOPNOTSUPP;
            break;
        }
        hint_name[0] = 0;
        r = open_object(p, lp, candidates, logs);
        if (r >= 0)
            r = io_stages_bpf__load(p->skel);
        if (r < 0) {
            unsigned marked = p->skel ? mark_refused(p, logs, &candidates) : 0;

            close_object(p);
            if (!marked)
                marked = find_failing_alone(p, lp, &candidates);
            if (!marked) {
                /* the programs load alone but not together: nothing to take out */
                log_info_errno(r, "cannot load the io-stage BPF programs: %m");
                for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++)
                    if (candidates & (1U << i))
                        set_status(p, i, IO_BPF_PROG_REFUSED, "the object cannot be loaded: %s",
                                   strerror(-r));
                break;
            }
            continue;
        }
        if (attach_all(p, &candidates) > 0) {
            close_object(p);
            continue;
        }
        p->on = candidates;
        for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++)
            if (candidates & (1U << i))
                set_status(p, i, IO_BPF_PROG_ON, "%s", "");
        r = 0;
        break;
    }
    munmap(logs, (size_t) IO_BPF_NR_PROGS * VERIFIER_LOG_SIZE);
    libbpf_set_print(old_print);
    if (r < 0) {
        close_object(p);
        p->on = 0;
        return r == -ENOMEM ? r : -EOPNOTSUPP;
    }
    return 0;
}

void io_bpf_programs_unload(struct io_bpf_programs *p)
{
    close_object(p);
    p->on = 0;
}

#else /* !HAVE_BPF_IO_STAGES */

int io_bpf_programs_load(struct io_bpf_programs *p, const struct io_bpf_load_params *lp)
{
    return -EOPNOTSUPP;
}

void io_bpf_programs_unload(struct io_bpf_programs *p)
{
}

#endif
