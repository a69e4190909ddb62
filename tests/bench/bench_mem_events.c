/* bench_mem_events: mem_sentry's RAS event path without a kernel. Records of mce:mce_record and
 * ras:mc_event, byte-exact under Debian 12's 6.1 formats (tests/fixtures/tracefs/debian-6.1, as
 * in test_mem_events), are built in place for each event (page, socket, channel or layers, row)
 * and copied into a buffer of exactly their size, as the reader hands them over. Each is parsed
 * with mem_event_parse() and, for parse + policy, given to mem_policy_ce() (default
 * configuration, one CE per microsecond of the policy's clock) before mem_event_done().
 *
 * 1. events/s per event kind: the baseline (build and copy the record, count its page in an
 *    array), parse only, parse + policy (a new policy each time), as ratios of the baseline's
 *    time per event; the best of three rounds.
 * 2. the storm: 10 million CEs over 1 million pages through parse + policy: events/s, the
 *    page table's entries against its bound, bytes per entry, the tracked pages' memory, the
 *    resident set's growth, the storm's decisions and the pages left untracked.
 *
 * BENCH_EVENTS=n scales the storm's CEs (default 10000000, over n / 10 pages); the per-kind runs
 * take n / 40 records over n / 10 pages, three times each. Prints figures, never fails on time. */
#include <errno.h>
#include <event-parse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem_events.h"
#include "mem_policy.h"
#include "trace_reader.h"
#include "bench_util.h"
#include "trace_fixture.h"

#define FORMATS        SENTRY_FIXTURES_DIR "/tracefs/debian-6.1/events"
#define PAGE_SHIFT     12
#define EVENTS_DEFAULT 10000000ULL
#define GAP_NS         1000ULL /* one CE per microsecond of event time */
#define ROUNDS         3       /* of each per-kind run */

/* VAL EN MISCV ADDRV, memory controller read (0x0090 | channel): a corrected memory error */
#define STATUS_CE_READ 0x9c00000000000090ULL
#define MISC_PHYS_PAGE 0x8cULL /* address mode 2 (physical), valid from bit 12 */
/* fixed width, so that the row is written in place: "row:" at DETAIL_ROW_AT */
#define DETAIL        "rank:0 bank:3 row:00000 col:8"
#define DETAIL_ROW_AT 18

static struct tep_handle *tep;
static struct tep_event *loaded[_MEM_EVENT_KIND_MAX];

static _Noreturn void die(const char *what, int r)
{
    fprintf(stderr, "bench_mem_events: %s: %s\n", what, strerror(r < 0 ? -r : r));
    exit(1);
}

/* The tep of the reader, made of the saved header_page and the formats of the two events. */
static struct tep_event *load_format(enum mem_event_kind k)
{
    struct tep_event *e;
    const char *failed;

    if (!tep) {
        tep = trace_fixture_load(FORMATS, mem_trace_events, _MEM_EVENT_KIND_MAX, loaded, &failed);
        if (!tep)
            die(failed, errno);
    }
    e = loaded[k];
    return e;
}

/* A record of one kind under construction: its fields found by name once, then written for
 * each event; data is a heap buffer of exactly len bytes that each event's record is copied to. */
struct gen {
    enum mem_event_kind kind;
    struct tep_event *e;
    uint8_t tmpl[512];
    size_t len;
    uint8_t *data;
    struct tep_format_field *f[8]; /* the fields that change, per kind (gen_event()) */
    size_t row_at;                 /* mc_event: where the row's digits are in tmpl */
};

static struct tep_format_field *gen_field(struct gen *g, const char *name)
{
    struct tep_format_field *f = tep_find_any_field(g->e, name);

    if (!f)
        die(name, ENOENT);
    return f;
}

static void put(struct gen *g, struct tep_format_field *f, uint64_t v)
{
    trace_fixture_put(g->tmpl + f->offset, f->size, v);
}

static void set(struct gen *g, const char *name, uint64_t v)
{
    put(g, gen_field(g, name), v);
}

/* A __data_loc string appended at the end of the record; returns where it begins. */
static size_t set_str(struct gen *g, const char *name, const char *s)
{
    size_t n = strlen(s) + 1, at = g->len;
    uint32_t loc = (uint32_t) at | (uint32_t) n << 16;

    if (at + n > sizeof(g->tmpl))
        die(name, E2BIG);
    memcpy(g->tmpl + at, s, n);
    memcpy(g->tmpl + gen_field(g, name)->offset, &loc, 4);
    g->len += n;
    return at;
}

