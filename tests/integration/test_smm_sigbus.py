"""SIGBUS for faults in shared memory (plugins/sentry_msg_monitor, smm_sigbus.c), with real
processes on this host: children map pages of a shared file or memfd, each with a SIGBUS handler
(SA_SIGINFO) that prints si_code and si_value (tests/helpers/smm_sigbus_child.c). Page A's
physical address is read from a child's /proc/<pid>/pagemap (root); the plugin is given it by
its one-shot mode and as a UB_MEM_ERR notice through its test backend, and exactly the processes
mapping page A must be told, each with its own virtual address; the one mapping only page B must
not. The search by device ([memid] lines) is run against a shared file standing in for the
device, at a physical address no RAM has."""
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SLOW, SentryTestCase, run  # noqa: E402
import test_xalarm_compat as compat  # noqa: E402  (its test class is not run here)
import test_sentry_msg_monitor as smm  # noqa: E402  (the backend and the record layout)

CHILD = os.path.join(BUILD_DIR, "tests", "helpers", "smm_sigbus_child")
PAGE = os.sysconf("SC_PAGE_SIZE")
SI_QUEUE = -1
# Far above any RAM: the search by frame finds nothing there, only the [memid] device does.
DEVICE_BASE = 1 << 50
MEMID = 7


class Mapper:
    """A child mapping `length` bytes of `what` (a path, or memfd:PAGES) from `offset`."""

    def __init__(self, test, what, offset, length, hint):
        self.child = compat.Child([CHILD, what, str(offset), str(length), hex(hint)],
                                  dict(os.environ))
        test.addCleanup(self.child.stop)
        line = self.child.wait_line(lambda s: s.startswith("READY "), 10)
        f = dict(kv.split("=") for kv in line.split()[1:])
        self.pid, self.addr, self.fd = int(f["pid"]), int(f["addr"], 16), int(f["fd"])
        self.offset = offset

    def vaddr(self, file_offset):
        """Where byte file_offset of the file is in this child."""
        return self.addr + file_offset - self.offset

    def pa(self, file_offset):
        """The physical address of byte file_offset, from the pagemap: None when hidden."""
        va = self.vaddr(file_offset)
        with open("/proc/%d/pagemap" % self.pid, "rb") as f:
            f.seek(va // PAGE * 8)
            (entry,) = struct.unpack("=Q", f.read(8))
        pfn = entry & ((1 << 55) - 1)
        if not entry >> 63 or pfn == 0:
            return None
        return pfn * PAGE + va % PAGE

    def sigbus(self):
        """The SIGBUS lines the child printed, as (si_code, si_value)."""
        out = []
        for line in self.child.output():
            if line.startswith("SIGBUS "):
                f = dict(kv.split("=") for kv in line.split()[1:])
                out.append((int(f["code"]), int(f["value"], 16)))
        return out

    def wait_sigbus(self, timeout=10):
        self.child.wait_line(lambda s: s.startswith("SIGBUS "), timeout)
        return self.sigbus()


class SigbusCase:
    """Three mappers of a two-page file: a maps page A, b maps pages A and B elsewhere, c maps
    page B only."""

    def make_mappers(self, memfd=False):
        if not os.path.exists(CHILD):
            self.skipTest("%s is not built" % CHILD)
        if memfd:
            self.a = Mapper(self, "memfd:2", 0, PAGE, 0x300000000000)
            path = "/proc/%d/fd/%d" % (self.a.pid, self.a.fd)
        else:
            path = os.path.realpath(os.path.join(self.root.dir, "shared.mem"))
            with open(path, "wb") as f:
                f.truncate(2 * PAGE)
            self.a = Mapper(self, path, 0, PAGE, 0x300000000000)
        self.path = path
        self.b = Mapper(self, path, 0, 2 * PAGE, 0x310000000000)
        self.c = Mapper(self, path, PAGE, PAGE, 0x320000000000)
        self.assertNotEqual(self.a.vaddr(0), self.b.vaddr(0))

    def page_a_pa(self):
        if os.geteuid() != 0:
            self.skipTest("reading page frames from pagemap needs root")
        pa = self.a.pa(0x123)
        if pa is None:
            self.skipTest("pagemap hides page frame numbers here")
        self.assertEqual(self.b.pa(0x123), pa, "a and b share page A")
        self.assertNotEqual(self.c.pa(PAGE + 0x123), pa)
        return pa

    def assert_told(self, told, untold, offset):
        for m in told:
            self.assertEqual(m.wait_sigbus(), [(SI_QUEUE, m.vaddr(offset))], m.pid)
        time.sleep(0.3 * SLOW)  # a wrong signal would have arrived by now
        for m in untold:
            self.assertEqual(m.sigbus(), [], m.pid)

    def write_config(self, text):
        path = os.path.join(self.root.dir, "sentry_msg_monitor.ini")
        with open(path, "w") as f:
            f.write(text)
        return path

    def oneshot(self, pa, config):
        p = subprocess.run([smm.PLUGIN, "--config", config, "--sigbus", hex(pa)],
                           capture_output=True, text=True, timeout=60 * SLOW)
        for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            self.assertNotIn(mark, p.stderr)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout), p.stderr


