"""sentryctl mem: the memory-error view of the mem_sentry task, read from the details of its last
result (what get_result fetches). A task here reports a result with such details over
$SENTRY_SOCKET, as report_result() does, and stays running; the view shows its sources, counts
and tables, --json gives the details as they came, and details of the wrong types, huge arrays
and terminal escape sequences neither crash it nor reach the terminal raw. An unknown task, or
one without a result, is an error (exit status 1)."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SENTRYCTL, SLOW, SentryTestCase, run, wait_for  # noqa: E402

# The task: reports MINOR_ALM with the details of the file named, then stays (as the plugin does).
REPORTER = r'''
import json, os, socket, sys, time
with open(sys.argv[1]) as f:
    details = json.load(f)
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["SENTRY_SOCKET"])
f = s.makefile("rw")
f.write(json.dumps({"id": 1, "verb": "result", "task": os.environ["SENTRY_TASK_NAME"],
                    "result": "MINOR_ALM", "details": details}) + "\n")
f.flush()
print(f.readline(), flush=True)
time.sleep(600)
'''

OFFLINE_TIME = 1764790000

DETAILS = {
    "sources": {"mce:mce_record": "on", "ras:mc_event": "on",
                "ras:arm_event": "off (not in this kernel)", "ras:aer_event": "off"},
    "counts": {"events": 12, "corrected": 10, "uncorrected": 2, "lost": 0, "offlined": 1,
               "offline_failed": 0, "refused": 0, "storms": 0, "storm": False,
               "tracked_pages": 3, "hardware_corrupted_kb": 4},
    "dimms": [
        {"dimm": "mc0 1:0:-1", "label": "CPU_SrcID#0_MC#0_Chan#1_DIMM#0", "corrected": 7,
         "uncorrected": 0, "crossed": False},
        {"dimm": "mc0 2:0:-1", "label": "CPU_SrcID#0_MC#0_Chan#2_DIMM#0", "corrected": 3,
         "uncorrected": 2, "crossed": True},
    ],
    "pages": [
        {"pfn": "0x12345", "address": "0x12345000", "corrected": 3, "state": "offlined",
         "offline": "verified"},
        {"pfn": "0x777", "address": "0x777000", "corrected": 1, "state": "tracked",
         "offline": "none"},
    ],
    "offlined": [{"pfn": "0x12345", "action": "soft", "result": "verified",
                  "time": OFFLINE_TIME}],
}

EMPTY = {"sources": {"mce:mce_record": "on"}, "counts": {"events": 0}, "dimms": [], "pages": [],
         "offlined": []}

ESC = "\x1b[31mred\x1b[0m\x1b]0;title\x07\u009b\x7f"

# Every member of a type the view does not expect.
WRONG_TYPES = {"sources": ["on"], "counts": "x", "dimms": "x", "pages": 7, "offlined": None}

# Wrong types inside, escapes in keys and values, numbers out of range, long strings.
HOSTILE = {
    "sources": {"mce:mce_record": 5, "ras:" + ESC: "on", "ras:mc_event": "off " + ESC,
                "x" * 300: "on"},
    "counts": {"events": -1, "corrected": "many", "uncorrected": 2 ** 64 - 1, "lost": 1.5,
               "storm": "yes", "storms": True, "offlined": None, "tracked_pages": [1],
               "refused": {"a": 1}, "wipe" + ESC: 3, "extra": 9, "flag": False},
    "dimms": [
        {"dimm": ESC, "label": {"x": 1}, "corrected": "many", "uncorrected": -3, "crossed": 1},
        "not a row", 5, None, [1, 2],
        {"dimm": "mc0 0:0:-1", "label": "L" * 500, "corrected": 2 ** 63, "crossed": True},
    ],
    "pages": [{"pfn": "0x1", "address": ESC, "corrected": "many", "state": ["offlined"],
               "offline": 7}] + [1] * 3000,
    "offlined": [{"pfn": "0x2", "action": "soft", "result": "failed", "time": -5},
                 {"pfn": "0x3", "time": 10 ** 19}, {"pfn": "0x4", "time": "yesterday"},
                 {"pfn": "0x5", "time": 1.5},
                 {"pfn": "0x6", "time": 253402300800}],
}

# 5000 rows: 1000 are shown, the others are counted.
HUGE = {"sources": {}, "counts": {}, "dimms": [{}] * 5000, "pages": [], "offlined": []}


def assert_terminal_safe(test, data, what):
    """No control character but newline, no C1 control, only valid UTF-8."""
    for b in range(0x20):
        if b != 0x0a:
            test.assertNotIn(bytes([b]), data, "%s holds byte 0x%02x" % (what, b))
    test.assertNotIn(b"\x7f", data, what)
    for c1 in range(0x80, 0xa0):
        test.assertNotIn(bytes([0xc2, c1]), data, what)
    data.decode("utf-8")


def cells(line):
    """The cells of a table row (columns are separated by two spaces or more)."""
    return re.split(r"\s{2,}", line.strip())


class SentryctlMemTest(SentryTestCase):
    def reporter(self, name, details):
        script = self.root.path("reporter.py")
        with open(script, "w") as f:
            f.write(REPORTER)
        path = self.root.path(name + ".details.json")
        with open(path, "w") as f:
            json.dump(details, f)
        # it must fit in one protocol line (64 KiB) with the request around it
        self.assertLess(os.path.getsize(path), 60000)
        self.root.write_mod(name, enabled="yes", type="oneshot", task_stop="kill $pid",
                            task_start="%s %s %s" % (sys.executable, script, path))

    def start_reporters(self, tasks):
        for name, details in tasks.items():
            self.reporter(name, details)
        self.root.start()
        for name in tasks:
            rc, out, err = self.root.ctl("start", name)
            self.assertEqual(rc, 0, out + err)
        for name in tasks:
            wait_for(lambda: self.root.ctl_json("get_result", name)["result"], 10,
                     what="the result of %s" % name)

    def mem(self, *args):
        p = subprocess.run([SENTRYCTL, "--socket", self.root.socket, "mem"] +
                                         list(args), capture_output=True, timeout=60 * SLOW)
        return p.returncode, p.stdout, p.stderr

    def mem_text(self, *args):
        rc, out, err = self.mem(*args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, b"")
        assert_terminal_safe(self, out, "mem " + " ".join(args))
        return out.decode().splitlines()

    def test_view(self):
        self.start_reporters({"mem_sentry": DETAILS, "mem_quiet": EMPTY})
        lines = self.mem_text()
        self.assertEqual(lines, self.mem_text("mem_sentry"))
        self.assertEqual(lines[0], "mem_sentry: sources on: mce:mce_record, ras:mc_event; "
                                   "off: ras:arm_event (not in this kernel), ras:aer_event")
        counts = lines[lines.index("Counts:") + 1:lines.index("Counts:") + 12]
        self.assertEqual(counts, ["  events: 12", "  corrected: 10", "  uncorrected: 2",
                                  "  lost: 0", "  offlined: 1", "  offline_failed: 0",
                                  "  refused: 0", "  storms: 0", "  storm: no",
                                  "  tracked_pages: 3", "  hardware_corrupted_kb: 4"])
        rows = [cells(l) for l in lines]
        self.assertIn(["DIMM", "LABEL", "CE", "UE", "STATE"], rows)
        self.assertIn(["mc0 1:0:-1", "CPU_SrcID#0_MC#0_Chan#1_DIMM#0", "7", "0", "ok"], rows)
        self.assertIn(["mc0 2:0:-1", "CPU_SrcID#0_MC#0_Chan#2_DIMM#0", "3", "2",
                       "over threshold"], rows)
        self.assertIn(["PFN", "ADDRESS", "CE", "STATE", "OFFLINE"], rows)
        self.assertIn(["0x12345", "0x12345000", "3", "offlined", "verified"], rows)
        self.assertIn(["0x777", "0x777000", "1", "tracked", "none"], rows)
        self.assertIn(["PFN", "ACTION", "RESULT", "TIME"], rows)
        when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(OFFLINE_TIME))
        self.assertIn(["0x12345", "soft", "verified", when], rows)
        # columns line up: each cell of a row starts where its header does
        header = next(l for l in lines if l.startswith("DIMM"))
        row = next(l for l in lines if l.startswith("mc0 2:0:-1"))
        self.assertEqual(row.index("CPU_"), header.index("LABEL"))
        self.assertEqual(row.index("over threshold"), header.index("STATE"))

        # --json: the details as they are, wherever --json is put
        for args in (["--json"], ["mem_sentry", "--json"], ["-j", "mem_sentry"]):
            rc, out, err = self.mem(*args)
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out), DETAILS, args)
        p = subprocess.run([SENTRYCTL, "--socket", self.root.socket, "--json",
                                          "mem"], capture_output=True, timeout=60 * SLOW)
        self.assertEqual(json.loads(p.stdout), DETAILS)
        self.assertTrue(p.stdout.startswith(b'{\n    "sources": {\n'), p.stdout)

        # another task, with nothing in its tables
        lines = self.mem_text("mem_quiet")
        self.assertEqual(lines[0], "mem_quiet: sources on: mce:mce_record; off: none")
        self.assertIn("no DIMM with errors", lines)
        self.assertIn("no page with errors", lines)
        self.assertIn("no page offlined", lines)
        self.assertIn("  events: 0", lines)
        self.assertIn("  corrected: -", lines)

    def test_hostile_details(self):
        self.start_reporters({"wrong": WRONG_TYPES, "hostile": HOSTILE, "huge": HUGE,
                              "nothing": {}})
        # every member of the wrong type
        lines = self.mem_text("wrong")
        self.assertEqual(lines[0], "wrong: sources: -")
        self.assertIn("Counts: -", lines)
        self.assertIn("dimms: not a list, not shown (--json shows it)", lines)
        self.assertIn("pages: not a list, not shown (--json shows it)", lines)
        self.assertIn("no page offlined", lines)  # null: none
        rc, out, _ = self.mem("wrong", "--json")
        self.assertEqual(json.loads(out), WRONG_TYPES)

        # details without any of the members (another kind of task)
        lines = self.mem_text("nothing")
        self.assertEqual(lines[0], "nothing: sources: -")
        self.assertIn("no DIMM with errors", lines)

        # wrong types inside, escapes, numbers out of range
        rc, out, err = self.mem("hostile")
        self.assertEqual(rc, 0, err)
        assert_terminal_safe(self, out, "mem hostile")
        text = out.decode()
        lines = text.splitlines()
        esc = "\\x1b[31mred\\x1b[0m\\x1b]0;title\\x07\\xc2\\x9b\\x7f"
        self.assertIn("on: ras:" + esc + ", " + "x" * 60, lines[0])
        self.assertIn("off: mce:mce_record (-), ras:mc_event (" + esc + ")", lines[0])
        for want in ("  events: -", "  corrected: -", "  uncorrected: 18446744073709551615",
                     "  lost: -", "  storm: -", "  storms: -", "  offlined: -",
                     "  tracked_pages: -", "  refused: -", "  wipe" + esc + ": 3",
                     "  extra: 9", "  flag: no"):
            self.assertIn(want, lines)
        rows = [cells(l) for l in lines]
        self.assertIn([esc, "-", "-", "-", "-"], rows)
        long_row = next(r for r in rows if r[0] == "mc0 0:0:-1")
        self.assertTrue(long_row[1].startswith("LLLL") and long_row[1].endswith("..."), long_row)
        self.assertLess(len(long_row[1]), 64)
        self.assertEqual(long_row[2:], ["9223372036854775808", "-", "over threshold"])
        self.assertIn("(4 entries of dimms that are not objects, not shown)", lines)
        self.assertIn(["0x1", esc, "-", "-", "-"], rows)
        self.assertIn("(3000 entries of pages that are not objects, not shown)", lines)
        for pfn in ("0x3", "0x4", "0x5", "0x6"):
            self.assertIn([pfn, "-", "-", "-"], rows)
        self.assertIn(["0x2", "soft", "failed", "-"], rows)
        rc, out, err = self.mem("hostile", "--json")
        self.assertEqual(rc, 0, err)
        assert_terminal_safe(self, out, "mem hostile --json")
        self.assertEqual(json.loads(out), json.loads(json.dumps(HOSTILE)))

        # 5000 rows: the first 1000, then how many more
        lines = self.mem_text("huge")
        self.assertEqual(lines[0], "huge: sources on: none; off: none")
        self.assertEqual(sum(1 for l in lines if cells(l) == ["-", "-", "-", "-", "-"]), 1000)
        self.assertIn("... 4000 more rows not shown (--json shows them all)", lines)
        rc, out, _ = self.mem("huge", "--json")
        self.assertEqual(len(json.loads(out)["dimms"]), 5000)

    def test_errors(self):
        self.reporter("other", DETAILS)
        self.root.write_mod("idle", enabled="yes", type="oneshot", task_stop="kill $pid",
                            task_start="/bin/sleep 600")
        self.root.write_mod("off", enabled="no", type="oneshot", task_stop="kill $pid",
                            task_start="/bin/sleep 600")
        self.root.start()
        # no task mem_sentry here: the default task is unknown, as is any name given
        for args in ([], ["nosuch"]):
            rc, out, err = self.mem(*args)
            self.assertEqual(rc, 1, (args, out, err))
            self.assertEqual(out, b"")
            self.assertIn(b"cannot find task by name %s" % (args[0] if args else "mem_sentry")
                          .encode(), err)
            rc, out, err = self.mem("--json", *args)
            self.assertEqual(rc, 1)
            self.assertEqual(json.loads(out)["error"]["code"], "ENOENT")
        # a task without a result yet: never started, or running but not reported
        rc, out, err = self.mem("other")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn(b"sentryctl: mem: task other has no result yet", err)
        self.assertEqual(self.root.ctl("start", "idle")[0], 0)
        rc, out, err = self.mem("idle")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn(b"task idle has no result yet", err)
        rc, out, err = self.mem("idle", "--json")
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(out)["error"]["code"], "ENODATA")
        # a disabled task: sentryd's refusal
        rc, out, err = self.mem("off")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn(b"not enabled", err)
        # bad usage, before anything is sent
        for args in (["a", "b"], ["--bogus"], ["x" * 300]):
            rc, out, err = self.mem(*args)
            self.assertEqual(rc, 2, (args, out, err))
        rc, out, _ = self.mem("--help")
        self.assertEqual(rc, 0)
        self.assertIn(b"Usage: sentryctl mem [TASK]", out)
        # sentryd not running: exit 3
        self.root.stop()
        self.assertEqual(self.mem()[0], 3)


if __name__ == "__main__":
    run()