static void gen_init(struct gen *g, enum mem_event_kind kind)
{
    struct tep_format_field *f;

    *g = (struct gen){.kind = kind, .e = load_format(kind)};
    if (!g->e)
        die(mem_trace_events[kind].name, ENOENT);
    for (f = g->e->format.common_fields; f; f = f->next)
        if ((size_t) f->offset + (size_t) f->size > g->len)
            g->len = (size_t) f->offset + (size_t) f->size;
    for (f = g->e->format.fields; f; f = f->next)
        if ((size_t) f->offset + (size_t) f->size > g->len)
            g->len = (size_t) f->offset + (size_t) f->size;
    set(g, "common_type", (uint64_t) g->e->id);
    if (kind == MEM_EVENT_MCE) {
        set(g, "misc", MISC_PHYS_PAGE);
        set(g, "cpuvendor", 0); /* X86_VENDOR_INTEL */
        set(g, "bank", 7);
        g->f[0] = gen_field(g, "status");
        g->f[1] = gen_field(g, "addr");
        g->f[2] = gen_field(g, "socketid");
        g->f[3] = gen_field(g, "cpu");
    } else {
        set(g, "error_type", 0); /* HW_EVENT_ERR_CORRECTED */
        set(g, "error_count", 1);
        set(g, "lower_layer", (uint8_t) -1);
        set(g, "grain_bits", 6);
        set(g, "syndrome", 0);
        set_str(g, "msg", "memory read error");
        set_str(g, "label", "CPU_SrcID#0_MC#0_Chan#1_DIMM#0");
        g->row_at = set_str(g, "driver_detail", DETAIL) + DETAIL_ROW_AT;
        g->f[0] = gen_field(g, "address");
        g->f[1] = gen_field(g, "mc_index");
        g->f[2] = gen_field(g, "top_layer");
        g->f[3] = gen_field(g, "middle_layer");
    }
    g->data = malloc(g->len);
    if (!g->data)
        die("malloc", ENOMEM);
}

static void gen_done(struct gen *g)
{
    free(g->data);
}

/* The i-th event's page: a scatter over pages so that neighbours differ (bench_mem_policy's). */
static uint64_t pfn_of(uint64_t i, uint64_t pages)
{
    return (i * 7919) % pages;
}

/* Writes event pfn into the record and copies it to g->data: socket and DIMM (channel, or EDAC
 * layers) of the page's 1 GiB range, as bench_mem_policy does, and for EDAC a row of 8 pages. */
static void gen_event(struct gen *g, uint64_t pfn)
{
    if (g->kind == MEM_EVENT_MCE) {
        put(g, g->f[0], STATUS_CE_READ | ((pfn >> 18) & 3));
        put(g, g->f[1], pfn << PAGE_SHIFT);
        put(g, g->f[2], pfn >> 19);
        put(g, g->f[3], pfn & 1);
    } else {
        uint64_t row = (pfn >> 3) % 100000;
        put(g, g->f[0], pfn << PAGE_SHIFT);
        put(g, g->f[1], pfn >> 19);
        put(g, g->f[2], (pfn >> 18) & 1);
        put(g, g->f[3], (pfn >> 17) & 1);
        for (int d = 4; d >= 0; d--, row /= 10)
            g->tmpl[g->row_at + (size_t) d] = (uint8_t) ('0' + row % 10);
    }
    memcpy(g->data, g->tmpl, g->len);
}

enum mode { MODE_BASELINE, MODE_PARSE, MODE_POLICY };

struct result {
    double s;
    uint64_t counted;                               /* records that became a CE for the policy */
    uint64_t decisions[_MEM_DECISION_KIND_MAX + 1]; /* by kind; the last one after the run */
};

/* n events over pages pages; with MODE_POLICY p is the policy (initialised by the caller). */
static void run(struct gen *g, enum mode mode, uint64_t n, uint64_t pages, struct mem_policy *p,
                struct result *res)
{
    struct tep_record record = {.size = (int) g->len, .record_size = (int) g->len, .data = g->data};
    struct mem_decision out[MEM_DECISIONS_MAX];
    uint32_t *counts = NULL;
    uint64_t t0, sink = 0;

