/* test_cgroup_path: where the tasks' cgroups go, from the text of /proc/self/cgroup and
 * /proc/self/mountinfo as a hybrid host (cgroup2 at /sys/fs/cgroup/unified), a unified one
 * (/sys/fs/cgroup, a systemd service), containers and kernels without cgroup v2 show them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cgroup_path.h"

/* This machine's: v1 controllers, the v2 hierarchy beside them (systemd's "hybrid"). */
static const char hybrid_cgroup[] = "9:name=systemd:/\n"
                                    "4:memory:/process_api/7a79de7e\n"
                                    "1:cpu:/\n"
                                    "0::/\n";
static const char hybrid_mountinfo[] =
    "23 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* Debian 12 under systemd: sentryd.service with its optional fields before the " - ". */
static const char unified_cgroup[] = "0::/system.slice/sentryd.service\n";
static const char unified_mountinfo[] =
    "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

static void test_self(void **state)
{
    char buf[PATH_MAX];

    assert_int_equal(cgroup_self_from_proc(hybrid_cgroup, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/");
    assert_int_equal(cgroup_self_from_proc(unified_cgroup, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/system.slice/sentryd.service");
    /* no trailing newline */
    assert_int_equal(cgroup_self_from_proc("0::/a/b", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/a/b");
    /* a v1-only kernel: no "0::" line */
    assert_int_equal(cgroup_self_from_proc("4:memory:/x\n1:cpu:/\n", buf, sizeof(buf)), -ENOMEDIUM);
    assert_int_equal(cgroup_self_from_proc("", buf, sizeof(buf)), -ENOMEDIUM);
    /* "10::/" is hierarchy 10, not the v2 line */
    assert_int_equal(cgroup_self_from_proc("10::/x\n", buf, sizeof(buf)), -ENOMEDIUM);
    assert_int_equal(cgroup_self_from_proc("0::relative\n", buf, sizeof(buf)), -EBADMSG);
    assert_int_equal(cgroup_self_from_proc("0::\n", buf, sizeof(buf)), -EBADMSG);
    assert_int_equal(cgroup_self_from_proc("0::/long/path\n", buf, 5), -ENAMETOOLONG);
}

static void test_mountinfo(void **state)
{
    char buf[PATH_MAX];

    assert_int_equal(cgroup_dir_from_mountinfo(hybrid_mountinfo, "/", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/sys/fs/cgroup/unified");
    assert_int_equal(cgroup_dir_from_mountinfo(hybrid_mountinfo, "/a/b", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/sys/fs/cgroup/unified/a/b");
    assert_int_equal(cgroup_dir_from_mountinfo(unified_mountinfo, "/system.slice/sentryd.service",
                                               buf, sizeof(buf)),
                     0);
    assert_string_equal(buf, "/sys/fs/cgroup/system.slice/sentryd.service");

    /* a container: the mount shows the subtree of its root only */
    static const char container[] = "100 90 0:40 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup "
                                    "rw\n";
    assert_int_equal(cgroup_dir_from_mountinfo(container, "/docker/abc", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/sys/fs/cgroup");
    assert_int_equal(cgroup_dir_from_mountinfo(container, "/docker/abc/x", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/sys/fs/cgroup/x");
    /* a prefix is not a parent: /docker/abcd is not below /docker/abc */
    assert_int_equal(cgroup_dir_from_mountinfo(container, "/docker/abcd", buf, sizeof(buf)),
                     -EXDEV);
    assert_int_equal(cgroup_dir_from_mountinfo(container, "/other", buf, sizeof(buf)), -EXDEV);

    /* the first mount that shows it wins; blanks in a mount point are escaped */
    static const char two[] = "1 0 0:1 /x /elsewhere rw - cgroup2 none rw\n"
                              "2 0 0:1 / /my\\040cgroups rw shared:1 master:2 - cgroup2 none rw\n";
    assert_int_equal(cgroup_dir_from_mountinfo(two, "/y", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/my cgroups/y");

    /* no cgroup2 (v1 only), or an empty file */
    static const char v1[] = "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
    assert_int_equal(cgroup_dir_from_mountinfo(v1, "/", buf, sizeof(buf)), -ENOMEDIUM);
    assert_int_equal(cgroup_dir_from_mountinfo("", "/", buf, sizeof(buf)), -ENOMEDIUM);
    /* a "cgroup2fs" type is not cgroup2; a line without " - " is malformed */
    assert_int_equal(
        cgroup_dir_from_mountinfo("1 0 0:1 / /c rw - cgroup2fs x rw\n", "/", buf, sizeof(buf)),
        -ENOMEDIUM);
    assert_int_equal(cgroup_dir_from_mountinfo("1 0 0:1 / /c rw\n", "/", buf, sizeof(buf)),
                     -EBADMSG);
    assert_int_equal(cgroup_dir_from_mountinfo("1 0 - cgroup2 x rw\n", "/", buf, sizeof(buf)),
                     -EBADMSG);
    assert_int_equal(cgroup_dir_from_mountinfo(hybrid_mountinfo, "relative", buf, sizeof(buf)),
                     -EINVAL);
    assert_int_equal(cgroup_dir_from_mountinfo(hybrid_mountinfo, "/a", buf, 10), -ENAMETOOLONG);
}

static void test_tasks_dir_name(void **state)
{
    char a[64], b[64], c[64];

    assert_int_equal(cgroup_tasks_dir_name("/", a, sizeof(a)), 0);
    assert_string_equal(a, "sentry-tasks");
    /* another root: a name of its own, the same every time */
    assert_int_equal(cgroup_tasks_dir_name("/tmp/test-1", a, sizeof(a)), 0);
    assert_int_equal(cgroup_tasks_dir_name("/tmp/test-1", b, sizeof(b)), 0);
    assert_int_equal(cgroup_tasks_dir_name("/tmp/test-2", c, sizeof(c)), 0);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), strlen("sentry-tasks-") + 16);
    assert_true(strncmp(a, "sentry-tasks-", 13) == 0);
    assert_int_equal(cgroup_tasks_dir_name("/tmp/x", a, 10), -ENAMETOOLONG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self),
        cmocka_unit_test(test_mountinfo),
        cmocka_unit_test(test_tasks_dir_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
