"""A real sentryd in a temporary root, for integration and fault tests.

SentryRoot writes sentryd.conf and task files under a fresh directory, starts sentryd with a
NOTIFY_SOCKET of its own (so READY=1 is awaited, not slept for), drives it with sentryctl or
with raw protocol lines, and always stops it. Binaries come from $SENTRY_BUILD_DIR (set by
ctest), so the same tests run against the normal and the sanitizer builds.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import testmain

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
BUILD_DIR = os.environ.get("SENTRY_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
SENTRYD = os.path.join(BUILD_DIR, "sentryd", "sentryd")
SENTRYCTL = os.path.join(BUILD_DIR, "sentryctl", "sentryctl")
# Sanitizer builds run slower: scale the waits, never the bounds being checked.
SLOW = float(os.environ.get("SENTRY_TEST_SLOWDOWN", "1"))


def read(path):
    """The text of a file, or "" when it does not exist (yet)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for(cond, timeout=10.0, interval=0.05, what="condition"):
    """Polls cond() until it returns a true value; returns it, or raises AssertionError."""
    deadline = time.monotonic() + timeout * SLOW
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout * SLOW, what, last))


class SentryRoot:
    def __init__(self, conf_extra="", name="sentry"):
        self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.tasks_dir = os.path.join(self.dir, "etc/sentry/tasks")
        self.log_dir = os.path.join(self.dir, "var/log/sentry")
        self.run_dir = os.path.join(self.dir, "run/sentry")
        self.socket = os.path.join(self.run_dir, "sentryd.sock")
        self.conf = os.path.join(self.dir, "sentryd.conf")
        os.makedirs(self.tasks_dir)
        with open(self.conf, "w") as f:
            f.write("[daemon]\nroot = %s\nlog_level = debug\nlog_target = stderr\n%s\n"
                    % (self.dir, conf_extra))
        self.proc = None
        self.stderr_path = os.path.join(self.dir, "sentryd.stderr")
        self.notify_sock = None
        self.notify_msgs = []

    # ---- files -----------------------------------------------------------------------------
    def write_mod(self, name, text=None, **keys):
        """Writes tasks/<name>.mod: either raw text or [common] with keys (None values omitted)."""
        if text is None:
            lines = ["[common]"]
            for k, v in keys.items():
                if v is not None:
                    lines.append("%s = %s" % (k, v))
            text = "\n".join(lines) + "\n"
        path = os.path.join(self.tasks_dir, name + ".mod")
        with open(path, "w") as f:
            f.write(text)
        return path

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def log(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def task_log(self, name):
        try:
            with open(os.path.join(self.log_dir, name + ".log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # ---- daemon ----------------------------------------------------------------------------
    def start(self, args=(), env_extra=None, wait_ready=True):
        notify_path = os.path.join(self.dir, "notify.sock")
        if self.notify_sock:
            self.notify_sock.close()
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        self.notify_msgs = []
        self.notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify_sock.bind(notify_path)
        self.notify_sock.settimeout(0.05)
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = notify_path
        env.update(env_extra or {})
        if getattr(self, "_stderr", None):
            self._stderr.close()
        self._stderr = open(self.stderr_path, "ab")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([SENTRYD, "--config", self.conf] + list(args), env=env,
                                     stdout=self._stderr, stderr=self._stderr)
        if wait_ready:
            self.wait_notify("READY=1", timeout=10)
        return self.proc

    def read_notify(self):
        """Collects the sd_notify messages sent so far."""
        while self.notify_sock:
            try:
                data = self.notify_sock.recv(4096)
            except socket.timeout:
                break
            self.notify_msgs.extend(data.decode().split("\n"))
        return self.notify_msgs

    def wait_notify(self, line, timeout=10):
        def got():
            if self.proc and self.proc.poll() is not None:
                raise AssertionError("sentryd exited with %s before %s:\n%s"
                                     % (self.proc.returncode, line, self.log()[-3000:]))
            return line in self.read_notify()
        return wait_for(got, timeout, what=line)

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("sentryd did not stop within %ss" % timeout)
        rc = self.proc.returncode if self.proc else None
        if self.notify_sock:
            self.notify_sock.close()
            self.notify_sock = None
        return rc

    def sanitizer_report(self):
        """The first sanitizer report sentryd wrote (ASan, LSan, UBSan), or None."""
        log = self.log()
        for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            at = log.find(mark)
            if at >= 0:
                return log[max(0, at - 200):at + 3000]
        return None

    def cleanup(self):
        try:
            # A sentryd that already ended was waited for by the test, which judged its exit.
            ended = self.proc is not None and self.proc.poll() is not None
            rc = self.stop()
            # Under the sanitizers a report is a failure of whatever test ran sentryd.
            report = self.sanitizer_report()
            if report:
                raise AssertionError("sanitizer report from sentryd:\n" + report)
            if os.environ.get("SENTRY_SANITIZE") and not ended and rc not in (None, 0, -9):
                raise AssertionError("sentryd exited with %s under the sanitizers:\n%s"
                                     % (rc, self.log()[-3000:]))
        finally:
            if hasattr(self, "_stderr"):
                self._stderr.close()
            if os.environ.get("SENTRY_KEEP_TEST_ROOT"):
                print("test root kept:", self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)

    # ---- sentryctl ---------------------------------------------------------------------------
    def ctl(self, *args, timeout=60, user=None):
        """Runs sentryctl against this root: (exit code, stdout, stderr)."""
        cmd = [SENTRYCTL, "--socket", self.socket] + list(args)
        if user is not None:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * SLOW)
        return p.returncode, p.stdout, p.stderr

    def ctl_json(self, *args):
        rc, out, err = self.ctl("--json", *args)
        if rc != 0:
            raise AssertionError("sentryctl %s failed (%d): %s%s" % (args, rc, out, err))
        return json.loads(out)

    def status(self, name):
        return self.ctl_json("status", name)

    def state(self, name):
        return self.status(name)["state"]

    def wait_state(self, name, states, timeout=10):
        if isinstance(states, str):
            states = (states,)
        return wait_for(lambda: self.state(name) in states and self.status(name), timeout,
                        what="%s in %s" % (name, states))

    # ---- raw protocol ------------------------------------------------------------------------
    def connect(self):
        return ProtocolClient(self.socket)


class ProtocolClient:
    """One native-protocol connection: send objects or raw lines, read answer lines."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout * SLOW)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def send_raw(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def read_line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, verb, **args):
        msg = {"id": self.next_id, "verb": verb}
        self.next_id += 1
        msg.update(args)
        self.send_raw(json.dumps(msg) + "\n")
        while True:
            reply = self.read_line()
            if reply.get("id") == msg["id"]:
                return reply

    def close(self):
        self.sock.close()


class SentryTestCase(unittest.TestCase):
    """A test case with self.root, cleaned up whatever happens."""
    conf_extra = ""

    def setUp(self):
        self.root = SentryRoot(self.conf_extra, name=self.id().split(".")[-1][:40])
        self.addCleanup(self.root.cleanup)

    def dump_on_failure(self):
        return self.root.log()[-5000:]

    def assertInLog(self, text, timeout=5):
        wait_for(lambda: text in self.root.log(), timeout, what="log line %r" % text)


def run():
    """Runs the file's tests: exit 0 all passed, 1 a failure, 77 something skipped (testmain)."""
    # sockets of helper threads are left to the garbage collector on purpose
    testmain.main(warnings="ignore")
