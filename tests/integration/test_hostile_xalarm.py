"""Hostile clients of the xalarm sockets, each attack performed for real against a sentryd in a
temporary root: registration messages of the wrong type ({"action":null} once killed sentryd),
a registration that never ends (it once grew sentryd without bound), a registration for all 128
ids (the server once kept only 64), report datagrams that claim another task's name (once stored
as that task's), and times out of range. sentryd must live, close the offender with a logged
reason, and go on serving everyone else."""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SLOW, SentryTestCase, run, wait_for  # noqa: E402

RECORD = struct.Struct("@HBBll8192s")  # struct alarm_info, 8216 bytes
NOBODY = 65534
# for programs run as another user (a python of root's home is not theirs to run)
PYTHON = "/usr/bin/python3"


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


class XalarmTestCase(SentryTestCase):
    conf_extra = "[control]\nsocket_mode = 0666\n"

    def setUp(self):
        super().setUp()
        os.chmod(self.root.dir, 0o755)  # for the tests that send as another user
        self.prepare()
        self.root.start()
        self.xdir = self.root.path("var", "run", "xalarm")
        wait_for(lambda: os.path.exists(os.path.join(self.xdir, "alarm")), what="xalarm sockets")
        # as /var is on a real system (sentryd made it 0700 for its state directory)
        for d in ("var", "var/run"):
            os.chmod(self.root.path(d), 0o755)
        self.seq = 0

    def prepare(self):
        pass

    def unique(self, prefix):
        self.seq += 1
        return '{"mark":"%s-%d-%f"}' % (prefix, self.seq, time.time())

    def client(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10 * SLOW)
        s.connect(os.path.join(self.xdir, "alarm"))
        self.addCleanup(s.close)
        return s

    def report(self, rid, text, level=1, typ=1, sec=None, usec=0):
        if sec is None:
            now = time.time()
            sec, usec = int(now), int((now % 1) * 1e6)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(RECORD.pack(rid, level, typ, sec, usec, text.encode()),
                     os.path.join(self.xdir, "report"))
        finally:
            s.close()

    def record(self, s):
        """The next record s receives: (id, text)."""
        data = s.recv(RECORD.size, socket.MSG_WAITALL)
        if len(data) < RECORD.size:
            raise EOFError("connection closed after %d bytes of a record" % len(data))
        rid, _, _, _, _, text = RECORD.unpack(data)
        return rid, text.split(b"\0", 1)[0].decode(errors="replace")

    def alive(self):
        """sentryd still runs and answers."""
        self.assertIsNone(self.root.proc.poll(), "sentryd died:\n" + self.root.log()[-3000:])
        c = self.root.connect()
        try:
            self.assertTrue(c.call("hello")["ok"])
        finally:
            c.close()

    def closed_by_server(self, s, timeout=10):
        """The server closed s (EOF, or a reset)."""
        s.settimeout(timeout * SLOW)
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def stored(self, marker):
        """The stored alarm whose text holds marker, or None."""
        c = self.root.connect()
        try:
            r = c.call("alarms", limit=1000)
        finally:
            c.close()
        self.assertTrue(r["ok"], r)
        for a in r["result"]["alarms"]:
            if marker in a["text"]:
                return a
        return None


class MessageTypesTest(XalarmTestCase):
    def test_null_action(self):
        """The attack of the issue: one message, {"action":null}."""
        s = self.client()
        s.sendall(b'{"action":null}\n')
        self.assertTrue(self.closed_by_server(s), "the client was not closed")
        self.assertInLog("closed: 'action' must be a string")
        self.alive()

    def test_every_member_is_type_checked(self):
        cases = [
            (b'{"action":5}', "'action' must be a string"),
            (b'{"action":["register_events"]}', "'action' must be a string"),
            (b'{}', "'action' must be a string"),
            (b'[1,2]', "a message must be a JSON object"),
            (b'"register_events"', "a message must be a JSON object"),
            (b'{"action":"register_events","id_filter":"1001"}', "'id_filter' must be an array"),
            (b'{"action":"register_events","id_filter":[null]}', "'id_filter' must be an array"),
            (b'{"action":"register_events","id_filter":[1001,"x"]}',
             "'id_filter' must be an array of ids"),
            (b'{"action":"register_events","id_filter":["1005-1001"]}',
             "'id_filter' must be an array of ids"),
            (b'{"action":"update_filter","id_filter":{"a":1}}', "'id_filter' must be an array"),
            (b'{"action":"update_filter"}', "'update_filter' needs 'id_filter'"),
            (b'{"action":"register_events","event_ids":{"x":1}}', "'event_ids' must be an array"),
            (b'{"action":"unregister_events","event_ids":[true]}', "'event_ids' must be an array"),
            (b'not json at all', "message is not JSON"),
        ]
        for message, reason in cases:
            s = self.client()
            s.sendall(message + b"\n")
            self.assertTrue(self.closed_by_server(s), message)
            self.assertInLog("closed: " + reason)
        self.alive()
        # a well-formed client is served as before
        s = self.client()
        s.sendall(b'{"action":"register_events","event_ids":[1003],"id_filter":[1001]}\n')
        self.assertFalse(self.closed_by_server(s, timeout=0.5), "a valid client was closed")


