"""The .mod validation tables of the reference (selftest "mod validation tests"): every bad
value is reported with the file, the key and the value, gets its default, and never stops
sentryd; the task stays usable (start -> RUNNING, stop -> FAILED)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SentryTestCase, run  # noqa: E402

# (key, value, expected message part, expected status field, expected value)
ROWS = [
    ("alarm_id", "abcd", "alarm_id must be an integer, got 'abcd'", "alarm_id", None),
    ("alarm_id", " ", None, "alarm_id", None),  # blank: checked in test_rows
    ("alarm_id", "0x10", "alarm_id must be an integer, got '0x10'", "alarm_id", None),
    ("alarm_id", "12.5", "alarm_id must be an integer, got '12.5'", "alarm_id", None),
    ("alarm_id", "-1", "alarm_id must be in [1001, 1128], got '-1'", "alarm_id", None),
    ("alarm_id", "0", "alarm_id must be in [1001, 1128], got '0'", "alarm_id", None),
    ("alarm_id", "1", "alarm_id must be in [1001, 1128], got '1'", "alarm_id", None),
    ("alarm_id", "1000", "alarm_id must be in [1001, 1128], got '1000'", "alarm_id", None),
    ("alarm_id", "1129", "alarm_id must be in [1001, 1128], got '1129'", "alarm_id", None),
    ("alarm_id", "10000", "alarm_id must be in [1001, 1128], got '10000'", "alarm_id", None),
    ("alarm_id", " 1002 ", None, "alarm_id", 1002),
    ("conflict", "abcd", "conflict must be one of 'up', 'down', 'kill', got 'abcd'", "conflict", "up"),
    ("conflict", "0x10", "conflict must be one of 'up', 'down', 'kill', got '0x10'", "conflict", "up"),
    ("conflict", "UP", "conflict must be one of 'up', 'down', 'kill', got 'UP'", "conflict", "up"),
    ("conflict", "Up", "got 'Up'", "conflict", "up"),
    ("conflict", "uP", "got 'uP'", "conflict", "up"),
    ("conflict", "kill", None, "conflict", "kill"),
    ("heartbeat_interval", "abc", "heartbeat interval is invalid: heartbeat_interval = 'abc'",
     "heartbeat_interval", 0),
    ("heartbeat_interval", "0", "heartbeat interval 0 is invalid", "heartbeat_interval", 0),
    ("heartbeat_interval", "7", None, "heartbeat_interval", 7),
    ("timeout", "-3", "timeout = '-3': must be an integer >= 0", "timeout", 0),
]

CLEAR_TIME_ROWS = [
    ("-1", "alarm_clear_time must be a positive integer, got '-1'", 15),
    ("-100", "alarm_clear_time must be a positive integer, got '-100'", 15),
    ("abcd", "alarm_clear_time must be an integer, got 'abcd'", 15),
    ("0x10", "alarm_clear_time must be an integer, got '0x10'", 15),
    ("-1a", "alarm_clear_time must be an integer, got '-1a'", 15),
    ("", "alarm_clear_time not set, use 15 as default", 15),
    ("\t", "alarm_clear_time not set, use 15 as default", 15),
    ("0", None, 0),
    ("30", None, 30),
]


class ModValidationTest(SentryTestCase):
    def write(self, name, **extra):
        keys = dict(enabled="yes", type="oneshot", task_start="/bin/sleep 30",
                    task_stop="kill $pid")
        keys.update(extra)
        return self.root.write_mod(name, **keys)

    def usable(self, name):
        rc, out, err = self.root.ctl("start", name)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.root.state(name), "RUNNING")
        rc, out, err = self.root.ctl("stop", name)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.root.state(name), "FAILED")

    def test_rows(self):
        names = []
        for i, (key, value, msg, field, expect) in enumerate(ROWS):
            name = "row%02d" % i
            names.append((name, key, value, msg, field, expect))
            self.write(name, **{key: value})
        self.root.start()
        log = self.root.log()
        for name, key, value, msg, field, expect in names:
            path = os.path.join(self.root.tasks_dir, name + ".mod")
            st = self.root.status(name)
            self.assertEqual(st[field], expect, (name, key, value))
            if msg:
                lines = [l for l in log.splitlines() if path in l and msg in l]
                self.assertTrue(lines, "no message naming %s with %r" % (path, msg))
                self.assertIn(key.split("_")[0], lines[0])
        # a blank alarm_id is "not an integer" too (inih strips it to '')
        self.assertIn("mod row01: alarm_id must be an integer, got ''", log)
        self.assertIsNone(self.root.proc.poll(), "sentryd still runs")
        self.usable("row00")
        self.usable("row13")

    def test_alarm_clear_time(self):
        for i, (value, msg, expect) in enumerate(CLEAR_TIME_ROWS):
            self.write("clr%d" % i, alarm_id="1002", alarm_clear_time=value)
        self.root.start()
        log = self.root.log()
        for i, (value, msg, expect) in enumerate(CLEAR_TIME_ROWS):
            st = self.root.status("clr%d" % i)
            self.assertEqual(st["alarm_id"], 1002)
            self.assertEqual(st["alarm_clear_time"], expect, value)
            if msg:
                path = os.path.join(self.root.tasks_dir, "clr%d.mod" % i)
                self.assertTrue([l for l in log.splitlines() if path in l and msg in l],
                                "missing %r for %s" % (msg, path))
        self.usable("clr0")

    def test_env_file_invalid(self):
        self.write("envmiss", env_file="/nonexistent/dir/x.env")
        self.write("envdir", env_file="/tmp")
        self.write("envempty", env_file="")
        self.root.start()
        log = self.root.log()
        self.assertIn("mod envmiss: env_file '/nonexistent/dir/x.env' does not exist", log)
        self.assertIn("mod envdir: env_file '/tmp' is not a regular file", log)
        self.assertIn("mod envempty: env_file is empty", log)
        self.usable("envmiss")

    def test_valid_config_has_no_warnings(self):
        env = self.root.path("ok.env")
        with open(env, "w") as f:
            f.write("A=1\n")
        self.write("valid", alarm_id="1016", alarm_clear_time="30", env_file=env,
                   conflict="down")
        self.root.start()
        st = self.root.status("valid")
        self.assertEqual(st["warnings"], [])
        self.assertEqual((st["alarm_id"], st["alarm_clear_time"], st["conflict"]),
                         (1016, 30, "down"))
        self.assertNotIn("valid.mod", self.root.log())
        self.assertEqual(st["state"], "EXITED")
        self.usable("valid")

    def test_load_failures(self):
        # each of these fails the load with a message naming file and key; sentryd runs on
        self.root.write_mod("nocommon", text="[other]\nenabled=yes\n")
        self.write("noenabled", enabled=None)
        self.write("badenabled", enabled="maybe")
        self.write("nostart", task_start=None)
        self.write("badquote", task_start="/bin/echo 'unterminated")
        self.write("nouser", user="no_such_user_here")
        self.root.write_mod("dupkey", text="[common]\nenabled=yes\nenabled=no\n")
        self.root.write_mod("syntax", text="[common\nenabled=yes\n")
        self.root.start()
        log = self.root.log()
        expect = {
            "nocommon": "common not in this mod file",
            "noenabled": "enabled not in this mod file",
            "badenabled": "enabled conf error maybe",
            "nostart": "task_start not in this mod file",
            "badquote": "task_start = '/bin/echo 'unterminated': No closing quotation",
            "nouser": "user = 'no_such_user_here': no such user",
            "dupkey": "duplicate key 'enabled'",
            "syntax": "line 1",
        }
        for name, msg in expect.items():
            path = os.path.join(self.root.tasks_dir, name + ".mod")
            self.assertTrue([l for l in log.splitlines() if path in l and msg in l],
                            "missing %r for %s" % (msg, name))
            rc, _, err = self.root.ctl("status", name)
            self.assertEqual(rc, 1, name)
        # reload answers with the reference's kinds of failure
        rc, _, err = self.root.ctl("reload", "syntax")
        self.assertEqual(rc, 1)
        self.assertIn("config parse failed", err)
        rc, _, err = self.root.ctl("reload", "badenabled")
        self.assertIn("parse mod conf failed", err)
        rc, _, err = self.root.ctl("reload", "not_there")
        self.assertIn("mod name invalid", err)

    def test_unknown_keys_warned(self):
        self.write("extra", colour="blue")
        self.root.start()
        st = self.root.status("extra")
        self.assertTrue(any("unknown key 'colour'" in w for w in st["warnings"]), st["warnings"])

    def test_case_insensitive_keys_and_colon(self):
        self.root.write_mod("mixed", text="[common]\nEnabled: yes\nTYPE = oneshot\n"
                                          "Task_Start = /bin/sleep 30\ntask_stop=kill $pid\n"
                                          "; comment\n# another\n")
        self.root.start()
        self.assertEqual(self.root.state("mixed"), "EXITED")
        self.usable("mixed")

    def test_check_mode(self):
        self.write("good")
        self.write("bad", type="aaa")
        import subprocess
        from sentry_harness import SENTRYD
        p = subprocess.run([SENTRYD, "--config", self.root.conf, "--check"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("reloaded 1 task(s), 1 failed", p.stdout)
        self.assertIn("type conf is invalid, got 'aaa'", p.stdout)


if __name__ == "__main__":
    run()
