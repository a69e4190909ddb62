"""What an operator meets first: `sentryctl status` says why a task failed (the message of the
FAIL result it reported, and how its process ended) and shows the last lines of its log for its
last run; `sentryctl start` of a task that dies at once is an error, not "start task success";
one wording for "no such task" in every verb; members of the socket's group read, others are
told who may."""
import grp
import json
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SENTRYCTL, SLOW, SentryTestCase, run, wait_for  # noqa: E402

NOBODY = 65534
MESSAGE = "no disk to watch: disk vda has no bio stage"

# A plugin that fails the way the slow-io plugins do: it logs, reports FAIL with a message over
# the socket (as report_result() does), logs once more and exits 1. Each run numbers its lines.
FAILER = r'''
import json, os, socket, sys
count = os.path.join(os.path.dirname(os.path.abspath(__file__)), sys.argv[1] + ".count")
n = 1
if os.path.exists(count):
    with open(count) as f:
        n = int(f.read()) + 1
with open(count, "w") as f:
    f.write(str(n))
for i in range(15):
    print("run %d line %d" % (n, i))
print("esc \x1b[31mred\x1b[0m", flush=True)
sys.stdout.buffer.write(b"bad \xff\xfe utf8\n")
sys.stdout.flush()
details = json.loads(sys.argv[2])
if details is not None:
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.environ["SENTRY_SOCKET"])
    f = s.makefile("rw")
    f.write(json.dumps({"id": 1, "verb": "result", "task": os.environ["SENTRY_TASK_NAME"],
                        "result": "FAIL", "details": details}) + "\n")
    f.flush()
    f.readline()
print("run %d last line" % n, flush=True)
sys.exit(int(sys.argv[3]))
'''


class OperatorTestCase(SentryTestCase):
    def failer(self, name, details={"msg": MESSAGE}, status=1, **keys):
        script = self.root.path("failer.py")
        with open(script, "w") as f:
            f.write(FAILER)
        mod = dict(enabled="yes", type="oneshot", task_stop="kill $pid",
                   task_start="%s %s %s '%s' %d" % (sys.executable, script, name,
                                                    json.dumps(details), status))
        mod.update(keys)
        self.root.write_mod(name, **mod)

    def sleeper(self, name, seconds=30, **keys):
        mod = dict(enabled="yes", type="oneshot", task_stop="kill $pid",
                   task_start="/bin/sleep %s" % seconds)
        mod.update(keys)
        self.root.write_mod(name, **mod)


