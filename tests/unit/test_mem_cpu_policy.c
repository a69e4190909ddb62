/* test_mem_cpu_policy: a CPU's corrected-error storm: the threshold per CPU, said once until it
 * drains (RECOVER), offline only when asked and at most max_offline CPUs; the threshold off; and
 * the sysfs offline against a fake tree (a regular "online" file reads back what was written, a
 * missing one is a CPU that cannot go, /dev/full refuses the write). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "test_util.h"

#include "cpu_policy.h"
#include "macro.h"

#define SEC 1000000000ULL

static struct mem_config config(bool offline, unsigned max_offline)
{
    struct mem_config c;

    mem_config_init(&c);
    c.cpu_threshold = (struct mem_threshold){.on = true, .n = 3, .window_s = 3600};
    c.cpu_offline = offline;
    c.cpu_max_offline = max_offline;
    return c;
}

static void test_threshold_once_then_recover(void **state)
{
    struct mem_config c = config(false, 1);
    struct cpu_policy p;
    unsigned cursor = 0, cpu = 99;

    assert_int_equal(cpu_policy_init(&p, &c), 0);
    assert_int_equal(cpu_policy_ce(&p, 5, 1 * SEC), CPU_DECISION_NONE);
    assert_int_equal(cpu_policy_ce(&p, 5, 2 * SEC), CPU_DECISION_NONE);
    /* another CPU's errors are its own */
    assert_int_equal(cpu_policy_ce(&p, 6, 2 * SEC), CPU_DECISION_NONE);
    assert_int_equal(cpu_policy_ce(&p, 5, 3 * SEC), CPU_DECISION_THRESHOLD);
    /* said once while it stays past it */
    for (int i = 0; i < 10; i++)
        assert_int_equal(cpu_policy_ce(&p, 5, (4 + i) * SEC), CPU_DECISION_NONE);
    /* not drained one window after the first error: the last one holds it */
    assert_false(cpu_policy_tick(&p, 3601 * SEC, &cursor, &cpu));
    cursor = 0;
    assert_true(cpu_policy_tick(&p, (13 + 3600) * SEC + 1, &cursor, &cpu));
    assert_int_equal(cpu, 5);
    assert_false(cpu_policy_tick(&p, (13 + 3600) * SEC + 1, &cursor, &cpu));
    /* and it can cross again */
    for (int i = 0; i < 2; i++)
        assert_int_equal(cpu_policy_ce(&p, 5, 8000 * SEC), CPU_DECISION_NONE);
    assert_int_equal(cpu_policy_ce(&p, 5, 8000 * SEC), CPU_DECISION_THRESHOLD);
    cpu_policy_done(&p);
}

static void test_offline_limit(void **state)
{
    struct mem_config c = config(true, 1);
    struct cpu_policy p;

    assert_int_equal(cpu_policy_init(&p, &c), 0);
    for (int i = 0; i < 2; i++)
        cpu_policy_ce(&p, 1, SEC);
    assert_int_equal(cpu_policy_ce(&p, 1, SEC), CPU_DECISION_OFFLINE);
    for (int i = 0; i < 2; i++)
        cpu_policy_ce(&p, 2, SEC);
    assert_int_equal(cpu_policy_ce(&p, 2, SEC), CPU_DECISION_LIMIT);
    assert_int_equal(p.offlined, 1);
    cpu_policy_done(&p);

    c = config(true, 0); /* offline on, but no CPU may go */
    assert_int_equal(cpu_policy_init(&p, &c), 0);
    for (int i = 0; i < 2; i++)
        cpu_policy_ce(&p, 1, SEC);
    assert_int_equal(cpu_policy_ce(&p, 1, SEC), CPU_DECISION_LIMIT);
    cpu_policy_done(&p);
}

static void test_off_and_out_of_range(void **state)
{
    struct mem_config c = config(true, 4);
    struct cpu_policy p;
    unsigned cursor = 0, cpu;

    c.cpu_threshold.on = false;
    assert_int_equal(cpu_policy_init(&p, &c), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(cpu_policy_ce(&p, 1, SEC), CPU_DECISION_NONE);
    assert_false(cpu_policy_tick(&p, 10 * SEC, &cursor, &cpu));
    cpu_policy_done(&p);
    c = config(true, 4);
    assert_int_equal(cpu_policy_init(&p, &c), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(cpu_policy_ce(&p, CPU_POLICY_MAX_CPUS, SEC), CPU_DECISION_NONE);
    cpu_policy_done(&p);
}

static void test_sysfs_offline(void **state)
{
    char dir[256], sys[300], path[400];
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, sizeof(dir), "%s/test_mem_cpu_policy.XXXXXX", isempty(tmp) ? "/tmp" : tmp);
    assert_non_null(mkdtemp(dir));
    snprintf(sys, sizeof(sys), "%s/sys", dir);
    assert_int_equal(test_mkdirs(dir, "sys/devices/system/cpu/cpu0"), 0);
    assert_int_equal(test_write_file(dir, "sys/devices/system/cpu/cpu1/online", "1\n"), 0);
    assert_int_equal(test_mkdirs(dir, "sys/devices/system/cpu/cpu2"), 0);
    snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu2/online", sys);
    assert_int_equal(symlink("/dev/full", path), 0);

    assert_int_equal(cpu_offline(sys, 1), 0);
    char back[8] = "";
    FILE *f;
    snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu1/online", sys);
    assert_non_null(f = fopen(path, "r"));
    assert_non_null(fgets(back, sizeof(back), f));
    fclose(f);
    assert_string_equal(back, "0\n");
    /* CPU 0 without an online file cannot go; a refused write is the write's error */
    assert_int_equal(cpu_offline(sys, 0), -ENOENT);
    assert_int_equal(cpu_offline(sys, 2), -ENOSPC);
    assert_int_equal(cpu_offline(sys, 7), -ENOENT);
    assert_int_equal(test_rm_rf(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_once_then_recover),
        cmocka_unit_test(test_offline_limit),
        cmocka_unit_test(test_off_and_out_of_range),
        cmocka_unit_test(test_sysfs_offline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
