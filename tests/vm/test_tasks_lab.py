#!/usr/bin/env python3
"""Task cgroups on a second, real kernel: Debian's 6.1 with the unified hierarchy mounted at
/sys/fs/cgroup, as on the servers sentry runs on (the test machines' own kernel is newer and
hybrid: cgroup2 at /sys/fs/cgroup/unified beside the v1 controllers).

1. The unit test of the cgroup operations (tests/unit/test_task_cgroup): a base found from
   /proc/self/cgroup and mountinfo, processes that joined a cgroup (one in a session of its own)
   ended with cgroup.kill and pid by pid, a sweep of what an earlier sentryd left.
2. The orphans' integration tests (tests/integration/test_task_cgroup.py), on this kernel: a
   task's children (200 here: forks are slow under TCG; 1,000 on the host) and its setsid daemon
   are gone when `sentryctl stop` answers, when its heartbeat is lost and when sentryd stops;
   the auto subtree lies under /sys/fs/cgroup.

Every test must pass and none may be skipped. Run by ctest on the host (vm.tasks);
labtest.main() boots the lab and runs this file in it."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lib"))
import lab  # noqa: E402
import labtest  # noqa: E402
from sentry_harness import BUILD_DIR  # noqa: E402

INTEGRATION = os.path.join(SOURCE_DIR, "tests", "integration", "test_task_cgroup.py")
UNIT = os.path.join(BUILD_DIR, "tests", "unit", "test_task_cgroup")


class TaskCgroupsOnDebianKernel(labtest.TestCase):
    def run_checked(self, argv, timeout):
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
        print("--- %s on %s\n%s" % (os.path.basename(argv[-1] if len(argv) < 3 else argv[1]),
                                   os.uname().release, p.stdout))
        self.assertEqual(p.returncode, 0, "failed on %s" % os.uname().release)
        self.assertNotRegex(p.stdout, r"SKIPPED|skipped|\bSKIP\b")
        return p.stdout

    def test_unified_hierarchy_and_cgroup_kill(self):
        with open("/proc/self/mountinfo") as f:
            mounts = [l.split(" - ")[0].split()[4] for l in f if " - cgroup2 " in l]
        self.assertEqual(mounts, ["/sys/fs/cgroup"])
        os.mkdir("/sys/fs/cgroup/lab-probe")
        try:
            self.assertTrue(os.path.exists("/sys/fs/cgroup/lab-probe/cgroup.kill"))
        finally:
            os.rmdir("/sys/fs/cgroup/lab-probe")

    def test_cgroup_operations(self):
        self.run_checked([UNIT], 300)

    def test_orphans(self):
        out = self.run_checked(
            [sys.executable, INTEGRATION,
             "OrphansTest.test_stop_ends_1000_children_and_a_setsid_daemon",
             "OrphansTest.test_heartbeat_loss_ends_everything",
             "OrphansTest.test_shutdown_ends_everything", "AutoCgroupTest"], 900)
        self.assertRegex(out, r"Ran 4 tests")


if __name__ == "__main__":
    labtest.main(timeout=1200, mem="2G", cpus=2,
                 env={"SENTRY_BUILD_DIR": BUILD_DIR, "SENTRY_TEST_TASK_CHILDREN": "200",
                      "SENTRY_TEST_SLOWDOWN": os.environ.get("SENTRY_TEST_SLOWDOWN", "3")})
