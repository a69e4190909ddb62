"""Hostile and greedy clients of the native socket, each attack performed for real against a
sentryd in a temporary root: one connection's pipelined requests once held the event loop (now a
budget per connection and wake-up); a store that falls behind once stopped reading every
connection (now only those with reports in flight); a flooding reporter is rate limited per
source, with a record saying how many alarms were suppressed. Latencies are measured and bound
generously, as ratios of the attack's own duration where that is what matters."""
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SLOW, ProtocolClient, SentryTestCase, run, wait_for  # noqa: E402

NOBODY = 65534
# for programs run as another user (a python of root's home is not theirs to run)
PYTHON = "/usr/bin/python3"


class Reader(threading.Thread):
    """Reads answer lines from a socket until n were read or the peer closed. They are parsed
    when asked for, not while reading: the test's own measurements share the interpreter."""

    def __init__(self, sock, n):
        super().__init__(daemon=True)
        self.sock, self.n = sock, n
        self.chunks = []
        self.count = 0
        self.done_at = None

    def run(self):
        try:
            while self.count < self.n:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    break
                self.chunks.append(chunk)
                self.count += chunk.count(b"\n")
        except OSError:
            pass
        self.done_at = time.monotonic()

    @property
    def answers(self):
        lines = b"".join(self.chunks).split(b"\n")
        return [json.loads(x) for x in lines if x]


def raw_socket(path, timeout=60):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout * SLOW)
    s.connect(path)
    return s


def hello_latency(path):
    t = time.monotonic()
    c = ProtocolClient(path, timeout=60)
    try:
        r = c.call("hello")
    finally:
        c.close()
    assert r["ok"], r
    return time.monotonic() - t


# Sends N requests pipelined on one connection and reads every answer as it comes (a process of
# its own, so that the test's measurements do not share its interpreter); prints how many were
# answered, how many ok, and the seconds from the first send to the last answer.
PIPELINER = r'''
import json, socket, sys, threading, time
path, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
line = sys.stdin.read().encode()
got = ok = 0
def read():
    global got, ok
    buf = b""
    while got < n:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
        lines = buf.split(b"\n")
        buf = lines.pop()
        got += len(lines)
        ok += sum(1 for x in lines if b'"ok":true' in x)
t = threading.Thread(target=read)
started = time.monotonic()
t.start()
s.sendall(line * n)
t.join()
print(json.dumps({"answered": got, "ok": ok, "seconds": time.monotonic() - started}))
'''


