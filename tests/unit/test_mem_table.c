/* test_mem_table: the bounded table: lookup, the bound kept by evicting the least recently seen
 * counting entry, latched entries never evicted, untracked keys counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mem_table.h"

static struct mem_entry *get(struct mem_table *t, uint64_t a)
{
    struct mem_key k = {.a = a};
    bool oom;
    struct mem_entry *e = mem_table_get(t, &k, true, &oom);

    assert_false(oom);
    return e;
}

static bool has(struct mem_table *t, uint64_t a)
{
    struct mem_key k = {.a = a};
    return mem_table_find(t, &k) != NULL;
}

static void test_find_and_keys(void **state)
{
    struct mem_table t;
    struct mem_key k1 = {.a = 1, .b = 2}, k2 = {.a = 2, .b = 1};
    bool oom;

    assert_int_equal(mem_table_init(&t, 8), 0);
    struct mem_entry *e1 = mem_table_get(&t, &k1, true, &oom);
    assert_non_null(e1);
    assert_null(mem_table_find(&t, &k2));
    assert_null(mem_table_get(&t, &k2, false, &oom)); /* not allowed to add */
    assert_int_equal(t.untracked, 1);
    assert_ptr_equal(mem_table_get(&t, &k1, false, &oom), e1);
    assert_int_equal(t.n_entries, 1);
    mem_table_done(&t);
}

static void test_evicts_least_recently_seen(void **state)
{
    struct mem_table t;

    assert_int_equal(mem_table_init(&t, 4), 0);
    for (uint64_t a = 1; a <= 4; a++)
        assert_non_null(get(&t, a));
    assert_non_null(get(&t, 1)); /* 1 seen again: 2 is now the oldest */
    assert_non_null(get(&t, 5));
    assert_int_equal(t.n_entries, 4);
    assert_int_equal(t.evictions, 1);
    assert_false(has(&t, 2));
    assert_true(has(&t, 1) && has(&t, 3) && has(&t, 4) && has(&t, 5));
    mem_table_done(&t);
}

static void test_latched_kept(void **state)
{
    struct mem_table t;

    assert_int_equal(mem_table_init(&t, 3), 0);
    mem_table_set_state(&t, get(&t, 1), MEM_ENTRY_OFFLINED);
    mem_table_set_state(&t, get(&t, 2), MEM_ENTRY_CROSSED);
    assert_non_null(get(&t, 3));
    for (uint64_t a = 10; a < 1000; a++)
        assert_non_null(get(&t, a)); /* each evicts the one counting entry */
    assert_true(has(&t, 1) && has(&t, 2) && has(&t, 999));
    assert_int_equal(t.evictions, 990);
    /* all latched: a new key is not tracked */
    mem_table_set_state(&t, get(&t, 999), MEM_ENTRY_REFUSED);
    assert_null(get(&t, 5000));
    assert_int_equal(t.untracked, 1);
    assert_int_equal(t.n_entries, 3);
    /* back to counting: evictable again */
    mem_table_set_state(&t, mem_table_find(&t, &(struct mem_key){.a = 2}), MEM_ENTRY_COUNTING);
    assert_non_null(get(&t, 5000));
    assert_false(has(&t, 2));
    mem_table_done(&t);
}

/* Many keys through a small table: the bound holds, every survivor is findable. */
static void test_churn(void **state)
{
    struct mem_table t;

    assert_int_equal(mem_table_init(&t, 1024), 0);
    for (uint64_t a = 0; a < 200000; a++)
        assert_non_null(get(&t, a * 4096));
    assert_int_equal(t.n_entries, 1024);
    assert_int_equal(t.evictions, 200000 - 1024);
    for (uint64_t a = 200000 - 1024; a < 200000; a++)
        assert_true(has(&t, a * 4096));
    mem_table_done(&t);
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
        cmocka_unit_test(test_find_and_keys),
        cmocka_unit_test(test_evicts_least_recently_seen),
        cmocka_unit_test(test_latched_kept),
        cmocka_unit_test(test_churn),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