    *res = (struct result){0};
    if (mode == MODE_BASELINE && !(counts = calloc(pages, sizeof(*counts))))
        die("calloc", ENOMEM);
    t0 = bench_mono_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pfn = pfn_of(i, pages);
        struct mem_event ev;
        int r;

        gen_event(g, pfn);
        if (mode == MODE_BASELINE) {
            counts[pfn]++;
            sink += g->data[g->len - 1];
            continue;
        }
        r = mem_event_parse(g->kind, tep, g->e, &record, PAGE_SHIFT, &ev);
        if (r != 0)
            die("mem_event_parse", r > 0 ? EBADMSG : r);
        if (ev.counted) {
            res->counted++;
            if (mode == MODE_POLICY) {
                r = mem_policy_ce(p, &ev.ce, NSEC_PER_SEC_U64 + i * GAP_NS, out);
                if (r < 0)
                    die("mem_policy_ce", r);
                for (int k = 0; k < r; k++)
                    res->decisions[out[k].kind]++;
            }
        }
        mem_event_done(&ev);
    }
    res->s = (double) (bench_mono_ns() - t0) / 1e9;
    if (counts && counts[pfn_of(n / 2, pages)] == 0 && sink == 1)
        printf("?\n"); /* keeps the baseline's loop */
    free(counts);
}

static void per_kind(enum mem_event_kind kind, uint64_t n, uint64_t pages)
{
    struct gen g;
    struct mem_config c;
    struct mem_policy p;
    struct result base, parse, policy, r;

    gen_init(&g, kind);
    mem_config_init(&c);
    run(&g, MODE_BASELINE, n, pages, NULL, &base); /* once to warm up: the clock, the array */
    /* the three in turn, ROUNDS times, the best of each: the others on the machine come and go */
    for (int round = 0; round < ROUNDS; round++) {
        run(&g, MODE_BASELINE, n, pages, NULL, &r);
        if (round == 0 || r.s < base.s)
            base = r;
        run(&g, MODE_PARSE, n, pages, NULL, &r);
        if (round == 0 || r.s < parse.s)
            parse = r;
        if (mem_policy_init(&p, &c, 1U << PAGE_SHIFT) < 0)
            die("mem_policy_init", EINVAL);
        run(&g, MODE_POLICY, n, pages, &p, &r);
        mem_policy_done(&p);
        if (round == 0 || r.s < policy.s)
            policy = r;
    }
    printf("%s:%s, %zu-byte records, %llu records over %llu pages, best of %d:\n",
           mem_trace_events[kind].system, mem_trace_events[kind].name, g.len,
           (unsigned long long) n, (unsigned long long) pages, ROUNDS);
    printf("  baseline (build + copy the record): %.0f events/s\n", (double) n / base.s);
    printf(
        "  parse only:     %10.0f events/s (%.1fx the baseline's time per event), %.0f ns/event\n",
        (double) n / parse.s, parse.s / base.s, parse.s * 1e9 / (double) n);
    /* the policy's share: the difference of two noisy runs, shown only when it is one */
    double share_ns = (policy.s - parse.s) * 1e9 / (double) n;
    char share[48] = "policy within the noise";
    if (share_ns > 0)
        snprintf(share, sizeof(share), "policy +%.0f ns/event", share_ns);
    printf("  parse + policy: %10.0f events/s (%.1fx the baseline's time, %.2fx parse only's), "
           "%.0f ns/event, %s; %llu CEs, %llu decisions\n",
           (double) n / policy.s, policy.s / base.s, policy.s / parse.s,
           policy.s * 1e9 / (double) n, share, (unsigned long long) policy.counted,
           (unsigned long long) (policy.decisions[MEM_DECISION_THRESHOLD] +
                                 policy.decisions[MEM_DECISION_OFFLINE] +
                                 policy.decisions[MEM_DECISION_BUDGET_REFUSED] +
                                 policy.decisions[MEM_DECISION_STORM_BEGIN] +
                                 policy.decisions[MEM_DECISION_STORM_END]));
    gen_done(&g);
}