class OneShotTest(SigbusCase, SentryTestCase):
    def setUp(self):
        super().setUp()
        if not os.path.exists(smm.PLUGIN):
            self.skipTest("%s is not built" % smm.PLUGIN)

    def check_by_frame(self, memfd):
        self.make_mappers(memfd)
        pa = self.page_a_pa()
        out, err = self.oneshot(pa, "/nonexistent/sentry_msg_monitor.ini")
        told = {self.a.pid: self.a.vaddr(0x123), self.b.pid: self.b.vaddr(0x123)}
        self.assertEqual(dict(zip(out["pids"], (int(v, 16) for v in out["vaddrs"]))), told, err)
        self.assertEqual((out["pa"], out["memid"], out["signalled"], out["truncated"]),
                         (hex(pa), -1, 2, False))
        self.assert_told([self.a, self.b], [self.c], 0x123)
        self.assertIn("SIGBUS to pid %d: pa %s is at its vaddr %s"
                      % (self.a.pid, hex(pa), hex(self.a.vaddr(0x123))), err)

    def test_shared_file_by_frame(self):
        self.check_by_frame(memfd=False)

    def test_memfd_by_frame(self):
        self.check_by_frame(memfd=True)

    def test_device_by_offset(self):
        """A [memid] line names the file as the device; the address is page B's offset in it."""
        self.make_mappers()
        config = self.write_config("[memid]\n%d = %s, %#x, %#x\n"
                                   % (MEMID, self.path, DEVICE_BASE, 2 * PAGE))
        out, err = self.oneshot(DEVICE_BASE + PAGE + 0x10, config)
        told = {self.b.pid: self.b.vaddr(PAGE + 0x10), self.c.pid: self.c.vaddr(PAGE + 0x10)}
        self.assertEqual(dict(zip(out["pids"], (int(v, 16) for v in out["vaddrs"]))), told, err)
        self.assertEqual(out["memid"], MEMID)
        self.assert_told([self.b, self.c], [self.a], PAGE + 0x10)

    def test_bad_config_line_and_address(self):
        config = self.write_config("[memid]\n1 = relative/path, 0, 4096\n")
        out, err = self.oneshot(0x1000, config)
        self.assertIn("%s: [memid] 1 = 'relative/path, 0, 4096': the device must be an absolute "
                      "path without blanks; line left out" % config, err)
        self.assertEqual(out["signalled"], 0)
        p = subprocess.run([smm.PLUGIN, "--sigbus", "12zz"], capture_output=True, text=True,
                           timeout=20 * SLOW)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--sigbus 12zz: not a physical address", p.stderr)


