#!/usr/bin/env python3
"""vm.mem_rasdaemon: mem_sentry side by side with the distribution's rasdaemon (Debian 12:
0.6.8-1.1), in the lab, on the same injected events.

Both run in the same guest; the same N corrected memory machine checks are injected with
mce-inject (software injection, as in test_mem_sentry_lab.py), plus one madvise(MADV_HWPOISON)
memory failure, and three counts are compared: the kernel's own (a witness trace instance of the
test's), mem_sentry's (its result's counts and alarms) and rasdaemon's (the rows of its sqlite
database, `rasdaemon -f -r`).

What rasdaemon 0.6.8 does on Debian's 6.1 kernel, found in the lab and in its source
(github.com/mchehab/rasdaemon, tag v0.6.8):

- It records none of the machine checks. Not because of the CPU: it accepts the lab's CPU
  (AuthenticAMD family 15: "AMD K8 and derivates", ras-mce-handler.c detect_cpu(); with
  vendor=GenuineIntel: "Intel P4") and its mce:mce_record handler is enabled ("Enabled event
  mce:mce_record"). It creates its own trace instance (debugfs tracing/instances/rasdaemon,
  ras-events.c get_tracing_dir()) and waits for data with poll() on each CPU's
  per_cpu/cpuN/trace_pipe_raw (ras-events.c read_ras_event_all_cpus()). Since Linux 6.1
  ("tracing/ring-buffer: Have polling block on watermark", 42fb0a1e84ff) that poll waits until
  the CPU's buffer is buffer_percent full, 50 by default: half of the instance's 1408 KB per
  CPU, thousands of records, so a few machine checks stay unread in rasdaemon's instance
  (its per_cpu stats: entries N, read events 0) until it stops, and none reaches its log or
  its database. Upstream fixed it after 0.6.8 by writing 0 to the instance's buffer_percent
  before polling (commit 6986d81 "rasdaemon: Fix poll() on per_cpu trace_pipe_raw blocks
  indefinitely", first in v0.8.0); Debian's 0.6.8-1.1 has no such patch.
- Debian's build has no memory_failure handler (built without --enable-memory-failure): it never
  enables ras:memory_failure_event, and its database has no memory_failure_event table.

test_as_shipped asserts that behaviour, with its reason (the instance's buffer_percent, the
records waiting unread in it), so the test fails when a fixed rasdaemon records them;
test_with_buffer_percent_0 sets buffer_percent 0 on rasdaemon's instance before it starts, as
the upstream fix does, and then rasdaemon records all N, the same as the kernel and mem_sentry.

Run by ctest on the host (vm.mem_rasdaemon); labtest.main() boots the lab and runs this file in
it.
"""
import glob
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lib"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
import labtest  # noqa: E402
from sentry_harness import BUILD_DIR, SLOW, read, wait_for  # noqa: E402
import test_mem_sentry as ms  # noqa: E402
import test_mem_sentry_lab as msl  # noqa: E402  (a module: its test cases are not run here)

N = 20                      # corrected memory machine checks injected, one per page
FIRST_PFN = 0x40000
RASDAEMON = shutil.which("rasdaemon") or "/usr/sbin/rasdaemon"
# rasdaemon has no option for its database: it is always here (the guest is a throwaway)
RAS_DB = "/var/lib/rasdaemon/ras-mc_event.db"
# rasdaemon's trace instance: under the first debugfs mount (it does not use tracefs itself)
RAS_INSTANCE = os.path.join(msl.DEBUGFS, "tracing", "instances", "rasdaemon")

# a process that poisons a page of its own (no early kill: it is not killed) and exits
POISON = r"""
import mmap
m = mmap.mmap(-1, 4096)
m[0:5] = b"hello"
m.madvise(mmap.MADV_HWPOISON, 0, 4096)
"""


def instance_stats(instance):
    """Sum over the instance's CPUs of its per_cpu/cpuN/stats: entries (unread), read events."""
    entries = read_events = 0
    for path in glob.glob(os.path.join(instance, "per_cpu", "cpu*", "stats")):
        for line in read(path).splitlines():
            key, _, value = line.partition(":")
            if key == "entries":
                entries += int(value)
            elif key == "read events":
                read_events += int(value)
    return entries, read_events


