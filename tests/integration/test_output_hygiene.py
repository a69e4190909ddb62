"""What sentryd writes back is right even when what it was sent is not: every answer is valid
UTF-8 (bytes of a client's own strings and of files included), numbers out of range are refused
rather than clamped, error messages are whole, `hello` shows a large uid as it is, `stats`
counts bytes in its byte counters, and a last request without its newline is answered before
the connection closes. Each case is sent for real to a sentryd in a temporary root."""
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SLOW, ProtocolClient, SentryTestCase, run, wait_for  # noqa: E402

RECORD = struct.Struct("@HBBll8192s")
# for programs run as another user (a python of root's home is not theirs to run)
PYTHON = "/usr/bin/python3"


def raw_lines(sock, n):
    """n answer lines as bytes (not decoded: the test decodes them strictly)."""
    buf, lines = b"", []
    while len(lines) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("closed after %d lines" % len(lines))
        buf += chunk
        while b"\n" in buf and len(lines) < n:
            line, buf = buf.split(b"\n", 1)
            lines.append(line)
    return lines


class HygieneTest(SentryTestCase):
    conf_extra = "[control]\nsocket_mode = 0666\n"

    def setUp(self):
        super().setUp()
        self.root.write_mod("t1", enabled="yes", type="oneshot", task_start="/bin/sleep 60",
                            task_stop="kill $pid")

    def sock(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20 * SLOW)
        s.connect(self.root.socket)
        self.addCleanup(s.close)
        return s

    def answer(self, raw):
        """Sends one raw request line; returns its answer, strictly decoded."""
        s = self.sock()
        s.sendall(raw + b"\n")
        line = raw_lines(s, 1)[0]
        text = line.decode("utf-8")  # raises on invalid UTF-8
        return json.loads(text)

    def test_answers_are_utf8(self):
        self.root.start()
        # a string id of invalid bytes is echoed with U+FFFD
        r = self.answer(b'{"id":"a\xff\xfeb","verb":"hello"}')
        self.assertTrue(r["ok"])
        self.assertEqual(r["id"], "a\ufffd\ufffdb")
        # a message that cuts a client's string at 64 bytes, inside a two-byte character
        verb = ("a" + "\u00e9" * 40).encode()
        r = self.answer(b'{"id":2,"verb":"' + verb + b'"}')
        self.assertEqual(r["error"]["code"], "ENOSYS")
        self.assertTrue(r["error"]["message"].startswith("unknown verb 'a\u00e9\u00e9"))
        # a member name of invalid bytes
        r = self.answer(b'{"id":3,"verb":"list","\xc0\xaf":1}')
        self.assertEqual(r["error"]["code"], "EINVAL")

    def test_numbers_out_of_range_refused(self):
        self.root.start()
        r = self.answer(b'{"id":99999999999999999999,"verb":"hello"}')
        self.assertEqual((r["id"], r["ok"], r["error"]["code"]), (None, False, "EBADMSG"))
        r = self.answer(b'{"id":18446744073709551615,"verb":"hello"}')
        self.assertEqual(r["id"], 18446744073709551615)  # fits: kept exactly
        r = self.answer(b'{"id":5,"verb":"alarms","limit":99999999999999999999}')
        self.assertEqual(r["error"]["code"], "EBADMSG")
        r = self.answer(b'{"id":6,"verb":"inject","alarm":{"id":1002,"time":18446744073709551615}}')
        self.assertEqual(r["error"]["code"], "EINVAL")
        self.assertIn("'time'", r["error"]["message"])
        r = self.answer(b'{"id":7,"verb":"inject","alarm":{"id":1002,"time":253402300800000000}}')
        self.assertEqual(r["error"]["code"], "EINVAL")
        r = self.answer(b'{"id":8,"verb":"inject","alarm":{"id":1002,"time":253402300799999999,'
                        b'"text":"last"}}')
        self.assertTrue(r["ok"], r)

    def test_error_message_not_cut(self):
        # reload fails; its answer carries every warning of the file
        keys = "\n".join("unknown_key_%03d = value" % i for i in range(80))
        self.root.start()
        self.root.write_mod("t1", text="[common]\nenabled = yes\ntype = period\n"
                            "task_start = /bin/sleep 60\ntask_stop = kill $pid\n" + keys + "\n")
        r = self.answer(b'{"id":1,"verb":"reload","task":"t1"}')
        self.assertFalse(r["ok"], r)
        message = r["error"]["message"]
        self.assertGreater(len(message), 2048)
        self.assertIn("unknown_key_079", message)

    def test_large_uid_as_it_is(self):
        os.chmod(self.root.dir, 0o755)
        self.root.start()
        code = ("import json, socket, sys\n"
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                "s.connect(sys.argv[1])\n"
                "s.sendall(b'{\"id\":1,\"verb\":\"hello\"}\\n')\n"
                "print(s.makefile().readline())\n")
        uid = 4294967294

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(uid)
        p = subprocess.run([PYTHON, "-c", code, self.root.socket], capture_output=True,
                           text=True, timeout=30 * SLOW, preexec_fn=drop)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["result"]["uid"], uid)

    def test_last_request_without_newline(self):
        self.root.start()
        s = self.sock()
        s.sendall(b'{"id":1,"verb":"hello"}\n{"id":2,"verb":"hello"}')
        s.shutdown(socket.SHUT_WR)
        lines = raw_lines(s, 2)
        self.assertEqual([json.loads(x)["id"] for x in lines], [1, 2])
        self.assertEqual(s.recv(10), b"")  # then sentryd closes
        # a last line that is not JSON is refused, not dropped
        s = self.sock()
        s.sendall(b'{"id":1,"verb":"hello"}\n{"id":2,"ver')
        s.shutdown(socket.SHUT_WR)
        lines = raw_lines(s, 2)
        self.assertEqual(json.loads(lines[1])["error"]["code"], "EBADMSG")

    def test_vanishing_client_with_answers_pending(self):
        """A client that sends requests with big answers and disappears: the writes fail with
        EPIPE / ECONNRESET (MSG_NOSIGNAL), sentryd lives."""
        self.root.start()
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.root.socket)
            s.sendall(b'{"verb":"hello"}\n' * 2000)
            s.close()
        c = self.root.connect()
        self.assertTrue(c.call("hello")["ok"])
        c.close()
        self.assertIsNone(self.root.proc.poll())

    def test_stats_bytes_are_bytes(self):
        self.root.start()
        xdir = self.root.path("var/run/xalarm")
        sub = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sub.connect(os.path.join(xdir, "alarm"))
        self.addCleanup(sub.close)
        # a subscriber that never reads: records wait for it
        rep = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for i in range(1000):
            rep.sendto(RECORD.pack(1002, 1, 1, int(time.time()), 0, b'{"n":%d}' % i),
                       os.path.join(xdir, "report"))
        rep.close()

        def queued():
            c = ProtocolClient(self.root.socket)
            try:
                st = c.call("stats")["result"]
            finally:
                c.close()
            return st["queues"] if st["committed"] >= 1000 else None
        q = wait_for(queued, 20, what="the alarms stored")
        total, most = q["subscriber_bytes_total"], q["subscriber_bytes_max"]
        print("\n  a subscriber that does not read: %d bytes wait for it" % total, file=sys.stderr)
        # hundreds of 8216-byte records wait (a record may have left in part): bytes, not the
        # number of records (which is below 1000)
        self.assertGreater(total, 100 * 8216)
        self.assertEqual(most, total)


if __name__ == "__main__":
    run()
