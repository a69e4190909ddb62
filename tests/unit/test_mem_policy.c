/* test_mem_policy: the decisions: page thresholds and windows, offline with the action, the
 * isolation budget (pages and MiB), account mode, the row / DIMM / socket levels, RECOVER when a
 * bucket drains, storms (one summary, no new page entries, the end), the page table's bound
 * under eviction, HardwareCorrupted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mem_policy.h"

#define SEC  NSEC_PER_SEC_U64
#define HOUR (3600 * SEC)
#define T0   (1000 * SEC)
#define PAGE 4096

static struct mem_decision out[MEM_DECISIONS_MAX];

static struct mem_ce_event page_ev(uint64_t pfn)
{
    return (struct mem_ce_event){.phys_addr = pfn * PAGE + 0x10, .addr_valid = true, .socket = -1};
}

static void start(struct mem_policy *p, struct mem_config *c)
{
    assert_int_equal(mem_policy_init(p, c, PAGE), 0);
}

static int ce(struct mem_policy *p, struct mem_ce_event ev, uint64_t t)
{
    int n = mem_policy_ce(p, &ev, t, out);
    assert_true(n >= 0 && n <= MEM_DECISIONS_MAX);
    return n;
}

static void test_page_threshold_and_window(void **state)
{
    struct mem_policy p;
    struct mem_config c;

    mem_config_init(&c); /* page 2/24h, soft */
    start(&p, &c);
    assert_int_equal(ce(&p, page_ev(7), T0), 0);
    assert_int_equal(ce(&p, page_ev(8), T0 + 13 * HOUR), 0); /* another page */
    assert_int_equal(ce(&p, page_ev(7), T0 + 24 * HOUR), 0); /* a day later: first one leaked */
    assert_int_equal(ce(&p, page_ev(7), T0 + 25 * HOUR), 1);
    assert_int_equal(out[0].kind, MEM_DECISION_OFFLINE);
    assert_int_equal(out[0].level, MEM_LEVEL_PAGE);
    assert_int_equal(out[0].key.a, 7);
    assert_int_equal(out[0].action, MEM_ACTION_SOFT);
    assert_int_equal(out[0].level_count, 2);
    assert_int_equal(out[0].total, 3);
    assert_int_equal(out[0].threshold_n, 2);
    assert_int_equal(out[0].window_s, 24 * 3600);
    /* once decided, never again */
    assert_int_equal(ce(&p, page_ev(7), T0 + 25 * HOUR), 0);
    assert_int_equal(p.stats.offlined_pages, 1);
    mem_policy_done(&p);
}

static void test_budget_refusal(void **state)
{
    struct mem_policy p;
    struct mem_config c;

    mem_config_init(&c);
    c.action = MEM_ACTION_SOFT_THEN_HARD;
    c.max_pages = 3;
    start(&p, &c);
    for (uint64_t pfn = 1; pfn <= 4; pfn++) {
        assert_int_equal(ce(&p, page_ev(pfn), T0), 0);
        assert_int_equal(ce(&p, page_ev(pfn), T0), 1);
        assert_int_equal(out[0].kind,
                         pfn <= 3 ? MEM_DECISION_OFFLINE : MEM_DECISION_BUDGET_REFUSED);
        assert_int_equal(out[0].key.a, pfn);
    }
    assert_int_equal(out[0].action, MEM_ACTION_OFF); /* a refusal carries no action */
    assert_int_equal(p.stats.refused_pages, 1);
    mem_policy_done(&p);

    /* the MiB budget: 1 MiB is 256 pages of 4 KiB */
    c.max_pages = 1000;
    c.max_mib = 1;
    start(&p, &c);
    struct mem_ce_event ev = page_ev(0);
    ev.count = 2; /* one record standing for two errors crosses alone */
    for (uint64_t pfn = 0; pfn < 257; pfn++) {
        ev.phys_addr = pfn * PAGE;
        assert_int_equal(ce(&p, ev, T0), 1);
    }
    assert_int_equal(out[0].kind, MEM_DECISION_BUDGET_REFUSED);
    assert_int_equal(p.stats.offlined_pages, 256);
    mem_policy_done(&p);
}