class StatusReasonTest(OperatorTestCase):
    def test_status_says_why_and_shows_the_last_run(self):
        self.failer("avg_block_io")
        self.failer("no_result", details=None, status=3)
        self.failer("details_only", details={"disk": "sda"})
        self.root.start()
        for name in ("avg_block_io", "no_result", "details_only"):
            self.root.ctl("start", name)
            self.root.wait_state(name, "FAILED")
        rc, out, err = self.root.ctl("status", "avg_block_io")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "avg_block_io: FAILED: %s (exited with status 1)" % MESSAGE)
        self.assertIn("status: FAILED", lines)
        # the log's last lines of that run, escaped, after a blank line
        tail = lines[lines.index("") + 1:]
        self.assertEqual(tail, ["run 1 line %d" % i for i in range(8, 15)] +
                         ["esc \\x1b[31mred\\x1b[0m", "bad \\xff\\xfe utf8", "run 1 last line"])
        self.assertNotIn("\x1b", out)
        # without a message: the details' text; without a FAIL result: the exit as before
        st = self.root.status("details_only")
        self.assertEqual(st["reason"], '{"disk":"sda"} (exited with status 1)')
        self.assertEqual(self.root.status("no_result")["reason"], "exited with status 3")
        rc, out, _ = self.root.ctl("status", "no_result")
        self.assertEqual(out.splitlines()[0], "no_result: FAILED: exited with status 3")
        # list shows the same reason
        _, out, _ = self.root.ctl("list")
        self.assertIn("%s (exited with status 1)" % MESSAGE, out)

        # a second run: the tail is its lines only, from its marker on
        self.root.ctl("start", "avg_block_io")
        wait_for(lambda: self.root.status("avg_block_io")["runs"] == 2, what="run 2")
        self.root.wait_state("avg_block_io", "FAILED")
        rc, out, _ = self.root.ctl("status", "avg_block_io", "--lines", "100")
        tail = out.splitlines()[out.splitlines().index("") + 1:]
        self.assertTrue(tail[0].startswith("-- sentryd: run 2 started at "), tail[0])
        self.assertEqual(tail[1:3], ["run 2 line 0", "run 2 line 1"])
        self.assertEqual(tail[-1], "run 2 last line")
        self.assertNotIn("run 1", out)
        # the file has both runs, each after its marker
        log = self.root.task_log("avg_block_io")
        self.assertLess(log.index("-- sentryd: run 1 started at "), log.index("run 1 line 0"))
        self.assertLess(log.index("run 1 last line"), log.index("-- sentryd: run 2 started at "))
        # -n 0: no log lines; -n N: N lines
        rc, out, _ = self.root.ctl("status", "avg_block_io", "-n", "0")
        self.assertNotIn("run 2", out)
        self.assertEqual(self.root.ctl_json("status", "avg_block_io", "-n", "2")["log_tail"],
                         ["bad \\xff\\xfe utf8", "run 2 last line"])
        rc, _, err = self.root.ctl("status", "avg_block_io", "-n", "x")
        self.assertEqual(rc, 2, err)

    def test_json_is_a_superset(self):
        self.failer("t")
        self.root.start()
        self.root.ctl("start", "t")
        st = self.root.wait_state("t", "FAILED")
        for key in ("name", "type", "enabled", "state", "phase", "reason", "last_run", "pid",
                    "runs", "start_time", "end_time", "interval", "heartbeat_interval", "onstart",
                    "alarm_id", "alarm_clear_time", "conflict", "user", "timeout", "task_start",
                    "task_stop", "mod_file", "warnings"):
            self.assertIn(key, st)
        self.assertEqual(st["last_run"], "exited with status 1")
        self.assertEqual(st["log_file"], os.path.join(self.root.log_dir, "t.log"))
        self.assertEqual(st["log_tail"][-1], "run 1 last line")
        self.assertEqual(len(st["log_tail"]), 10)
        # the raw protocol: lines is optional, bounded
        c = self.root.connect()
        self.assertEqual(len(c.call("status", task="t")["result"]["log_tail"]), 10)
        self.assertEqual(c.call("status", task="t", lines=0)["result"]["log_tail"], [])
        self.assertEqual(c.call("status", task="t", lines=100000)["error"]["code"], "EINVAL")
        c.close()

    def test_log_symlink_not_followed(self):
        self.sleeper("t", 0)
        self.root.start()
        secret = self.root.path("secret")
        with open(secret, "w") as f:
            f.write("do not show\n")
        os.symlink(secret, os.path.join(self.root.log_dir, "t.log"))
        st = self.root.status("t")
        self.assertEqual(st["log_tail"], [])
        self.assertIn("cannot read the log", st["log_error"])
        rc, out, _ = self.root.ctl("status", "t")
        self.assertEqual(rc, 0)
        self.assertNotIn("do not show", out)