class OversizedRegistrationTest(XalarmTestCase):
    def test_endless_registration_is_bounded(self):
        """The attack of the issue sent 300 MiB and sentryd grew by 313 MB. Here 64 MiB of one
        message that never ends: sentryd closes the client once it passes the 4096 bytes a
        registration may have, and its memory does not move."""
        pid = self.root.proc.pid
        before = rss_kib(pid)
        s = self.client()
        total = 64 * 1024 * 1024
        chunk = b"a" * (1024 * 1024)
        sent = 0
        s.sendall(b'{"action":"register_events","x":"')
        try:
            while sent < total:
                s.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except socket.timeout:
            self.fail("sentryd stopped reading without closing the client")
        after = rss_kib(pid)
        print("\n  oversized registration: %d MiB offered, %d MiB taken before the close; "
              "sentryd RSS %d KiB before, %d KiB after" % (total >> 20, sent >> 20, before, after),
              file=sys.stderr)
        self.assertLess(sent, total, "sentryd read all of it")
        self.assertLess(after - before, 16 * 1024, "sentryd grew by %d KiB" % (after - before))
        self.assertInLog("closed: message longer than 4096 bytes")
        self.alive()

    def test_many_clients_read_in_turn(self):
        """Ten clients that stream at once do not keep sentryd from others: a report still
        reaches a registered client while they send."""
        stop = threading.Event()

        def stream():
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(os.path.join(self.xdir, "alarm"))
                # many small valid messages: each under the limit, never ending in total
                msg = b'{"action":"register_events","event_ids":[],"id_filter":[1002]}\n' * 64
                while not stop.is_set():
                    s.sendall(msg)
            except OSError:
                pass
        threads = [threading.Thread(target=stream, daemon=True) for _ in range(10)]
        for t in threads:
            t.start()
        self.addCleanup(stop.set)
        s = self.client()
        s.sendall(b'{"action":"register_events","event_ids":[],"id_filter":[1001]}\n')
        deadline = time.monotonic() + 10 * SLOW
        got = None
        while got is None and time.monotonic() < deadline:
            mark = self.unique("fair")
            self.report(1001, mark)
            s.settimeout(0.5 * SLOW)
            try:
                rid, text = self.record(s)
                if text == mark:
                    got = text
            except socket.timeout:
                pass
        stop.set()
        self.assertIsNotNone(got, "a client was not served while others streamed")
        self.alive()


class FullFilterTest(XalarmTestCase):
    def sync(self, s, wanted, probe_id=None):
        """Reports `wanted` and then a mark of 1001 until the first record s reads is `wanted`'s
        (the registration is in place), or the deadline passes. Returns the ids read."""
        deadline = time.monotonic() + 10 * SLOW
        seen = []
        while time.monotonic() < deadline:
            text, mark = self.unique("want"), self.unique("mark")
            self.report(wanted, text)
            self.report(1001, mark)
            while True:
                rid, got = self.record(s)
                seen.append(rid)
                if got == text:
                    self.assertEqual(self.record(s)[1], mark)
                    return seen
                if got == mark:
                    break
        self.fail("alarm %d never reached a client registered for it (ids read: %s)"
                  % (wanted, sorted(set(seen))))

    def test_all_128_ids(self):
        """What libxalarm sends for a subscription to every id: one id per entry, 128 of them;
        alarms of the high ids (1065-1128) once never arrived."""
        s = self.client()
        ids = ",".join(str(i) for i in range(1001, 1129))
        s.sendall(('{"action":"register_events","event_ids":[1003,1005,1007,1009,1013,1016],'
                   '"id_filter":[%s]}\n' % ids).encode())
        for rid in (1100, 1065, 1064, 1127):
            self.sync(s, rid)
        # and the filter is a filter: narrowed to 1001 and 1100, 1050 no longer comes
        s.sendall(b'{"action":"update_filter","id_filter":[1001,1100]}\n')
        deadline = time.monotonic() + 10 * SLOW
        while True:
            probe, mark = self.unique("probe"), self.unique("mark")
            self.report(1050, probe)
            self.report(1100, mark)
            rid, text = self.record(s)
            if rid == 1050:  # the update was not in place yet
                self.assertLess(time.monotonic(), deadline, "update_filter never took effect")
                self.record(s)
                continue
            self.assertEqual((rid, text), (1100, mark))
            break
        s.close()
        # what libxalarm sends now for the same subscription: one range
        s2 = self.client()
        s2.sendall(b'{"action":"register_events","event_ids":[],"id_filter":["1001-1128"]}\n')
        self.sync(s2, 1100)


