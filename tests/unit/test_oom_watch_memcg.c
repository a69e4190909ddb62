/* test_oom_watch_memcg: memory.events (v2) and memory.oom_control (v1) as kernels write them,
 * the growth between two reads (a counter that restarts, under_oom turning on), and hostile
 * texts refused; plus cgroup mounts: which hierarchy holds a directory, and its name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "cgroup_mount.h"
#include "memcg_events.h"

static int parse(const char *s, struct memcg_events *e)
{
    return memcg_events_parse(s, strlen(s), e);
}

static void test_parse(void **state)
{
    struct memcg_events e;

    assert_int_equal(parse("low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n", &e), 0);
    assert_true(e.has[MEMCG_HIGH] && e.has[MEMCG_OOM_KILL] && !e.has[MEMCG_UNDER_OOM]);
    assert_int_equal(e.value[MEMCG_HIGH], 12);
    assert_int_equal(e.value[MEMCG_MAX], 3);
    assert_int_equal(e.value[MEMCG_OOM_KILL], 1);

    assert_int_equal(parse("oom_kill_disable 0\nunder_oom 1\noom_kill 4\n", &e), 0);
    assert_true(e.has[MEMCG_UNDER_OOM] && !e.has[MEMCG_HIGH]);
    assert_int_equal(e.value[MEMCG_UNDER_OOM], 1);
    assert_int_equal(e.value[MEMCG_OOM_KILL], 4);
    /* a v1 kernel before 4.13 has no oom_kill */
    assert_int_equal(parse("oom_kill_disable 0\nunder_oom 0\n", &e), 0);
    assert_false(e.has[MEMCG_OOM_KILL]);
}

static void test_parse_hostile(void **state)
{
    struct memcg_events e;
    const char *bad[] = {
        "",
        "low 0\n",
        "oom_kill -1\n",
        "oom_kill 1 2\n",
        "oom_kill 18446744073709551616\n",
        "oom_kill\n",
        "OOM_KILL 1\n",
        "oom_kill 1\noom_kill 2\n",
        "under_oom 2\n",
        "oom_kill 0x10\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(bad[i], &e), -EBADMSG);
}

static void test_delta(void **state)
{
    struct memcg_events a, b;
    struct memcg_delta d;

    assert_int_equal(parse("high 1\nmax 0\noom 0\noom_kill 0\n", &a), 0);
    assert_int_equal(parse("high 1\nmax 0\noom 0\noom_kill 0\n", &b), 0);
    memcg_events_delta(&a, &b, &d);
    assert_false(d.any);

    assert_int_equal(parse("high 5\nmax 2\noom 1\noom_kill 1\n", &b), 0);
    memcg_events_delta(&a, &b, &d);
    assert_true(d.any);
    assert_true(d.grew[MEMCG_HIGH] && d.grew[MEMCG_MAX] && d.grew[MEMCG_OOM]);
    assert_int_equal(d.by[MEMCG_HIGH], 4);
    assert_int_equal(d.by[MEMCG_OOM_KILL], 1);

    /* the cgroup was made again: its counters start over and count from 0 */
    assert_int_equal(parse("high 0\nmax 0\noom 0\noom_kill 2\n", &a), 0);
    assert_int_equal(parse("high 0\nmax 0\noom 0\noom_kill 1\n", &b), 0);
    memcg_events_delta(&a, &b, &d);
    assert_true(d.grew[MEMCG_OOM_KILL]);
    assert_int_equal(d.by[MEMCG_OOM_KILL], 1);

    /* v1: under_oom is a state: turning on is news, staying on is not */
    assert_int_equal(parse("under_oom 0\noom_kill 0\n", &a), 0);
    assert_int_equal(parse("under_oom 1\noom_kill 0\n", &b), 0);
    memcg_events_delta(&a, &b, &d);
    assert_true(d.grew[MEMCG_UNDER_OOM] && !d.grew[MEMCG_OOM_KILL]);
    memcg_events_delta(&b, &b, &d);
    assert_false(d.any);
    /* no earlier read: everything counts from 0 */
    memcg_events_delta(NULL, &b, &d);
    assert_true(d.grew[MEMCG_UNDER_OOM]);
}

static const char mounts[] = "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                             "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
                             "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
                             "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
                             "cgroup /sys/fs/cgroup/memoryx cgroup rw,relatime,blkio 0 0\n"
                             "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";

static void test_cgroup_where(void **state)
{
    struct cgroup_where w;
    size_t n = strlen(mounts);

    assert_int_equal(cgroup_where_find(mounts, n, "/sys/fs/cgroup/memory/jobs/a", &w), 0);
    assert_int_equal(w.version, CGROUP_V1);
    assert_string_equal(w.name, "/jobs/a");
    assert_string_equal(w.mount, "/sys/fs/cgroup/memory");
    assert_int_equal(cgroup_where_find(mounts, n, "/sys/fs/cgroup/memory/", &w), 0);
    assert_string_equal(w.name, "/");
    assert_int_equal(cgroup_where_find(mounts, n, "/sys/fs/cgroup/unified/x", &w), 0);
    assert_int_equal(w.version, CGROUP_V2);
    assert_string_equal(w.name, "/x");
    /* not a memory hierarchy, not a prefix match, not a cgroup */
    assert_int_equal(cgroup_where_find(mounts, n, "/sys/fs/cgroup/cpu/x", &w), -ENOENT);
    assert_int_equal(cgroup_where_find(mounts, n, "/sys/fs/cgroup/memoryx/a", &w), -ENOENT);
    assert_int_equal(cgroup_where_find(mounts, n, "/tmp", &w), -ENOENT);
    assert_int_equal(cgroup_where_find(mounts, n, "relative", &w), -EINVAL);
    assert_int_equal(cgroup_where_find(mounts, n, "/sys/fs/cgroup/memory/../x", &w), -EINVAL);
    /* a v2-only system with the memory controller in the one hierarchy */
    const char v2[] = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n";
    assert_int_equal(cgroup_where_find(v2, strlen(v2), "/sys/fs/cgroup/system.slice", &w), 0);
    assert_string_equal(w.name, "/system.slice");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_cgroup_where),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
