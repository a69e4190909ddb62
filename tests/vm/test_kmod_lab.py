#!/usr/bin/env python3
"""vm.kmod: sentry's kernel module (kmod/, sentry_msg_helper) on Debian's 6.1 kernel, in the lab.

The module is built against the cached kernel's headers (kmod_build.py), the reader is
tests/helpers/smh_tool from the build tree. Five boots:

1. The device and real OOMs (this file again, in the lab: guest_device_and_oom()):
   - a bad module parameter is refused; SMH_VERSION_CHECK answers 1.6;
   - a notice (debugfs inject, which posts and waits as the notifiers do) is read by smh_tool and
     answered, and the waiting side gets the answer's res; a KERNEL_REBOOT notice carries the
     cna and eid set in /proc;
   - a second reader gets EPERM, an unknown msgid ENOENT, a late answer ETIME, a second answer
     ENOENT, any open file may answer; a full queue (smh_message_buffer_length=4) drops and
     counts, and a notice that would wait is refused at once; an expired notice is dropped
     unread and counted; poll() says when a notice is there; a short read is EINVAL, an unknown
     ioctl ENOTTY; /proc refuses bad values and takes good ones;
   - a real OOM (384 MiB guest, a process allocating without limit, no cgroup): the OOM notice
     arrives, smh_tool frees its 96 MiB reserve and answers with the pages, the allocation goes
     on and the process finishes without any OOM kill;
   - the same with no answer: the kernel kills the process after oom_timeout_ms, and the calls
     of the chain while the victim dies send no second notice (one wait per episode).
2. `reboot(RB_AUTOBOOT)` with kernel_reboot on and smh_tool answering: the KERNEL_REBOOT notice
   is answered and the reboot goes on at once (time from the notice on the console to QEMU's
   exit, -no-reboot).
3. `reboot(RB_POWER_OFF)` with power_off on and nobody answering: the power-off goes on after
   reboot_timeout_ms (2 s).
4. `echo c > /proc/sysrq-trigger` with panic on: the notice leaves over netpoll UDP to the host
   (QEMU user networking, 10.0.2.2 is the host's loopback); a wrong answer on the second serial
   line is ignored, the right one ends the wait at once.
5. The same without an answer: the panic goes on after panic_timeout_ms (3 s), the notice resent
   every second.
The measured times are printed (they feed a benchmark later).
"""

import ctypes
import errno
import fcntl
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lib"))
import lab  # noqa: E402
import labtest  # noqa: E402
import kmod_build  # noqa: E402
import testmain  # noqa: E402