static void storm(uint64_t n, uint64_t pages)
{
    struct gen g;
    struct mem_config c;
    struct mem_policy p;
    struct result base, res;
    struct mem_decision out[MEM_DECISIONS_MAX];
    size_t per_page = bench_malloc_cost(sizeof(struct mem_entry)) + sizeof(struct cds_lfht_node);
    long rss0;

    gen_init(&g, MEM_EVENT_MCE);
    mem_config_init(&c);
    run(&g, MODE_BASELINE, n, pages, NULL, &base);
    malloc_trim(0); /* what the runs before freed goes back, not counted as growth */
    rss0 = bench_rss_kb();
    if (mem_policy_init(&p, &c, 1U << PAGE_SHIFT) < 0)
        die("mem_policy_init", EINVAL);
    run(&g, MODE_POLICY, n, pages, &p, &res);
    long rss1 = bench_rss_kb();
    /* the CEs stop: a quiet storm window later the storm is over */
    uint64_t later = NSEC_PER_SEC_U64 + n * GAP_NS + 2 * c.storm_window_s * NSEC_PER_SEC_U64;
    size_t k = mem_policy_tick(&p, later, out, MEM_DECISIONS_MAX);
    uint64_t storm_events = 0;
    for (size_t i = 0; i < k; i++)
        if (out[i].kind == MEM_DECISION_STORM_END)
            storm_events = out[i].storm_events;

    const struct mem_table *t = &p.table[MEM_LEVEL_PAGE];
    printf("storm: mce:mce_record, %llu CEs over %llu distinct pages, 1 CE/us, default "
           "configuration:\n",
           (unsigned long long) n, (unsigned long long) pages);
    printf("  parse + policy: %.0f events/s (%.1fx the baseline's time per event; baseline "
           "%.0f events/s)\n",
           (double) n / res.s, res.s / base.s, (double) n / base.s);
    printf("  page table: %zu entries (bound max_tracked_pages %u), %llu evictions, "
           "%llu untracked\n",
           t->n_entries, c.max_tracked_pages, (unsigned long long) t->evictions,
           (unsigned long long) t->untracked);
    printf("  a tracked page: %zu bytes (struct mem_entry %zu with malloc's, hash node %zu)\n",
           per_page, per_page - sizeof(struct cds_lfht_node), sizeof(struct cds_lfht_node));
    printf("  tracked pages' memory: %zu x %zu = %.2f MiB (at the bound: %.2f MiB)\n", t->n_entries,
           per_page, (double) (t->n_entries * per_page) / (1024 * 1024),
           (double) c.max_tracked_pages * (double) per_page / (1024 * 1024));
    printf("  RSS: %ld kB before the policy, %ld kB after the storm: +%ld kB\n", rss0, rss1,
           rss1 - rss0);
    printf("  decisions: %llu storm_begin, %llu threshold, %llu offline, %llu budget_refused; "
           "stats: storms %llu, storm_untracked %llu, offlined %llu, refused %llu\n",
           (unsigned long long) res.decisions[MEM_DECISION_STORM_BEGIN],
           (unsigned long long) res.decisions[MEM_DECISION_THRESHOLD],
           (unsigned long long) res.decisions[MEM_DECISION_OFFLINE],
           (unsigned long long) res.decisions[MEM_DECISION_BUDGET_REFUSED],
           (unsigned long long) p.stats.storms, (unsigned long long) p.stats.storm_untracked,
           (unsigned long long) p.stats.offlined_pages, (unsigned long long) p.stats.refused_pages);
    printf("  after %llu s without CEs: %zu decisions by tick, storm_end with %llu CEs\n",
           (unsigned long long) (2 * c.storm_window_s), k, (unsigned long long) storm_events);
    mem_policy_done(&p);
    gen_done(&g);
}

int main(void)
{
    const char *s = getenv("BENCH_EVENTS");
    uint64_t n = EVENTS_DEFAULT;

    if (s && *s) {
        char *end;
        n = strtoull(s, &end, 10);
        if (*end || n < 100) {
            fprintf(stderr, "bench_mem_events: BENCH_EVENTS=%s: a number of at least 100\n", s);
            return 2;
        }
    }
    rcu_register_thread();
    per_kind(MEM_EVENT_MCE, n / 40, n / 10);
    per_kind(MEM_EVENT_MC, n / 40, n / 10);
    storm(n, n / 10);
    tep_free(tep);
    rcu_unregister_thread();
    return 0;
}
