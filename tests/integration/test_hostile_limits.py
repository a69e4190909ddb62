"""Connection limits against hostile users, performed for real against a sentryd in a temporary
root: a non-root user that opens every connection it can no longer locks root and sentryd's own
tasks out (per-uid limits, a reserve for root and the tasks, recognised by their parentage), on
the native socket and on the xalarm alarm socket; and a sentryd out of file descriptors stops
polling its listening sockets (it once spun at 94 % CPU and wrote 193 MB of log in 8 s), says so
once per episode, and accepts again when a descriptor frees."""
import json
import os
import resource
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sentry_harness  # noqa: E402
from sentry_harness import SLOW, SentryTestCase, run, wait_for  # noqa: E402

NOBODY = 65534
# for programs run as another user (a python of root's home is not theirs to run)
PYTHON = "/usr/bin/python3"
OTHER = 65533

# Opens connections as long as sentryd admits them (an admitted native client answers hello; a
# refused one gets EUSERS; an admitted xalarm client stays open, a refused one is closed), prints
# how many it holds, then holds them until stdin closes.
HOG = r'''
import json, socket, sys
path, kind, most = sys.argv[1], sys.argv[2], int(sys.argv[3])
held, refusal = [], None
for i in range(most):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    if kind == "native":
        try:
            s.sendall(b'{"id":1,"verb":"hello"}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused at accept: the refusal was written and the socket closed first
        line = s.makefile("rb").readline()
        reply = json.loads(line) if line else None
        if not reply or not reply["ok"]:
            refusal = reply
            s.close()
            break
    else:
        s.settimeout(1.0)
        try:
            if s.recv(1) == b"":
                s.close()
                refusal = "closed"
                break
        except socket.timeout:
            pass
    held.append(s)
print(json.dumps({"held": len(held), "refusal": refusal}), flush=True)
sys.stdin.read()
'''

# What a task does with $SENTRY_SOCKET: report its result, print the answer into its log.
TASK = r'''
import json, os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["SENTRY_SOCKET"])
s.sendall((json.dumps({"id": 1, "verb": "result", "task": os.environ["SENTRY_TASK_NAME"],
                       "result": "PASS"}) + "\n").encode())
print("ANSWER " + s.makefile("rb").readline().decode().strip(), flush=True)
'''