class StartGraceTest(OperatorTestCase):
    def test_start_of_a_task_that_dies_at_once(self):
        self.failer("bad")
        self.failer("bad_period", type="period", interval="60")
        self.sleeper("good")
        self.sleeper("quick", 0)
        self.root.start()
        rc, out, err = self.root.ctl("start", "bad")
        self.assertEqual(rc, 1, out)
        self.assertEqual(out, "")
        self.assertEqual(err, "sentryctl: start: failed right after it started: FAILED: "
                         "%s (exited with status 1)\n" % MESSAGE)
        rc, out, err = self.root.ctl("--json", "start", "bad")
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(out)["error"]["code"], "ECHILD")
        # a period task: its run failed, it stays scheduled
        self.root.ctl("stop", "bad_period")
        rc, _, err = self.root.ctl("start", "bad_period")
        self.assertEqual(rc, 1)
        self.assertIn("failed right after it started: WAITING", err)
        self.assertIn(MESSAGE, err)
        # healthy tasks: the reference's words, with the real state
        rc, out, err = self.root.ctl("start", "good")
        self.assertEqual((rc, out), (0, "start task success (RUNNING)\n"), err)
        rc, out, err = self.root.ctl("start", "quick")
        self.assertEqual((rc, out), (0, "start task success (EXITED)\n"), err)