class ReportSourceTest(XalarmTestCase):
    def prepare(self):
        self.root.write_mod("avg_block_io", enabled="yes", type="oneshot",
                            task_start="/bin/sleep 30", task_stop="kill $pid")
        self.root.write_mod("nobody_task", enabled="yes", type="oneshot", user="nobody",
                            task_start="/bin/sleep 30", task_stop="kill $pid")

    def report_as(self, uid, rid, text):
        code = ("import socket, struct, sys, time\n"
                "r = struct.Struct('@HBBll8192s')\n"
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                "s.sendto(r.pack(%d, 1, 1, int(time.time()), 0, sys.argv[2].encode()), "
                "sys.argv[1])\n" % rid)

        def drop():
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        p = subprocess.run([PYTHON, "-c", code, os.path.join(self.xdir, "report"), text],
                           capture_output=True, text=True, timeout=30 * SLOW, preexec_fn=drop)
        self.assertEqual(p.returncode, 0, p.stderr)

    def source_of(self, marker):
        a = wait_for(lambda: self.stored(marker), what="alarm %s stored" % marker)
        return a["source"]

    def test_only_root_or_the_tasks_user_claims_its_name(self):
        cases = [
            # (sender uid, claimed name, stored source)
            (NOBODY, "avg_block_io", "uid:%d" % NOBODY),  # the attack of the issue
            (NOBODY, "nobody_task", "nobody_task"),      # the task's own user
            (NOBODY, "no_such_task", "uid:%d" % NOBODY),
            (NOBODY, None, "uid:%d" % NOBODY),
            (0, "avg_block_io", "avg_block_io"),
            (0, None, "xalarm"),
        ]
        for uid, claimed, want in cases:
            mark = "m-%d-%s-%f" % (uid, claimed, time.time())
            if claimed:
                text = '{"alarm_source":"%s","mark":"%s"}' % (claimed, mark)
            else:
                text = '{"mark":"%s"}' % mark
            self.report_as(uid, 1002, text)
            self.assertEqual(self.source_of(mark), want, (uid, claimed))
        # get_alarm of the task shows only what its own reporters sent
        c = self.root.connect()
        try:
            r = c.call("get_alarm", task="avg_block_io", time_range=3600)
        finally:
            c.close()
        self.assertTrue(r["ok"], r)

    def test_time_out_of_range_refused(self):
        """tv_sec beyond 9999-12-31 or negative, tv_usec outside 0..999999: refused and counted,
        not stored as year 294247."""
        c = self.root.connect()
        before = c.call("stats")["result"]["rejected"]["xalarm"]
        for sec, usec in ((2 ** 62, 0), (-5, 0), (253402300800, 0), (1700000000, 1000000),
                          (1700000000, -1)):
            self.report(1002, '{"mark":"time-%d-%d"}' % (sec, usec), sec=sec, usec=usec)
        good = self.unique("good-time")
        self.report(1002, good, sec=253402300799, usec=999999)
        a = wait_for(lambda: self.stored(good), what="the last valid time stored")
        self.assertEqual(a["time"], 253402300799999999)
        after = c.call("stats")["result"]["rejected"]["xalarm"]
        c.close()
        self.assertEqual(after - before, 5)
        for sec, usec in ((2 ** 62, 0), (-5, 0)):
            self.assertIsNone(self.stored("time-%d-%d" % (sec, usec)))


if __name__ == "__main__":
    run()
