"""Task lifecycle through sentryctl: the reference selftest scenarios (normal, start/stop
exceptions, heartbeat, period, reload, type change, long and invalid names, symlinks, env
files) with sentry's exit codes, plus pre/post sessions, conflicts and kill -9."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SentryTestCase, read, run, wait_for, SLOW  # noqa: E402

SLEEP = "/bin/sleep"


class TaskLifecycleTest(SentryTestCase):
    def mod(self, name, **keys):
        base = dict(enabled="yes", type="oneshot", task_start="%s 30" % SLEEP,
                    task_stop="kill $pid")
        base.update(keys)
        return self.root.write_mod(name, **base)

    def test_normal(self):
        self.mod("test_normal", task_start="%s 10" % SLEEP)
        self.root.start()
        rc, out, _ = self.root.ctl("list")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"test_normal\s+oneshot\s+EXITED")
        rc, out, _ = self.root.ctl("start", "test_normal")
        self.assertEqual(rc, 0, out)
        self.assertIn("start task success", out)
        self.assertEqual(self.root.state("test_normal"), "RUNNING")
        rc, out, err = self.root.ctl("start", "test_normal")
        self.assertEqual(rc, 1)
        self.assertIn("task is running, please wait", err)
        rc, out, _ = self.root.ctl("stop", "test_normal")
        self.assertEqual(rc, 0)
        st = self.root.status("test_normal")
        self.assertEqual(st["state"], "FAILED")
        self.assertIn("SIGTERM", st["reason"])
        rc, out, _ = self.root.ctl("stop", "test_normal")
        self.assertEqual(rc, 0)
        self.assertIn("task already stopped", out)

    def test_daemon_not_running(self):
        for args in (["list"], ["status", "x"], ["start", "x"], ["stop", "x"], ["reload", "x"],
                     ["get_result", "x"]):
            rc, out, err = self.root.ctl(*args)
            self.assertEqual(rc, 3, args)
            self.assertEqual(out, "")
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertIn("cannot connect to sentryd", err)

    def test_usage_errors(self):
        self.root.start()
        rc, _, err = self.root.ctl("frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn("unknown command 'frobnicate'", err)
        rc, _, err = self.root.ctl("status", "a", "b")
        self.assertEqual(rc, 2)
        self.assertIn("unrecognized arguments", err)
        rc, _, err = self.root.ctl("status")
        self.assertEqual(rc, 2)
        rc, out, _ = self.root.ctl("start", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("Usage: sentryctl start TASK", out)

    def test_start_command_invalid(self):
        self.mod("test_start_exc", task_start="/nonexistent/prog --x")
        self.root.start()
        rc, _, err = self.root.ctl("start", "test_start_exc")
        self.assertEqual(rc, 1)
        self.assertIn("start command is invalid, popen failed", err)
        st = self.root.status("test_start_exc")
        self.assertEqual(st["state"], "FAILED")
        self.assertIn("No such file or directory", st["reason"])
        res = self.root.ctl_json("get_result", "test_start_exc")
        self.assertEqual(res["result"], "FAIL")

    def test_stop_command_invalid(self):
        self.mod("test_end_exc", task_stop="/nonexistent/stopper $pid")
        self.root.start()
        self.assertEqual(self.root.ctl("start", "test_end_exc")[0], 0)
        rc, _, err = self.root.ctl("stop", "test_end_exc")
        self.assertEqual(rc, 1)
        self.assertIn("stop command could not be started", err)
        self.assertInLog("stop Popen failed")
        self.assertEqual(self.root.state("test_end_exc"), "RUNNING")

    def test_kill9_oneshot_is_failed_with_signal(self):
        self.mod("victim")
        self.root.start()
        self.root.ctl("start", "victim")
        pid = self.root.status("victim")["pid"]
        os.kill(pid, signal.SIGKILL)
        st = self.root.wait_state("victim", "FAILED")
        self.assertEqual(st["reason"], "killed by signal 9 (SIGKILL)")
        # restart works, then the task ends on its own
        self.mod("victim", task_start="%s 0.3" % SLEEP)
        self.root.ctl("reload", "victim")
        self.assertEqual(self.root.ctl("start", "victim")[0], 0)
        self.root.wait_state("victim", "EXITED")

    def test_type_oneshot(self):
        self.mod("test_type_oneshot", task_start="%s 2" % SLEEP)
        self.root.start()
        self.root.ctl("start", "test_type_oneshot")
        self.assertEqual(self.root.state("test_type_oneshot"), "RUNNING")
        self.root.ctl("stop", "test_type_oneshot")
        self.assertEqual(self.root.state("test_type_oneshot"), "FAILED")
        self.root.ctl("start", "test_type_oneshot")
        os.kill(self.root.status("test_type_oneshot")["pid"], signal.SIGTERM)
        self.root.wait_state("test_type_oneshot", "FAILED")
        self.root.ctl("start", "test_type_oneshot")
        self.assertEqual(self.root.state("test_type_oneshot"), "RUNNING")
        self.root.wait_state("test_type_oneshot", "EXITED", timeout=10)

    def test_period_runs_and_waits(self):
        # interval 2, each run 0.5 s: at least 4 runs in 10 s, WAITING between runs.
        self.mod("tick", type="period", interval="2", task_start="%s 0.5" % SLEEP)
        self.root.start()
        seen = set()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 * SLOW:
            seen.add(self.root.state("tick"))
            time.sleep(0.1)
        st = self.root.status("tick")
        self.assertGreaterEqual(st["runs"], 4, st)
        self.assertIn("WAITING", seen)
        self.assertIn("RUNNING", seen)
        rc, out, _ = self.root.ctl("stop", "tick")
        self.assertEqual(rc, 0)
        st = self.root.wait_state("tick", ("EXITED", "FAILED"))
        runs = st["runs"]
        time.sleep(2.5)
        self.assertEqual(self.root.status("tick")["runs"], runs, "runs after stop")

    def test_period_kill_goes_on_waiting(self):
        self.mod("per", type="period", interval="1", task_start="%s 30" % SLEEP)
        self.root.start()
        st = self.root.wait_state("per", "RUNNING")
        os.kill(st["pid"], signal.SIGKILL)
        st = self.root.wait_state("per", ("WAITING", "RUNNING"))
        wait_for(lambda: "SIGKILL" in (self.root.status("per")["last_run"] or ""),
                 what="last_run names the signal")
        self.root.wait_state("per", "RUNNING", timeout=5)
        self.root.ctl("stop", "per")
        self.assertEqual(self.root.state("per"), "FAILED")

    def test_period_without_onstart_is_exited(self):
        self.mod("lazy", type="period", interval="1", onstart="no", task_start="/bin/true")
        self.root.start()
        self.assertEqual(self.root.state("lazy"), "EXITED")
        time.sleep(1.5)
        self.assertEqual(self.root.status("lazy")["runs"], 0)

    def test_interval_invalid(self):
        self.mod("test_interval", type="period", interval="-1", task_start="%s 30" % SLEEP)
        self.root.start()
        self.assertInLog("period delay is invalid")
        st = self.root.wait_state("test_interval", "RUNNING")
        self.assertEqual(st["interval"], 3)
        self.root.ctl("stop", "test_interval")
        self.assertEqual(self.root.state("test_interval"), "FAILED")

    def test_heartbeat_invalid_means_no_heartbeat(self):
        self.mod("test_hb_exc", heartbeat_interval="-1", task_start="%s 2" % SLEEP)
        self.root.start()
        self.assertInLog("heartbeat interval -1 is invalid")
        self.root.ctl("start", "test_hb_exc")
        self.assertEqual(self.root.state("test_hb_exc"), "RUNNING")
        self.root.wait_state("test_hb_exc", "EXITED", timeout=10)

    def test_heartbeat_lost_fails_and_stops(self):
        script = self.root.path("hb.py")
        with open(script, "w") as f:
            f.write(HEARTBEAT_SCRIPT)
        self.mod("hb", heartbeat_interval="2", task_start="%s %s 3" % (sys.executable, script))
        self.root.start()
        self.root.ctl("start", "hb")
        pid = self.root.status("hb")["pid"]
        # It heartbeats every 0.5 s for 3 s: still RUNNING at 3.5 s.
        time.sleep(3.2)
        self.assertEqual(self.root.state("hb"), "RUNNING")
        wait_for(lambda: os.path.exists(self.root.path("hb.stopped")), what="heartbeats end")
        t_last = os.stat(self.root.path("hb.stopped")).st_mtime
        st = self.root.wait_state("hb", "FAILED", timeout=6)
        elapsed = time.time() - t_last
        self.assertLessEqual(elapsed, (2 + 1) * SLOW + 0.5, "FAILED within interval + 1 s")
        self.assertIn("heartbeat lost", st["reason"])
        wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                 open("/proc/%d/stat" % pid).read().split()[2] == "Z", what="process stopped")
        self.assertInLog("heartbeat timeout")

    def test_reload_type_change_refused(self):
        self.mod("test_type_change")
        self.root.start()
        self.mod("test_type_change", type="period")
        rc, _, err = self.root.ctl("reload", "test_type_change")
        self.assertEqual(rc, 1)
        self.assertIn("type of mod is different from old type, reload failed", err)
        self.assertEqual(self.root.status("test_type_change")["type"], "oneshot")

    def test_reload_interval(self):
        self.mod("test_reload", type="period", interval="20", task_start="%s 1" % SLEEP)
        self.root.start()
        self.root.ctl("stop", "test_reload")
        # runs of 2 s: the start answers after its 1 s grace, while the first run still runs
        self.mod("test_reload", type="period", interval="3", task_start="%s 2" % SLEEP)
        rc, out, _ = self.root.ctl("reload", "test_reload")
        self.assertEqual(rc, 0, out)
        self.root.ctl("start", "test_reload")
        self.assertEqual(self.root.state("test_reload"), "RUNNING")
        self.root.wait_state("test_reload", "WAITING", timeout=5)
        self.root.wait_state("test_reload", "RUNNING", timeout=5)
        self.assertEqual(self.root.status("test_reload")["runs"], 3)  # onstart run, then two

    def test_long_names(self):
        name251 = "a" * 251
        self.root.start()
        rc, _, err = self.root.ctl("status", "b" * 256)
        self.assertEqual(rc, 1)
        self.assertIn("cannot find task by name", err)
        rc, _, err = self.root.ctl("status", "b" * 257)
        self.assertEqual(rc, 2)
        self.assertIn("task name is longer than 256", err)
        self.mod(name251)
        rc, out, err = self.root.ctl("reload", name251)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.root.state(name251), "EXITED")

    def test_modname_valid(self):
        self.mod("this is a1122+#modname")
        self.mod("this_is_a1122_modname")
        self.root.start()
        _, out, _ = self.root.ctl("list")
        self.assertNotIn("this is a1122+#modname", out)
        self.assertIn("this_is_a1122_modname", out)
        self.assertInLog("mod name invalid: this is a1122+#modname.mod")

    def test_symlinked_mod_refused(self):
        real = self.mod("real_task")
        os.symlink(real, os.path.join(self.root.tasks_dir, "linked.mod"))
        self.root.start()
        _, out, _ = self.root.ctl("list")
        self.assertIn("real_task", out)
        self.assertNotIn("linked", out)
        self.assertInLog("linked.mod")
        rc, _, err = self.root.ctl("reload", "linked")
        self.assertEqual(rc, 1)
        self.assertIn("mod name invalid", err)

    def test_type_invalid(self):
        self.mod("test_type_exception", type="aaa")
        self.root.start()
        self.assertInLog("test_type_exception load failed")
        rc, _, err = self.root.ctl("status", "test_type_exception")
        self.assertEqual(rc, 1)
        self.assertIn("cannot find task by name", err)
        for verb in ("start", "stop"):
            rc, _, err = self.root.ctl(verb, "test_type_exception")
            self.assertEqual(rc, 1)
            self.assertIn("task not exist", err)

    def test_disabled_task(self):
        self.mod("off", enabled="no")
        self.root.start()
        _, out, _ = self.root.ctl("list")
        self.assertNotIn("off", out)
        _, out, _ = self.root.ctl("list", "--all")
        self.assertIn("off", out)
        rc, _, err = self.root.ctl("start", "off")
        self.assertEqual(rc, 1)
        self.assertIn("mod is not enabled", err)

    def test_env_file(self):
        env = self.root.path("task.env")
        with open(env, "w") as f:
            f.write('# comment\nFOO="bar baz"\nnot a line\nEMPTY_OK=1\n')
        out = self.root.path("env.out")
        self.mod("envtask", env_file=env, task_start="/bin/sh -c 'env > %s'" % out)
        self.mod("noenv", env_file="/nonexistent/x.env", task_start="/bin/true")
        self.root.start()
        self.assertInLog("env_file '/nonexistent/x.env' does not exist")
        self.root.ctl("start", "envtask")
        self.root.wait_state("envtask", "EXITED")
        text = read(out)
        self.assertIn("FOO=bar baz\n", text)
        self.assertIn("SENTRY_TASK_NAME=envtask\n", text)
        self.assertIn("SENTRY_SOCKET=%s\n" % self.root.socket, text)
        # libxalarm in a task finds this sentryd's xalarm sockets, under its root
        self.assertIn("SENTRY_XALARM_DIR=%s\n" % self.root.path("var/run/xalarm"), text)
        self.assertNotIn("NOTIFY_SOCKET", text)
        self.assertEqual(self.root.ctl("start", "noenv")[0], 0)

    def test_output_goes_to_task_log(self):
        self.mod("talker", task_start="/bin/sh -c 'echo out-line; echo err-line >&2'")
        self.root.start()
        self.root.ctl("start", "talker")
        self.root.wait_state("talker", "EXITED")
        wait_for(lambda: "err-line" in self.root.task_log("talker"))
        self.assertIn("out-line", self.root.task_log("talker"))
        mode = os.stat(os.path.join(self.root.log_dir, "talker.log")).st_mode & 0o777
        self.assertEqual(mode, 0o600)

    def test_pre_and_post(self):
        marks = self.root.path("marks")
        self.mod("hooks", task_start="/bin/sh -c 'echo main >> %s'" % marks,
                 task_pre="/bin/sh -c 'echo pre1 >> %s'; /bin/sh -c 'echo pre2 >> %s'" % (marks, marks),
                 task_post="/bin/sh -c 'echo post >> %s'" % marks)
        self.mod("badpre", task_pre="/bin/false", task_post="/bin/sh -c 'echo badpost >> %s'" % marks)
        self.root.start()
        self.assertEqual(self.root.ctl("start", "hooks")[0], 0)
        self.root.wait_state("hooks", "EXITED")
        wait_for(lambda: "post" in read(marks))
        self.assertEqual(read(marks).split(), ["pre1", "pre2", "main", "post"])
        rc, _, err = self.root.ctl("start", "badpre")
        self.assertEqual(rc, 1)
        self.assertIn("task pre cmd failed", err)
        st = self.root.status("badpre")
        self.assertEqual(st["state"], "FAILED")
        self.assertIn("/bin/false", st["reason"])
        wait_for(lambda: "badpost" in read(marks), what="post after failed pre")

    def test_conflict(self):
        other = __import__("subprocess").Popen([SLEEP, "77.5"])
        self.addCleanup(other.wait)
        self.addCleanup(other.kill)
        self.mod("down", task_start="%s 77.5" % SLEEP, conflict="down")
        self.mod("killer", task_start="%s 77.5" % SLEEP, conflict="kill")
        self.root.start()
        rc, _, err = self.root.ctl("start", "down")
        self.assertEqual(rc, 1)
        self.assertIn("check conflict failed", err)
        self.assertEqual(self.root.ctl("start", "killer")[0], 0)
        self.assertEqual(other.wait(5), -signal.SIGTERM)

    def test_kill_after_stop_timeout(self):
        # A task that ignores SIGTERM is killed after stop_timeout.
        self.mod("stubborn", stop_timeout="1",
                 task_start="/bin/sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'",
                 task_stop="kill $pid")
        self.root.start()
        self.root.ctl("start", "stubborn")
        t0 = time.monotonic()
        rc, out, _ = self.root.ctl("stop", "stubborn")
        self.assertEqual(rc, 0)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        st = self.root.status("stubborn")
        self.assertEqual(st["state"], "FAILED")
        self.assertIn("SIGKILL", st["reason"])

    def test_run_timeout(self):
        self.mod("slowpoke", timeout="1")
        self.root.start()
        self.root.ctl("start", "slowpoke")
        st = self.root.wait_state("slowpoke", "FAILED", timeout=5)
        self.assertIn("timed out", st["reason"])

    def test_onstart_oneshot(self):
        self.mod("early", onstart="yes", task_start="%s 30" % SLEEP)
        self.root.start()
        self.root.wait_state("early", "RUNNING")


HEARTBEAT_SCRIPT = r'''
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["SENTRY_SOCKET"])
f = s.makefile("rw")
end = time.monotonic() + float(sys.argv[1])
i = 0
while time.monotonic() < end:
    i += 1
    f.write(json.dumps({"id": i, "verb": "heartbeat", "task": os.environ["SENTRY_TASK_NAME"]}) + "\n")
    f.flush()
    reply = json.loads(f.readline())
    assert reply["ok"], reply
    time.sleep(0.5)
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "hb.stopped"), "w").close()
time.sleep(60)
'''

if __name__ == "__main__":
    run()