static void test_account_and_recover(void **state)
{
    struct mem_policy p;
    struct mem_config c;
    struct mem_decision tick[4];

    mem_config_init(&c);
    c.action = MEM_ACTION_ACCOUNT;
    start(&p, &c);
    assert_int_equal(ce(&p, page_ev(9), T0), 0);
    assert_int_equal(ce(&p, page_ev(9), T0 + HOUR), 1);
    assert_int_equal(out[0].kind, MEM_DECISION_THRESHOLD);
    assert_int_equal(p.stats.offlined_pages, 0);
    /* latched: more errors no second alarm */
    assert_int_equal(ce(&p, page_ev(9), T0 + 2 * HOUR), 0);
    /* full at T0 + 2h: drained 24 h later */
    assert_int_equal(mem_policy_tick(&p, T0 + 26 * HOUR - 1, tick, 4), 0);
    assert_int_equal(mem_policy_tick(&p, T0 + 26 * HOUR, tick, 4), 1);
    assert_int_equal(tick[0].kind, MEM_DECISION_RECOVER);
    assert_int_equal(tick[0].key.a, 9);
    assert_int_equal(tick[0].level_count, 0);
    assert_int_equal(mem_policy_tick(&p, T0 + 27 * HOUR, tick, 4), 0);
    /* counting again: a new crossing is a new alarm */
    assert_int_equal(ce(&p, page_ev(9), T0 + 27 * HOUR), 0);
    assert_int_equal(ce(&p, page_ev(9), T0 + 27 * HOUR), 1);
    mem_policy_done(&p);
}

static void test_levels(void **state)
{
    struct mem_policy p;
    struct mem_config c;
    struct mem_decision tick[8];

    mem_config_init(&c);
    c.threshold[MEM_LEVEL_ROW] = (struct mem_threshold){true, 3, 3600};
    c.threshold[MEM_LEVEL_DIMM] = (struct mem_threshold){true, 4, 3600};
    c.threshold[MEM_LEVEL_SOCKET] = (struct mem_threshold){true, 5, 3600};
    start(&p, &c);
    struct mem_ce_event ev = {
        .row_valid = true, .row = {1, 2}, .dimm_valid = true, .dimm = {0, 3}, .socket = 1};
    int seen[_MEM_LEVEL_MAX] = {0};
    for (int i = 1; i <= 5; i++) {
        int n = ce(&p, ev, T0);
        for (int j = 0; j < n; j++) {
            assert_int_equal(out[j].kind, MEM_DECISION_THRESHOLD);
            assert_int_equal(out[j].level_count, i);
            seen[out[j].level] = i;
        }
    }
    assert_int_equal(seen[MEM_LEVEL_PAGE], 0); /* no address: no page */
    assert_int_equal(seen[MEM_LEVEL_ROW], 3);
    assert_int_equal(seen[MEM_LEVEL_DIMM], 4);
    assert_int_equal(seen[MEM_LEVEL_SOCKET], 5);
    assert_int_equal(mem_policy_tick(&p, T0 + HOUR, tick, 2), 2); /* at most max */
    assert_int_equal(mem_policy_tick(&p, T0 + HOUR, tick, 8), 1);
    assert_int_equal(tick[0].kind, MEM_DECISION_RECOVER);
    assert_int_equal(tick[0].level, MEM_LEVEL_SOCKET);
    mem_policy_done(&p);

    /* a level that is off counts nothing; action off leaves pages alone */
    c.threshold[MEM_LEVEL_DIMM].on = false;
    c.action = MEM_ACTION_OFF;
    start(&p, &c);
    ev.addr_valid = true;
    for (int i = 0; i < 10; i++)
        (void) ce(&p, ev, T0);
    assert_int_equal(p.table[MEM_LEVEL_DIMM].n_entries, 0);
    assert_int_equal(p.table[MEM_LEVEL_PAGE].n_entries, 0);
    assert_int_equal(p.table[MEM_LEVEL_ROW].n_entries, 1);
    mem_policy_done(&p);
}

/* Many distinct pages, once each: the table stays at its bound, evictions counted. */
static void test_page_bound(void **state)
{
    struct mem_policy p;
    struct mem_config c;

    mem_config_init(&c);
    c.max_tracked_pages = 1024;
    c.storm_threshold = 10000;
    start(&p, &c);
    for (uint64_t pfn = 0; pfn < 5000; pfn++)
        assert_int_equal(ce(&p, page_ev(pfn), T0 + pfn * SEC), 0);
    assert_int_equal(p.table[MEM_LEVEL_PAGE].n_entries, 1024);
    assert_int_equal(p.table[MEM_LEVEL_PAGE].evictions, 5000 - 1024);
    /* a recent page keeps its count, an evicted one starts again */
    assert_int_equal(ce(&p, page_ev(4999), T0 + 5000 * SEC), 1);
    assert_int_equal(ce(&p, page_ev(0), T0 + 5000 * SEC), 0);
    mem_policy_done(&p);
}