class NoticeTest(SigbusCase, compat.XalarmCompatTest):
    """UB_MEM_ERR notices through the plugin's test backend, with a real sentryd."""

    def setUp(self):
        super().setUp()
        if not os.path.exists(smm.PLUGIN):
            self.skipTest("%s is not built" % smm.PLUGIN)

    def backend(self, config):
        self.env["SENTRY_MSG_MONITOR_CONFIG"] = config
        b = smm.Backend(self)
        b.connect()
        b.wait_log("subscribed to the answers")
        return b

    def test_fault_with_kill(self):
        self.make_mappers()
        pa = self.page_a_pa()
        c = self.consumer(1013)
        c.wait_line("xalarm_Register returned 0")
        self.report_until(c, 1013, "ALARM 1013 ")
        b = self.backend("/nonexistent/sentry_msg_monitor.ini")
        # fault_with_kill = 0: the reference's text, and nobody is told
        b.feed(smm.record(smm.UB_MEM_ERR, 51, smm.ub_mem_union(pa, 0, 0, 1)))
        c.wait_line("ALARM 1013 1 1 "
                    '{ "msgid": 51, "sentry_ubus_mem_err_type": 6, "raw_ubus_mem_err_type": 1, '
                    '"pa": "%s", "memid": -1 }' % hex(pa))
        # another mem_type than fd mode: neither
        b.feed(smm.record(smm.UB_MEM_ERR, 52, smm.ub_mem_union(pa, 1, 1, 1)))
        c.wait_line(lambda s: s.startswith('ALARM 1013 1 1 { "msgid": 52,') and
                    s.endswith('"memid": -1 }'))
        self.assert_told([], [self.a, self.b, self.c], 0)
        # fault_with_kill = 1: a and b are told, and the alarm names them
        b.feed(smm.record(smm.UB_MEM_ERR, 53, smm.ub_mem_union(pa, 0, 1, 1)))
        line = c.wait_line(lambda s: s.startswith('ALARM 1013 1 1 { "msgid": 53,'))
        alarm = json.loads(line.split(" ", 4)[4])
        told = {self.a.pid: self.a.vaddr(0x123), self.b.pid: self.b.vaddr(0x123)}
        self.assertEqual(dict(zip(alarm["pids"], (int(v, 16) for v in alarm["vaddrs"]))), told)
        self.assertEqual((alarm["pa"], alarm["memid"], alarm["signalled"], alarm["truncated"],
                          alarm["sentry_ubus_mem_err_type"], alarm["raw_ubus_mem_err_type"]),
                         (hex(pa), -1, 2, False, 6, 1))
        self.assert_told([self.a, self.b], [self.c], 0x123)
        self.assertIsNone(b.proc.poll(), b.log()[-3000:])

    def test_device_notice(self):
        """The memid of a [memid] device is in the alarm; the search by device runs for a
        notice as for the one-shot mode."""
        self.make_mappers()
        config = self.write_config("[memid]\n%d = %s, %#x, %#x\n"
                                   % (MEMID, self.path, DEVICE_BASE, 2 * PAGE))
        c = self.consumer(1013)
        c.wait_line("xalarm_Register returned 0")
        self.report_until(c, 1013, "ALARM 1013 ")
        b = self.backend(config)
        b.feed(smm.record(smm.UB_MEM_ERR, 61, smm.ub_mem_union(DEVICE_BASE + 8, 0, 1, 0)))
        line = c.wait_line(lambda s: s.startswith('ALARM 1013 1 1 { "msgid": 61,'))
        alarm = json.loads(line.split(" ", 4)[4])
        self.assertEqual(alarm["memid"], MEMID)
        self.assertEqual(sorted(alarm["pids"]), sorted([self.a.pid, self.b.pid]))
        self.assert_told([self.a, self.b], [self.c], 8)


# XalarmCompatTest's own tests belong to test_xalarm_compat.py.
for name in [n for n in dir(compat.XalarmCompatTest) if n.startswith("test_")]:
    setattr(NoticeTest, name, None)

if __name__ == "__main__":
    run()
