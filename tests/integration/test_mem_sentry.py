"""plugins/mem_sentry against a real sentryd on this host: a bad configuration fails the task with
the file, key and value; without tracefs (or with events this kernel lacks) the plugin runs and its
result says what is off; an edit of the ini is reloaded live, and an invalid edit leaves the
configuration in use; a damaged state file is reported, never overwritten. The kernel's events
themselves (machine checks, memory failures, page offline) are raised in the lab
(tests/vm/test_mem_sentry_lab.py), which runs these classes' helpers there."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SLOW, run, wait_for  # noqa: E402
from plugin_case import PluginTestCase  # noqa: E402

PLUGIN = os.path.join(BUILD_DIR, "plugins", "mem_sentry", "mem_sentry")


class MemSentryBase(PluginTestCase):
    """A sentryd with the mem_sentry task reading self.ini; no tests of its own."""
    PLUGIN_NAME = "mem_sentry"
    PLUGIN = PLUGIN

    def setUp(self):
        super().setUp()
        self.state = self.root.path("var/lib/sentry/mem_sentry.offline")
        os.makedirs(os.path.dirname(self.state), exist_ok=True)

    def ini_defaults(self):
        return {"source": {"mount_tracefs": "no"},
                "offline": {"state_file": self.state}}

    def log(self):
        return self.root.task_log("mem_sentry")

    def details(self):
        return self.root.ctl_json("get_result", "mem_sentry").get("details") or {}

    def event_alarms(self, event, n, timeout=30, cond=None):
        """At least n alarms 1001 of this event (and cond), waiting up to timeout * SLOW."""
        return self.wait_alarms(1001, n, timeout=timeout * SLOW,
                                cond=lambda t: t["event"] == event and (cond is None or cond(t)))

    def wait_started(self):
        try:
            wait_for(lambda: "sources" in self.details(), 30 * SLOW, what="mem_sentry's result")
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, self.dump_on_failure()))


class MemSentryTest(MemSentryBase):
    def test_command_line(self):
        for exe in (PLUGIN, os.path.join(BUILD_DIR, "plugins", "oom_watch", "oom_watch"),
                    os.path.join(BUILD_DIR, "plugins", "avg_block_io", "avg_block_io")):
            name = os.path.basename(exe)
            p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("Usage: %s [--config FILE]" % name, p.stdout)
            self.assertIn("plugins/%s.ini" % name, p.stdout)
            p = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
            self.assertEqual((p.returncode, p.stdout.split()[0]), (0, name))
            p = subprocess.run([exe, "surplus"], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2)
            self.assertIn("%s: unexpected argument 'surplus'" % name, p.stderr)
            p = subprocess.run([exe, "--bogus"], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2)

    def test_bad_config_fails_the_task(self):
        self.write_ini(thresholds={"page": "2 per day"}, offline={"action": "vaporise",
                                                                 "state_file": "relative/x"},
                       storm={"window": "2d"})
        self.start()
        self.root.wait_state("mem_sentry", ("FAILED", "EXITED"), timeout=20 * SLOW)
        res = self.root.ctl_json("get_result", "mem_sentry")
        self.assertEqual(res["result"], "FAIL")
        text = json.dumps(res)
        for word in ("mem_sentry.ini", "[thresholds] page = '2 per day'",
                     "[offline] action = 'vaporise'", "[offline] state_file = 'relative/x'",
                     "[storm] window = '2d'"):
            self.assertIn(word, text)

    def test_without_tracefs_it_runs_and_says_so(self):
        self.write_ini(source={"tracefs": self.root.path("no-tracefs")})
        self.start()
        self.wait_started()
        self.assertEqual(self.root.state("mem_sentry"), "RUNNING")
        d = self.details()
        self.assertEqual(set(d["sources"].values()), {"off (no tracefs)"})
        self.assertIn("mce:mce_record", d["sources"])
        self.assertEqual(d["counts"]["events"], 0)
        self.assertEqual(self.log().count("memory error events off"), 1)

    def test_live_reload(self):
        self.write_ini(source={"tracefs": self.root.path("no-tracefs")})
        self.start()
        self.wait_started()
        # an invalid edit: said in the result, the configuration in use stays
        self.write_ini(source={"tracefs": self.root.path("no-tracefs")},
                       thresholds={"dimm": "0/1h"})
        wait_for(lambda: "[thresholds] dimm = '0/1h'" in json.dumps(self.details()), 20 * SLOW,
                 what="the invalid edit reported")
        self.assertIn("not reloaded", self.log())
        self.assertEqual(self.root.state("mem_sentry"), "RUNNING")
        # a valid one replaces it, and the error goes away
        self.write_ini(source={"tracefs": self.root.path("no-tracefs")},
                       thresholds={"dimm": "5/1h"})
        wait_for(lambda: "config_error" not in self.details(), 20 * SLOW,
                 what="the valid edit reloaded")
        self.assertIn("reloaded", self.log())

    def test_damaged_state_file_is_reported_and_kept(self):
        damaged = "mem_sentry-offline 99\n0x1234 soft 1700000000 verified\n"
        with open(self.state, "w") as f:
            f.write(damaged)
        self.write_ini(source={"tracefs": self.root.path("no-tracefs")})
        self.start()
        self.wait_started()
        self.assertIn("are not used (the file is left alone)", self.log())
        # no page of a file it cannot read was offlined, and the file is untouched
        self.assertEqual(self.details()["offlined_total"], 0)
        time.sleep(1)
        with open(self.state) as f:
            self.assertEqual(f.read(), damaged)


if __name__ == "__main__":
    run()
