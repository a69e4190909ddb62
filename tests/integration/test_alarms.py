"""The alarm bus end to end: report and acknowledgement, seq order, filters, replay with since,
resume without gap or duplicate, slow subscribers, kill -9 durability, active alarms, retention,
get_alarm (the reference's view), inject and permissions, the alarm log and the metrics file, and
the xalarm sockets seen from a raw client."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import (ProtocolClient, SentryTestCase, SLOW, read, run,  # noqa: E402
                            wait_for)

RECORD = struct.Struct("@HBBxxxxqq8192s")
assert RECORD.size == 8216


def xrecord(id_, level, type_, text, sec=None):
    return RECORD.pack(id_, level, type_, int(time.time()) if sec is None else sec, 0,
                       text.encode() if isinstance(text, str) else text)


class Subscriber:
    """A native subscription read on a thread; keeps every stream message."""

    def __init__(self, path, **filt):
        self.c = ProtocolClient(path, timeout=60)
        self.answer = self.c.call("subscribe", **filt)
        assert self.answer["ok"], self.answer
        self.seqs, self.alarms = [], []
        self.paused = threading.Event()
        self.stopped = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            while not self.stopped:
                if self.paused.is_set():
                    time.sleep(0.05)
                    continue
                m = self.c.read_line()
                if "seq" in m and "alarm" in m:
                    self.seqs.append(m["seq"])
                    self.alarms.append(m["alarm"])
        except (EOFError, OSError):
            pass

    def wait_count(self, n, timeout=30):
        wait_for(lambda: len(self.seqs) >= n, timeout, what="%d alarms (have %d)" % (n, len(self.seqs)))

    def close(self):
        self.stopped = True
        self.c.close()


def report_many(path, n, id_=1002, source="tester", window=256, start=0):
    """Reports n alarms pipelined; returns the acknowledged seqs."""
    c = ProtocolClient(path, timeout=60)
    seqs = []
    sent = 0
    pending = 0
    while len(seqs) < n:
        batch = []
        while sent < n and pending < window:
            batch.append(json.dumps({"id": sent + 1, "verb": "report", "alarm": {
                "id": id_, "level": "MINOR", "source": source, "text": "n=%d" % (start + sent)}}))
            sent += 1
            pending += 1
        if batch:
            c.send_raw("\n".join(batch) + "\n")
        r = c.read_line()
        assert r["ok"], r
        seqs.append(r["result"]["seq"])
        pending -= 1
    c.close()
    return seqs


class AlarmBusTest(SentryTestCase):
    # small subscriber queues, so that a subscriber that stops reading soon reads the store
    conf_extra = ("[alarms]\nlog = file\nsubscriber_queue = 256\nsubscriber_sndbuf = 65536\n"
                  "[metrics]\ntextfile_dir = /metrics\ninterval = 1\n")

    def setUp(self):
        super().setUp()
        self.root.write_mod("avg_block_io", enabled="yes", type="oneshot",
                            task_start="/bin/sleep 60", task_stop="kill $pid", alarm_id="1002",
                            alarm_clear_time="5")
        self.root.write_mod("quiet", enabled="yes", type="oneshot", task_start="/bin/sleep 60",
                            task_stop="kill $pid")

    def report(self, c, **alarm):
        r = c.call("report", alarm=alarm)
        self.assertTrue(r["ok"], r)
        return r["result"]["seq"]

    def test_report_filter_order(self):
        self.root.start()
        sub = Subscriber(self.root.socket, ids="1001-1003", min_level="MAJOR")
        every = Subscriber(self.root.socket)
        self.addCleanup(sub.close)
        self.addCleanup(every.close)
        c = self.root.connect()
        seqs = [self.report(c, id=1001 + (i % 8), level=["MINOR", "MAJOR", "CRITICAL"][i % 3],
                            text={"i": i}) for i in range(48)]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), 48)
        every.wait_count(48)
        self.assertEqual(every.seqs, seqs)
        want = [s for i, s in enumerate(seqs) if (i % 8) < 3 and i % 3 > 0]
        wait_for(lambda: len(sub.seqs) >= len(want))
        time.sleep(0.2)
        self.assertEqual(sub.seqs, want)
        a = every.alarms[0]
        self.assertEqual((a["id"], a["level"], a["type"], a["source"], a["origin"]),
                         (1001, "MINOR", "OCCUR", "local", "native"))
        self.assertEqual(json.loads(a["text"]), {"i": 0})

    def test_invalid_reports_refused(self):
        self.root.start()
        c = self.root.connect()
        for alarm, part in (({"id": 0}, "'id'"), ({"id": 70000}, "'id'"),
                            ({"id": 1002, "level": "HUGE"}, "'level'"),
                            ({"id": 1002, "type": 7}, "'type'"),
                            ({"id": 1002, "text": "x" * 8192}, "8191"),
                            ({"id": 1002, "source": "bad name"}, "'source'"),
                            ({"id": 1002, "key": "a\nb"}, "'key'"),
                            ({"id": 1002, "colour": 1}, "unknown member")):
            r = c.call("report", alarm=alarm)
            self.assertFalse(r["ok"], alarm)
            self.assertEqual(r["error"]["code"], "EINVAL")
            self.assertIn(part, r["error"]["message"])
        self.assertEqual(self.report(c, id=1002, text="x" * 8191), 1)
        st = self.root.ctl_json("stats")
        self.assertEqual(st["rejected"]["native"], 8)

    def test_since_replay_then_live(self):
        self.root.start()
        acked = report_many(self.root.socket, 200)
        sub = Subscriber(self.root.socket, since=acked[49])
        self.addCleanup(sub.close)
        more = report_many(self.root.socket, 50, start=200)
        sub.wait_count(200)
        self.assertEqual(sub.seqs, acked[50:] + more)
        self.assertEqual(sub.answer["result"]["head"], acked[-1])

    def test_seq_survives_restart_and_resume(self):
        self.root.start()
        first = report_many(self.root.socket, 30)
        sub = Subscriber(self.root.socket, since=0)
        sub.wait_count(30)
        last = sub.seqs[-1]
        sub.close()
        self.assertEqual(self.root.stop(), 0)
        self.root.start()
        second = report_many(self.root.socket, 30)
        self.assertGreater(second[0], first[-1])
        resumed = Subscriber(self.root.socket, since=last)
        self.addCleanup(resumed.close)
        resumed.wait_count(30)
        self.assertEqual(resumed.seqs, second)

    def test_slow_subscriber_loses_nothing_and_blocks_nobody(self):
        self.root.start()
        fast = [Subscriber(self.root.socket) for _ in range(3)]
        slow = Subscriber(self.root.socket)
        for s in fast + [slow]:
            self.addCleanup(s.close)
        slow.paused.set()  # reads nothing for now
        n = 20000
        acked = report_many(self.root.socket, n)
        for s in fast:
            s.wait_count(n, timeout=60)
            self.assertEqual(s.seqs, acked)
        st = self.root.ctl_json("stats")
        self.assertGreaterEqual(st["subscribers"]["catching_up"], 1)
        slow.paused.clear()
        slow.wait_count(n, timeout=60)
        self.assertEqual(slow.seqs, acked)
        st = self.root.ctl_json("stats")
        self.assertGreater(st["caught_up"]["native"], 0)
        self.assertGreaterEqual(st["fell_behind"]["native"], 1)

    def test_kill9_loses_nothing_acknowledged(self):
        self.root.start()
        acked = []
        done = threading.Event()

        def producer():
            try:
                c = ProtocolClient(self.root.socket, timeout=30)
                i = 0
                while True:
                    lines = "".join(json.dumps({"id": i + k, "verb": "report", "alarm": {
                        "id": 1003, "text": "burst %d" % (i + k)}}) + "\n" for k in range(100))
                    c.send_raw(lines)
                    for _ in range(100):
                        r = c.read_line()
                        if r.get("ok"):
                            acked.append(r["result"]["seq"])
                    i += 100
            except (EOFError, OSError, ValueError):
                pass
            finally:
                done.set()

        t = threading.Thread(target=producer, daemon=True)
        t.start()
        wait_for(lambda: len(acked) > 20000, timeout=60, what="a burst under way")
        self.root.proc.kill()
        self.root.proc.wait()
        done.wait(10)
        self.root.notify_sock.close()
        self.root.notify_sock = None
        self.root.start()
        sub = Subscriber(self.root.socket, since=0)
        self.addCleanup(sub.close)
        head = sub.answer["result"]["head"]
        sub.wait_count(head)
        got = sub.seqs
        self.assertEqual(got, sorted(set(got)), "in order, no duplicate")
        missing = set(acked) - set(got)
        self.assertFalse(missing, "acknowledged alarms lost: %d" % len(missing))
        after = report_many(self.root.socket, 5)
        self.assertGreater(after[0], max(acked))

    def test_active_alarms_survive_restart(self):
        self.root.start()
        c = self.root.connect()
        self.report(c, id=1002, source="avg_block_io", key="sda", text="{}")
        self.report(c, id=1002, source="avg_block_io", key="sdb", text="{}")
        self.report(c, id=1002, source="avg_block_io", key="sda", type="RECOVER", text="{}")
        self.report(c, id=1005, source="avg_block_io", key="sdb", type="RECOVER", text="{}")
        act = self.root.ctl_json("alarms", "--active")["alarms"]
        self.assertEqual([(a["id"], a["key"]) for a in act], [(1002, "sdb")])
        c.close()
        self.root.stop()
        self.root.start()
        act = self.root.ctl_json("alarms", "--active")["alarms"]
        self.assertEqual([(a["id"], a["key"]) for a in act], [(1002, "sdb")])
        rc, out, _ = self.root.ctl("alarms", "--active")
        self.assertIn("avg_block_io", out)
        self.assertIn("sdb", out)

    def test_history_queries(self):
        self.root.start()
        c = self.root.connect()
        for i in range(20):
            self.report(c, id=1001 + i % 4, source="avg_block_io" if i % 2 else "quiet",
                        text="t%d" % i)
        h = self.root.ctl_json("alarms", "--limit", "5")["alarms"]
        self.assertEqual([a["seq"] for a in h], [16, 17, 18, 19, 20])
        h = self.root.ctl_json("alarms", "--since", "10", "--id", "1002", "--limit", "3")["alarms"]
        self.assertEqual([a["seq"] for a in h], [14, 18])
        h = self.root.ctl_json("alarms", "--source", "quiet", "--limit", "100")["alarms"]
        self.assertEqual(len(h), 10)
        rc, _, err = self.root.ctl("alarms", "--level", "LOUD")
        self.assertEqual(rc, 1)
        self.assertIn("min_level", err)

    def test_follow(self):
        self.root.start()
        p = subprocess.Popen([self.root_ctl(), "--socket", self.root.socket, "alarms", "--follow",
                              "--json", "--id", "1004"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.kill)
        time.sleep(0.5 * SLOW)
        c = self.root.connect()
        self.report(c, id=1003, text="no")
        seq = self.report(c, id=1004, text="yes")
        line = json.loads(p.stdout.readline())
        self.assertEqual((line["seq"], line["alarm"]["text"]), (seq, "yes"))
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(10), 0)

    def root_ctl(self):
        from sentry_harness import SENTRYCTL
        return SENTRYCTL

    def test_get_alarm_reference_view(self):
        self.root.start()
        c = self.root.connect()
        details = {"latency": "bio: [1,2]", "n": 3}
        self.report(c, id=1002, source="avg_block_io", text=json.dumps(
            {"alarm_source": "avg_block_io", "driver_name": "sda", "details": details}))
        self.report(c, id=1002, source="avg_block_io", text="not json")
        self.report(c, id=1002, source="quiet", text=json.dumps({"alarm_source": "quiet"}))
        self.report(c, id=1002, source="avg_block_io", level="MAJOR", type="RECOVER",
                    text=json.dumps({"alarm_source": "avg_block_io", "driver_name": "sdb"}))
        out = self.root.ctl_json("get_alarm", "avg_block_io")
        self.assertEqual([a["alarm_info"]["driver_name"] for a in out], ["sdb", "sda"])
        self.assertEqual(out[0]["alarm_type"], "ALARM_TYPE_RECOVER")
        self.assertEqual(out[0]["alarm_level"], "MAJOR_ALM")
        self.assertEqual(out[1]["alarm_level"], "MINOR_ALM")
        self.assertNotIn("details", out[1]["alarm_info"])
        self.assertRegex(out[1]["timestamp"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        out = self.root.ctl_json("get_alarm", "avg_block_io", "-d")
        self.assertEqual(out[1]["alarm_info"]["details"], {"latency": "bio: [1,2]", "n": "3"})
        # plain output: JSON indented by 4, as the reference prints it
        rc, text, _ = self.root.ctl("get_alarm", "avg_block_io", "-s", "60")
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(text), out[:1] + [dict(out[1], alarm_info={
            k: v for k, v in out[1]["alarm_info"].items() if k != "details"})])
        self.assertTrue(text.startswith('[\n    {\n        "alarm_id": 1002,\n'), text[:80])
        # beyond time_range / clear time (5 s): nothing
        time.sleep(1.5)
        self.assertEqual(self.root.ctl_json("get_alarm", "avg_block_io", "-s", "1"), [])
        self.assertEqual(self.root.ctl_json("get_alarm", "quiet"), [])  # no alarm_id
        rc, _, err = self.root.ctl("get_alarm", "avg_block_io", "-s", "0")
        self.assertEqual(rc, 2)
        self.assertIn("time_range is not a positive integer: 0", err)
        rc, _, err = self.root.ctl("get_alarm", "nosuch")
        self.assertEqual(rc, 1)
        self.assertIn("cannot find task by name", err)

    def test_inject(self):
        self.root.start()
        rc, out, err = self.root.ctl("inject", "--id", "1007", "--level", "CRITICAL", "--text",
                                     '{"x":1}', "--key", "node3")
        self.assertEqual(rc, 0, err)
        self.assertIn("injected, seq 1", out)
        a = self.root.ctl_json("alarms")["alarms"][0]
        self.assertEqual((a["id"], a["level"], a["injected"], a["origin"], a["source"], a["key"]),
                         (1007, "CRITICAL", True, "inject", "inject", "node3"))
        rc, _, err = self.root.ctl("inject", "--level", "MINOR")
        self.assertEqual(rc, 2)
        rc, _, err = self.root.ctl("inject", "--id", "1002", "--type", "MAYBE")
        self.assertEqual(rc, 1)
        self.assertIn("'type'", err)

    def test_alarm_log_and_metrics_file(self):
        self.root.start()
        c = self.root.connect()
        for i in range(5):
            self.report(c, id=1002, level="MAJOR", source="avg_block_io", text="m%d" % i)
        log = self.root.path("var/log/sentry/alarms.log")
        wait_for(lambda: read(log).count("\n") >= 5, what="alarm log lines")
        lines = [json.loads(l) for l in read(log).splitlines()]
        self.assertEqual([l["seq"] for l in lines], [1, 2, 3, 4, 5])
        self.assertEqual(lines[0]["text"], "m0")
        prom = self.root.path("metrics/sentry.prom")
        wait_for(lambda: 'sentry_alarms_by_id_total{id="1002"} 5' in read(prom), timeout=10,
                 what="metrics textfile")
        text = read(prom)
        self.assertIn('sentry_alarms_reported_total{origin="native"} 5', text)
        self.assertIn('sentry_alarms_by_level_total{level="MAJOR"} 5', text)
        self.assertIn("# TYPE sentry_alarm_subscribers gauge", text)

    def test_stats_text(self):
        self.root.start()
        c = self.root.connect()
        self.report(c, id=1002, text="x")
        rc, out, _ = self.root.ctl("stats")
        self.assertEqual(rc, 0)
        self.assertIn("stored", out)
        self.assertIn("native 1", out)


class RetentionTest(SentryTestCase):
    conf_extra = "[alarms]\nretention_count = 100\n"

    def test_count_retention(self):
        self.root.start()
        acked = report_many(self.root.socket, 5000)
        wait_for(lambda: self.root.ctl_json("stats")["oldest"] > 4000, timeout=30,
                 what="old alarms pruned")
        sub = Subscriber(self.root.socket, since=0)
        self.addCleanup(sub.close)
        oldest = sub.answer["result"]["oldest"]
        sub.wait_count(acked[-1] - oldest + 1)
        self.assertEqual(sub.seqs, list(range(oldest, acked[-1] + 1)))
        sub.close()
        # before retention deletes rows it records a seq at least as high as theirs, so that a
        # store emptied by retention still continues its seq after a restart
        self.root.stop()
        import sqlite3
        db = sqlite3.connect(self.root.path("var/lib/sentry/alarms.db"))
        meta = db.execute("SELECT v FROM meta WHERE k = 'last_seq'").fetchone()[0]
        db.close()
        self.assertGreaterEqual(meta, oldest - 1)
        self.root.start()
        self.assertGreater(report_many(self.root.socket, 1)[0], acked[-1])


class PermissionsTest(SentryTestCase):
    conf_extra = "[control]\nsocket_mode = 0666\n"

    def test_non_root_subscribes_but_cannot_inject(self):
        os.chmod(self.root.dir, 0o755)
        self.root.write_mod("mine", enabled="yes", type="oneshot", task_start="/bin/sleep 9",
                            task_stop="kill $pid", user="nobody")
        self.root.start()
        code = r'''
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def call(**m):
    f.write(json.dumps(m) + "\n"); f.flush(); return json.loads(f.readline())
print(json.dumps([
  call(id=1, verb="inject", alarm={"id": 1002}),
  call(id=2, verb="report", alarm={"id": 1002, "source": "other"}),
  call(id=3, verb="report", alarm={"id": 1002, "source": "mine", "text": "ok"}),
  call(id=4, verb="subscribe", since=0),
]))
print(f.readline())
'''
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            sys.executable, "-c", code, self.root.socket], capture_output=True,
                           text=True, timeout=30)
        out = p.stdout.splitlines()
        res = json.loads(out[0])
        self.assertEqual(res[0]["error"]["code"], "EPERM")
        self.assertIn("permission denied: inject needs root", res[0]["error"]["message"])
        self.assertEqual(res[1]["error"]["code"], "EPERM")
        self.assertTrue(res[2]["ok"])
        self.assertTrue(res[3]["ok"])
        self.assertEqual(json.loads(out[1])["alarm"]["text"], "ok")
        for args in (["inject", "--id", "1002"], ["start", "mine"], ["stop", "mine"]):
            rc, _, err = self.root.ctl(*args, user=65534)
            self.assertEqual(rc, 4, args)
            self.assertIn("permission denied", err)


class XalarmSocketTest(SentryTestCase):
    conf_extra = "[xalarm]\nid_mask = 1001-1100, 2000, abc\n"

    def xdir(self):
        return self.root.path("var/run/xalarm")

    def send(self, data):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(data, os.path.join(self.xdir(), "report"))
        s.close()

    def stream(self, registration=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10 * SLOW)
        s.connect(os.path.join(self.xdir(), "alarm"))
        if registration is not None:
            s.sendall(json.dumps(registration).encode())
        return s

    def read_record(self, s):
        buf = b""
        while len(buf) < RECORD.size:
            chunk = s.recv(RECORD.size - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        id_, level, type_, sec, usec, text = RECORD.unpack(buf)
        return id_, level, type_, sec, text.split(b"\0")[0].decode()

    def test_report_validation_and_stream(self):
        self.root.start()
        self.assertInLog("invalid alarm id 2000, ignored")
        self.assertInLog("invalid alarm id abc, ignored")
        silent = self.stream()  # never registers: still served, every id
        picky = self.stream({"action": "register_events", "event_ids": [], "id_filter": [1003]})
        native = Subscriber(self.root.socket)
        self.addCleanup(native.close)
        time.sleep(0.3 * SLOW)
        self.send(xrecord(1003, 2, 1, '{"alarm_source":"avg_block_io","v":1}', sec=1700000000))
        self.send(xrecord(1002, 1, 2, "plain text"))
        self.send(xrecord(1101, 1, 1, "masked out"))          # id_mask
        self.send(xrecord(1000, 1, 1, "bad id"))               # invalid
        self.send(xrecord(1002, 6, 1, "bad level"))
        self.send(xrecord(1002, 1, 3, "bad type"))
        self.send(xrecord(1002, 5, 0, "level 5 type 0 accepted"))
        self.send(b"short")
        self.send(xrecord(1002, 1, 1, "x") + b"extra")
        self.assertEqual(self.read_record(silent)[:3], (1003, 2, 1))
        self.assertEqual(self.read_record(silent)[4], "plain text")
        self.assertEqual(self.read_record(silent)[4], "level 5 type 0 accepted")
        r = self.read_record(picky)
        self.assertEqual((r[0], r[3], r[4]), (1003, 1700000000,
                                              '{"alarm_source":"avg_block_io","v":1}'))
        native.wait_count(3)
        a = native.alarms[0]
        self.assertEqual((a["source"], a["origin"], a["time"]), ("avg_block_io", "xalarm",
                                                                 1700000000 * 1000000))
        self.assertEqual(native.alarms[1]["source"], "xalarm")
        self.assertEqual((native.alarms[2]["level"], native.alarms[2]["type"]), ("LEVEL5", "TYPE0"))
        st = self.root.ctl_json("stats")
        self.assertEqual(st["rejected"]["xalarm"], 5)
        self.assertEqual(st["filtered_xalarm"], 1)
        # update_filter moves the server-side filter
        picky.sendall(b'{"action":"update_filter","id_filter":[1002]}\n')
        time.sleep(0.3 * SLOW)
        self.send(xrecord(1003, 1, 1, "not for picky"))
        self.send(xrecord(1002, 1, 1, "for picky"))
        self.assertEqual(self.read_record(picky)[4], "for picky")
        # going down: 1128 to every stream client
        self.root.stop()
        while True:
            r = self.read_record(silent)
            if r[0] == 1128:
                break
        self.assertEqual(r, (1128, 1, 1, 0, "sysSentry service is down"))
        self.assertEqual(self.read_record(picky)[0], 1128)
        silent.close()
        picky.close()

    def test_refuses_to_steal_running_xalarmd(self):
        os.makedirs(self.xdir())
        other = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        other.bind(os.path.join(self.xdir(), "report"))
        self.addCleanup(other.close)
        self.root.start(wait_ready=False)
        self.assertEqual(self.root.proc.wait(10), 1)
        log = self.root.log()
        self.assertIn("another server answers on", log)
        self.assertIn("is xalarmd running?", log)


if __name__ == "__main__":
    run()
