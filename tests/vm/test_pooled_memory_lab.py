#!/usr/bin/env python3
"""vm.pooled: the whole pooled-memory chain on Debian's 6.1 kernel, in the lab.

kernel (kmod/ sentry_msg_helper) -> sentry_msg_monitor (a task of sentryd) -> sentryd's xalarm
socket -> a pool manager (tests/helpers/pool_manager_stub, a libxalarm subscriber) -> its answer
back through sentryd -> sentry_msg_monitor -> SMH_MSG_ACK -> the kernel goes on.

Boot 1 (guest_chain):
  - ROUNDS notices of each kind (kernel reboot, OOM, power-off) posted through the module's
    debugfs inject, which waits exactly as the notifiers do: every one is answered through the
    chain; the time from post to answer is measured (p50 / p99 / max);
Boot 2 (guest_oom, PooledOomLab, vm.pooled_oom): a real OOM (no cgroup limit): the pool
  manager gives back its reserve and answers with the pages, and the allocation goes on without
  an OOM kill.
Boot 3: `reboot -f` while the pool manager answers: the reboot waits for the answer and goes on
at once (time measured from the console).
Boot 4: `reboot -f` while nobody answers: the reboot goes on after kernel_reboot_timeout_ms.

The figures are printed (they are the benchmark of the chain: the reference's default timeout
is 35 s).
"""

import json
import os
import re
import subprocess
import sys
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
import test_kmod_lab as kl  # noqa: E402
from sentry_harness import SentryRoot, wait_for  # noqa: E402
from shipped_tasks import shipped_mod  # noqa: E402

BUILD_DIR = kl.BUILD_DIR
MONITOR = os.path.join(BUILD_DIR, "plugins", "sentry_msg_monitor", "sentry_msg_monitor")
STUB = os.path.join(BUILD_DIR, "tests", "helpers", "pool_manager_stub")
ROUNDS = 100
LONG_MS = 30000            # waits an answer must end
REBOOT_TIMEOUT_MS = 3000   # the unanswered reboot
OOM_RESERVE_MB = 96
KINDS = ("kernel_reboot", "oom", "power_off")
# the guest runs the build's programs; waits are stretched (a loaded host, TCG)
LAB_ENV = {"SENTRY_BUILD_DIR": BUILD_DIR, "SENTRY_TEST_SLOWDOWN": "3"}
ANSWER_OF = {"kernel_reboot": 1010, "oom": 1006, "power_off": 1004}


# ---------------------------------------------------------------------------------------------
# The guest side

class Chain:
    """sentryd with sentry_msg_monitor as its task, and a pool manager subscribed to it."""

    def __init__(self, stub_args=()):
        self.root = SentryRoot(name="pooled")
        self.xdir = self.root.path("var", "run", "xalarm")
        mod = shipped_mod("sentry_msg_monitor", MONITOR)
        self.root.write_mod("sentry_msg_monitor", text=mod.replace("onstart = no", "onstart = yes"))
        self.env = dict(os.environ, SENTRY_XALARM_DIR=self.xdir)
        self.root.start(env_extra={"SENTRY_XALARM_DIR": self.xdir})
        wait_for(lambda: "subscribed to the answers" in self.root.task_log("sentry_msg_monitor"),
                 timeout=60, what="sentry_msg_monitor subscribed")
        self.stub_out = open(labtest.share_path("stub.out"), "w")
        self.stub = None
        self.start_stub(*stub_args)

    def start_stub(self, *args):
        if self.stub:
            self.stub.kill()
            self.stub.wait()
        mark = self.stub_out.tell()
        self.stub = subprocess.Popen([STUB] + list(args), env=self.env, stdout=self.stub_out,
                                     stderr=subprocess.STDOUT)
        wait_for(lambda: "ready" in kl._read(labtest.share_path("stub.out"))[mark:], timeout=60,
                 what="the pool manager subscribed")

    def answers(self):
        self.stub_out.flush()
        return [line.split() for line in kl._read(labtest.share_path("stub.out")).splitlines()
                if line.startswith("answered ")]