def db_counts():
    """{table: rows} of rasdaemon's database; {} when there is none (yet)."""
    if not os.path.exists(RAS_DB):
        return {}
    con = sqlite3.connect("file:%s?mode=ro" % RAS_DB, uri=True, timeout=5)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: con.execute("select count(*) from %s" % t).fetchone()[0] for t in tables}
    finally:
        con.close()


class Rasdaemon:
    """`rasdaemon -f -r` in the guest: foreground, recording into RAS_DB; output in files."""

    def __init__(self, test, workdir):
        self.test = test
        self.out_path = os.path.join(workdir, "rasdaemon.out")
        self.err_path = os.path.join(workdir, "rasdaemon.err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([RASDAEMON, "-f", "-r"], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        test.addCleanup(self.stop)
        try:
            wait_for(lambda: "Recording mce_record events" in self.log()
                     or self.proc.poll() is not None, 60, what="rasdaemon listening")
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, self.log()))
        test.assertIsNone(self.proc.poll(), "rasdaemon exited:\n" + self.log())

    def log(self):
        return read(self.err_path)

    def printed(self):
        """The events it printed (one line each, on stdout)."""
        return [l for l in read(self.out_path).splitlines() if " mce_record: " in l]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class MemSentryVsRasdaemon(ms.MemSentryBase):
    def setUp(self):
        if not labtest.in_lab():
            self.skipTest("runs in the real-kernel lab only")
        if not os.access(RASDAEMON, os.X_OK):
            self.skipTest("rasdaemon is not installed (Debian: apt-get install rasdaemon; "
                          "scripts/install-deps.sh --test installs it)")
        super().setUp()
        msl.modprobe("mce-inject")
        self.witness = msl.Witness(self, ["mce/mce_record", "ras/memory_failure_event"])
        # a fresh database and a fresh instance, whatever an earlier test left
        shutil.rmtree(os.path.dirname(RAS_DB), ignore_errors=True)
        self.remove_instance()
        self.addCleanup(self.remove_instance)

    @staticmethod
    def remove_instance():
        try:
            os.rmdir(RAS_INSTANCE)
        except FileNotFoundError:
            pass

    def ini_defaults(self):
        d = super().ini_defaults()
        d["source"] = {"mount_tracefs": "yes"}
        d["thresholds"] = {"page": "2/24h", "row": "off", "dimm": "1000/24h", "socket": "off"}
        d["storm"] = {"threshold": "1000", "window": "1h"}
        d["meminfo"] = {"hardware_corrupted_limit_kb": "0"}
        return d

    def start_both(self):
        self.write_ini(offline={"action": "soft"})
        self.start()
        self.wait_started()
        src = self.details()["sources"]
        self.assertEqual(src["mce:mce_record"], "on", src)
        self.assertEqual(src["ras:memory_failure_event"], "on", src)
        return Rasdaemon(self, self.root.path("."))

    def inject_ces(self):
        for i in range(N):
            msl.inject(msl.STATUS_CE, (FIRST_PFN + i) * msl.PAGE)

    def wait_mem_sentry(self, corrected, memory_failures=0):
        def done():
            c = self.details()["counts"]
            return c["corrected"] >= corrected and c["uncorrected"] >= memory_failures
        wait_for(done, 60, what="%d corrected errors counted by mem_sentry" % corrected)
        time.sleep(1)  # anything more would be counted twice
        return self.details()["counts"]

    def check_sentry(self, counts):
        """What must hold for mem_sentry: it saw all N, as the kernel's witness did."""
        self.assertEqual(self.witness.count("mce_record"), N)
        self.assertEqual(counts["corrected"], N, "missed or counted twice")
        self.assertEqual(counts["lost"], 0)

    def summary(self, rasdaemon, reason):
        print("\nlab %s: %d MCEs injected; kernel %d, mem_sentry %d, rasdaemon %d (%s)"
              % (os.uname().release, N, self.witness.count("mce_record"),
                 self.details()["counts"]["corrected"], rasdaemon, reason), file=sys.stderr)

    def test_as_shipped(self):
        """rasdaemon as Debian ships it records none of the N machine checks (they wait unread
        in its instance: buffer_percent 50) and has no memory_failure handler; mem_sentry sees
        all N and the memory failure."""
        ras = self.start_both()
        log = ras.log()
        self.assertIn("Enabled event mce:mce_record", log)
        self.assertIn("Listening to events for cpus 0 to", log)   # its poll() loop
        self.assertNotIn("memory_failure", log, "Debian's 0.6.8 has no memory_failure handler")
        self.assertEqual(read(os.path.join(RAS_INSTANCE, "buffer_percent")).strip(), "50")
        self.assertEqual(read(os.path.join(RAS_INSTANCE, "events", "ras",
                                           "memory_failure_event", "enable")).strip(), "0")

        self.inject_ces()
        p = subprocess.run([sys.executable, "-c", POISON], capture_output=True, text=True,
                           timeout=60 * SLOW)
        self.assertEqual(p.returncode, 0, p.stderr)
        counts = self.wait_mem_sentry(N, memory_failures=1)
        self.check_sentry(counts)
        self.assertEqual(self.witness.count("memory_failure_event"), 1)
        self.event_alarms_memory_failure()

        # give rasdaemon the time mem_sentry needed and more: nothing comes
        time.sleep(5 * SLOW)
        entries, read_events = instance_stats(RAS_INSTANCE)
        self.assertEqual((entries, read_events), (N, 0),
                         "the N records should wait unread in rasdaemon's instance "
                         "(buffer_percent 50: its poll() does not wake)")
        self.assertEqual(ras.printed(), [])
        self.assertEqual(db_counts().get("mce_record"), 0)
        self.assertEqual(ras.stop(), 0, ras.log())
        self.assertIn("Recevied signal=15", ras.log())  # sic: 0.6.8's spelling
        self.assertNotIn("Old kernel detected", ras.log())
        tables = db_counts()
        recorded = tables.get("mce_record")
        self.assertEqual(recorded, 0, "rasdaemon recorded machine checks: %s\n%s"
                         % (tables, ras.log()))
        self.assertNotIn("memory_failure_event", tables)
        self.summary(recorded, "its instance's buffer_percent is 50: poll() on trace_pipe_raw "
                     "never woke, %d records left unread there; no memory_failure handler, "
                     "the kernel's 1 memory failure: mem_sentry 1, rasdaemon 0" % entries)

    def event_alarms_memory_failure(self):
        a = self.wait_alarms(1001, 1, timeout=60, cond=lambda t: t["event"] == "memory_failure")
        self.assertEqual(a[0]["level"], "CRITICAL")

    def test_with_buffer_percent_0(self):
        """With buffer_percent 0 set on its instance before it starts (what upstream's fix after
        0.6.8 does), rasdaemon records all N, as the kernel and mem_sentry."""
        os.mkdir(RAS_INSTANCE)     # rasdaemon takes an existing instance as its own
        msl.write(os.path.join(RAS_INSTANCE, "buffer_percent"), "0")
        ras = self.start_both()
        self.assertEqual(read(os.path.join(RAS_INSTANCE, "buffer_percent")).strip(), "0")
        self.inject_ces()
        counts = self.wait_mem_sentry(N)
        self.check_sentry(counts)
        try:
            wait_for(lambda: db_counts().get("mce_record", 0) >= N, 60,
                     what="%d machine checks recorded by rasdaemon" % N)
        except AssertionError as e:
            raise AssertionError("%s: %s\n%s" % (e, db_counts(), ras.log()))
        self.assertEqual(ras.stop(), 0, ras.log())
        recorded = db_counts()["mce_record"]
        self.assertEqual(recorded, N)
        self.assertEqual(len(ras.printed()), N)
        self.assertEqual(instance_stats(RAS_INSTANCE)[0], 0, "all read")
        self.summary(recorded, "buffer_percent 0 set on its instance before it started")


if __name__ == "__main__":
    labtest.main(mem="1G", cpus=2, timeout=600,
                 env={"SENTRY_BUILD_DIR": BUILD_DIR, "SENTRY_TEST_SLOWDOWN": "3"})
