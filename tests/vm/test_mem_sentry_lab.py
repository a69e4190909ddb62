#!/usr/bin/env python3
"""vm.mem_sentry: mem_sentry on Debian's 6.1 kernel with real memory faults, in the lab (the test
machines' own kernel has no machine check injection and no memory-failure path).

- Corrected memory machine checks injected with mce-inject (software injection through its
  debugfs files: the kernel logs them and emits mce:mce_record as for a real one): two on one page
  cross the page threshold and that page is really soft-offlined (its hwpoison bit in
  /proc/kpageflags, HardwareCorrupted), a burst over the storm threshold is one storm alarm, and
  every record the kernel emitted (counted in a second, witness trace instance) is counted once.
- An uncorrected one is a CRITICAL alarm naming its page.
- madvise(MADV_HWPOISON) on a real process's page with early kill on: ras:memory_failure_event is
  a CRITICAL alarm with the page, the kernel's page type and result, and the process it killed.
- An offline the kernel refuses (a page of kernel code) is reported and retried, and the
  isolation budget stops further offlines.
- A page offlined, then given back (unpoisoned, as a reboot would), is offlined again when the
  plugin starts again.

Run by ctest on the host (vm.mem_sentry); labtest.main() boots the lab and runs this file in it.
"""
import mmap
import os
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lib"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
import labtest  # noqa: E402
from sentry_harness import BUILD_DIR, SLOW, wait_for  # noqa: E402
import test_mem_sentry as ms  # noqa: E402

TRACEFS = "/sys/kernel/tracing"
DEBUGFS = "/sys/kernel/debug"
INJECT = DEBUGFS + "/mce-inject"
PAGE = 4096
KPF_HWPOISON = 19
# MCi_STATUS: VAL | EN | MISCV | ADDRV, MCACOD 0x009f (memory controller, read, channel
# unknown): a corrected memory read error; with UC (and S): an uncorrected one
STATUS_CE = 0x9c0000000000009f
STATUS_UCE = 0xbd0000000000009f
# VAL | EN, MCACOD 0x0150: a corrected cache hierarchy error, not a memory one
STATUS_CPU_CE = 0x9000000000000150
MISC = 0x8c  # address mode 2 (physical), least significant valid bit 12


def write(path, value):
    with open(path, "w") as f:
        f.write(value + "\n")


def modprobe(name):
    subprocess.run(["modprobe", name], check=True, capture_output=True)


def inject(status, addr, bank=1, cpu=0):
    """One machine check record through mce-inject's software path."""
    write(INJECT + "/flags", "sw")
    write(INJECT + "/status", hex(status))
    write(INJECT + "/misc", hex(MISC))
    write(INJECT + "/addr", hex(addr))
    write(INJECT + "/cpu", str(cpu))
    write(INJECT + "/bank", str(bank))  # the write of bank injects


def hwpoisoned(pfn):
    with open("/proc/kpageflags", "rb") as f:
        f.seek(pfn * 8)
        return bool(struct.unpack("Q", f.read(8))[0] >> KPF_HWPOISON & 1)


def hardware_corrupted_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HardwareCorrupted:"):
                return int(line.split()[1])
    return None


def unpoison(pfn):
    write(DEBUGFS + "/hwpoison/unpoison-pfn", str(pfn))


class Witness:
    """A second trace instance of the test's own: the kernel's record of what it emitted."""

    def __init__(self, test, events):
        self.dir = os.path.join(TRACEFS, "instances", "sentry_test_witness")
        if os.path.isdir(self.dir):
            os.rmdir(self.dir)
        os.mkdir(self.dir)
        test.addCleanup(os.rmdir, self.dir)
        for e in events:
            write(os.path.join(self.dir, "events", e, "enable"), "1")

    def count(self, name):
        with open(os.path.join(self.dir, "trace")) as f:
            return sum(1 for l in f if not l.startswith("#") and (" %s:" % name) in l)


# a process that maps a page, says its pfn and pid, poisons it and waits to be killed
POISONED = r"""
import ctypes, mmap, os, struct, sys, time
m = mmap.mmap(-1, 4096)
m[0:5] = b"hello"
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
with open("/proc/self/pagemap", "rb") as f:
    f.seek(addr // 4096 * 8)
    pfn = struct.unpack("Q", f.read(8))[0] & ((1 << 55) - 1)
print(pfn, os.getpid(), flush=True)
sys.stdin.readline()
m.madvise(mmap.MADV_HWPOISON, 0, 4096)
time.sleep(60)
"""


