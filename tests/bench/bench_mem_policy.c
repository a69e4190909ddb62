/* bench_mem_policy: mem_sentry's policy under a corrected-error storm: 10 million CEs over 1
 * million distinct pages with the default configuration (storm detection on) and with storm
 * detection out of reach (every page goes through the bounded table and its eviction). Prints
 * events/s against a baseline loop over the same events that only counts them in an array, the
 * memory per tracked page and the growth of the resident set. Never fails on time. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mem_policy.h"
#include "bench_util.h"

#define EVENTS 10000000ULL
#define PAGES  1000000ULL

/* The i-th event's page: a scatter over PAGES so that neighbours differ. */
static uint64_t pfn_of(uint64_t i)
{
    return (i * 7919) % PAGES;
}

static double baseline(void)
{
    uint32_t *counts = calloc(PAGES, sizeof(*counts));
    uint64_t t0 = bench_mono_ns();

    if (!counts)
        exit(1);
    for (uint64_t i = 0; i < EVENTS; i++)
        counts[pfn_of(i)]++;
    double s = (double) (bench_mono_ns() - t0) / 1e9;
    /* keep the loop from being optimised away */
    if (counts[pfn_of(EVENTS / 2)] == 0)
        printf("?\n");
    free(counts);
    return EVENTS / s;
}

static double run(const char *name, const struct mem_config *c, uint64_t gap_ns, double base)
{
    struct mem_policy p;
    struct mem_decision out[MEM_DECISIONS_MAX];
    long rss0 = bench_rss_kb();
    uint64_t decisions = 0, t0;

    if (mem_policy_init(&p, c, 4096) < 0)
        exit(1);
    t0 = bench_mono_ns();
    for (uint64_t i = 0; i < EVENTS; i++) {
        /* one CE each gap_ns of event time, socket and DIMM of the page's 1 GiB range */
        uint64_t pfn = pfn_of(i);
        struct mem_ce_event ev = {.phys_addr = pfn * 4096,
                                  .addr_valid = true,
                                  .dimm_valid = true,
                                  .dimm = {.a = pfn >> 18},
                                  .socket = (int32_t) (pfn >> 19)};
        int n = mem_policy_ce(&p, &ev, NSEC_PER_SEC_U64 + i * gap_ns, out);
        if (n < 0)
            exit(1);
        decisions += (uint64_t) n;
    }
    double s = (double) (bench_mono_ns() - t0) / 1e9;
    const struct mem_table *t = &p.table[MEM_LEVEL_PAGE];
    printf("%s: %.0f events/s (%.2fx the baseline's time per event), %llu decisions, "
           "%zu pages tracked (bound %u), %llu evictions, %llu untracked, %llu storms, "
           "RSS +%ld kB\n",
           name, EVENTS / s, base / (EVENTS / s), (unsigned long long) decisions, t->n_entries,
           c->max_tracked_pages, (unsigned long long) t->evictions,
           (unsigned long long) t->untracked, (unsigned long long) p.stats.storms,
           bench_rss_kb() - rss0);
    mem_policy_done(&p);
    return s;
}

int main(void)
{
    struct mem_config c;
    size_t entry = bench_malloc_cost(sizeof(struct mem_entry));

    rcu_register_thread();
    mem_config_init(&c);
    printf("tracked page: struct mem_entry %zu bytes (%zu with malloc's) + hash bucket %zu = "
           "%zu bytes counted; bound %u pages = %.1f MiB\n",
           sizeof(struct mem_entry), entry, sizeof(struct cds_lfht_node),
           entry + sizeof(struct cds_lfht_node), c.max_tracked_pages,
           (double) c.max_tracked_pages * (double) (entry + sizeof(struct cds_lfht_node)) /
               (1024 * 1024));
    double base = baseline();
    printf("baseline (count in an array): %.0f events/s\n", base);
    run("default, 1 CE/us (a storm)", &c, 1000, base);
    /* 10000 / 1 s: 1 CE/ms never reaches it, every page goes through the table */
    c.storm_threshold = LEAKY_RATE_N_MAX;
    c.storm_window_s = 1;
    run("no storm, 1 CE/ms", &c, 1000000, base);
    rcu_unregister_thread();
    return 0;
}
