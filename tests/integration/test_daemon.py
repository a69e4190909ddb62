"""sentryd as a service: one instance per root, sd_notify READY/STATUS/STOPPING/WATCHDOG,
SIGTERM stops the tasks before exiting, SIGHUP reloads every task, sentryd.conf validation,
and authorization by SO_PEERCRED (non-root peers may read, never control)."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SENTRYD, SentryRoot, SentryTestCase, read, run, wait_for  # noqa

NOBODY = 65534


def mod_keys(**extra):
    keys = dict(enabled="yes", type="oneshot", task_start="/bin/sleep 30", task_stop="kill $pid")
    keys.update(extra)
    return keys


class DaemonTest(SentryTestCase):
    def test_second_instance_refused(self):
        first = self.root.start()
        p = subprocess.run([SENTRYD, "--config", self.root.conf], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(p.returncode, 17)
        self.assertIn("another sentryd (pid %d) already runs" % first.pid, p.stderr)
        self.assertIsNone(first.poll())
        self.assertEqual(self.root.ctl("list")[0], 0)

    def test_sigterm_stops_tasks_and_runs_post(self):
        marks = self.root.path("post.mark")
        self.root.write_mod("runner", **mod_keys(task_post="/bin/touch %s" % marks))
        self.root.write_mod("per", **mod_keys(type="period", interval="60",
                                              task_start="/bin/true",
                                              task_post="/bin/touch %s.per" % marks))
        self.root.start()
        self.root.ctl("start", "runner")
        pid = self.root.status("runner")["pid"]
        self.root.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.root.proc.wait(30), 0)
        self.assertFalse(os.path.exists("/proc/%d" % pid), "task process gone")
        self.assertTrue(os.path.exists(marks), "task_post ran")
        self.assertTrue(os.path.exists(marks + ".per"), "waiting period task's post ran")
        self.assertIn("STOPPING=1", self.root.read_notify())
        self.assertFalse(os.path.exists(self.root.socket), "socket removed")

    def test_notify_status_and_watchdog(self):
        self.root.write_mod("a", **mod_keys())
        self.root.start(env_extra={"WATCHDOG_USEC": "200000"})
        wait_for(lambda: self.root.read_notify().count("WATCHDOG=1") >= 3, timeout=5,
                 what="watchdog pings")
        status = [m for m in self.root.read_notify() if m.startswith("STATUS=")]
        self.assertIn("STATUS=1 task(s), 0 running", status)

    def test_no_wakeups_when_idle(self):
        # With nothing scheduled sentryd sleeps: its CPU time does not grow.
        for i in range(10):
            self.root.write_mod("idle%d" % i, **mod_keys())
        self.root.start()
        time.sleep(0.5)

        def switches():
            text = read("/proc/%d/status" % self.root.proc.pid)
            return sum(int(l.split()[1]) for l in text.splitlines()
                       if l.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))
        before = switches()
        time.sleep(3)
        self.assertLessEqual(switches() - before, 1)

    def test_sighup_reloads_all(self):
        self.root.write_mod("keep", **mod_keys())
        self.root.write_mod("gone", **mod_keys())
        self.root.start()
        self.root.ctl("start", "gone")
        pid = self.root.status("gone")["pid"]
        os.unlink(os.path.join(self.root.tasks_dir, "gone.mod"))
        self.root.write_mod("fresh", **mod_keys(onstart="yes"))
        self.root.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "fresh" in self.root.ctl("list")[1], what="new task loaded")
        self.root.wait_state("fresh", "RUNNING")
        wait_for(lambda: "gone" not in self.root.ctl("list")[1], what="removed task dropped")
        wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                 read("/proc/%d/stat" % pid).split()[2] == "Z", what="removed task stopped")
        self.assertIn("keep", self.root.ctl("list")[1])
        # sentryctl reload without a task does the same
        os.unlink(os.path.join(self.root.tasks_dir, "keep.mod"))
        rc, out, _ = self.root.ctl("reload")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("keep", self.root.ctl("list")[1])

    def test_missing_explicit_config(self):
        p = subprocess.run([SENTRYD, "--config", self.root.path("nope.conf")], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("nope.conf", p.stderr)

    def test_help_and_bad_options(self):
        p = subprocess.run([SENTRYD, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--root DIR", p.stdout)
        p = subprocess.run([SENTRYD, "--bogus"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([SENTRYD, "--root", "relative"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)


class LockMemoryTest(SentryTestCase):
    """[daemon] lock_memory: sentryd's pages stay in RAM (it relays OOM notices while the node
    is out of memory; tests/vm/test_pooled_memory_lab.py shows why)."""

    def locked_kb(self):
        with open("/proc/%d/status" % self.root.proc.pid) as f:
            return int(next(l for l in f if l.startswith("VmLck:")).split()[1])

    def test_locked_by_default(self):
        self.root.start()
        if "lock_memory: not under AddressSanitizer" in self.root.log():
            # a sanitizer build says so and locks nothing: its shadow memory cannot be locked
            self.assertEqual(self.locked_kb(), 0)
            return
        self.assertNotIn("lock_memory: cannot lock", self.root.log())
        with open("/proc/%d/status" % self.root.proc.pid) as f:
            rss = int(next(l for l in f if l.startswith("VmRSS:")).split()[1])
        self.assertGreaterEqual(self.locked_kb(), rss, "everything resident is locked")
        self.assertIn("lock_memory: sentryd's memory is locked", self.root.log())

    def test_off(self):
        with open(self.root.conf, "a") as f:
            f.write("[daemon]\nlock_memory = no\n")
        self.root.start()
        self.assertEqual(self.locked_kb(), 0)


class ConfigWarningsTest(SentryTestCase):
    conf_extra = ("[tasks]\ndefault_interval = soon\nstop_timeout = 0\n"
                  "[control]\nsocket_mode = 9999\n[paths]\nlog_dir = relative/dir\n"
                  "[bogus]\nx = 1\n[daemon]\ncolour = red\n")

    def test_bad_values_named(self):
        self.root.write_mod("p", **mod_keys(type="period", task_start="/bin/true"))
        self.root.start()
        log = self.root.log()
        for text in ("[tasks] default_interval = 'soon': out of range or not a number; using 3",
                     "[tasks] stop_timeout = '0'",
                     "[control] socket_mode = '9999': must be an octal mode",
                     "[paths] log_dir = 'relative/dir': must be an absolute path",
                     "unknown section [bogus] x",
                     "unknown key [daemon] colour"):
            self.assertIn(self.root.conf + ": " + text if text.startswith("[") else text, log)
        self.assertEqual(self.root.status("p")["interval"], 3)


class PermissionTest(SentryTestCase):
    conf_extra = "[control]\nsocket_mode = 0666\n"

    def test_non_root_reads_but_cannot_control(self):
        os.chmod(self.root.dir, 0o755)
        self.root.write_mod("t", **mod_keys())
        self.root.write_mod("mine", **mod_keys(user="nobody",
                                               task_start="/bin/sleep 30"))
        self.root.start()
        rc, out, err = self.root.ctl("list", user=NOBODY)
        self.assertEqual(rc, 0, err)
        self.assertIn("t", out)
        for verb in ("start", "stop", "reload"):
            rc, out, err = self.root.ctl(verb, "t", user=NOBODY)
            self.assertEqual(rc, 4, (verb, out, err))
            self.assertIn("sentryctl: %s: permission denied: %s needs root" % (verb, verb), err)
        # a task reports for itself only: nobody may report for "mine", not for "t"
        code = ("import json,socket,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);"
                "f=s.makefile('rw');"
                "[f.write(json.dumps({'id':i,'verb':'result','task':t,'result':'PASS'})+'\\n') "
                "for i,t in enumerate(('mine','t'))];f.flush();"
                "print(f.readline().strip());print(f.readline().strip())")
        p = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                            "--clear-groups", sys.executable, "-c", code, self.root.socket],
                           capture_output=True, text=True, timeout=20)
        lines = p.stdout.splitlines()
        self.assertIn('"ok":true', lines[0], p.stderr)
        self.assertIn('"EPERM"', lines[1])
        # user= runs the task as that user
        self.root.ctl("start", "mine")
        pid = self.root.status("mine")["pid"]
        uid_line = [l for l in read("/proc/%d/status" % pid).splitlines() if l.startswith("Uid:")]
        self.assertEqual(uid_line[0].split()[1:], [str(NOBODY)] * 4)


if __name__ == "__main__":
    run()
