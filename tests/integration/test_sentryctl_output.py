"""sentryctl's output hygiene (issue 9, item 17): what sentryd sends may hold what a task or a
client put there, and none of it reaches the operator's terminal raw. In text mode ESC, the
other C0 controls, DEL, C1 controls (U+0080..U+009F) and bytes that are not UTF-8 are shown
escaped (\\x1b); --json stays valid JSON with them escaped the JSON way. The checks read the raw
bytes of stdout and stderr. And numbers given on the command line out of range are refused as
bad usage (exit 2) before anything is sent, not clamped or wrapped."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SENTRYCTL, SLOW, SentryTestCase, run, wait_for  # noqa: E402

RECORD = struct.Struct("@HBBxxxxqq8192s")  # struct alarm_info
ID = 1050

# Alarm texts as raw bytes (the xalarm socket carries bytes, not JSON strings).
CSI_TEXT = b"\x1b[31mRED\x1b[0m \x1b]0;title\x07"
C1_TEXT = b"c1:\xc2\x9b31m del:\x7f bell:\x07"
INVALID_TEXT = b"raw:\x9b31m bad:\xff\xfe end"


def assert_terminal_safe(test, data, what):
    """No control character, no C1 control, only valid UTF-8 (apart from the newlines)."""
    for b in range(0x20):
        if b != 0x0a:
            test.assertNotIn(bytes([b]), data, "%s holds byte 0x%02x: %r" % (what, b, data))
    test.assertNotIn(b"\x7f", data, what)
    test.assertNotIn(b"\x9b", data, what)  # neither alone (8-bit CSI) nor in c2 9b (U+009B)
    for c1 in range(0x80, 0xa0):
        test.assertNotIn(bytes([0xc2, c1]), data, what)
    data.decode("utf-8")  # strict: raises on invalid UTF-8


def strings(o):
    """Every string inside a decoded JSON value."""
    if isinstance(o, str):
        yield o
    elif isinstance(o, dict):
        for v in o.values():
            yield from strings(v)
    elif isinstance(o, list):
        for v in o:
            yield from strings(v)


class SentryctlOutputTest(SentryTestCase):
    def ctl_bytes(self, *args):
        p = subprocess.run([SENTRYCTL, "--socket", self.root.socket] + list(args),
                           capture_output=True, timeout=60 * SLOW)
        return p.returncode, p.stdout, p.stderr

    def xalarm_dir(self):
        candidates = [self.root.path("run", "xalarm"), self.root.path("var", "run", "xalarm")]
        return wait_for(lambda: next((d for d in candidates
                                      if os.path.exists(os.path.join(d, "report"))), None),
                        what="xalarm sockets")

    def xreport(self, text):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with s:
            s.sendto(RECORD.pack(ID, 1, 1, int(time.time()), 0, text),
                     os.path.join(self.xalarm_dir(), "report"))

    def stored_texts(self):
        """The texts of the stored alarms of ID, via --json (once all three arrived)."""
        def texts():
            rc, out, err = self.ctl_bytes("--json", "alarms", "--id", str(ID))
            self.assertEqual(rc, 0, err)
            return [a["text"] for a in json.loads(out)["alarms"]]
        return wait_for(lambda: (lambda t: t if len(t) >= 3 else None)(texts()),
                        what="the alarms stored")

    def test_alarm_texts(self):
        self.root.start()
        for text in (CSI_TEXT, C1_TEXT, INVALID_TEXT):
            self.xreport(text)
        self.stored_texts()

        rc, out, err = self.ctl_bytes("alarms", "--id", str(ID))
        self.assertEqual(rc, 0, err)
        assert_terminal_safe(self, out, "alarms")
        self.assertIn(b"\\x1b[31mRED\\x1b[0m \\x1b]0;title\\x07", out)
        self.assertIn(b"c1:\\xc2\\x9b31m del:\\x7f bell:\\x07", out)
        # bytes that are not UTF-8: escaped here, or already U+FFFD from sentryd
        self.assertTrue(b"raw:\\x9b31m bad:\\xff\\xfe end" in out or
                        "raw:\ufffd31m bad:\ufffd\ufffd end".encode() in out, out)

        # --json: valid JSON (strict UTF-8), nothing raw, the same texts once decoded
        rc, out, err = self.ctl_bytes("--json", "alarms", "--id", str(ID))
        self.assertEqual(rc, 0, err)
        assert_terminal_safe(self, out, "alarms --json")
        texts = [a["text"] for a in json.loads(out.decode("utf-8"))["alarms"]]
        self.assertEqual(texts[0], CSI_TEXT.decode())
        self.assertEqual(texts[1], C1_TEXT.decode())
        # JSON cannot carry bytes that are not UTF-8: each is U+FFFD
        self.assertEqual(texts[2], INVALID_TEXT.decode(errors="replace"))

    def test_follow_inject_and_other_fields(self):
        self.root.start()
        procs = {}
        for mode in ("text", "json"):
            args = [SENTRYCTL, "--socket", self.root.socket, "alarms", "--follow", "--id",
                    str(ID)] + (["--json"] if mode == "json" else [])
            procs[mode] = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.addCleanup(procs[mode].kill)
        time.sleep(0.5 * SLOW)
        # inject: the text of an alarm as the operator typed it (sentryd refuses control
        # characters in keys, the text is free)
        rc, out, err = self.ctl_bytes("inject", "--id", str(ID), "--text",
                                      CSI_TEXT + b" \xc2\x9b inj", "--key", b"disk-\xc3\xa9")
        self.assertEqual(rc, 0, err)
        lines = {}
        for mode, p in procs.items():
            while True:
                line = p.stdout.readline()
                self.assertTrue(line, "follow (%s) ended" % mode)
                if b"inj" in line:
                    lines[mode] = line
                    break
            p.send_signal(signal.SIGINT)
            p.wait(10 * SLOW)
        assert_terminal_safe(self, lines["text"], "follow")
        self.assertIn(b"\\x1b[31mRED", lines["text"])
        self.assertIn(b"disk-\xc3\xa9", lines["text"])  # printable UTF-8 stays as it is
        assert_terminal_safe(self, lines["json"], "follow --json")
        msg = json.loads(lines["json"].decode("utf-8"))
        self.assertEqual(msg["alarm"]["text"], (CSI_TEXT + b" \xc2\x9b inj").decode())
        self.assertEqual(msg["alarm"]["key"], "disk-\u00e9")

        rc, out, err = self.ctl_bytes("alarms", "--id", str(ID))
        self.assertEqual(rc, 0, err)
        assert_terminal_safe(self, out, "alarms")
        self.assertIn(b"\\x1b[31mRED", out)

    def test_task_reason_and_errors(self):
        """A task's FAIL message shows in list and status; sentryd's error messages (on
        stderr) are escaped too."""
        script = self.root.path("fail.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nsleep 2\nexit 1\n")
        os.chmod(script, 0o755)
        self.root.write_mod("evil", enabled="yes", type="oneshot", task_start=script,
                            task_stop="kill $pid")
        self.root.start()
        rc, _, err = self.ctl_bytes("start", "evil")
        self.assertEqual(rc, 0, err)
        c = self.root.connect()
        reply = c.call("result", task="evil", result="FAIL",
                       details={"msg": "\x1b]0;owned\x07\x1b[2J wiped \u009b\x7f"})
        self.assertTrue(reply["ok"], reply)
        c.close()
        self.root.wait_state("evil", "FAILED")
        for args in (["list"], ["status", "evil"]):
            rc, out, err = self.ctl_bytes(*args)
            self.assertEqual(rc, 0, err)
            assert_terminal_safe(self, out, " ".join(args))
            self.assertIn(b"owned", out)
            self.assertIn(b"\\x1b[2J wiped", out)
            rc, out, err = self.ctl_bytes("--json", *args)
            self.assertEqual(rc, 0, err)
            assert_terminal_safe(self, out, "--json " + " ".join(args))
            self.assertTrue([v for v in strings(json.loads(out.decode())) if "owned" in v], out)
        # an error naming what the client sent: stderr is escaped as well
        rc, out, err = self.ctl_bytes("get_result", b"\x1b[31mnosuch\xc2\x9b")
        self.assertEqual(rc, 1)
        assert_terminal_safe(self, err, "stderr")
        self.assertIn(b"cannot find task by name", err)

    # ---- numbers on the command line -------------------------------------------------------
    OUT_OF_RANGE = [
        ["inject", "--id", "99999999999999999999"], ["inject", "--id", "65536"],
        ["inject", "--id", "0"], ["inject", "--id", "-1"], ["inject", "--id", "1e3"],
        ["alarms", "--id", "99999999999999999999"], ["alarms", "--id", "65536"],
        ["alarms", "--id", "0"], ["alarms", "--id", "1010-1001"], ["alarms", "--id", "1-70000"],
        ["alarms", "--id", "1001,99999999999999999999"],
        ["alarms", "--since", "18446744073709551616"], ["alarms", "--since", "18446744073709551615"],
        ["alarms", "--since", "9223372036854775808"], ["alarms", "--since", "-1"],
        ["alarms", "--since", "99999999999999999999", "--follow"],
        ["alarms", "--limit", "0"], ["alarms", "--limit", "10001"],
        ["alarms", "--limit", "99999999999999999999"], ["alarms", "-n", "-5"],
        ["status", "t", "-n", "1001"], ["status", "t", "--lines", "99999999999999999999"],
        ["get_alarm", "t", "-s", "3153600001"], ["get_alarm", "t", "-s", "99999999999999999999"],
        ["get_alarm", "t", "-s", "-99999999999999999999"], ["get_alarm", "t", "-s", "0"],
        ["iostat", "-p", "0"], ["iostat", "-p", "90001"], ["iostat", "-p", "99999999999999999999"],
        ["--timeout", "0", "list"], ["--timeout", "0.0000001", "list"],
        ["--timeout", "1e400", "list"], ["--timeout", "86401", "list"], ["--timeout", "nan", "list"],
        ["--timeout", "inf", "list"], ["--timeout", "-1", "list"],
    ]

    def test_numbers_out_of_range(self):
        """Refused before any connection: against a socket that does not exist, a refusal by
        sentryd would be exit 3, not 2."""
        missing = self.root.path("no", "such.sock")
        for args in self.OUT_OF_RANGE:
            p = subprocess.run([SENTRYCTL, "--socket", missing] + args, capture_output=True,
                               text=True, timeout=30 * SLOW)
            self.assertEqual(p.returncode, 2, (args, p.stdout, p.stderr))
            self.assertEqual(p.stdout, "", args)
            self.assertTrue(p.stderr.startswith("sentryctl:") or
                            p.stderr.startswith("time_range is not a positive integer"),
                            (args, p.stderr))

    def test_numbers_at_the_limits(self):
        """The limits themselves are accepted, and sentryd takes them."""
        self.root.write_mod("t", enabled="yes", type="oneshot", task_start="/bin/sleep 30",
                            task_stop="kill $pid")
        self.root.start()
        for args in (["alarms", "--since", "9223372036854775807"],
                     ["alarms", "--since", "0", "--limit", "10000"],
                     ["alarms", "--limit", "1"], ["alarms", "--id", "65535"],
                     ["alarms", "--id", "1,1001-1128,65535"],
                     ["inject", "--id", "65535"], ["inject", "--id", "1"],
                     ["status", "t", "-n", "1000"], ["status", "t", "-n", "0"],
                     ["get_alarm", "t", "-s", "3153600000"],
                     ["--timeout", "86400", "list"]):
            rc, out, err = self.ctl_bytes(*args)
            self.assertEqual(rc, 0, (args, out, err))


if __name__ == "__main__":
    run()
