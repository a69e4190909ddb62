"""The native protocol on the wire (docs/protocol.md): framing, ids, errors, limits, many
requests on one connection, half-closed clients, and results / heartbeats from tasks, also
through the sysSentry report_result() C API."""
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SentryTestCase, run, wait_for  # noqa: E402

COMPAT_PLUGIN = os.path.join(BUILD_DIR, "tests", "helpers", "compat_result_plugin")


class ProtocolTest(SentryTestCase):
    def setUp(self):
        super().setUp()
        self.root.write_mod("t1", enabled="yes", type="oneshot", task_start="/bin/sleep 30",
                            task_stop="kill $pid", heartbeat_interval="30")
        self.root.start()
        self.c = self.root.connect()
        self.addCleanup(self.c.close)

    def error(self, reply):
        self.assertFalse(reply["ok"], reply)
        return reply["error"]["code"], reply["error"]["message"]

    def test_hello(self):
        r = self.c.call("hello")
        self.assertTrue(r["ok"])
        self.assertEqual(r["result"]["protocol"], 1)
        self.assertEqual(r["result"]["uid"], 0)
        verbs = {v["name"]: v for v in r["result"]["verbs"]}
        self.assertTrue(verbs["start"]["root_only"])
        self.assertFalse(verbs["list"]["root_only"])

    def test_ids_echoed(self):
        self.c.send_raw('{"id":"abc","verb":"hello"}\n{"id":7,"verb":"hello"}\n{"verb":"hello"}\n')
        self.assertEqual(self.c.read_line()["id"], "abc")
        self.assertEqual(self.c.read_line()["id"], 7)
        self.assertIsNone(self.c.read_line()["id"])
        self.c.send_raw('{"id":[1],"verb":"hello"}\n')
        code, msg = self.error(self.c.read_line())
        self.assertEqual(code, "EINVAL")
        self.assertIn("'id'", msg)

    def test_bad_requests_keep_connection(self):
        cases = [
            ("not json\n", "EBADMSG"),
            ("[1,2]\n", "EBADMSG"),
            ('{"id":1}\n', "EINVAL"),
            ('{"id":1,"verb":5}\n', "EINVAL"),
            ('{"id":1,"verb":"nope"}\n', "ENOSYS"),
            ('{"id":1,"verb":"status"}\n', "EINVAL"),
            ('{"id":1,"verb":"status","task":"t1","bogus":1}\n', "EINVAL"),
            ('{"id":1,"verb":"status","task":"%s"}\n' % ("x" * 300), "EINVAL"),
            ('{"id":1,"verb":"status","task":"../../etc/passwd"}\n', "ENOENT"),
            ('{"id":1,"verb":"list","all":"yes"}\n', "EINVAL"),
            ('{"id":1,"verb":"hello"} trailing\n', "EBADMSG"),
        ]
        for line, code in cases:
            self.c.send_raw(line)
            got, msg = self.error(self.c.read_line())
            self.assertEqual(got, code, (line, msg))
        self.assertTrue(self.c.call("hello")["ok"])

    def test_line_limit(self):
        big = '{"id":1,"verb":"hello","pad":"%s"}\n' % ("x" * 70000)
        self.c.send_raw(big)
        code, msg = self.error(self.c.read_line())
        self.assertEqual(code, "EMSGSIZE")
        self.assertIn("65536", msg)
        # exactly at the limit is read (and then refused only for its unknown member)
        pad = 65536 - len('{"id":2,"verb":"list","pad":""}')
        self.c.send_raw('{"id":2,"verb":"list","pad":"%s"}\n' % ("y" * pad))
        code, msg = self.error(self.c.read_line())
        self.assertEqual(code, "EINVAL")
        self.assertIn("unknown member 'pad'", msg)
        self.assertTrue(self.c.call("hello")["ok"])

    def test_deep_nesting_refused(self):
        self.c.send_raw('{"id":1,"verb":"hello","x":' + "[" * 100 + "]" * 100 + "}\n")
        code, _ = self.error(self.c.read_line())
        self.assertEqual(code, "EBADMSG")

    def test_pipelined_requests(self):
        n = 500
        self.c.send_raw("".join('{"id":%d,"verb":"status","task":"t1"}\n' % i for i in range(n)))
        ids = [self.c.read_line()["id"] for _ in range(n)]
        self.assertEqual(ids, list(range(n)))

    def test_half_closed_client_gets_answers(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.root.socket)
        s.sendall(b'{"id":1,"verb":"start","task":"t1"}\n{"id":2,"verb":"list"}\n')
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        replies = [json.loads(l) for l in data.splitlines()]
        # start answers after the start grace, so list may come first: match by id
        self.assertEqual(sorted(r["id"] for r in replies), [1, 2])
        self.assertTrue(all(r["ok"] for r in replies))

    def test_socat_style_client(self):
        # a client in another language needs nothing but a line of JSON
        p = subprocess.run(["python3", "-c", (
            "import socket,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);"
            "s.sendall(b'{\"id\":1,\"verb\":\"list\"}\\n');print(s.makefile().readline())"),
            self.root.socket], capture_output=True, text=True, timeout=10)
        reply = json.loads(p.stdout)
        self.assertEqual(reply["result"]["tasks"][0]["name"], "t1")

    def test_result_and_heartbeat(self):
        self.assertEqual(self.error(self.c.call("heartbeat", task="t1"))[0], "ESRCH")
        self.assertTrue(self.c.call("start", task="t1")["ok"])
        self.assertTrue(self.c.call("heartbeat", task="t1")["ok"])
        r = self.c.call("result", task="t1", result="MAJOR_ALM", details={"disk": "sda"})
        self.assertTrue(r["ok"], r)
        res = self.root.ctl_json("get_result", "t1")
        self.assertEqual(res["result"], "MAJOR_ALM")
        self.assertEqual(res["details"], {"disk": "sda"})
        self.assertIn("IMPORTANT_WARN", res["error_msg"])
        # details as a JSON string holding an object (the reference's form)
        self.assertTrue(self.c.call("result", task="t1", result="PASS", details='{"a":1}')["ok"])
        self.assertEqual(self.root.ctl_json("get_result", "t1")["details"], {"a": 1})
        for bad in ({"result": "GREAT"}, {"result": "PASS", "details": "[1]"},
                    {"result": "PASS", "details": 5}):
            code, _ = self.error(self.c.call("result", task="t1", **bad))
            self.assertEqual(code, "EINVAL", bad)
        self.assertEqual(self.error(self.c.call("result", task="zz", result="PASS"))[0], "ENOENT")

    def test_compat_report_result(self):
        env = dict(os.environ, SENTRY_SOCKET=self.root.socket)
        p = subprocess.run([COMPAT_PLUGIN, "t1", "3", '{"k":"v"}'], env=env, capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        res = self.root.ctl_json("get_result", "t1")
        self.assertEqual(res["result"], "MINOR_ALM")
        self.assertEqual(res["details"], {"k": "v"})
        # the reference's client-side checks
        p = subprocess.run([COMPAT_PLUGIN, "1bad", "0"], env=env, capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("must start with a letter", p.stderr)
        p = subprocess.run([COMPAT_PLUGIN, "t1", "9"], env=env, capture_output=True, text=True,
                           timeout=20)
        self.assertIn("result_level (9) is invalid", p.stderr)
        p = subprocess.run([COMPAT_PLUGIN, "t1", "0", "{" + '"a":"%s"' % ("x" * 5000) + "}"],
                           env=env, capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("too long", p.stderr)
        p = subprocess.run([COMPAT_PLUGIN, "unknown_task", "0"], env=env, capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("task not exist", p.stderr)

    def test_deferred_answer_survives_client_exit(self):
        # a client that disconnects before its stop completes does not disturb sentryd
        self.assertTrue(self.c.call("start", task="t1")["ok"])
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.root.socket)
        s.sendall(b'{"id":1,"verb":"stop","task":"t1"}\n')
        s.close()
        self.root.wait_state("t1", "FAILED")
        self.assertTrue(self.c.call("hello")["ok"])

    def test_many_clients(self):
        socks = []
        for _ in range(50):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.root.socket)
            socks.append(s)
        for s in socks:
            s.sendall(b'{"id":1,"verb":"hello"}\n')
        for s in socks:
            self.assertIn(b'"ok":true', s.recv(65536))
            s.close()


class MaxClientsTest(SentryTestCase):
    conf_extra = "[control]\nmax_clients = 2\n"

    def test_refused_with_message(self):
        self.root.start()
        a, b = self.root.connect(), self.root.connect()
        self.assertTrue(a.call("hello")["ok"])
        self.assertTrue(b.call("hello")["ok"])
        c = self.root.connect()
        reply = c.read_line()
        self.assertEqual(reply["error"]["code"], "EUSERS")
        for x in (a, b, c):
            x.close()

        def slot_free():
            # until sentryd has seen the closes, a new client is still refused (and reset)
            try:
                d = self.root.connect()
                ok = d.call("hello")["ok"]
                d.close()
                return ok
            except (OSError, EOFError):
                return False
        wait_for(slot_free, what="slot free again")


if __name__ == "__main__":
    run()
