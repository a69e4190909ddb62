"""plugins/oom_watch against a real sentryd and this host's kernel: panics in a pstore directory
(ramoops records as the kernel writes them) reported once across restarts of the plugin, and
optionally removed; a bad configuration failing the task with the key in the reason; and, as
root, a real OOM kill in a cgroup v1 memory cgroup with a small limit (memory.oom_control's
oom_kill growing, and oom:mark_victim where tracefs has it) and a real PSI trigger fired by a
process that thrashes the page cache in such a cgroup."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SLOW, read, run, wait_for  # noqa: E402
from plugin_case import PluginTestCase  # noqa: E402

PLUGIN = os.path.join(BUILD_DIR, "plugins", "oom_watch", "oom_watch")
MEMCG_V1 = "/sys/fs/cgroup/memory"
TRACEFS = "/sys/kernel/tracing"

PANIC = ("Panic#1 Part1\n"
         "<6>[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) "
         "(gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.0-57\n"
         "<6>[    0.000000] Command line: console=ttyS0 ramoops.mem_address=0x7f000000 "
         "ramoops.mem_size=0x100000 ramoops.record_size=0x4000\n"
         "<6>[   35.101010] sysrq: Trigger a crash\n"
         "<0>[   35.101099] Kernel panic - not syncing: sysrq triggered crash\n"
         "<4>[   35.101200] CPU: 1 PID: 402 Comm: sh Not tainted 6.1.0-57-amd64 #1  Debian "
         "6.1.0-57\n"
         "<4>[   35.101300] Call Trace:\n"
         "<4>[   35.101301]  <TASK>\n"
         "<4>[   35.101302]  dump_stack_lvl+0x44/0x5c\n"
         "<4>[   35.101303]  panic+0x118/0x2ed\n"
         "<4>[   35.101304]  sysrq_handle_crash+0x16/0x20\n"
         "<0>[   35.101400] Kernel Offset: 0x2a000000 from 0xffffffff81000000\n")
OOPS = ("Oops#1 Part1\n"
        "<1>[  120.404040] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
        "<1>[  120.404041] #PF: supervisor read access in kernel mode\n"
        "<4>[  120.404050] Oops: 0000 [#1] PREEMPT SMP NOPTI\n"
        "<4>[  120.404060] CPU: 0 PID: 77 Comm: kworker/0:1 Not tainted 6.1.0-57-amd64 #1\n"
        "<4>[  120.404070] RIP: 0010:process_one_work+0x1a/0x3c0\n")
SHUTDOWN = ("Shutdown#1 Part1\n"
            "<6>[  300.000000] reboot: Power down\n")


class OomWatchBase(PluginTestCase):
    """A sentryd with the oom_watch task reading self.ini; no tests of its own."""
    PLUGIN_NAME = "oom_watch"
    PLUGIN = PLUGIN

    def setUp(self):
        super().setUp()
        self.state = self.root.path("var/lib/sentry/oom_watch.state")
        self.pstore = self.root.path("pstore")
        os.makedirs(self.pstore)

    def ini_defaults(self):
        return {
            "sources": {"psi": "no", "memcg": "no", "oom_victim": "no", "pstore": "no"},
            "pstore": {"dir": self.pstore, "state_file": self.state},
            "log": {"level": "debug"},
        }

    def run_once(self):
        """Starts the task (again) and waits until the pstore-only plugin has finished."""
        self.root.ctl("start", "oom_watch")
        self.root.wait_state("oom_watch", ("EXITED",), timeout=20)

    def record(self, name, data):
        with open(os.path.join(self.pstore, name), "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)



class OomWatchTest(OomWatchBase):
    # ---- pstore --------------------------------------------------------------------------------
    def test_pstore_reported_once_across_restarts(self):
        self.record("dmesg-ramoops-0", PANIC)
        self.record("dmesg-ramoops-1", OOPS)
        self.record("dmesg-ramoops-2", SHUTDOWN)
        self.record("dmesg-ramoops-3.enc.z", b"x\x9c\x01\x02\x03compressed\xff" * 20)
        self.record("console-ramoops-0", "Kernel panic - not syncing: only in the console\n")
        self.write_ini(sources={"pstore": "yes"})
        self.start()
        self.root.wait_state("oom_watch", ("EXITED",), timeout=20)
        got = {a["text"]["record"]: a for a in self.wait_alarms(1019, 3)}
        self.assertEqual(sorted(got), ["dmesg-ramoops-0", "dmesg-ramoops-1",
                                       "dmesg-ramoops-3.enc.z"])
        p = got["dmesg-ramoops-0"]
        self.assertEqual(p["level"], "CRITICAL")
        self.assertEqual(p["key"], "pstore:dmesg-ramoops-0")
        self.assertEqual(p["text"]["finding"], "panic")
        self.assertEqual(p["text"]["backend"], "ramoops")
        self.assertEqual(p["text"]["header"], "Panic#1 Part1")
        self.assertIn("Kernel panic - not syncing: sysrq triggered crash", p["text"]["line"])
        self.assertEqual(p["text"]["node"], os.uname().nodename)
        self.assertEqual(got["dmesg-ramoops-1"]["text"]["finding"], "oops")
        self.assertIn("Oops: 0000 [#1]", got["dmesg-ramoops-1"]["text"]["line"])
        self.assertEqual(got["dmesg-ramoops-3.enc.z"]["text"]["finding"], "compressed")
        self.assertIn("dmesg-ramoops-0\t", read(self.state))

        # a restart of the plugin reports nothing again
        self.run_once()
        self.assertIn("0 new record(s) reported", self.root.task_log("oom_watch"))
        self.assertEqual(len(self.alarms(1019)), 3)
        # a new crash: a new record, and a record of the same name with new content
        self.record("dmesg-ramoops-0", PANIC.replace("35.10", "36.20"))
        self.record("dmesg-ramoops-4", OOPS.replace("120.40", "121.50"))
        self.run_once()
        self.wait_alarms(1019, 5)
        time.sleep(0.5 * SLOW)
        self.assertEqual(len(self.alarms(1019)), 5)
        # and a restart of sentryd changes nothing either
        self.root.stop()
        self.root.start()
        self.root.wait_state("oom_watch", ("EXITED",), timeout=20)
        self.assertEqual(len(self.alarms(1019)), 5)
        self.assertTrue(os.path.exists(os.path.join(self.pstore, "dmesg-ramoops-0")))

    def test_pstore_remove_after_report(self):
        self.record("dmesg-ramoops-0", PANIC)
        self.record("dmesg-ramoops-1", SHUTDOWN)
        self.write_ini(sources={"pstore": "yes"}, pstore={"remove_after_report": "yes"})
        self.start()
        self.wait_alarms(1019, 1)
        self.root.wait_state("oom_watch", ("EXITED",), timeout=20)
        self.assertEqual(sorted(os.listdir(self.pstore)), ["dmesg-ramoops-1"])
        self.assertIn("dmesg-ramoops-0\t", read(self.state))

    def test_damaged_state_file_and_hostile_records(self):
        os.makedirs(os.path.dirname(self.state))
        with open(self.state, "w") as f:
            f.write("not our file\n")
        self.record("dmesg-ramoops-0", b"\x00\x01\x1b[2J" * 100 + PANIC.encode() + b"\xff" * 100)
        os.symlink("/etc/passwd", os.path.join(self.pstore, "dmesg-ramoops-9"))
        self.write_ini(sources={"pstore": "yes"})
        self.start()
        a = self.wait_alarms(1019, 1)
        self.root.wait_state("oom_watch", ("EXITED",), timeout=20)
        self.assertEqual(len(self.alarms(1019)), 1)
        self.assertEqual(a[0]["text"]["record"], "dmesg-ramoops-0")
        log = self.root.task_log("oom_watch")
        self.assertIn("records found now are reported again", log)
        self.assertIn("dmesg-ramoops-9", log)

    # ---- configuration -------------------------------------------------------------------------
    def test_bad_config_fails_the_task(self):
        self.write_ini(psi={"window_us": "100"}, memcg={"cgroups": "relative/x"})
        self.start()
        self.root.wait_state("oom_watch", ("FAILED", "EXITED"), timeout=20)
        res = self.root.ctl_json("get_result", "oom_watch")
        self.assertEqual(res["result"], "FAIL")
        details = json.dumps(res)
        for word in ("oom_watch.ini", "[psi] window_us = '100'", "[memcg] cgroups = 'relative/x'"):
            self.assertIn(word, details)

    def test_missing_sources_cost_only_themselves(self):
        self.write_ini(sources={"psi": "yes", "memcg": "yes", "oom_victim": "yes",
                                "pstore": "yes"},
                       memcg={"cgroups": "/nonexistent/cgroup"},
                       oom_victim={"tracefs": self.root.path("no-tracefs")},
                       pstore={"dir": self.root.path("no-pstore")})
        self.start()
        log = lambda: self.root.task_log("oom_watch")  # noqa: E731
        wait_for(lambda: "started:" in log(), 20, what="oom_watch started")
        res = self.root.ctl_json("get_result", "oom_watch")
        text = json.dumps(res)
        self.assertIn('"memcg": "off (not available here)"', text)
        self.assertIn('"oom_victim": "off (not available here)"', text)
        self.assertIn('"pstore": "off (not available here)"', text)
        if os.path.exists("/proc/pressure/memory"):
            self.assertIn('"psi": "on"', text)
            self.assertEqual(self.root.state("oom_watch"), "RUNNING")
        self.assertEqual(log().count("OOM victims off"), 1)


class MemcgV1Case:
    """A cgroup v1 memory cgroup with a small limit, removed at the end."""

    def __init__(self, test, limit):
        self.dir = os.path.join(MEMCG_V1, "sentry-oomtest-%d-%d" % (os.getpid(), time.monotonic_ns()
                                                                   % 100000))
        os.mkdir(self.dir)
        test.addCleanup(self.remove)
        self.write("memory.limit_in_bytes", str(limit))
        self.procs = []

    def write(self, name, value):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(value)

    def name(self):
        return "/" + os.path.basename(self.dir)

    def spawn(self, code):
        """A python process that enters the cgroup before it runs code."""
        pre = "import os\nopen(%r, 'w').write(str(os.getpid()))\n" % os.path.join(self.dir,
                                                                                 "cgroup.procs")
        p = subprocess.Popen([sys.executable, "-c", pre + code], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def remove(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for _ in range(50):
            try:
                os.rmdir(self.dir)
                return
            except OSError:
                time.sleep(0.1)


HOG = """
chunks = []
while True:
    b = bytearray(1 << 20)
    for i in range(0, len(b), 4096):
        b[i] = 1
    chunks.append(b)
