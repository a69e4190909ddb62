"""plugins/sentry_msg_monitor against a real sentryd, through its test backend: notices are fed
as the ABI's 88-byte records (kmod/include/uapi/sentry_msg_helper.h) on a unix socket and
answers come back as the same records on another socket, which replies to each with the errno
the SMH_MSG_ACK ioctl would give. Everything between the read and the ioctl is the plugin's real
path: the notice becomes the reference's alarm at an xalarm consumer, an answer reported by an
xalarm reporter reaches the ack side, bad answers are refused, late ones logged, sentryd
restarts survived, and an incompatible device refused."""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SLOW, SentryTestCase, read, run, wait_for  # noqa: E402
from shipped_tasks import shipped_mod  # noqa: E402
import test_xalarm_compat as compat  # noqa: E402  (a module: its test class is not run here)

PLUGIN = os.path.join(BUILD_DIR, "plugins", "sentry_msg_monitor", "sentry_msg_monitor")

# struct sentry_msg_helper_msg (LP64): type, 4 bytes padding, msgid, start_send_time,
# timeout_time, a 48-byte union, res.
HEAD = struct.Struct("=i4xQQQ")
UNION_SIZE = 48
RES = struct.Struct("=Q")
RECORD_SIZE = HEAD.size + UNION_SIZE + RES.size
assert RECORD_SIZE == 88
POWER_OFF, OOM, PANIC, KERNEL_REBOOT, UB_MEM_ERR, HEARTBEAT, LINK_EVENT = 0, 1, 2, 3, 4, 7, 9
ETIME, ENOENT = 62, 2


def record(typ, msgid, union=b"", res=0):
    union = union.ljust(UNION_SIZE, b"\0")
    return HEAD.pack(typ, msgid, 1000, 30000) + union + RES.pack(res)


def oom_union(nr_nid, nids, sync, timeout, reason):
    return struct.pack("=i8iiii", nr_nid, *(list(nids) + [0] * (8 - len(nids))), sync, timeout,
                       reason)


def remote_union(cna, eid):
    return struct.pack("=I40s", cna, eid)


def ub_mem_union(pa, mem_type, with_kill, raw):
    return struct.pack("=Qiii", pa, mem_type, with_kill, raw)


def link_union(port, scna, event):
    return struct.pack("=HxxIi", port, scna, event)


def parse_answer(data):
    typ, msgid, _, _ = HEAD.unpack_from(data, 0)
    cna, eid = struct.unpack_from("=I40s", data, HEAD.size)
    (res,) = RES.unpack_from(data, HEAD.size + UNION_SIZE)
    return {"type": typ, "msgid": msgid, "res": res, "cna": cna,
            "eid": eid.split(b"\0", 1)[0].decode()}


