"""Logging to journald with structured fields. No journald runs on the test machines, so the test
runs sentryd in a private mount namespace where a socket of its own sits at
/run/systemd/journal/socket, and reads the native journal protocol datagrams libsystemd sends."""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SENTRYD, SOURCE_DIR, SentryRoot, run  # noqa: E402

INNER = r'''
import json, os, socket, struct, subprocess, sys, time
sys.path.insert(0, sys.argv[3])
from sentry_harness import ProtocolClient, wait_for
sentryd, conf = sys.argv[1], sys.argv[2]
base = "/run/systemd" if os.path.isdir("/run/systemd") else "/run"
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", base], check=True)
os.makedirs("/run/systemd/journal", exist_ok=True)
j = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
j.bind("/run/systemd/journal/socket")
j.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
j.settimeout(0.2)
d = subprocess.Popen([sentryd, "--config", conf], stderr=subprocess.DEVNULL)
sock = os.path.join(os.path.dirname(conf), "run/sentry/sentryd.sock")
wait_for(lambda: os.path.exists(sock), 10)
time.sleep(0.2)
c = ProtocolClient(sock)
for i, level in enumerate(["MINOR", "MAJOR", "CRITICAL"]):
    r = c.call("report", alarm={"id": 1002 + i, "level": level, "source": "avg_block_io",
                                "key": "sd%c" % (97 + i), "text": "line1\nline2 %d" % i})
    assert r["ok"], r
c.close()

def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            n = struct.unpack("<Q", data[nl + 1:nl + 9])[0]
            v = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields[k.decode()] = v.decode(errors="replace")
    return fields

msgs, deadline = [], time.monotonic() + 10
while time.monotonic() < deadline and sum("SENTRY_SEQ" in m for m in msgs) < 3:
    try:
        msgs.append(parse(j.recv(1 << 20)))
    except socket.timeout:
        pass
d.terminate()
d.wait(30)
print(json.dumps(msgs))
'''


@unittest.skipUnless(shutil.which("unshare"), "needs unshare(1) to give sentryd its own /run")
class JournalTest(unittest.TestCase):
    def test_structured_fields(self):
        root = SentryRoot(name="journal")
        self.addCleanup(root.cleanup)
        with open(root.conf, "w") as f:
            f.write("[daemon]\nroot = %s\nlog_target = auto\n" % root.dir)
        p = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c",
                            INNER, SENTRYD, root.conf, os.path.join(SOURCE_DIR, "tests", "lib")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        msgs = json.loads(p.stdout.strip().splitlines()[-1])
        alarms = [m for m in msgs if "SENTRY_SEQ" in m]
        self.assertEqual(len(alarms), 3, msgs[:5])
        by_seq = {int(m["SENTRY_SEQ"]): m for m in alarms}
        self.assertEqual(sorted(by_seq), [1, 2, 3])
        m = by_seq[2]
        self.assertEqual(m["SENTRY_ALARM_ID"], "1003")
        self.assertEqual(m["SENTRY_SOURCE"], "avg_block_io")
        self.assertEqual(m["SENTRY_ALARM_LEVEL"], "MAJOR")
        self.assertEqual(m["SENTRY_ALARM_TYPE"], "OCCUR")
        self.assertEqual(m["SENTRY_ALARM_KEY"], "sdb")
        self.assertEqual(m["SENTRY_ALARM_TEXT"], "line1\nline2 1")
        self.assertEqual(m["SYSLOG_IDENTIFIER"], "sentryd")
        # PRIORITY from the level: MINOR warning(4), MAJOR err(3), CRITICAL crit(2)
        self.assertEqual([by_seq[s]["PRIORITY"] for s in (1, 2, 3)], ["4", "3", "2"])
        self.assertIn("alarm 1003 MAJOR OCCUR from avg_block_io", m["MESSAGE"])
        # the daemon's own messages went to the journal too, with code locations
        ready = [x for x in msgs if "ready in" in x.get("MESSAGE", "")]
        self.assertTrue(ready, "sentryd's own log lines reach the journal")
        self.assertIn("CODE_FILE", ready[0])
        # and no alarms.log file was written: the journal was there
        self.assertFalse(os.path.exists(root.path("var/log/sentry/alarms.log")))


if __name__ == "__main__":
    run()