BUILD_DIR = os.path.abspath(os.environ.get("SENTRY_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))
SMH_TOOL = os.path.join(BUILD_DIR, "tests", "helpers", "smh_tool")
DEV = "/dev/sentry_msg_helper"
INJECT = "/sys/kernel/debug/sentry_msg_helper/inject"
STATS = "/sys/class/misc/sentry_msg_helper/stats"
REPORTER = "/proc/sentry_reporter"
REMOTE = "/proc/sentry_remote_reporter"

# The ABI (kmod/include/uapi/sentry_msg_helper.h): 88 bytes on LP64.
MSG = struct.Struct("=i4xQQQ48sQ")
OOM_INFO = struct.Struct("=i8iiii")
REMOTE_INFO = struct.Struct("=I40s")
SMH_MSG_ACK = 0x7D10                    # _IO('}', 0x10)
SMH_VERSION_CHECK = 0x80087D11          # _IOR('}', 0x11, struct smh_version_info)
POWER_OFF, OOM, PANIC, KERNEL_REBOOT = 0, 1, 2, 3
RB_AUTOBOOT, RB_POWER_OFF = 0x01234567, 0x4321FEDC

OOM_RESERVE_MB = 96
REBOOT_TIMEOUT_MS = 2000                # the unanswered power-off
PANIC_GRACE_MS = 3000                   # the unanswered panic
LONG_MS = 30000                         # the waits that an answer ends


# ---------------------------------------------------------------------------------------------
# The guest side

def _write(path, text):
    """Writes text to a /proc or debugfs file in one write(); returns 0 or the errno."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def _read(path):
    with open(path) as f:
        return f.read()


def _stats():
    return {name: int(_read(os.path.join(STATS, name))) for name in os.listdir(STATS)
            if name != "boot_id"}


def _ack(fd, msgid, res=0):
    """SMH_MSG_ACK; 0 or the errno."""
    try:
        fcntl.ioctl(fd, SMH_MSG_ACK, MSG.pack(0, msgid, 0, 0, b"", res))
        return 0
    except OSError as e:
        return e.errno


def _read_msg(fd, timeout=10):
    """One notice from fd (waits for it with poll) as a dict."""
    p = select.poll()
    p.register(fd, select.POLLIN)
    deadline = time.monotonic() + timeout
    while True:
        if not p.poll(max(0, deadline - time.monotonic()) * 1000):
            raise AssertionError("no notice within %ss" % timeout)
        try:
            data = os.read(fd, MSG.size)
            break
        except BlockingIOError:
            continue
    typ, msgid, start, timeout_ms, info, res = MSG.unpack(data)
    return {"type": typ, "msgid": msgid, "start": start, "timeout_ms": timeout_ms,
            "info": info}


def _errno_of(fn):
    try:
        fn()
        return 0
    except OSError as e:
        return e.errno


class Inject(threading.Thread):
    """A debugfs inject write in a thread: it blocks as a notifier does."""

    def __init__(self, spec):
        super().__init__(daemon=True)
        self.spec = spec
        self.result = None
        self.start()

    def run(self):
        self.result = _write(INJECT, self.spec)

    def outcome(self, timeout=30):
        self.join(timeout)
        return self.result


def _insmod(ko, *params):
    p = subprocess.run(["insmod", ko] + list(params), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout.strip()


def _tool(*args, **popen):
    return subprocess.Popen([SMH_TOOL] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **popen)


def _wait_file(path, timeout=30):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("no %s within %ss" % (path, timeout))
        time.sleep(0.02)


def _fields(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def _tool_lines(out, kind):
    return [_fields(line) for line in out.splitlines() if line.startswith(kind + " ")]


def _kernel_lines(pattern):
    p = subprocess.run(["dmesg"], stdout=subprocess.PIPE, text=True)
    return [line for line in p.stdout.splitlines() if re.search(pattern, line)]


def _vmstat(key):
    for line in _read("/proc/vmstat").splitlines():
        name, value = line.split()
        if name == key:
            return int(value)
    return 0


def guest_device(ko, facts):
    """Everything about the device and /proc that needs no real fault; facts as a dict."""
    facts["bad_param"] = _insmod(ko, "oom_timeout_ms=3600001")
    facts["bad_reserve"] = [_insmod(ko, "oom_reserve_kb=262145")[0],
                            _kernel_lines(r"oom_reserve_kb=262145: want 0-262144")]
    facts["insmod"] = _insmod(ko, "smh_message_buffer_length=4")
    if facts["insmod"][0] != 0:
        return
    facts["reserve_pages"] = _stats()["oom_reserve_pages"]  # the default 4096 KiB, taken at load
    p = subprocess.run([SMH_TOOL, "version"], stdout=subprocess.PIPE, text=True)
    facts["tool_version"] = p.stdout.strip()

    # a round trip: the tool reads the notice and answers it, the waiting side gets the res
    ready = "/dev/shm/smh-ready-1"
    tool = _tool("read", "-n", "1", "-a", "7", "-t", "20000", "-R", ready)
    _wait_file(ready)
    t0 = time.monotonic()
    inj = Inject("power_off %d" % LONG_MS)
    facts["roundtrip_inject"] = inj.outcome()
    facts["roundtrip_ms"] = (time.monotonic() - t0) * 1000
    facts["roundtrip_last"] = _read(INJECT).strip()
    facts["roundtrip_tool"] = tool.communicate(timeout=30)[0]
    facts["roundtrip_tool_status"] = tool.returncode

    fd1 = os.open(DEV, os.O_RDWR | os.O_NONBLOCK)
    fd2 = os.open(DEV, os.O_RDWR | os.O_NONBLOCK)
    try:
        facts["empty_read"] = _errno_of(lambda: os.read(fd1, MSG.size))     # fd1 is the reader
        facts["second_reader"] = _errno_of(lambda: os.read(fd2, MSG.size))
        facts["short_read"] = _errno_of(lambda: os.read(fd1, MSG.size - 1))
        facts["unknown_ioctl"] = _errno_of(lambda: fcntl.ioctl(fd1, 0x7D42))
        version = fcntl.ioctl(fd2, SMH_VERSION_CHECK, b"\0" * 8)
        facts["version"] = list(struct.unpack("=II", version))
        facts["unknown_msgid"] = _ack(fd1, 999999)

        # late: the wait (300 ms) ends before the answer
        inj = Inject("power_off 300")
        m = _read_msg(fd1)
        time.sleep(0.6)
        facts["late_answer"] = _ack(fd1, m["msgid"])
        facts["late_inject"] = inj.outcome()

        # any open file may answer; a second answer is unknown
        inj = Inject("power_off %d" % LONG_MS)
        m = _read_msg(fd1)
        facts["answer_from_other_file"] = _ack(fd2, m["msgid"], 3)
        facts["second_answer"] = _ack(fd1, m["msgid"], 4)
        facts["answered_inject"] = inj.outcome()
        facts["answered_last"] = _read(INJECT).strip()

        # a KERNEL_REBOOT notice carries this node's cna and eid
        facts["set_cna"] = _write(REMOTE + "/cna", "4660\n")
        facts["set_eid"] = _write(REMOTE + "/eid", "fe80::1234\n")
        inj = Inject("kernel_reboot %d" % LONG_MS)
        m = _read_msg(fd1)
        cna, eid = REMOTE_INFO.unpack(m["info"][:REMOTE_INFO.size])
        facts["reboot_notice"] = {"type": m["type"], "cna": cna,
                                  "eid": eid.split(b"\0")[0].decode()}
        _ack(fd1, m["msgid"])
        inj.outcome()

        # the queue holds 4: two more are dropped and counted, a waiting notice is refused
        before = _stats()
        facts["fill"] = [_write(INJECT, "power_off %d nowait" % LONG_MS) for _ in range(6)]
        t0 = time.monotonic()
        facts["full_wait"] = _write(INJECT, "power_off %d" % LONG_MS)
        facts["full_wait_ms"] = (time.monotonic() - t0) * 1000
        after = _stats()
        facts["full_queued"] = after["queued"]
        facts["full_dropped"] = after["dropped_full"] - before["dropped_full"]
        facts["full_poll"] = bool(select.select([fd1], [], [], 0)[0])
        facts["drained"] = [_read_msg(fd1)["type"] for _ in range(4)]
        facts["drained_then"] = _errno_of(lambda: os.read(fd1, MSG.size))
        facts["drained_poll"] = bool(select.select([fd1], [], [], 0)[0])

        # a notice past its deadline is dropped unread, and counted
        before = _stats()
        _write(INJECT, "power_off 200 nowait")
        time.sleep(0.5)
        facts["expired_read"] = _errno_of(lambda: os.read(fd1, MSG.size))
        facts["expired_dropped"] = _stats()["dropped_expired"] - before["dropped_expired"]
    finally:
        os.close(fd1)
        os.close(fd2)

    # /proc: bad values refused, good ones taken
    facts["proc"] = {
        "oom=maybe": _write(REPORTER + "/oom", "maybe"),
        "oom=on": _write(REPORTER + "/oom", "on\n"),
        "oom read": _read(REPORTER + "/oom"),
        "panic_timeout=3600001": _write(REMOTE + "/panic_timeout", "3600001"),
        "panic_timeout=3600000": _write(REMOTE + "/panic_timeout", "3600000"),
        "panic_timeout read": _read(REMOTE + "/panic_timeout"),
        "panic_timeout=-1": _write(REMOTE + "/panic_timeout", "-1"),
        "cna=16777216": _write(REMOTE + "/cna", "16777216"),
        "eid=bad": _write(REMOTE + "/eid", "no spaces here"),
        "rate=bad": _write(REPORTER + "/oom_rate_limit", "RR_FOO:1"),
        "rate=good": _write(REPORTER + "/oom_rate_limit", "RR_DIRECT_RECLAIM:5,RR_KSWAPD:10"),
        "rate read": _read(REPORTER + "/oom_rate_limit"),
        "rate=clear": _write(REPORTER + "/oom_rate_limit", "\n"),
        "panic_target=bad": _write(REMOTE + "/panic_target", "nonsense"),
        "files": sorted(os.listdir(REPORTER)) + sorted(os.listdir(REMOTE)),
    }


HOG = r"""
import mmap, os, sys
with open("/proc/self/oom_score_adj", "w") as f:
    f.write("1000")
flag = None
if len(sys.argv) > 1:                     # smh_tool -F: the msgid it answered, once it has
    flag = mmap.mmap(os.open(sys.argv[1], os.O_RDONLY), 4096, mmap.MAP_SHARED, mmap.PROT_READ)
chunks = []
while True:
    chunks.append(bytearray(b"\1") * (4 << 20))
    if flag is not None and flag[:8] != bytes(8):
        for i in range(4):
            chunks.append(bytearray(b"\1") * (4 << 20))
        print("hog finished with %d MiB" % (len(chunks) * 4), flush=True)
        sys.exit(0)
"""


def _oom_run(name, tool_args, flag=None):
    """One real OOM: smh_tool (with tool_args) reads the notice, a hog allocates without limit
    (until smh_tool's -F flag says it answered, then 16 MiB more); what happened, as a dict."""
    ready = "/dev/shm/smh-ready-" + name
    kills, stats = _vmstat("oom_kill"), _stats()
    tool = _tool("read", "-n", "1", "-t", "120000", "-R", ready, *tool_args)
    _wait_file(ready)
    t0 = time.monotonic()
    hog = subprocess.Popen([sys.executable, "-c", HOG] + ([flag] if flag else []),
                           stdout=subprocess.PIPE, text=True)
    hog_out = hog.communicate(timeout=180)[0]
    dead_ns = time.monotonic_ns()
    out = tool.communicate(timeout=60)[0]
    time.sleep(1.5)                       # more calls of the chain would come in this time
    after = _stats()
    return {"tool": out, "tool_status": tool.returncode, "after_s": time.monotonic() - t0,
            "hog": [hog_out, hog.returncode], "hog_end_ns": dead_ns,
            "kills": _vmstat("oom_kill") - kills,
            "notices": after["oom_notices"] - stats["oom_notices"],
            "suppressed": after["oom_suppressed"] - stats["oom_suppressed"]}


def guest_oom(facts):
    """Real OOMs: answered by freeing memory; not answered; answered without freeing any."""
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("-1000")                  # this process and smh_tool are never the victim
    facts["meminfo"] = {l.split(":")[0]: l.split()[1] for l in _read("/proc/meminfo").splitlines()
                        if l.startswith(("MemTotal", "MemAvailable", "MemFree"))}
    _write(REPORTER + "/oom", "on")
    _write(REPORTER + "/oom_timeout", "20000")
    flag = "/dev/shm/smh-answered"
    facts["oom_answered"] = _oom_run("answered", ["-r", str(OOM_RESERVE_MB), "-F", flag], flag)
    facts["oom_answered"]["kernel"] = _kernel_lines(r"OOM notice \d+ answered")

    _write(REPORTER + "/oom_timeout", "3000")
    facts["oom_unanswered"] = _oom_run("unanswered", ["-N"])
    facts["oom_unanswered"]["kernel"] = _kernel_lines(r"OOM notice \d+: no answer")

    # a reader that says it freed 1000 pages and freed none: the allocation is retried, fails
    # again at once, and that second call of the same episode does not wait again
    _write(REPORTER + "/oom_timeout", "20000")
    facts["oom_lying"] = _oom_run("lying", ["-a", "1000"])
    facts["oom_lying"]["kernel"] = _kernel_lines(r"OOM notice|invoked oom-killer|Killed process")


def guest_device_and_oom(ko):
    facts = {}
    try:
        guest_device(ko, facts)
        if facts["insmod"][0] == 0:
            guest_oom(facts)
    except Exception as e:                # the host says what failed, with the facts so far
        facts["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(facts))
    return 0


def _libc_reboot(cmd):
    os.sync()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.reboot(cmd) < 0:
        print("reboot: %s" % os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 1
    return 0


def guest_reboot(ko, case):
    """insmod, a reader (answering or not), then the reboot syscall: the VM ends with it."""
    if case == "answered":
        params = ["kernel_reboot=1", "kernel_reboot_timeout_ms=%d" % LONG_MS]
        tool_args, cmd = ["-a", "0"], RB_AUTOBOOT
    else:
        params = ["power_off=1", "reboot_timeout_ms=%d" % REBOOT_TIMEOUT_MS]
        tool_args, cmd = ["-N"], RB_POWER_OFF
    rc, out = _insmod(ko, *params)
    if rc:
        print("insmod: %s" % out, file=sys.stderr)
        return 1
    ready = "/dev/shm/smh-ready"
    out = open(labtest.share_path("tool.out"), "w")
    subprocess.Popen([SMH_TOOL, "read", "-n", "1", "-R", ready] + tool_args, stdout=out,
                     stderr=subprocess.STDOUT)
    _wait_file(ready)
    return _libc_reboot(cmd)


def guest_panic(ko, case, port):
    """eth0 on QEMU's user network, insmod with the host as the peer and ttyS1 as the answer
    line, then sysrq-c: the VM ends with the panic."""
    for argv in (["ip", "addr", "add", lab.USER_NET_GUEST_IP + "/24", "dev", "eth0"],
                 ["ip", "link", "set", "eth0", "up"]):
        subprocess.run(argv, check=True)
    grace = LONG_MS if case == "answered" else PANIC_GRACE_MS
    target = "6665@%s/eth0,%s@%s/%s" % (lab.USER_NET_GUEST_IP, port, lab.USER_NET_HOST_IP,
                                        lab.USER_NET_HOST_MAC)
    rc, out = _insmod(ko, "panic=1", "panic_timeout_ms=%d" % grace, "panic_target=" + target,
                      "panic_ack_port=0x2f8", "cna=77", "eid=fe80::77")
    if rc:
        print("insmod: %s" % out, file=sys.stderr)
        return 1
    with open(labtest.share_path("ready"), "w") as f:
        f.write(_read(REMOTE + "/panic_target"))
    time.sleep(0.2)
    with open("/proc/sysrq-trigger", "w") as f:
        f.write("c")
    return 1                              # not reached


# ---------------------------------------------------------------------------------------------
# The host side

def _watch(vm, patterns, timeout, on_line=None):
    """Polls the VM's console until QEMU exits (or timeout): the host time at which each regex
    of patterns first showed, and when QEMU ended. on_line(line, t) sees every new line."""
    path = os.path.join(vm.workdir, "console.log")
    seen, pos, buf = {}, 0, ""
    deadline = time.monotonic() + timeout
    while True:
        now = time.monotonic()
        alive = vm.running()
        try:
            with open(path, errors="replace") as f:
                f.seek(pos)
                chunk = f.read()
                pos = f.tell()
        except FileNotFoundError:
            chunk = ""
        buf += chunk
        *lines, buf = buf.split("\n")
        for line in lines:
            for name, rx in patterns.items():
                if name not in seen and re.search(rx, line):
                    seen[name] = now
            if on_line:
                on_line(line, now)
        if not alive:
            return seen, now
        if now > deadline:
            return seen, None
        time.sleep(0.01)


def _console_ms(console, rx):
    """The number of the first console line matching rx with one group (e.g. 'after (\\d+) ms')."""
    m = re.search(rx, console)
    return int(m.group(1)) if m else None


class KmodLab(unittest.TestCase):
    ko = None
    device = None                         # (Result, facts)

    @classmethod
    def setUpClass(cls):
        labtest.require_lab()
        if not os.access(SMH_TOOL, os.X_OK):
            raise AssertionError("no %s: build the tree first (cmake --build)" % SMH_TOOL)
        t0 = time.monotonic()
        cls.ko = kmod_build.build()
        print("\nkmod: built %s in %.1fs" % (cls.ko, time.monotonic() - t0), file=sys.stderr)
        cls.lab_seconds = 0.0

    @classmethod
    def tearDownClass(cls):
        if cls.ko:
            print("\nkmod: lab time of this file %.1fs" % cls.lab_seconds, file=sys.stderr)

    @classmethod
    def device_facts(cls):
        if cls.device is None:
            res = lab.run([sys.executable, os.path.abspath(__file__), "--guest-device", cls.ko],
                          timeout=600, mem="256M", cpus=2,
                          env={"SENTRY_BUILD_DIR": BUILD_DIR})
            cls.lab_seconds += res.total_seconds
            facts = None
            if res.returncode == 0:
                try:
                    facts = json.loads(res.stdout)
                except ValueError:
                    pass
            cls.device = (res, facts)
            print("\nkmod device+oom boot: %s, total %.1fs" % (res.summary(), res.total_seconds),
                  file=sys.stderr)
        res, facts = cls.device
        if facts is None:
            raise AssertionError("the device boot failed: %s\n%s\n%s\n%s"
                                 % (res.summary(), res.stdout, res.stderr, res.console_tail(60)))
        if "error" in facts:
            raise AssertionError("the guest failed: %s\nfacts: %s\nconsole:\n%s"
                                 % (facts["error"], json.dumps(facts, indent=1),
                                    res.console_tail(60)))
        return facts

    # -- boot 1: the device
    def test_device_version_and_params(self):
        f = self.device_facts()
        self.assertNotEqual(f["bad_param"][0], 0, "oom_timeout_ms=3600001 was taken")
        self.assertNotEqual(f["bad_reserve"][0], 0, "oom_reserve_kb=262145 was taken")
        self.assertTrue(f["bad_reserve"][1], "the kernel log does not say why: %s" % f["bad_reserve"])
        self.assertEqual(f["insmod"][0], 0, f["insmod"][1])
        self.assertEqual(f["reserve_pages"], 4096 // (os.sysconf("SC_PAGESIZE") // 1024))
        self.assertEqual(f["version"], [1, 6])
        self.assertEqual(f["tool_version"], "version major=1 minor=6")

    def test_device_round_trip(self):
        f = self.device_facts()
        self.assertEqual(f["roundtrip_inject"], 0)
        self.assertEqual(f["roundtrip_tool_status"], 0, f["roundtrip_tool"])
        notice = _tool_lines(f["roundtrip_tool"], "notice")[0]
        answer = _tool_lines(f["roundtrip_tool"], "answer")[0]
        self.assertEqual(notice["kind"], "POWER_OFF")
        self.assertEqual(int(notice["timeout_ms"]), LONG_MS)
        self.assertEqual(answer["result"], "ok")
        self.assertRegex(f["roundtrip_last"], r"^msgid=%s answered=1 res=7 " % notice["msgid"])
        print("\nkmod round trip: notice to reader %.1f ms, read to answer %.1f ms, whole wait "
              "%.1f ms (%s)" % (float(notice["age_ms"]), float(answer["answer_ms"]),
                                f["roundtrip_ms"], f["roundtrip_last"]), file=sys.stderr)

    def test_device_errors(self):
        f = self.device_facts()
        self.assertEqual(f["empty_read"], errno.EAGAIN)
        self.assertEqual(f["second_reader"], errno.EPERM)
        self.assertEqual(f["short_read"], errno.EINVAL)
        self.assertEqual(f["unknown_ioctl"], errno.ENOTTY)
        self.assertEqual(f["unknown_msgid"], errno.ENOENT)
        self.assertEqual(f["late_answer"], errno.ETIME)
        self.assertEqual(f["late_inject"], errno.ETIMEDOUT)
        self.assertEqual(f["answer_from_other_file"], 0)
        self.assertEqual(f["second_answer"], errno.ENOENT)
        self.assertEqual(f["answered_inject"], 0)
        self.assertRegex(f["answered_last"], r" answered=1 res=3 ")
        self.assertEqual(f["reboot_notice"], {"type": KERNEL_REBOOT, "cna": 4660,
                                              "eid": "fe80::1234"})

    def test_device_queue_full_and_expired(self):
        f = self.device_facts()
        self.assertEqual(f["fill"], [0, 0, 0, 0, errno.ENOSPC, errno.ENOSPC])
        self.assertEqual(f["full_wait"], errno.ENOSPC)
        self.assertLess(f["full_wait_ms"], 1000, "a notice that cannot be queued is not waited for")
        self.assertEqual(f["full_queued"], 4)
        self.assertEqual(f["full_dropped"], 3)
        self.assertTrue(f["full_poll"])
        self.assertEqual(f["drained"], [POWER_OFF] * 4)
        self.assertEqual(f["drained_then"], errno.EAGAIN)
        self.assertFalse(f["drained_poll"])
        self.assertEqual(f["expired_read"], errno.EAGAIN)
        self.assertEqual(f["expired_dropped"], 1)

    def test_proc_switches(self):
        p = self.device_facts()["proc"]
        self.assertEqual(p["oom=maybe"], errno.EINVAL)
        self.assertEqual(p["oom=on"], 0)
        self.assertEqual(p["oom read"], "on\n")
        self.assertEqual(p["panic_timeout=3600001"], errno.EINVAL)
        self.assertEqual(p["panic_timeout=3600000"], 0)
        self.assertEqual(p["panic_timeout read"], "3600000\n")
        self.assertEqual(p["panic_timeout=-1"], errno.EINVAL)
        self.assertEqual(p["cna=16777216"], errno.EINVAL)
        self.assertEqual(p["eid=bad"], errno.EINVAL)
        self.assertEqual(p["rate=bad"], errno.EINVAL)
        self.assertEqual(p["rate=good"], 0)
        self.assertEqual(p["rate read"], "RR_KSWAPD:10,RR_DIRECT_RECLAIM:5\n")
        self.assertEqual(p["rate=clear"], 0)
        self.assertEqual(p["panic_target=bad"], errno.EINVAL)
        self.assertEqual(p["files"], ["oom", "oom_rate_limit", "oom_timeout", "power_off",
                                      "reboot_timeout", "cna", "eid", "kernel_reboot",
                                      "kernel_reboot_timeout", "panic", "panic_target",
                                      "panic_timeout"])

    # -- boot 1: real OOMs
    def test_oom_answered_no_kill(self):
        o = self.device_facts()["oom_answered"]
        self.assertEqual(o["tool_status"], 0, o["tool"])
        notice = _tool_lines(o["tool"], "notice")[0]
        answer = _tool_lines(o["tool"], "answer")[0]
        self.assertEqual(notice["kind"], "OOM")
        self.assertEqual(notice["sync"], "1")
        self.assertEqual(notice["reason"], "1")
        self.assertGreaterEqual(int(notice["nr_nid"]), 1)
        self.assertEqual(answer["result"], "ok")
        self.assertEqual(int(answer["res"]), OOM_RESERVE_MB << 8)      # 4 KiB pages
        self.assertEqual(o["hog"][1], 0, "the allocating process did not finish")
        self.assertIn("hog finished", o["hog"][0])
        self.assertEqual(o["kills"], 0, "an OOM kill despite the answer")
        self.assertEqual(o["notices"], 1)
        self.assertTrue(o["kernel"], "no 'OOM notice answered' in the kernel log")
        waited = _console_ms(o["kernel"][-1], r"answered after (\d+) ms")
        print("\nkmod OOM answered: memory %s; OOM %.1fs after the hog started; notice to "
              "reader %.1f ms, read to answer %.1f ms (%d pages freed), the allocation waited %s "
              "ms; no kill (%s)" % (self.device_facts()["meminfo"], o["after_s"],
                                    float(notice["age_ms"]), float(answer["answer_ms"]),
                                    int(answer["res"]), waited, o["kernel"][-1].strip()),
              file=sys.stderr)

    def test_oom_unanswered_kills_after_timeout(self):
        o = self.device_facts()["oom_unanswered"]
        self.assertEqual(o["hog"][1], -signal.SIGKILL, "the hog was not killed")
        self.assertGreaterEqual(o["kills"], 1)
        notices = _tool_lines(o["tool"], "notice")
        self.assertEqual(len(notices), 1, o["tool"])
        self.assertEqual(o["notices"], 1, "one wait per OOM episode")
        waited = _console_ms(" ".join(o["kernel"]), r"no answer after (\d+) ms")
        self.assertIsNotNone(waited, o["kernel"])
        self.assertGreaterEqual(waited, 3000)
        self.assertLess(waited, 4000)
        to_kill = (o["hog_end_ns"] - int(notices[0]["read_ns"])) / 1e6
        self.assertGreaterEqual(to_kill, 2900)
        print("\nkmod OOM unanswered: the wait ended after %d ms (oom_timeout 3000); notice read "
              "to the victim reaped %.0f ms; calls of the episode without a notice: %d"
              % (waited, to_kill, o["suppressed"]), file=sys.stderr)

    def test_oom_one_wait_per_episode(self):
        o = self.device_facts()["oom_lying"]
        self.assertEqual(o["hog"][1], -signal.SIGKILL, "the hog was not killed")
        notices = _tool_lines(o["tool"], "notice")
        answer = _tool_lines(o["tool"], "answer")[0]
        self.assertEqual(answer["result"], "ok")
        self.assertEqual(o["notices"], 1, "a second wait in the same episode:\n%s"
                         % "\n".join(o["kernel"]))
        self.assertGreaterEqual(o["suppressed"], 1, "the retried allocation did not call again")
        # killed right after the answer, not after another 20 s wait
        to_kill = (o["hog_end_ns"] - int(notices[0]["read_ns"])) / 1e6
        self.assertLess(to_kill, 10000)
        print("\nkmod OOM answered with 1000 pages but none freed: the retry's OOM call was in "
              "the same episode (%d call(s) without a notice), the victim reaped %.0f ms after "
              "the notice was read" % (o["suppressed"], to_kill), file=sys.stderr)

    # -- boots 2 and 3: reboot and power-off
    def reboot_run(self, case):
        what = "reboot" if case == "answered" else "power-off"
        with lab.VM([sys.executable, os.path.abspath(__file__), "--guest-reboot", self.ko, case],
                    timeout=240, mem="512M", append=["loglevel=7"],
                    env={"SENTRY_BUILD_DIR": BUILD_DIR}) as vm:
            seen, end = _watch(vm, {
                "queued": r"%s notice \d+ queued" % what,
                "done": r"%s notice \d+(: no answer| answered)" % what,
                "kernel": r"reboot: (Restarting system|Power down)",
            }, timeout=200)
            res = vm.wait(timeout=10)
        type(self).lab_seconds += res.total_seconds
        console = res.console
        self.assertIn("queued", seen, "no %s notice on the console:\n%s" % (what,
                                                                             res.console_tail(40)))
        self.assertIsNotNone(end, "the VM did not end")
        return seen, end, console, res

    def test_reboot_answered_goes_on_at_once(self):
        seen, end, console, res = self.reboot_run("answered")
        waited = _console_ms(console, r"reboot notice \d+ answered after (\d+) ms")
        self.assertIsNotNone(waited, console[-3000:])
        self.assertIn("Restarting system", console)
        total = (end - seen["queued"]) * 1000
        self.assertLess(total, 10000, "the reboot waited for nothing")
        self.assertLess(waited, 5000)
        print("\nkmod reboot answered: the notifier waited %d ms; notice on the console to QEMU's "
              "exit %.0f ms (boot %.1fs)" % (waited, total, res.boot_seconds or -1),
              file=sys.stderr)

    def test_power_off_unanswered_goes_on_after_timeout(self):
        seen, end, console, res = self.reboot_run("unanswered")
        waited = _console_ms(console, r"power-off notice \d+: no answer after (\d+) ms")
        self.assertIsNotNone(waited, console[-3000:])
        self.assertIn("Power down", console)
        self.assertGreaterEqual(waited, REBOOT_TIMEOUT_MS)
        self.assertLess(waited, REBOOT_TIMEOUT_MS + 1000)
        total = (end - seen["queued"]) * 1000
        self.assertGreaterEqual(total, REBOOT_TIMEOUT_MS - 100)
        print("\nkmod power-off unanswered: the notifier waited %d ms (timeout %d); notice on the "
              "console to QEMU's exit %.0f ms" % (waited, REBOOT_TIMEOUT_MS, total),
              file=sys.stderr)

    # -- boots 4 and 5: panics
    def panic_run(self, case):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        notices = []                      # (host time, fields)
        with lab.VM([sys.executable, os.path.abspath(__file__), "--guest-panic", self.ko, case,
                     str(port)],
                    timeout=240, mem="512M", append=["loglevel=7"],
                    devices=[lab.user_net(), lab.serial_line()],
                    env={"SENTRY_BUILD_DIR": BUILD_DIR}) as vm:
            vm.wait_for_file("ready", timeout=180)
            line = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            line.connect(vm.serial_path())
            acks = []

            def receive():
                udp.settimeout(0.5)
                while vm.running():
                    try:
                        data = udp.recv(2048)
                    except socket.timeout:
                        continue
                    except OSError:
                        return
                    t = time.monotonic()
                    text = data.decode(errors="replace")
                    fields = dict(re.findall(r"(\w+)=(\S+)", text.split(" reason=")[0]))
                    fields["raw"] = text
                    notices.append((t, fields))
                    if case == "answered" and len(notices) == 1:
                        # a wrong boot id, garbage: ignored; then, a second later, the answer
                        line.sendall(("SENTRY-ACK %016x %s 0\r\nnoise\n"
                                      % (int(fields["boot"], 16) ^ 1, fields["msgid"])).encode())
                        time.sleep(1.0)
                        acks.append(time.monotonic())
                        line.sendall(("SENTRY-ACK %s %s 0\n" % (fields["boot"], fields["msgid"]))
                                     .encode())

            t = threading.Thread(target=receive, daemon=True)
            t.start()
            seen, end = _watch(vm, {"sent": r"panic notice \d+ sent",
                                    "done": r"panic notice \d+ (answered|: no answer)"},
                               timeout=200)
            res = vm.wait(timeout=10)
            t.join(2)
            line.close()
        udp.close()
        type(self).lab_seconds += res.total_seconds
        self.assertTrue(notices, "no panic notice reached the host:\n" + res.console_tail(40))
        self.assertIsNotNone(end, "the VM did not end")
        return notices, acks, end, res.console, res

    def test_panic_notice_answered_over_serial(self):
        notices, acks, end, console, res = self.panic_run("answered")
        t0, n = notices[0]
        self.assertEqual(n["kind"], "panic")
        self.assertEqual(n["type"], str(PANIC))
        self.assertEqual(n["node"], "sentry-lab")
        self.assertEqual(n["cna"], "77")
        self.assertEqual(n["eid"], "fe80::77")
        self.assertEqual(n["answer"], "serial")
        self.assertEqual(n["timeout_ms"], str(LONG_MS))
        self.assertIn("reason=sysrq triggered crash", n["raw"])
        waited = _console_ms(console, r"panic notice \d+ answered after (\d+) ms")
        self.assertIsNotNone(waited, console[-3000:])
        self.assertTrue(acks, "the answer was not sent")
        # the wrong answer a second earlier did not end the wait
        self.assertGreaterEqual(waited, 900)
        self.assertLess(waited, 10000)
        ack_to_end = (end - acks[0]) * 1000
        self.assertLess(ack_to_end, 5000)
        print("\nkmod panic answered: notice at the host, the right answer 1 s after a wrong one; "
              "the panic waited %d ms; answer to QEMU's exit %.0f ms; notice to exit %.0f ms; "
              "payload %r" % (waited, ack_to_end, (end - t0) * 1000, n["raw"].strip()),
              file=sys.stderr)

    def test_panic_unanswered_goes_on_after_grace(self):
        notices, acks, end, console, res = self.panic_run("unanswered")
        waited = _console_ms(console, r"panic notice \d+: no answer after (\d+) ms")
        self.assertIsNotNone(waited, console[-3000:])
        self.assertGreaterEqual(waited, PANIC_GRACE_MS)
        self.assertLess(waited, PANIC_GRACE_MS + 1000)
        t0 = notices[0][0]
        total = (end - t0) * 1000
        self.assertGreaterEqual(total, PANIC_GRACE_MS - 200)
        seqs = [int(f["seq"]) for _, f in notices]
        self.assertEqual(seqs, list(range(len(seqs))), "resent with seq 0, 1, 2...")
        self.assertGreaterEqual(len(seqs), 3, "resent every second during the grace")
        self.assertEqual({f["msgid"] for _, f in notices}, {notices[0][1]["msgid"]})
        print("\nkmod panic unanswered: the panic waited %d ms (grace %d); first notice at the "
              "host to QEMU's exit %.0f ms; %d datagrams (seq %s)"
              % (waited, PANIC_GRACE_MS, total, len(seqs), seqs), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--guest-device":
        sys.exit(guest_device_and_oom(sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "--guest-reboot":
        sys.exit(guest_reboot(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 5 and sys.argv[1] == "--guest-panic":
        sys.exit(guest_panic(sys.argv[2], sys.argv[3], sys.argv[4]))
    labtest.require_lab()
    testmain.main()