class Backend:
    """The two sockets the plugin's test backend connects to, and the plugin process."""

    count = 0

    def __init__(self, test, version=None):
        self.test = test
        Backend.count += 1
        d = os.path.join(test.root.dir, "smh-%d" % Backend.count)
        os.mkdir(d)
        self.records_path = os.path.join(d, "records.sock")
        self.answers_path = os.path.join(d, "answers.sock")
        self.log_path = os.path.join(d, "sentry_msg_monitor.log")
        self.answers = []
        self.replies = []  # errno values for the next answers; 0 when empty
        self.lock = threading.Lock()
        self.records_srv = self._listen(self.records_path)
        self.answers_srv = self._listen(self.answers_path)
        self.records = None
        args = [PLUGIN, "--device", self.records_path, "--answers", self.answers_path]
        if version:
            args += ["--device-version", version]
        env = dict(test.env, LOG_LEVEL="debug")
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log_file, stderr=self.log_file)
        test.addCleanup(self.stop)

    def _listen(self, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(1)
        s.settimeout(10 * SLOW)
        return s

    def connect(self):
        """Accepts the plugin's two connections; answers are read by a thread."""
        self.records, _ = self.records_srv.accept()
        conn, _ = self.answers_srv.accept()
        threading.Thread(target=self._serve_answers, args=(conn,), daemon=True).start()

    def _serve_answers(self, conn):
        with conn:
            while True:
                data = b""
                while len(data) < RECORD_SIZE:
                    chunk = conn.recv(RECORD_SIZE - len(data))
                    if not chunk:
                        return
                    data += chunk
                with self.lock:
                    self.answers.append(parse_answer(data))
                    err = self.replies.pop(0) if self.replies else 0
                conn.sendall(struct.pack("=i", err))

    def feed(self, data):
        self.records.sendall(data)

    def log(self):
        return read(self.log_path)

    def wait_log(self, text, timeout=10):
        wait_for(lambda: text in self.log() or self._gone(text), timeout,
                 what="plugin log line %r" % text)

    def _gone(self, text):
        if self.proc.poll() is not None and text not in self.log():
            raise AssertionError("sentry_msg_monitor exited (%s) before logging %r:\n%s"
                                 % (self.proc.returncode, text, self.log()[-3000:]))
        return False

    def answer_for(self, msgid, timeout=10):
        def got():
            with self.lock:
                return next((a for a in self.answers if a["msgid"] == msgid), None)
        return wait_for(got, timeout, what="answer to msgid %d at the backend" % msgid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self.records, self.records_srv, self.answers_srv):
            if s:
                s.close()
        self.log_file.close()
        # under the sanitizers a report of the plugin fails the test that ran it
        log = self.log()
        for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if mark in log:
                raise AssertionError("sanitizer report from sentry_msg_monitor:\n"
                                     + log[log.find(mark) - 200:][:3000])


class SentryMsgMonitorTest(compat.XalarmCompatTest):
    """XalarmCompatTest's sentryd and helpers; its own tests are not run here."""

    def setUp(self):
        super().setUp()
        if not os.path.exists(PLUGIN):
            self.skipTest("%s is not built" % PLUGIN)
        self.answer_seq = 1 << 40

    def backend(self, **kw):
        b = Backend(self, **kw)
        b.connect()
        b.wait_log("subscribed to the answers")
        return b

    def sync_answers(self, b):
        """Reports a throw-away answer until it reaches the backend: the plugin's subscription
        becomes live some time after it registered."""
        deadline = time.monotonic() + 10 * SLOW
        while True:
            self.answer_seq += 1
            self.report_event(1004, "%d_0" % self.answer_seq)
            try:
                return b.answer_for(self.answer_seq, 0.3)
            except AssertionError:
                if b.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("no answer reached the backend (plugin exit status %s):"
                                         "\n%s" % (b.proc.poll(), b.log()[-3000:]))

    def report_event(self, rid, text):
        p = subprocess.run([compat.REPORTER, "-e", str(rid), text], env=self.env,
                           capture_output=True, text=True, timeout=20 * SLOW)
        self.assertEqual(p.stdout, "xalarm_report_event returned 0\n", p.stderr)

    def assertRunning(self, b):
        self.assertIsNone(b.proc.poll(), b.log()[-3000:])

    # ---- tests ---------------------------------------------------------------------------------
    def test_notices_become_alarms(self):
        ids = (1003, 1005, 1007, 1009, 1013, 1016)
        c = self.consumer(*ids)
        c.wait_line("xalarm_Register returned 0")
        self.report_until(c, 1003, "ALARM 1003 ")
        b = self.backend()
        feeds = [
            (record(POWER_OFF, 11), "1003", "11"),
            (record(OOM, 12, oom_union(2, [0, 1], 1, 30000, 1)), "1005",
             "12_{nr_nid:2,nid:[0,1,0,0,0,0,0,0],sync:1,timeout:30000,reason:1}"),
            (record(PANIC, 13, remote_union(7, b"node-a")), "1007", "13_{cna:7,eid:node-a}"),
            (record(KERNEL_REBOOT, 14, remote_union(16777215, b"")), "1009",
             "14_{cna:16777215,eid:}"),
            (record(UB_MEM_ERR, 15, ub_mem_union(0xdead000, 0, 0, 1)), "1013",
             '{ "msgid": 15, "sentry_ubus_mem_err_type": 6, "raw_ubus_mem_err_type": 1, '
             '"pa": "0xdead000", "memid": -1 }'),
            (record(LINK_EVENT, 16, link_union(3, 9, 0)), "1016",
             "16_{port_id:3,scna:9,event:down}"),
            (record(LINK_EVENT, 17, link_union(4, 10, 1)), "1016",
             "17_{port_id:4,scna:10,event:up}"),
        ]
        for data, rid, text in feeds:
            b.feed(data)
            # the reporter's level and type: MINOR, OCCUR
            c.wait_line("ALARM %s 1 1 %s" % (rid, text))
        # not reported: a memory fault the reference only logs, a heartbeat, a bad type; the
        # plugin goes on
        b.feed(record(UB_MEM_ERR, 20, ub_mem_union(0x1000, 0, 0, 10)))
        b.feed(record(HEARTBEAT, 21))
        b.feed(record(99, 22))
        b.feed(record(POWER_OFF, 23))
        c.wait_line("ALARM 1003 1 1 23")
        self.assertFalse([line for line in c.output() if line.split(" ")[4:5] in
                          (["20"], ["21"], ["22"])])
        self.assertIn("msgid 22: notice type 99 (n/a) has a value outside the ABI", b.log())
        self.assertRunning(b)

    def test_answers_reach_the_kernel_side(self):
        b = self.backend()
        self.sync_answers(b)
        self.report_event(1010, "5_{cna:7,eid:node-b}_3")
        self.assertEqual(b.answer_for(5), {"type": KERNEL_REBOOT, "msgid": 5, "res": 3,
                                           "cna": 7, "eid": "node-b"})
        self.report_event(1008, "6_{cna:0,eid:}_0")
        self.assertEqual(b.answer_for(6)["type"], PANIC)
        self.report_event(1006, "18446744073709551615_4096")
        a = b.answer_for(18446744073709551615)
        self.assertEqual((a["type"], a["res"]), (OOM, 4096))
        b.wait_log("answer 1010 to msgid 5 given, res 3")

    def test_malformed_answers_refused(self):
        b = self.backend()
        self.sync_answers(b)
        self.report_event(1004, "abc")
        self.report_event(1006, "7_-1")
        self.report_event(1010, "8_{cna:1,eid:x\x1b[2J}_0")
        self.report_event(1008, "9_{cna:4294967296,eid:x}_0")
        b.wait_log('answer 1004 refused: msgid is not a decimal number: "abc"')
        b.wait_log('answer 1006 refused: res is not a decimal number: "7_-1"')
        b.wait_log('answer 1010 refused: control character in eid: "8_{cna:1,eid:x\\x1b[2J}_0"')
        b.wait_log("answer 1008 refused: cna out of range")
        # none reached the kernel side, and the next good one does
        self.report_event(1004, "10_1")
        b.answer_for(10)
        with b.lock:
            self.assertFalse([a for a in b.answers if a["msgid"] in (7, 8, 9)])
        self.assertRunning(b)

    def test_late_and_unknown_answers(self):
        b = self.backend()
        self.sync_answers(b)
        with b.lock:
            b.replies += [ETIME, ENOENT]
        self.report_event(1006, "31_0")
        b.wait_log("answer to msgid 31 came too late")
        self.report_event(1004, "32_0")
        b.wait_log("answer 1004 to msgid 32 skipped")
        self.report_event(1004, "33_0")
        b.answer_for(33)
        b.wait_log("answer 1004 to msgid 33 given")
        self.assertRunning(b)

    def test_sentryd_restart(self):
        c = self.consumer(1003)
        c.wait_line("xalarm_Register returned 0")
        b = self.backend()
        self.sync_answers(b)
        self.assertEqual(self.root.stop(), 0)
        self.root.start()
        b.wait_log("sentryd's alarm stream ended")
        # the plugin subscribes again: the next answer still arrives
        self.sync_answers(b)
        self.report_event(1010, "41_{cna:1,eid:e}_2")
        self.assertEqual(b.answer_for(41)["res"], 2)
        # and notices still become alarms
        c2 = self.consumer(1003)
        c2.wait_line("xalarm_Register returned 0")
        self.report_until(c2, 1003, "ALARM 1003 ")
        b.feed(record(POWER_OFF, 42))
        c2.wait_line("ALARM 1003 1 1 42")
        self.assertRunning(b)

    def test_end_of_notices_ends_the_plugin(self):
        """A thread that ends takes the process with it, non-zero: the task is restarted."""
        b = self.backend()
        b.records.close()
        b.records = None
        self.assertEqual(b.proc.wait(10 * SLOW), 1)
        self.assertIn("the sender thread ended", b.log())

    def test_version_check(self):
        b = Backend(self, version="2.0")
        self.assertEqual(b.proc.wait(10 * SLOW), 3)
        self.assertIn("sentry_msg_helper version 2.0 is incompatible", b.log())
        self.assertIn("refusing to start", b.log())
        for version, line in (("1.7", "sentry_msg_helper version 1.7, built for 1.6"),
                              ("fail", "cannot ask sentry_msg_helper its version")):
            b = Backend(self, version=version)
            b.connect()
            b.wait_log(line)
            b.wait_log("subscribed to the answers")
            self.assertRunning(b)

    def test_shipped_task(self):
        """The shipped .mod loads; onstart = no leaves it stopped until started, and without the
        device the plugin ends with a reason in its log."""
        self.root.write_mod("sentry_msg_monitor",
                            text=shipped_mod("sentry_msg_monitor", PLUGIN))
        rc, out, err = self.root.ctl("reload")
        self.assertEqual(rc, 0, (out, err))
        st = self.root.status("sentry_msg_monitor")
        self.assertEqual(st["state"], "EXITED", st)
        self.assertFalse(st.get("warnings"), st)
        if os.path.exists("/dev/sentry_msg_helper"):
            return
        self.root.ctl("start", "sentry_msg_monitor")
        wait_for(lambda: "/dev/sentry_msg_helper is not there: is the sentry_msg_helper module "
                 "loaded?" in self.root.task_log("sentry_msg_monitor"), 10,
                 what="the plugin's reason in its task log")


# XalarmCompatTest's own tests belong to test_xalarm_compat.py.
for name in [n for n in dir(compat.XalarmCompatTest) if n.startswith("test_")]:
    setattr(SentryMsgMonitorTest, name, None)

if __name__ == "__main__":
    run()
