#!/usr/bin/env python3
"""vm.oom_watch: OOM early warning on Debian's 6.1 kernel with the unified cgroup hierarchy, in the
lab (the test machines' own kernel mounts the memory controller on cgroup v1 only).

A cgroup v2 memory cgroup with a small limit (memory.max): a process in it thrashes the page
cache, which raises its memory.pressure, and oom_watch's PSI trigger on that cgroup warns (1017)
before a second process allocates until the kernel's OOM killer ends it; the kill is reported
from memory.events (1018 memcg_oom_kill) and from oom:mark_victim (1018 oom_victim, with the
victim's pid, comm and cgroup: the thrashing process or the allocating one, as the kernel picks).
The warning comes first.

Run by ctest on the host (vm.oom_watch); labtest.main() boots the lab and runs this file in it.
"""
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lib"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
import lab  # noqa: E402
import labtest  # noqa: E402
from sentry_harness import BUILD_DIR, SLOW, wait_for  # noqa: E402
import test_oom_watch as ow  # noqa: E402

CG2 = "/sys/fs/cgroup"
DISK_SERIAL = "SENTRYOOMDISK001"


def disk_file(test, size_mb):
    """A file of size_mb on a real disk (the lab's NVMe, formatted here): reading it goes through
    the page cache, which the lab's own file systems (tmpfs, 9p) would not."""
    dev = labtest.nvme_device(DISK_SERIAL)
    test.assertIsNotNone(dev, "no NVMe disk %s" % DISK_SERIAL)
    mnt = test.root.path("disk")
    os.mkdir(mnt)
    subprocess.run(["mkfs.ext4", "-q", "-F", dev], check=True, capture_output=True)
    subprocess.run(["mount", dev, mnt], check=True)
    test.addCleanup(subprocess.run, ["umount", "-l", mnt])
    path = os.path.join(mnt, "thrash.bin")
    with open(path, "wb") as f:
        for _ in range(size_mb):
            f.write(os.urandom(1 << 20))
        os.fsync(f.fileno())
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")
    return path


class MemcgV2Case(ow.MemcgV1Case):
    """A cgroup v2 memory cgroup with a small limit and no swap, removed at the end (spawning
    into it and removing it as for v1)."""

    def __init__(self, test, limit):
        with open(os.path.join(CG2, "cgroup.subtree_control"), "w") as f:
            f.write("+memory")
        self.dir = os.path.join(CG2, "sentry-oomtest-%d" % os.getpid())
        os.mkdir(self.dir)
        test.addCleanup(self.remove)
        self.write("memory.max", str(limit))
        if os.path.exists(os.path.join(self.dir, "memory.swap.max")):
            self.write("memory.swap.max", "0")
        self.procs = []


class OomWatchCgroupV2(ow.OomWatchBase):
    def setUp(self):
        if not labtest.in_lab():
            self.skipTest("runs in the real-kernel lab only")
        super().setUp()
        with open(os.path.join(CG2, "cgroup.controllers")) as f:
            self.assertIn("memory", f.read().split(), "the lab kernel has no v2 memory controller")

    def test_pressure_warned_before_the_kill(self):
        victim_event = ow.OomWatchKernelTest.tracefs_with_victim(self)
        self.assertTrue(victim_event, "oom:mark_victim is missing on the lab kernel")
        data = disk_file(self, 64)
        cg = MemcgV2Case(self, 32 << 20)
        self.write_ini(sources={"psi": "yes", "memcg": "yes", "oom_victim": "yes"},
                       psi={"some_stall_us": "5000", "full_stall_us": "0",
                            "window_us": "2000000"},
                       memcg={"cgroups": cg.dir, "poll_interval": "1"},
                       alarm={"rate_limit_interval": "3600"})
        self.start()
        wait_for(lambda: "started:" in self.root.task_log("oom_watch"), 30, what="started")
        # page cache thrashing in the small cgroup: reclaim and refaults stall it
        cg.spawn(ow.THRASH % (data, 16 << 20))
        warn = self.wait_alarms(1017, 1, timeout=120 * SLOW,
                                cond=lambda t: t["event"] == "psi" and t["cgroup"] == cg.name())[0]
        self.assertEqual(warn["level"], "MINOR")
        self.assertGreater(warn["text"]["pressure"]["some"]["total_us"], 0)
        hog = cg.spawn(ow.HOG)
        hog.wait(120 * SLOW)
        self.assertEqual(hog.returncode, -signal.SIGKILL)
        kill = self.wait_alarms(1018, 1, timeout=60 * SLOW,
                                cond=lambda t: t["event"] == "memcg_oom_kill")[0]
        self.assertEqual(kill["key"], cg.name())
        self.assertEqual(kill["text"]["file"], "memory.events")
        self.assertGreaterEqual(kill["text"]["killed"], 1)
        # the first victim of the cgroup (the thrashing process or the hog: the kernel picks;
        # later ones are held back by the rate limit)
        victim = self.wait_alarms(1018, 1, timeout=60 * SLOW,
                                  cond=lambda t: t["event"] == "oom_victim"
                                  and t["cgroup"] == cg.name())[0]
        self.assertIn(victim["text"]["pid"], [p.pid for p in cg.procs])
        self.assertEqual(victim["text"]["comm"], "python3")
        self.assertLess(warn["seq"], kill["seq"], "the warning came before the kill")
        print("\nlab %s: PSI warning on %s, then the kill of pid %d (%s): seqs %d < %d"
              % (os.uname().release, cg.name(), victim["text"]["pid"], victim["text"]["comm"],
                 warn["seq"], kill["seq"]), file=sys.stderr)


if __name__ == "__main__":
    labtest.main(devices=[lab.nvme(DISK_SERIAL, size_mb=128)], mem="1G", cpus=2, timeout=900,
                 env={"SENTRY_BUILD_DIR": BUILD_DIR, "SENTRY_TEST_SLOWDOWN": "3"})