class PipelinedRequestsTest(SentryTestCase):
    N_TASKS = 400
    N_REQUESTS = 2000

    def test_one_connection_cannot_hold_the_loop(self):
        # `list` of many tasks: a request that costs about a millisecond, answered at once
        for i in range(self.N_TASKS):
            self.root.write_mod("task%03d" % i, enabled="yes", type="oneshot",
                                task_start="/bin/sleep 60", task_stop="kill $pid")
        self.root.start()
        script = self.root.path("pipeliner.py")
        with open(script, "w") as f:
            f.write(PIPELINER)
        # the attack: N requests pipelined on one connection, answers read as they come
        p = subprocess.Popen([sys.executable, script, self.root.socket, str(self.N_REQUESTS)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        p.stdin.write('{"id":1,"verb":"list"}\n')
        p.stdin.close()
        started = time.monotonic()
        latencies = []
        while p.poll() is None and time.monotonic() - started < 120 * SLOW:
            latencies.append(hello_latency(self.root.socket))
            time.sleep(0.005)
        try:
            p.wait(timeout=10 * SLOW)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.fail("the pipelined requests were not all answered")
        res = json.loads(p.stdout.read())
        p.stdout.close()
        total = res["seconds"]
        self.assertEqual((res["answered"], res["ok"]), (self.N_REQUESTS, self.N_REQUESTS))
        worst = max(latencies) if latencies else 0
        print("\n  %d pipelined lists of %d tasks took %.2f s; %d hello round trips meanwhile: "
              "worst %.3f s, median %.3f s"
              % (self.N_REQUESTS, self.N_TASKS, total, len(latencies), worst,
                 sorted(latencies)[len(latencies) // 2] if latencies else 0), file=sys.stderr)
        # The attack must cost something for the test to mean anything ...
        self.assertGreater(total, 0.3, "the requests were too cheap to measure fairness")
        self.assertGreaterEqual(len(latencies), 3)
        # ... and another client waits for a turn of the budget, not for the whole pipeline.
        self.assertLess(worst, total / 4,
                        "a hello waited %.3f s during %.3f s of pipelined requests" % (worst, total))


class StoreBehindTest(SentryTestCase):
    # max_pending high: the store's own limit (max_inflight) is what pauses the reporter here
    conf_extra = "[control]\nmax_pending = 100000\n[alarms]\nmax_inflight = 1024\n"

    def test_operator_served_while_store_is_behind(self):
        self.root.write_mod("t1", enabled="yes", type="oneshot", task_start="/bin/sleep 60",
                            task_stop="kill $pid")
        self.root.start()
        db = self.root.path("var/lib/sentry/alarms.db")
        # Hold the database's write lock: commits wait (busy timeout), reports pile up in flight.
        lock = sqlite3.connect(db, timeout=10, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        n = 5000
        s = raw_socket(self.root.socket)
        reader = Reader(s, n)
        reader.start()
        line = '{"id":%d,"verb":"report","alarm":{"id":1002,"source":"flood","text":"x"}}\n'
        sender = threading.Thread(
            target=lambda: s.sendall("".join(line % i for i in range(n)).encode()), daemon=True)
        sender.start()
        try:
            wait_for(lambda: self.stats()["queues"]["store_inflight"] >= 1024, 20,
                     what="the store to fall behind")
            # sentryctl is answered at once, while the reporter waits for the store
            t = time.monotonic()
            rc, out, err = self.root.ctl("status", "t1", timeout=30)
            took = time.monotonic() - t
            self.assertEqual(rc, 0, err)
            latency = hello_latency(self.root.socket)
            print("\n  store behind (%d in flight): sentryctl status %.3f s, hello %.3f s"
                  % (self.stats()["queues"]["store_inflight"], took, latency), file=sys.stderr)
            self.assertLess(took, 2.0 * SLOW)
            self.assertLess(latency, 1.0 * SLOW)
            self.assertLess(reader.count, n, "the reports were answered with the lock held")
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        # once the store takes them, every report is answered
        reader.join(120 * SLOW)
        sender.join(10)
        s.close()
        self.assertEqual(len(reader.answers), n)
        self.assertTrue(all(a["ok"] for a in reader.answers),
                        [a for a in reader.answers if not a["ok"]][:3])

    def stats(self):
        c = ProtocolClient(self.root.socket)
        try:
            return c.call("stats")["result"]
        finally:
            c.close()


FLOODER = r'''
import json, socket, sys, threading
n = int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
answers = []
def read():
    buf = b""
    while len(answers) < n:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            answers.append(json.loads(line))
t = threading.Thread(target=read)
t.start()
line = '{"id":%d,"verb":"report","alarm":{"id":1002,"source":"flood","key":"sda","text":"x"}}\n'
s.sendall("".join(line % i for i in range(n)).encode())
t.join()
codes = {}
for a in answers:
    k = "ok" if a["ok"] else a["error"]["code"]
    codes[k] = codes.get(k, 0) + 1
print(json.dumps(codes))
'''


class RateLimitTest(SentryTestCase):
    conf_extra = ("[control]\nsocket_mode = 0666\n"
                  "[alarms]\nrate_limit_burst = 50\nrate_limit_interval = 3\n")

    def test_flooding_reporter_is_limited_and_told(self):
        os.chmod(self.root.dir, 0o755)
        self.root.write_mod("flood", enabled="yes", type="oneshot", user="nobody",
                            task_start="/bin/sleep 60", task_stop="kill $pid")
        self.root.write_mod("t1", enabled="yes", type="oneshot", task_start="/bin/sleep 60",
                            task_stop="kill $pid")
        self.root.start()
        script = self.root.path("flooder.py")
        with open(script, "w") as f:
            f.write(FLOODER)
        os.chmod(script, 0o644)

        def drop():
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        started = time.monotonic()
        flood = subprocess.Popen([PYTHON, script, self.root.socket, "3000"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 preexec_fn=drop)
        # sentryctl answers promptly meanwhile
        latencies = []
        while flood.poll() is None and time.monotonic() - started < 60 * SLOW:
            t = time.monotonic()
            rc, _, err = self.root.ctl("status", "t1")
            self.assertEqual(rc, 0, err)
            latencies.append(time.monotonic() - t)
        out, err = flood.communicate(timeout=60 * SLOW)
        self.assertEqual(flood.returncode, 0, err)
        codes = json.loads(out)
        print("\n  flood of 3000 reports as uid %d: %s; sentryctl status worst %.3f s"
              % (NOBODY, codes, max(latencies) if latencies else 0), file=sys.stderr)
        self.assertEqual(codes.get("ok"), 50, codes)
        self.assertEqual(codes.get("EAGAIN"), 2950, codes)
        if latencies:
            self.assertLess(max(latencies), 2.0 * SLOW)

        # once the window is over, one record says how many were suppressed
        def summary():
            c = ProtocolClient(self.root.socket)
            try:
                r = c.call("alarms", limit=100)
            finally:
                c.close()
            for a in r["result"]["alarms"]:
                if '"suppressed"' in a["text"]:
                    return a
            return None
        a = wait_for(summary, 10, what="the suppressed record")
        text = json.loads(a["text"])
        self.assertEqual(text["suppressed"], 2950)
        self.assertEqual(text["alarm_source"], "flood")
        self.assertIn("2950 alarms suppressed", text["message"])
        self.assertEqual((a["source"], a["id"], a["key"]), ("flood", 1002, "sda"))
        self.assertInLog("2950 alarms from flood (uid %d) suppressed by the rate limit" % NOBODY)
        c = ProtocolClient(self.root.socket)
        self.assertEqual(c.call("stats")["result"]["rate_limited"], 2950)
        # root is not limited
        for i in range(60):
            r = c.call("report", alarm={"id": 1002, "source": "flood", "text": "root %d" % i})
            self.assertTrue(r["ok"], r)
        c.close()


if __name__ == "__main__":
    run()