class LongGraceTest(OperatorTestCase):
    conf_extra = "[tasks]\nstart_grace_ms = 3000\n"

    def test_grace_does_not_block_sentryd(self):
        self.sleeper("good")
        self.root.start()
        t0 = time.monotonic()
        starter = subprocess.Popen([SENTRYCTL, "--socket", self.root.socket, "start", "good"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.root.wait_state("good", "RUNNING")
        # answered while the start still waits for its grace
        rc, out, _ = self.root.ctl("list")
        self.assertEqual(rc, 0)
        self.assertIsNone(starter.poll())
        out, err = starter.communicate(timeout=30 * SLOW)
        self.assertEqual(starter.returncode, 0, err)
        self.assertEqual(out, "start task success (RUNNING)\n")
        self.assertGreaterEqual(time.monotonic() - t0, 3.0)


class GraceEndTest(OperatorTestCase):
    def test_failure_after_the_grace_is_not_the_start(self):
        self.root.write_mod("late", enabled="yes", type="oneshot", task_stop="kill $pid",
                            task_start="/bin/sh -c 'sleep 1.5; exit 2'")
        self.root.start()
        rc, out, err = self.root.ctl("start", "late")
        self.assertEqual((rc, out), (0, "start task success (RUNNING)\n"), err)
        self.assertEqual(self.root.wait_state("late", "FAILED")["reason"], "exited with status 2")


class NoGraceTest(OperatorTestCase):
    conf_extra = "[tasks]\nstart_grace_ms = 0\n"

    def test_answer_at_spawn(self):
        self.failer("bad")
        self.root.start()
        rc, out, err = self.root.ctl("start", "bad")
        self.assertEqual((rc, out), (0, "start task success (RUNNING)\n"), err)
        self.root.wait_state("bad", "FAILED")


class NoSuchTaskTest(OperatorTestCase):
    def test_one_wording_everywhere(self):
        self.root.start()
        want = "cannot find task by name nosuch: task not exist"
        for verb in ("status", "start", "stop", "get_result", "get_alarm", "reload"):
            rc, out, err = self.root.ctl(verb, "nosuch")
            self.assertEqual(rc, 1, (verb, err))
            self.assertTrue(err.startswith("sentryctl: %s: %s" % (verb, want)), (verb, err))
            self.assertEqual(len(err.splitlines()), 1, err)
            rc, out, _ = self.root.ctl("--json", verb, "nosuch")
            error = json.loads(out)["error"]
            self.assertEqual(error["code"], "ENOENT", verb)
            self.assertTrue(error["message"].startswith(want), (verb, error))
        # scripts written for the reference find its words
        _, _, err = self.root.ctl("status", "nosuch")
        self.assertIn("status: cannot find task by name", err)
        for verb in ("start", "stop"):
            self.assertIn("task not exist", self.root.ctl(verb, "nosuch")[2])
        # reload keeps the reference's own reply after it
        self.assertIn("mod name invalid", self.root.ctl("reload", "nosuch")[2])
        # and the task-side verbs
        c = self.root.connect()
        for verb, args in (("result", {"result": "PASS"}), ("heartbeat", {})):
            reply = c.call(verb, task="nosuch", **args)
            self.assertEqual(reply["error"], {"code": "ENOENT", "message": want}, verb)
        # a client's name is escaped in the answer
        reply = c.call("status", task="x\x1b[2Jy")
        self.assertEqual(reply["error"]["message"],
                         "cannot find task by name x\\x1b[2Jy: task not exist")
        c.close()


def ctl_as(root, uid, groups, *args):
    """sentryctl as uid with exactly these supplementary groups: (rc, stdout, stderr)."""
    def drop():
        os.setgroups(groups)
        os.setgid(uid)
        os.setuid(uid)
    p = subprocess.run([SENTRYCTL, "--socket", root.socket] + list(args), capture_output=True,
                       text=True, timeout=60 * SLOW, preexec_fn=drop)
    return p.returncode, p.stdout, p.stderr


class GroupAccessTest(OperatorTestCase):
    conf_extra = "[control]\nsocket_group = users\n"

    def test_members_read_others_are_told(self):
        users = grp.getgrnam("users").gr_gid
        os.chmod(self.root.dir, 0o755)
        self.failer("t")
        self.root.start()
        self.root.ctl("start", "t")
        for path in (self.root.socket, self.root.path("var/run/xalarm/report"),
                     self.root.path("var/run/xalarm/alarm")):
            st = os.stat(path)
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o660, 0, users),
                             path)
        # a member of the group reads everything
        for args in (["list"], ["status", "t"], ["get_result", "t"], ["alarms"], ["stats"],
                     ["get_alarm", "t"]):
            rc, out, err = ctl_as(self.root, NOBODY, [users], *args)
            self.assertEqual(rc, 0, (args, err))
        rc, out, _ = ctl_as(self.root, NOBODY, [users], "status", "t")
        self.assertIn("run 1 last line", out)
        # and is told that mutating verbs need root
        for verb in ("start", "stop", "reload"):
            rc, out, err = ctl_as(self.root, NOBODY, [users], verb, "t")
            self.assertEqual(rc, 4, (verb, err))
            self.assertTrue(err.startswith("sentryctl: %s: permission denied: %s needs root"
                                           % (verb, verb)), err)
        # someone outside the group cannot open the socket, and is told who can
        for args in (["list"], ["start", "t"]):
            rc, out, err = ctl_as(self.root, NOBODY, [], *args)
            self.assertEqual(rc, 4, err)
            self.assertEqual(err, "sentryctl: permission denied: cannot open %s: only root and "
                             "members of group 'users' may use sentryd\n" % self.root.socket)
            self.assertNotIn("is sentryd running", err)
        rc, out, _ = ctl_as(self.root, NOBODY, [], "--json", "list")
        self.assertEqual((rc, json.loads(out)["error"]["code"]), (4, "EACCES"))
        # sentryd not running: exit 3 with the hint, as before
        self.root.stop()
        rc, _, err = ctl_as(self.root, NOBODY, [users], "list")
        self.assertEqual(rc, 3, err)
        self.assertIn("(is sentryd running?)", err)


class DefaultGroupTest(OperatorTestCase):
    def test_default_socket_group(self):
        self.root.start()
        st = os.stat(self.root.socket)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        try:
            sentry_gid = grp.getgrnam("sentry").gr_gid
        except KeyError:
            sentry_gid = None
        if sentry_gid is not None:
            self.assertEqual(st.st_gid, sentry_gid)
        else:
            # root only, and the log says how to open it to operators
            self.assertEqual(st.st_gid, 0)
            self.assertInLog("group 'sentry' does not exist")
            self.assertInLog("groupadd --system sentry")
            self.assertEqual(self.root.log().count("group 'sentry' does not exist"), 1)


if __name__ == "__main__":
    run()
