#!/usr/bin/env python3
"""Slow io on a second, real kernel: Debian's (6.1, no block_io_start tracepoint), in the lab.

1. The fault tests of the collector (tests/fault/test_io_sources.py) and of the slow-io plugins
   (tests/fault/test_slow_io.py) run unchanged in the lab, on real slow disks made there (nbdkit
   + nbdfuse + loop): every test must pass, none may be skipped.
2. Two QEMU NVMe disks with serials, one throttled to 10 ios per second (about 100 ms per io
   under load): both are found as nvme_ssd with their serials, and avg_block_io with its shipped
   configuration raises 1002 for the slow one (past the nvme_ssd limits) and nothing for the
   other under the same load.

Run by ctest on the host (vm.slowio); labtest.main() boots the lab and runs this file in it."""
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lib"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fault"))
import lab  # noqa: E402
import labtest  # noqa: E402
import slowdisk  # noqa: E402
from sentry_harness import BUILD_DIR, ProtocolClient, SentryRoot, SLOW, wait_for  # noqa: E402
from shipped_tasks import write_shipped_tasks  # noqa: E402

FAULT = os.path.join(SOURCE_DIR, "tests", "fault")
AVG = os.path.join(BUILD_DIR, "plugins", "avg_block_io", "avg_block_io")
SLOW_SERIAL, OK_SERIAL = "SENTRYSLOWNVME01", "SENTRYOKNVME0002"


class FaultTestsOnDebianKernel(labtest.TestCase):
    def run_fault_tests(self, name, timeout):
        start = time.monotonic()
        p = subprocess.run([sys.executable, os.path.join(FAULT, name)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        print("--- %s on %s (%.0f s)\n%s" % (name, os.uname().release, time.monotonic() - start,
                                            p.stdout))
        self.assertEqual(p.returncode, 0, "%s failed on %s" % (name, os.uname().release))
        # every test ran: a skip here would hide a missing facility of the lab
        self.assertNotRegex(p.stdout, r"skipped|SKIPPED")
        self.assertRegex(p.stdout, r"\nOK\n?")

    def test_collector_fault_tests(self):
        self.run_fault_tests("test_io_sources.py", 900)

    def test_slow_io_fault_tests(self):
        self.run_fault_tests("test_slow_io.py", 1800)



class NvmeOnDebianKernel(labtest.TestCase):
    def test_throttled_nvme_is_flagged(self):
        slow, ok = labtest.nvme_device(SLOW_SERIAL), labtest.nvme_device(OK_SERIAL)
        self.assertTrue(slow and ok, "NVMe disks not found: %s" % os.listdir("/sys/block"))
        slow, ok = os.path.basename(slow), os.path.basename(ok)
        root = SentryRoot(name="nvme", conf_extra="[collector]\ndisk = %s,%s\n" % (slow, ok))
        self.addCleanup(root.cleanup)
        write_shipped_tasks(root, {"avg_block_io": AVG})
        root.start()
        c = ProtocolClient(root.socket)
        disks = {d["name"]: d for d in c.call("io_disks")["result"]["disks"]}
        for name, serial in ((slow, SLOW_SERIAL), (ok, OK_SERIAL)):
            self.assertEqual(disks[name]["type"], "nvme_ssd", disks[name])
            self.assertEqual(disks[name]["serial"], serial)
            self.assertEqual(disks[name]["stage_sources"].get("bio"), "bpf", disks[name])
        watch = ProtocolClient(root.socket, timeout=600)
        self.assertTrue(watch.call("subscribe", ids="1002")["ok"])
        alarms = []

        def read_alarms():
            try:
                while True:
                    m = watch.read_line()
                    if "alarm" in m:
                        alarms.append(m["alarm"])
            except (EOFError, OSError):
                pass
        threading.Thread(target=read_alarms, daemon=True).start()
        wait_for(lambda: root.state("avg_block_io") == "RUNNING", timeout=20,
                 what="avg_block_io running")
        with slowdisk.ReadLoad(["/dev/" + slow, "/dev/" + ok]):
            occ = wait_for(lambda: [a for a in alarms if a["key"] == slow + "/read"],
                           timeout=180, what="alarm 1002 for the throttled NVMe disk")[0]
            info = json.loads(occ["text"])
            print("1002 for %s: %s" % (slow, info))
            self.assertEqual(info["driver_name"], slow)
            self.assertRegex(info["block_stack"], r"^bio")
            time.sleep(5 * SLOW)
            self.assertEqual([a for a in alarms if a["key"].startswith(ok + "/")], [],
                             "the healthy NVMe disk stays quiet")
        rc, out, err = root.ctl("iostat", "-d", slow, "-s", "bio")
        self.assertEqual(rc, 0, err)
        row = [l for l in out.splitlines() if re.match(r"%s\s+nvme_ssd\s+bio\s+read" % slow, l)]
        self.assertTrue(row, out)


if __name__ == "__main__":
    labtest.main(devices=[lab.nvme(SLOW_SERIAL, size_mb=64, iops=10),
                          lab.nvme(OK_SERIAL, size_mb=64)],
                 modules=["loop", "fuse"], mem="2G", cpus=2, timeout=3000,
                 env={"SENTRY_BUILD_DIR": BUILD_DIR, "SENTRY_TEST_SLOWDOWN": "3"})