class Hog:
    def __init__(self, test, uid, path, kind, most):
        def drop():
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        self.proc = subprocess.Popen([PYTHON, test.script, path, kind, str(most)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, preexec_fn=drop)
        test.addCleanup(self.stop)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("hog failed: " + self.proc.stderr.read())
        self.result = json.loads(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


class RootLockoutTest(SentryTestCase):
    conf_extra = ("[control]\nsocket_mode = 0666\nmax_clients = 16\nmax_clients_per_uid = 8\n"
                  "reserved_clients = 4\n"
                  "[xalarm]\nmax_clients = 8\nmax_clients_per_uid = 4\nreserved_clients = 2\n")

    def setUp(self):
        super().setUp()
        os.chmod(self.root.dir, 0o755)
        self.script = self.root.path("hog.py")
        with open(self.script, "w") as f:
            f.write(HOG)
        task = self.root.path("task.py")
        with open(task, "w") as f:
            f.write(TASK)
        os.chmod(self.script, 0o644)
        os.chmod(task, 0o644)
        # a task that runs as the very user who hogs the socket
        self.root.write_mod("hb", enabled="yes", type="oneshot", user="nobody",
                            task_start="%s %s" % (PYTHON, task), task_stop="kill $pid")
        self.root.start()

    def test_native_socket(self):
        hog = Hog(self, NOBODY, self.root.socket, "native", 30)
        self.assertEqual(hog.result["held"], 8, hog.result)  # its uid's share
        self.assertEqual(hog.result["refusal"]["error"]["code"], "EUSERS")
        self.assertIn("max_clients_per_uid", hog.result["refusal"]["error"]["message"])
        other = Hog(self, OTHER, self.root.socket, "native", 30)
        self.assertEqual(other.result["held"], 4, other.result)  # what is left but the reserve
        self.assertIn("reserved_clients", other.result["refusal"]["error"]["message"])
        self.assertInLog("refused a client (pid")
        # root gets in
        rc, out, err = self.root.ctl("list")
        self.assertEqual(rc, 0, err)
        c = self.root.connect()
        self.assertTrue(c.call("hello")["ok"])
        # and so does sentryd's own task, though it runs as the hog's uid
        rc, out, err = self.root.ctl("start", "hb")
        self.assertEqual(rc, 0, err + out)
        line = wait_for(lambda: [x for x in self.root.task_log("hb").splitlines()
                                 if x.startswith("ANSWER ")], 20, what="the task's answer")[0]
        answer = json.loads(line[len("ANSWER "):])
        self.assertTrue(answer["ok"], answer)
        self.assertEqual(self.root.ctl_json("get_result", "hb")["result"], "PASS")
        self.assertInLog("a task of sentryd")
        c.close()

    def test_xalarm_socket(self):
        path = self.root.path("var/run/xalarm/alarm")
        # as /var is on a real system (sentryd made it 0700 for its state directory)
        for d in ("var", "var/run"):
            os.chmod(self.root.path(d), 0o755)
        hog = Hog(self, NOBODY, path, "xalarm", 20)
        self.assertEqual(hog.result["held"], 4, hog.result)
        other = Hog(self, OTHER, path, "xalarm", 20)
        self.assertEqual(other.result["held"], 2, other.result)
        # root's consumer is kept
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.settimeout(1.0 * SLOW)
        try:
            self.assertNotEqual(s.recv(1), b"", "root's xalarm client was refused")
        except socket.timeout:
            pass
        s.close()
        self.assertInLog("xalarm alarm socket: refused a client")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class FdExhaustionTest(SentryTestCase):
    STARVED = "cannot accept connections on the control socket"

    def test_no_spin_and_one_line_per_episode(self):
        self.root.start()
        pid = self.root.proc.pid
        c = self.root.connect()
        self.assertTrue(c.call("hello")["ok"])
        c.close()
        time.sleep(0.2)
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        # room for exactly two more descriptors (the lowest free numbers are taken first)
        in_use = {int(fd) for fd in os.listdir("/proc/%d/fd" % pid)}
        free = [fd for fd in range(len(in_use) + 3) if fd not in in_use]
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (free[1] + 1, hard))
        held = [self.root.connect() for _ in range(2)]
        for h in held:
            self.assertTrue(h.call("hello")["ok"])
        # these wait in the listen queue: accept() fails with EMFILE
        waiting = []
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30 * SLOW)
            s.connect(self.root.socket)
            s.sendall(b'{"id":1,"verb":"hello"}\n')
            waiting.append(s)
        wait_for(lambda: self.STARVED in self.root.log(), 10, what="the EMFILE warning")
        before = cpu_seconds(pid)
        time.sleep(1.0)
        cpu = cpu_seconds(pid) - before
        log = self.root.log()
        print("\n  out of descriptors: sentryd used %.3f s of CPU in 1 s; %d warning line(s), "
              "%d KiB of log" % (cpu, log.count(self.STARVED), len(log) // 1024), file=sys.stderr)
        self.assertLess(cpu, 0.2 * SLOW)
        self.assertEqual(log.count(self.STARVED), 1)
        # a connection closes: a waiting one is taken and answered
        held.pop().close()
        f = waiting[0].makefile("rb")
        self.assertTrue(json.loads(f.readline())["ok"])
        self.assertInLog("accepting connections on the control socket again")
        # still short of descriptors: a second episode, and its one line
        wait_for(lambda: self.root.log().count(self.STARVED) == 2, 10, what="a second episode")
        time.sleep(0.5)
        self.assertEqual(self.root.log().count(self.STARVED), 2)
        # room again: everyone is served
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        for s in waiting[1:]:
            self.assertTrue(json.loads(s.makefile("rb").readline())["ok"])
        for s in waiting + held:
            s.close()
        c = self.root.connect()
        self.assertTrue(c.call("hello")["ok"])
        c.close()


class FdLimitAtStartTest(SentryTestCase):
    conf_extra = "[control]\nmax_clients = 2000\n"

    def start_with_limit(self, soft, hard):
        """Starts sentryd with that RLIMIT_NOFILE, set by prlimit(1) right before it execs."""
        wrapper = self.root.path("sentryd-limited")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec prlimit --nofile=%d:%d -- "%s" "$@"\n'
                    % (soft, hard, sentry_harness.SENTRYD))
        os.chmod(wrapper, 0o755)
        real = sentry_harness.SENTRYD
        sentry_harness.SENTRYD = wrapper
        try:
            self.root.start()
        finally:
            sentry_harness.SENTRYD = real

    def soft_limit(self):
        return resource.prlimit(self.root.proc.pid, resource.RLIMIT_NOFILE)[0]

    def test_raised_where_allowed(self):
        self.start_with_limit(1024, 8192)
        need = 2000 + 100 + 256
        self.assertEqual(self.soft_limit(), need)
        self.assertInLog("file descriptor limit raised from 1024 to %d" % need)

    def test_said_when_it_cannot_be_honoured(self):
        self.start_with_limit(512, 1000)
        self.assertEqual(self.soft_limit(), 1000)
        self.assertInLog("need 2356 file descriptors but sentryd may open only 1000")


if __name__ == "__main__":
    run()