static void test_storm(void **state)
{
    struct mem_policy p;
    struct mem_config c;
    struct mem_decision tick[4];
    uint64_t t = T0;
    int begins = 0;

    mem_config_init(&c);
    c.storm_threshold = 100;
    c.storm_window_s = 10;
    c.threshold[MEM_LEVEL_PAGE].n = 1000; /* pages never cross here */
    start(&p, &c);
    /* 1000 CEs a second on distinct pages, for 5 s */
    for (uint64_t i = 0; i < 5000; i++, t += SEC / 1000) {
        int n = ce(&p, page_ev(i), t);
        for (int j = 0; j < n; j++) {
            assert_int_equal(out[j].kind, MEM_DECISION_STORM_BEGIN);
            assert_int_equal(i, 99); /* the 100th */
            assert_int_equal(out[j].threshold_n, 100);
            begins++;
        }
    }
    assert_int_equal(begins, 1);
    assert_true(p.storm);
    /* none added from the storm's first event on */
    assert_int_equal(p.table[MEM_LEVEL_PAGE].n_entries, 99);
    assert_int_equal(p.stats.storm_untracked, 4901);
    assert_int_equal(p.table[MEM_LEVEL_PAGE].untracked, 4901);
    /* the storm window (10 s from the 100th CE) had 4901: still a storm; the next is quiet */
    assert_int_equal(mem_policy_tick(&p, t + 5 * SEC, tick, 4), 0);
    assert_int_equal(mem_policy_tick(&p, t + 6 * SEC, tick, 4), 0);
    assert_true(p.storm);
    assert_int_equal(mem_policy_tick(&p, t + 15 * SEC, tick, 4), 0);
    assert_int_equal(mem_policy_tick(&p, t + 16 * SEC, tick, 4), 1);
    assert_int_equal(tick[0].kind, MEM_DECISION_STORM_END);
    assert_int_equal(tick[0].storm_events, 4901);
    assert_false(p.storm);
    /* new pages tracked again */
    assert_int_equal(ce(&p, page_ev(99999), t + 17 * SEC), 0);
    assert_non_null(mem_table_find(&p.table[MEM_LEVEL_PAGE], &(struct mem_key){.a = 99999}));
    mem_policy_done(&p);
}

static void test_storm_ends_on_event(void **state)
{
    struct mem_policy p;
    struct mem_config c;
    struct mem_ce_event ev = {.socket = 0};

    mem_config_init(&c);
    c.storm_threshold = 10;
    c.storm_window_s = 10;
    start(&p, &c);
    for (int i = 0; i < 9; i++)
        assert_int_equal(ce(&p, ev, T0), 0);
    assert_int_equal(ce(&p, ev, T0), 1);
    assert_int_equal(out[0].kind, MEM_DECISION_STORM_BEGIN);
    assert_int_equal(ce(&p, ev, T0 + 5 * SEC), 0);
    assert_int_equal(ce(&p, ev, T0 + 9 * SEC), 0);
    assert_int_equal(ce(&p, ev, T0 + 10 * SEC), 1); /* its window had 3 < 10 / 2 */
    assert_int_equal(out[0].kind, MEM_DECISION_STORM_END);
    assert_int_equal(out[0].storm_events, 3);
    mem_policy_done(&p);
}

static void test_meminfo(void **state)
{
    struct mem_policy p;
    struct mem_config c;
    struct mem_decision d;

    mem_config_init(&c); /* 4096 kB */
    start(&p, &c);
    assert_int_equal(mem_policy_meminfo(&p, 4096, &d), 0);
    assert_int_equal(mem_policy_meminfo(&p, 4100, &d), 1);
    assert_int_equal(d.kind, MEM_DECISION_CORRUPTED_OVER);
    assert_int_equal(d.corrupted_kb, 4100);
    assert_int_equal(mem_policy_meminfo(&p, 8000, &d), 0);
    assert_int_equal(mem_policy_meminfo(&p, 0, &d), 1);
    assert_int_equal(d.kind, MEM_DECISION_CORRUPTED_UNDER);
    mem_policy_done(&p);
}

static void test_names(void **state)
{
    assert_string_equal(mem_decision_kind_to_string(MEM_DECISION_BUDGET_REFUSED), "budget_refused");
    assert_int_equal(mem_decision_kind_from_string("storm_end"), MEM_DECISION_STORM_END);
    assert_string_equal(mem_action_to_string(MEM_ACTION_SOFT_THEN_HARD), "soft-then-hard");
    assert_int_equal(mem_level_from_string("dimm"), MEM_LEVEL_DIMM);
    assert_null(mem_level_to_string(_MEM_LEVEL_MAX));
}

static int setup(void **state)
{
    rcu_register_thread();
    return 0;
}

static int teardown(void **state)
{
    rcu_unregister_thread();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_threshold_and_window),
        cmocka_unit_test(test_budget_refusal),
        cmocka_unit_test(test_account_and_recover),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_page_bound),
        cmocka_unit_test(test_storm),
        cmocka_unit_test(test_storm_ends_on_event),
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