class MemSentryLab(ms.MemSentryBase):
    def setUp(self):
        if not labtest.in_lab():
            self.skipTest("runs in the real-kernel lab only")
        super().setUp()
        modprobe("mce-inject")
        modprobe("hwpoison-inject")
        self.witness = Witness(self, ["mce/mce_record", "ras/memory_failure_event"])

    def ini_defaults(self):
        d = super().ini_defaults()
        d["source"] = {"mount_tracefs": "yes"}
        d["thresholds"] = {"page": "2/24h", "row": "off", "dimm": "50/24h", "socket": "off"}
        d["meminfo"] = {"hardware_corrupted_limit_kb": "0"}
        return d

    def start_and_wait(self):
        self.start()
        self.wait_started()
        src = self.details()["sources"]
        self.assertEqual(src["mce:mce_record"], "on", src)
        self.assertEqual(src["ras:memory_failure_event"], "on", src)

    def test_ce_on_one_page_offlines_it_and_storms_are_one_alarm(self):
        self.write_ini(offline={"action": "soft"}, storm={"threshold": "40", "window": "1h"})
        self.start_and_wait()
        pfn = 0x12345
        self.assertFalse(hwpoisoned(pfn))
        before = hardware_corrupted_kb()
        inject(STATUS_CE, pfn * PAGE)
        inject(STATUS_CE, pfn * PAGE + 0x40)
        a = self.event_alarms("page_offlined", 1)[0]
        self.assertEqual(a["key"], "page:0x12345")
        self.assertEqual(a["level"], "MINOR")
        self.assertEqual(a["text"]["result"], "verified")
        self.assertEqual(a["text"]["done"], "soft")
        self.assertTrue(hwpoisoned(pfn), "the kernel's page flags say the page is not poisoned")
        self.assertGreaterEqual(hardware_corrupted_kb(), before + 4)
        # a burst on 60 other pages: one storm alarm, every record counted once
        for i in range(60):
            inject(STATUS_CE, (0x20000 + i) * PAGE)
        storm = self.event_alarms("ce_storm", 1)
        self.assertEqual(len(storm), 1)
        self.assertEqual(storm[0]["level"], "MAJOR")
        wait_for(lambda: self.details()["counts"]["corrected"] >= 62, 30 * SLOW,
                 what="62 corrected errors counted")
        time.sleep(1)
        d = self.details()
        self.assertEqual(self.witness.count("mce_record"), 62)
        self.assertEqual(d["counts"]["corrected"], 62, "missed or counted twice")
        self.assertEqual(d["counts"]["lost"], 0)
        self.assertTrue(d["counts"]["storm"])
        pages = {p["pfn"]: p for p in d["pages"]}
        self.assertEqual(pages["0x12345"]["state"], "offlined")
        self.assertEqual(pages["0x12345"]["offline"], "verified")
        dimm = [x for x in d["dimms"] if x["dimm"] == "socket 0 bank 1 channel 15"]
        self.assertEqual(len(dimm), 1, d["dimms"])
        self.assertEqual(dimm[0]["corrected"], 62)
        self.assertTrue(dimm[0]["crossed"], "62 errors are past the DIMM's 50/24h")
        with open(self.state) as f:
            self.assertIn("0x12345 soft ", f.read())
        # the operator's view of it
        rc, out, err = self.root.ctl("mem")
        self.assertEqual(rc, 0, err)
        row = [l for l in out.splitlines() if "0x12345000" in l]
        self.assertEqual(len(row), 1, out)
        self.assertIn("offlined", row[0])
        self.assertIn("verified", row[0])
        self.assertIn("socket 0 bank 1 channel 15", out)
        self.assertIn("over threshold", out)
        print("\nlab %s: 62 CEs injected, 62 seen by the witness and counted; page 0x12345 "
              "soft-offlined and verified; one storm alarm" % os.uname().release,
              file=sys.stderr)

    def test_uncorrected_error_is_critical(self):
        self.write_ini()
        self.start_and_wait()
        inject(STATUS_UCE, 0x23456000, bank=2)
        a = self.event_alarms("uncorrected", 1)[0]
        self.assertEqual(a["level"], "CRITICAL")
        self.assertEqual(a["key"], "page:0x23456")
        self.assertEqual(a["text"]["record"]["event"], "mce")
        self.assertEqual(a["text"]["record"]["severity"], "uncorrected")
        self.assertEqual(a["text"]["record"]["address"], "0x23456000")
        self.assertEqual(a["text"]["record"]["bank"], 2)

    def test_memory_failure_names_the_page_and_the_killed_process(self):
        self.write_ini()
        self.start_and_wait()
        write("/proc/sys/vm/memory_failure_early_kill", "1")
        self.addCleanup(write, "/proc/sys/vm/memory_failure_early_kill", "0")
        p = subprocess.Popen([sys.executable, "-c", POISONED], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        pfn, pid = (int(x) for x in p.stdout.readline().split())
        p.stdin.write("go\n")
        p.stdin.flush()
        p.wait(60 * SLOW)
        p.stdin.close()
        p.stdout.close()
        self.assertEqual(p.returncode, -7, "the kernel killed the process with SIGBUS")
        a = self.event_alarms("memory_failure", 1)[0]
        self.assertEqual(a["level"], "CRITICAL")
        self.assertEqual(a["key"], "page:%#x" % pfn)
        r = a["text"]["record"]
        self.assertEqual(r["pfn"], "%#x" % pfn)
        self.assertEqual(r["page_type"], "dirty LRU page")
        self.assertEqual(r["action_result"], "Recovered")
        self.assertEqual([(k["pid"], k["comm"]) for k in r["killed"]], [(pid, "python3")])
        self.assertEqual(r["killed"][0]["signal"], "SIGBUS BUS_MCEERR_AO")
        self.assertTrue(hwpoisoned(pfn))
        self.assertEqual(self.witness.count("memory_failure_event"), 1)
        # the poisoned page is kept, to be offlined again after a reboot
        with open(self.state) as f:
            self.assertIn("%#x soft " % pfn, f.read())

    def test_refused_offline_is_retried_and_the_budget_stops_offlines(self):
        self.write_ini(offline={"action": "soft", "max_pages": "2", "max_tries": "3"})
        self.start_and_wait()
        kernel_code = kernel_code_pfn()
        for _ in range(2):
            inject(STATUS_CE, kernel_code * PAGE)
        failed = self.event_alarms("page_offline_failed", 2, timeout=60)
        self.assertEqual(failed[0]["key"], "page:%#x" % kernel_code)
        self.assertEqual(failed[0]["level"], "MAJOR")
        self.assertEqual(failed[0]["text"]["result"], "refused")
        self.assertTrue(failed[0]["text"]["retry"])
        self.assertEqual(failed[1]["text"]["why"], "retry of a failed offline")
        # the refused page took one of the two; a good page takes the other
        for _ in range(2):
            inject(STATUS_CE, 0x30000 * PAGE)
        self.event_alarms("page_offlined", 1, cond=lambda t: t["pfn"] == "0x30000")
        for _ in range(2):
            inject(STATUS_CE, 0x30001 * PAGE)
        spent = self.event_alarms("offline_budget_spent", 1)[0]
        self.assertEqual(spent["key"], "page:0x30001")
        self.assertFalse(hwpoisoned(0x30001))
        # three tries in all, then it gives up
        wait_for(lambda: len([a for a in self.alarms(1001)
                              if a["text"]["event"] == "page_offline_failed"]) == 3, 30 * SLOW,
                 what="the third try")
        last = [a for a in self.alarms(1001) if a["text"]["event"] == "page_offline_failed"][-1]
        self.assertFalse(last["text"]["retry"])

    def test_nothing_missed_or_counted_twice_across_a_restart(self):
        self.write_ini(offline={"action": "soft"})
        self.start_and_wait()
        first, second = 0x3a000, 0x3b000
        for i in range(5):
            inject(STATUS_CE, (first + 2 * i) * PAGE)
        wait_for(lambda: self.details()["counts"]["corrected"] == 5, 30 * SLOW,
                 what="5 errors counted")
        self.root.ctl("stop", "mem_sentry")
        self.root.wait_state("mem_sentry", ("EXITED", "STOPPED", "FAILED"), timeout=20 * SLOW)
        # while it is down: the kept instance records
        inject(STATUS_CE, second * PAGE)
        self.root.ctl("start", "mem_sentry")
        wait_for(lambda: self.details().get("counts", {}).get("corrected") == 1, 30 * SLOW,
                 what="the error of the downtime counted, the 5 before not again")
        inject(STATUS_CE, second * PAGE)
        a = self.event_alarms("page_offlined", 1)[0]
        self.assertEqual(a["key"], "page:%#x" % second, "the page's first error was missed")
        wait_for(lambda: self.details()["counts"]["corrected"] == 2, 30 * SLOW, what="2 counted")
        self.assertEqual(self.witness.count("mce_record"), 7)
        self.assertIn("with what it recorded since", self.log())

    def test_offlined_pages_are_offlined_again_at_start(self):
        self.write_ini(offline={"action": "soft"})
        self.start_and_wait()
        pfn = 0x34567
        inject(STATUS_CE, pfn * PAGE)
        inject(STATUS_CE, pfn * PAGE)
        self.event_alarms("page_offlined", 1)
        self.assertTrue(hwpoisoned(pfn))
        self.root.ctl("stop", "mem_sentry")
        self.root.wait_state("mem_sentry", ("EXITED", "STOPPED", "FAILED"), timeout=20 * SLOW)
        unpoison(pfn)  # the page back in use, as after a reboot
        self.assertFalse(hwpoisoned(pfn))
        self.root.ctl("start", "mem_sentry")
        again = self.event_alarms("page_offlined", 2)[1]
        self.assertEqual(again["key"], "page:%#x" % pfn)
        self.assertEqual(again["text"]["why"], "offlined before: known bad")
        self.assertEqual(again["text"]["result"], "verified")
        self.assertTrue(hwpoisoned(pfn))


class MemSentryCpuLab(ms.MemSentryBase):
    """Two CPUs: one taken offline before the plugin starts and brought back after, and a
    corrected-error storm of a CPU (machine checks that are not memory errors)."""
    CPU1 = "/sys/devices/system/cpu/cpu1/online"

    def setUp(self):
        if not labtest.in_lab():
            self.skipTest("runs in the real-kernel lab only")
        super().setUp()
        modprobe("mce-inject")
        self.witness = Witness(self, ["mce/mce_record"])
        self.addCleanup(write, self.CPU1, "1")

    def test_cpu_online_later_is_read_and_a_cpu_storm_offlines_it(self):
        self.assertGreaterEqual(os.cpu_count(), 2)
        write(self.CPU1, "0")
        self.write_ini(source={"mount_tracefs": "yes"},
                       cpu={"threshold": "3/1h", "offline": "yes", "max_offline": "1"})
        self.start()
        self.wait_started()
        write(self.CPU1, "1")
        # a corrected memory error logged on CPU 1, which came online after the plugin started
        pid = os.fork()
        if pid == 0:
            try:
                os.sched_setaffinity(0, {1})
                inject(STATUS_CE, 0x38000 * PAGE, cpu=1)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        wait_for(lambda: self.details()["counts"]["corrected"] == 1, 30 * SLOW,
                 what="the error of CPU 1 counted")
        with open(os.path.join(self.witness.dir, "trace")) as f:
            self.assertIn("[001]", f.read(), "the record is in CPU 1's buffer")
        # a storm of cache errors (MCACOD 0x0150: not memory) on CPU 1: offlined
        for _ in range(3):
            inject(STATUS_CPU_CE, 0, cpu=1)
        a = self.event_alarms("cpu_ce_threshold", 1)[0]
        self.assertEqual(a["key"], "cpu:1")
        self.assertEqual(a["level"], "MAJOR")
        self.assertEqual(a["text"]["offline"], "offlined")
        with open(self.CPU1) as f:
            self.assertEqual(f.read().strip(), "0", "CPU 1 is still online")
        # CPU 0's storm: the limit of one CPU is reached
        for _ in range(3):
            inject(STATUS_CPU_CE, 0, cpu=0)
        a = self.event_alarms("cpu_ce_threshold", 1, cond=lambda t: t["cpu"] == 0)[0]
        self.assertEqual(a["text"]["offline"], "refused: max_offline CPUs went already")
        wait_for(lambda: (self.details()["counts"]["cpu_corrected"],
                          self.details()["counts"]["cpus_offlined"]) == (6, 1), 10 * SLOW,
                 what="6 CPU errors counted, 1 CPU offlined")
        self.assertEqual(self.witness.count("mce_record"), 7)


def kernel_code_pfn():
    """A page of the kernel's code: the kernel refuses to offline it."""
    with open("/proc/iomem") as f:
        for line in f:
            if "Kernel code" in line:
                return int(line.split("-")[0].strip(), 16) // PAGE + 16
    raise AssertionError("no Kernel code in /proc/iomem")


if __name__ == "__main__":
    labtest.main(mem="1G", cpus=2, timeout=900,
                 env={"SENTRY_BUILD_DIR": BUILD_DIR, "SENTRY_TEST_SLOWDOWN": "3"})