def _inject_round(kind):
    """One notice through debugfs inject (waits as a notifier does): seconds, and the outcome."""
    t = time.perf_counter()
    err = kl._write(kl.INJECT, "%s %d" % (kind, LONG_MS))
    dt = time.perf_counter() - t
    out = dict(kv.split("=") for kv in kl._read(kl.INJECT).split())
    return dt, err, out


def _percentiles(values):
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))] * 1000  # noqa: E731
    return {"n": len(v), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": v[-1] * 1000}


def _insmod_chain(ko, facts):
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("-1000")
    rc, out = kl._insmod(ko, "oom=1", "kernel_reboot=1", "power_off=1",
                         "oom_timeout_ms=%d" % LONG_MS, "reboot_timeout_ms=%d" % LONG_MS,
                         "kernel_reboot_timeout_ms=%d" % LONG_MS, "cna=77", "eid=fe80::77")
    facts["insmod"] = [rc, out]
    return rc == 0


def guest_chain(ko, facts):
    """ROUNDS notices of each kind answered by the device's own reader, then through sentryd."""
    if not _insmod_chain(ko, facts):
        return
    # the baseline: the same rounds answered by a reader of the device itself (smh_tool)
    ready = "/dev/shm/smh-ready"
    tool = kl._tool("read", "-n", str(ROUNDS * len(KINDS)), "-a", "0", "-R", ready)
    kl._wait_file(ready)
    for kind in KINDS:
        times = [_inject_round(kind)[0] for _ in range(ROUNDS)]
        facts["direct_" + kind] = _percentiles(times)
    tool.communicate(timeout=60)
    chain = Chain()
    try:
        for kind in KINDS:
            times, bad = [], []
            for _ in range(ROUNDS):
                dt, err, outcome = _inject_round(kind)
                if err or outcome.get("answered") != "1":
                    bad.append([err, outcome])
                times.append(dt)
            facts[kind] = dict(_percentiles(times), failed=bad[:5], failures=len(bad))
        answers = chain.answers()
        facts["answers"] = {k: sum(1 for a in answers if a[1] == str(ANSWER_OF[k])) for k in KINDS}
    finally:
        facts["monitor_log"] = chain.root.task_log("sentry_msg_monitor")[-3000:]
        facts["sentryd_log"] = chain.root.log()[-3000:]
        chain.stub.kill()
        chain.root.stop()


def guest_oom(ko, facts):
    """A real OOM answered through sentryd: the pool manager gives back its reserve."""
    if not _insmod_chain(ko, facts):
        return
    flag = "/dev/shm/pool-answered"
    chain = Chain(("--reserve-mb", str(OOM_RESERVE_MB), "--flag", flag))
    try:
        kills, stats = kl._vmstat("oom_kill"), kl._stats()
        t0 = time.monotonic()
        hog = subprocess.Popen([sys.executable, "-c", kl.HOG, flag], stdout=subprocess.PIPE,
                               text=True)
        hog_out = hog.communicate(timeout=240)[0]
        after = kl._stats()
        try:
            refilled = wait_for(lambda: kl._stats()["oom_reserve_pages"]
                                == stats["oom_reserve_pages"], timeout=30, what="the reserve back")
        except AssertionError:
            refilled = False
        facts["oom_real"] = {
            "reserve": [stats["oom_reserve_pages"], after["oom_reserve_lent"]
                        - stats["oom_reserve_lent"], bool(refilled)],
            "hog": [hog_out, hog.returncode], "seconds": time.monotonic() - t0,
            "kills": kl._vmstat("oom_kill") - kills,
            "notices": after["oom_notices"] - stats["oom_notices"],
            "answered": after["answered"] - stats["answered"],
            "unanswered": after["unanswered"] - stats["unanswered"],
            "kernel": kl._kernel_lines(r"OOM notice \d+"),
            "stub": [a for a in chain.answers() if a[1] == "1006"][-1:],
        }
    finally:
        facts["monitor_log"] = chain.root.task_log("sentry_msg_monitor")[-3000:]
        facts["sentryd_log"] = chain.root.log()[-3000:]
        chain.stub.kill()
        chain.root.stop()


def guest_reboot(ko, case):
    """The chain, then the reboot syscall: the VM ends with it."""
    timeout = LONG_MS if case == "answered" else REBOOT_TIMEOUT_MS
    rc, out = kl._insmod(ko, "kernel_reboot=1", "kernel_reboot_timeout_ms=%d" % timeout)
    if rc:
        print("insmod: %s" % out, file=sys.stderr)
        return 1
    Chain(() if case == "answered" else ("--no-answer",))
    print("chain ready", file=sys.stderr)
    return kl._libc_reboot(kl.RB_AUTOBOOT)


# ---------------------------------------------------------------------------------------------
# The host side

def chain_table(f):
    """The figures of a chain boot: through sentryd, and the ratio to the device's own reader."""
    lines = ["pooled chain, %d rounds each, notice posted -> answer taken by the kernel "
             "(through sentryd; ratio to a reader of the device answering itself):" % ROUNDS]
    for k in KINDS:
        c, d = f[k], f["direct_" + k]
        lines.append("  %-13s p50 %7.2f ms (x%5.1f)  p99 %7.2f ms (x%5.1f)  max %7.2f ms"
                     % (k, c["p50_ms"], c["p50_ms"] / d["p50_ms"], c["p99_ms"],
                        c["p99_ms"] / d["p99_ms"], c["max_ms"]))
    return "\n".join(lines)


def run_chain_boot(ko, mode="--guest-chain"):
    """Boots the lab once for guest_chain() (or guest_oom()): (Result, facts or None)."""
    res = lab.run([sys.executable, os.path.abspath(__file__), mode, ko],
                  timeout=900, mem="512M", cpus=2, env=LAB_ENV)
    facts = None
    if res.returncode == 0:
        try:
            facts = json.loads(res.stdout)
        except ValueError:
            pass
    return res, facts


class PooledMemoryLab(unittest.TestCase):
    ko = None
    chain = None

    @classmethod
    def setUpClass(cls):
        labtest.require_lab()
        for exe in (MONITOR, STUB):
            if not os.access(exe, os.X_OK):
                raise AssertionError("no %s: build the tree first (cmake --build)" % exe)
        cls.ko = kmod_build.build()

    @classmethod
    def chain_facts(cls):
        if cls.chain is None:
            res, facts = run_chain_boot(cls.ko)
            cls.chain = (res, facts)
            print("\npooled chain boot: %s" % res.summary(), file=sys.stderr)
        res, facts = cls.chain
        if facts is None or "error" in facts:
            raise AssertionError("the chain boot failed: %s\n%s\n%s\nconsole:\n%s"
                                 % (res.summary(), res.stdout[-4000:], res.stderr[-2000:],
                                    res.console_tail(60)))
        return facts

    def test_every_notice_answered_through_the_chain(self):
        f = self.chain_facts()
        self.assertEqual(f["insmod"][0], 0, f["insmod"])
        for kind in KINDS:
            self.assertEqual(f[kind]["failures"], 0, "%s: %s\nmonitor log:\n%s"
                             % (kind, f[kind]["failed"], f["monitor_log"]))
            self.assertEqual(f["answers"][kind], ROUNDS, f["answers"])
            # an answer, not the timeout, ended every wait
            self.assertLess(f[kind]["max_ms"], LONG_MS / 2, f[kind])
        print("\n" + chain_table(f), file=sys.stderr)

    def reboot_run(self, case):
        with lab.VM([sys.executable, os.path.abspath(__file__), "--guest-reboot", self.ko, case],
                    timeout=300, mem="512M", cpus=2, append=["loglevel=7"],
                    env=LAB_ENV) as vm:
            seen, end = kl._watch(vm, {"queued": r"reboot notice \d+ queued",
                                       "done": r"reboot notice \d+(: no answer| answered)"},
                                  timeout=280)
            res = vm.wait(timeout=10)
        self.assertIn("queued", seen, "no reboot notice on the console:\n%s\n--- guest:\n%s"
                      % (res.console_tail(20), res.stdout[-2000:] + res.stderr[-3000:]))
        self.assertIn("Restarting system", res.console)
        return (end - seen["queued"]) * 1000, res.console

    def test_reboot_answered_through_the_chain(self):
        total, console = self.reboot_run("answered")
        waited = kl._console_ms(console, r"reboot notice \d+ answered after (\d+) ms")
        self.assertIsNotNone(waited, console[-3000:])
        self.assertLess(waited, 5000)
        print("\npooled reboot answered through sentryd: the reboot waited %d ms; notice on the "
              "console to QEMU's exit %.0f ms" % (waited, total), file=sys.stderr)

    def test_reboot_unanswered_goes_on_after_timeout(self):
        total, console = self.reboot_run("unanswered")
        waited = kl._console_ms(console, r"reboot notice \d+: no answer after (\d+) ms")
        self.assertIsNotNone(waited, console[-3000:])
        self.assertGreaterEqual(waited, REBOOT_TIMEOUT_MS)
        self.assertLess(waited, REBOOT_TIMEOUT_MS + 1000)
        print("\npooled reboot unanswered: the reboot went on after %d ms (timeout %d)"
              % (waited, REBOOT_TIMEOUT_MS), file=sys.stderr)


class PooledOomLab(unittest.TestCase):
    """A real OOM through sentryd (vm.pooled_oom, in both builds: a sanitizer build's sentryd
    cannot lock its memory, and the module's page reserve carries the relay all the same)."""

    def test_real_oom_answered_through_the_chain(self):
        labtest.require_lab()
        res, facts = run_chain_boot(kmod_build.build(), "--guest-oom")
        if facts is None or "error" in facts or "oom_real" not in facts:
            raise AssertionError("the OOM boot failed: %s\n%s\n%s\nconsole:\n%s"
                                 % (res.summary(), res.stdout[-4000:], res.stderr[-2000:],
                                    res.console_tail(60)))
        f = facts["oom_real"]
        self.assertEqual(f["hog"][1], 0, "%s\nmonitor:\n%s\nsentryd:\n%s"
                         % (f, facts["monitor_log"], facts["sentryd_log"]))
        self.assertIn("hog finished", f["hog"][0])
        self.assertEqual(f["kills"], 0, "an OOM kill although the pool manager answered: %s" % f)
        self.assertGreaterEqual(f["notices"], 1, f)
        self.assertGreaterEqual(f["answered"], 1, f)
        # the module's page reserve was freed for the relay, and taken back once memory was there
        self.assertGreater(f["reserve"][0], 0, f)
        self.assertEqual(f["reserve"][1], 1, f)
        self.assertTrue(f["reserve"][2], f)
        self.assertTrue(f["stub"] and int(f["stub"][0][3]) == OOM_RESERVE_MB * 256, f)
        waited = [int(m.group(1)) for line in f["kernel"]
                  for m in [re.search(r"answered after (\d+) ms", line)] if m]
        self.assertTrue(waited, f)
        print("\npooled real OOM: answered through sentryd with %d pages freed after %d ms; the "
              "allocation went on, no OOM kill (%.1f s in all)"
              % (OOM_RESERVE_MB * 256, waited[0], f["seconds"]), file=sys.stderr)


if __name__ == "__main__":
    guests = {"--guest-chain": guest_chain, "--guest-oom": guest_oom}
    if len(sys.argv) == 3 and sys.argv[1] in guests:
        facts = {}
        try:
            guests[sys.argv[1]](sys.argv[2], facts)
        except Exception as e:  # the host says what failed, with the facts so far
            facts["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(facts))
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--guest-reboot":
        sys.exit(guest_reboot(sys.argv[2], sys.argv[3]))
    labtest.require_lab()
    testmain.main()