"""

THRASH = """
import sys
path = sys.argv[1] if len(sys.argv) > 1 else %r
hold = bytearray(%d)
for i in range(0, len(hold), 4096):
    hold[i] = 1
while True:
    with open(path, 'rb', buffering=0) as f:
        while f.read(1 << 20):
            pass
"""


class OomWatchKernelTest(OomWatchBase):
    """Real memory pressure and a real OOM kill on this host (root, cgroup v1 memory)."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root (memory cgroups, PSI triggers, tracefs)")
        if not os.path.isdir(MEMCG_V1) or not os.path.exists(os.path.join(MEMCG_V1,
                                                                           "memory.oom_control")):
            self.skipTest("no cgroup v1 memory controller at %s" % MEMCG_V1)

    def tracefs_with_victim(self):
        """Mounts tracefs where it belongs if it is not; whether oom:mark_victim is there."""
        ev = os.path.join(TRACEFS, "events/oom/mark_victim/format")
        if not os.path.exists(os.path.join(TRACEFS, "events")) and os.path.isdir(TRACEFS):
            subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS], capture_output=True)
        return os.path.exists(ev)

    def test_memcg_v1_oom_kill(self):
        victim_event = self.tracefs_with_victim()
        cg = MemcgV1Case(self, 32 << 20)
        self.write_ini(sources={"memcg": "yes", "oom_victim": "yes"},
                       memcg={"cgroups": cg.dir, "poll_interval": "1"})
        self.start()
        wait_for(lambda: "started:" in self.root.task_log("oom_watch"), 20, what="started")
        hog = cg.spawn(HOG)
        hog.wait(60 * SLOW)
        self.assertEqual(hog.returncode, -signal.SIGKILL)
        kill = self.wait_alarms(1018, 1, cond=lambda t: t["event"] == "memcg_oom_kill")[0]
        self.assertEqual(kill["level"], "MAJOR")
        self.assertEqual(kill["key"], cg.name())
        self.assertEqual(kill["text"]["cgroup"], cg.name())
        self.assertEqual(kill["text"]["file"], "memory.oom_control")
        self.assertGreaterEqual(kill["text"]["killed"], 1)
        self.assertGreaterEqual(kill["text"]["counters"]["oom_kill"], 1)
        if not victim_event:
            self.skipTest("memcg kill reported; tracefs has no oom:mark_victim here, victim "
                          "alarm not checked")
        v = self.wait_alarms(1018, 1, cond=lambda t: t["event"] == "oom_victim")[0]
        self.assertEqual(v["text"]["pid"], hog.pid)
        self.assertEqual(v["text"]["fields"]["pid"], str(hog.pid))
        self.assertIn(v["text"]["comm"], ("python3", os.path.basename(sys.executable)[:15]))
        if v["text"]["cgroup"] is not None:
            self.assertEqual(v["text"]["cgroup"], cg.name())
        # the private instance is gone once the plugin stops
        self.root.ctl("stop", "oom_watch")
        self.root.wait_state("oom_watch", ("EXITED", "FAILED"), timeout=20)
        self.assertFalse(os.path.exists(os.path.join(TRACEFS, "instances/sentry_oom_watch")))

    def test_psi_trigger_fires_under_real_pressure(self):
        if not os.path.exists("/proc/pressure/memory"):
            self.skipTest("no /proc/pressure/memory (kernel without PSI)")
        data = self.root.path("thrash.bin")
        with open(data, "wb") as f:
            for _ in range(96):
                f.write(os.urandom(1 << 20))
            # out of the page cache: else the reader in the small cgroup hits the pages this
            # process wrote (charged here) and never has to reclaim
            f.flush()
            os.fsync(f.fileno())
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        cg = MemcgV1Case(self, 24 << 20)
        self.write_ini(sources={"psi": "yes", "memcg": "yes"},
                       psi={"some_stall_us": "5000", "full_stall_us": "0",
                            "window_us": "2000000"},
                       memcg={"cgroups": cg.dir, "poll_interval": "1"},
                       alarm={"rate_limit_interval": "3600"})
        self.start()
        wait_for(lambda: "started:" in self.root.task_log("oom_watch"), 20, what="started")
        self.assertIn("PSI trigger 'some 5000 2000000' on /proc/pressure/memory",
                      self.root.task_log("oom_watch"))
        # page cache thrashing in a small cgroup: reclaim and refaults stall the reader
        cg.spawn(THRASH % (data, 16 << 20))
        a = self.wait_alarms(1017, 1, timeout=60, cond=lambda t: t["event"] == "psi")[0]
        self.assertEqual(a["level"], "MINOR")
        self.assertEqual(a["key"], "/")
        self.assertEqual(a["text"]["cgroup"], "/")
        self.assertEqual(a["text"]["trigger"], "some 5000 2000000")
        some = a["text"]["pressure"]["some"]
        self.assertGreater(some["total_us"], 0)
        for k in ("avg10", "avg60", "avg300"):
            self.assertTrue(0 <= some[k] <= 100, some)
        # the rate limit: at most one alarm per cgroup per interval however long it thrashes
        time.sleep(3 * SLOW)
        self.assertEqual(len([x for x in self.alarms(1017) if x["text"]["event"] == "psi"]), 1)


if __name__ == "__main__":
    run()
