#!/usr/bin/env python3
"""vm.pstore: a pstore record after a real panic and a reboot of the same VM is reported once, on
Debian's 6.1 kernel, in the lab.

One VM, two boots (lab.VM reboots=1: the guest's reboot is a warm reset of the same VM, RAM
kept; the command runs again in the second boot and tells the boots apart by the file boot 1
leaves in the share):

Boot 1: the kernel keeps 1 MiB at 256 MiB to itself (memmap=1M$0x10000000: above the kernel,
  far below the initramfs, both of which QEMU loads again at the reset), ramoops is loaded on
  it with its parameters on the modprobe line, pstore is empty; a token goes into the kernel
  log and sysrq-c panics the kernel for real. The lab's panic=-1 reboots at once.
Boot 2: ramoops again with the same parameters: /sys/fs/pstore holds the kmsg dump of the panic
  (dmesg-ramoops-N: "Panic#1 Part1", "Kernel panic - not syncing: sysrq triggered crash" and
  boot 1's token). sentryd runs oom_watch (pstore only, its state file in sentryd's root): one
  alarm 1019 pstore_panic CRITICAL per record, naming the record and the backend ramoops; a
  restart of the task, then one of sentryd, report nothing again.

The guest hands its facts back as JSON on stdout; the host asserts.
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lib"))
import lab  # noqa: E402
import labtest  # noqa: E402
import testmain  # noqa: E402
from sentry_harness import SentryRoot, wait_for  # noqa: E402
from shipped_tasks import shipped_mod  # noqa: E402

BUILD_DIR = os.path.abspath(os.environ.get("SENTRY_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))
SENTRYD = os.path.join(BUILD_DIR, "sentryd", "sentryd")
PLUGIN = os.path.join(BUILD_DIR, "plugins", "oom_watch", "oom_watch")

# ramoops' region: reserved from the kernel on its command line, the same in both boots
RAMOOPS_ADDR = 0x10000000               # 256 MiB: the kernel ends at 74 MiB, the initramfs
                                        # is at the top of RAM (MEM)
RAMOOPS_SIZE = 0x100000                 # 1 MiB
RAMOOPS_PARAMS = ["mem_address=0x%x" % RAMOOPS_ADDR, "mem_size=0x%x" % RAMOOPS_SIZE,
                  "record_size=0x10000", "ecc=1"]
MEMMAP = "memmap=%dM$0x%x" % (RAMOOPS_SIZE >> 20, RAMOOPS_ADDR)   # an argv element: no shell
MEM = "1G"
PSTORE = "/sys/fs/pstore"
BOOT1 = "boot1.json"                    # boot 1's facts, in the share: boot 2 finds them
PANIC_LINE = "Kernel panic - not syncing: sysrq triggered crash"
SCANNED = "new record(s) reported"      # oom_watch's line after each pstore scan
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
# the guest runs the build's programs; waits are stretched (a loaded host, TCG)
LAB_ENV = {"SENTRY_BUILD_DIR": BUILD_DIR, "SENTRY_TEST_SLOWDOWN": "3"}
PASSED_ON = ("SENTRY_SANITIZE", "ASAN_OPTIONS", "UBSAN_OPTIONS")
VM_TIMEOUT = 420                        # s; about 45 s under TCG on an idle machine


# ---------------------------------------------------------------------------------------------
# The guest side

def _run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return [p.returncode, p.stdout.strip()]


def load_ramoops():
    """modprobe ramoops with its region on the command line: [status, output]."""
    modprobe = shutil.which("modprobe", path=os.environ["PATH"] + ":/usr/sbin:/sbin")
    return _run([modprobe, "ramoops"] + RAMOOPS_PARAMS)


def mount_pstore():
    if not os.path.ismount(PSTORE):
        subprocess.run(["mount", "-t", "pstore", "pstore", PSTORE], check=True)


def kernel_lines(word):
    """The kernel log lines that contain word."""
    out = subprocess.run(["dmesg"], stdout=subprocess.PIPE, text=True, check=True).stdout
    return [line for line in out.splitlines() if word in line]


def iomem_lines():
    """/proc/iomem's lines for ramoops' region (the memmap= reservation)."""
    with open("/proc/iomem") as f:
        return [line.strip() for line in f if line.strip().startswith("%x-" % RAMOOPS_ADDR)]


def _write_share(name, text):
    tmp = labtest.share_path("." + name)
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, labtest.share_path(name))


def guest_boot1():
    """ramoops on the reserved region, a token in the kernel log, then a real panic."""
    facts = {"modprobe": load_ramoops()}
    mount_pstore()
    facts["ramoops"] = kernel_lines("ramoops")
    facts["iomem"] = iomem_lines()
    facts["records"] = sorted(os.listdir(PSTORE))
    facts["token"] = os.urandom(8).hex()
    if facts["modprobe"][0] != 0:
        print(json.dumps({"boot1": facts, "error": "boot 1: modprobe ramoops failed"}))
        return 1
    with open("/dev/kmsg", "w") as f:
        f.write("<2>pstore-lab: boot 1 token %s, panicking now\n" % facts["token"])
    _write_share(BOOT1, json.dumps(facts))
    os.sync()
    with open("/proc/sysrq-trigger", "w") as f:
        f.write("c")
    return 1                              # not reached


def record_facts(name):
    """What a pstore record holds, as far as the host checks it."""
    with open(os.path.join(PSTORE, name), "rb") as f:
        data = f.read()
    text = data.decode(errors="replace")
    panic = [line for line in text.splitlines() if "Kernel panic" in line]
    return {"size": len(data), "header": text.split("\n", 1)[0], "panic": panic[:2],
            "token_lines": [line for line in text.splitlines() if "pstore-lab:" in line]}


class OomWatch:
    """sentryd in a root of its own with oom_watch as its task: pstore only, on PSTORE."""

    def __init__(self):
        self.root = SentryRoot(name="pstore")
        self.state = self.root.path("var", "lib", "sentry", "oom_watch.state")
        ini = self.root.path("oom_watch.ini")
        with open(ini, "w") as f:
            f.write("[log]\nlevel = debug\n"
                    "[sources]\npsi = no\nmemcg = no\noom_victim = no\npstore = yes\n"
                    "[pstore]\ndir = %s\nstate_file = %s\n" % (PSTORE, self.state))
        text = shipped_mod("oom_watch", PLUGIN)
        start = [line for line in text.splitlines() if line.startswith("task_start")][0]
        self.root.write_mod("oom_watch", text=text.replace(
            start, "task_start = %s --config %s" % (PLUGIN, ini)))

    def log(self):
        return self.root.task_log("oom_watch")

    def scanned(self, n):
        """Waits until the plugin has scanned pstore n times in all and exited: by then every
        alarm of the scan is stored (a report waits for sentryd to take it)."""
        wait_for(lambda: len(self.scans()) >= n, timeout=60, what="pstore scan %d" % n)
        self.root.wait_state("oom_watch", ("EXITED",), timeout=60)
        return {"alarms": self.alarms(), "scan": self.scans()[n - 1]}

    def scans(self):
        return [line for line in self.log().splitlines() if SCANNED in line]

    def alarms(self):
        out = self.root.ctl_json("alarms", "--id", "1019", "--limit", "1000")["alarms"]
        return [{"seq": a["seq"], "level": a["level"], "key": a["key"],
                 "text": json.loads(a["text"])} for a in out]


def sanitizer_report(log):
    """The first sanitizer report in a task's log (the build may be a sanitizer one), or None."""
    at = min((log.find(m) for m in SANITIZER_MARKS if m in log), default=-1)
    return log[at:at + 3000] if at >= 0 else None


def run_oom_watch(facts):
    """oom_watch at sentryd's start, after a restart of the task, after a restart of sentryd."""
    w = OomWatch()
    try:
        w.root.start()
        facts["first"] = w.scanned(1)
        facts["result"] = w.root.ctl_json("get_result", "oom_watch")
        with open(w.state) as f:
            facts["state_file"] = f.read()
        rc, out, err = w.root.ctl("start", "oom_watch")
        facts["task_restart"] = dict(w.scanned(2), ctl=[rc, out + err])
        w.root.stop()
        w.root.start()
        facts["sentryd_restart"] = w.scanned(3)
    finally:
        facts["plugin_log"] = w.log()[-4000:]
        facts["sentryd_log"] = w.root.log()[-3000:]
        facts["sanitizer"] = w.root.sanitizer_report() or sanitizer_report(w.log())
        w.root.cleanup()


def guest_boot2(facts):
    with open(labtest.share_path(BOOT1)) as f:
        facts["boot1"] = json.load(f)
    facts["modprobe"] = load_ramoops()
    mount_pstore()
    facts["ramoops"] = kernel_lines("ramoops")
    facts["records"] = {name: record_facts(name) for name in sorted(os.listdir(PSTORE))
                        if name.startswith("dmesg-")}
    facts["other_records"] = sorted(n for n in os.listdir(PSTORE) if not n.startswith("dmesg-"))
    run_oom_watch(facts)


def guest():
    """Boot 1 panics; boot 2 (boot 1's facts are in the share) prints its facts as JSON."""
    if not os.path.exists(labtest.share_path(BOOT1)):
        return guest_boot1()
    facts = {}
    try:
        guest_boot2(facts)
    except Exception as e:                # the host says what failed, with the facts so far
        facts["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(facts))
    return 0


# ---------------------------------------------------------------------------------------------
# The host side

def run_boots():
    """One VM, two boots: (Result, facts of boot 2 or None)."""
    env = dict(LAB_ENV, **{k: os.environ[k] for k in PASSED_ON if k in os.environ})
    res = lab.run([sys.executable, os.path.abspath(__file__), "--guest"], reboots=1,
                  timeout=VM_TIMEOUT, mem=MEM, cpus=2, append=[MEMMAP], env=env)
    facts = None
    if res.returncode == 0:
        try:
            facts = json.loads(res.stdout)
        except ValueError:
            pass
    return res, facts


class PstoreLab(unittest.TestCase):
    boots = None                          # (Result, facts)

    @classmethod
    def facts(cls):
        if cls.boots is None:
            for exe in (SENTRYD, PLUGIN):
                if not os.access(exe, os.X_OK):
                    raise AssertionError("no %s: build the tree first (cmake --build)" % exe)
            cls.boots = run_boots()
            res = cls.boots[0]
            print("\npstore boots: %s; resets at %s s; %.1f s in all"
                  % (res.summary(), ", ".join("%.1f" % t for t, _ in res.resets),
                     res.total_seconds), file=sys.stderr)
        res, facts = cls.boots
        if facts is None or "error" in facts:
            raise AssertionError("the boots failed: %s\nresets: %s\n--- stdout\n%s\n--- stderr\n%s"
                                 "\n--- console (tail)\n%s"
                                 % (res.summary(), res.resets, res.stdout[-6000:],
                                    res.stderr[-3000:], res.console_tail(60)))
        return res, facts

    def dmesg_records(self):
        res, f = self.facts()
        self.assertTrue(f["records"], "no dmesg record in pstore after the panic: %s\n%s"
                        % (f["other_records"], f["ramoops"]))
        return f["records"]

    def test_panic_kept_across_the_warm_reset(self):
        res, f = self.facts()
        b1 = f["boot1"]
        # boot 1: ramoops on the reserved region, nothing in pstore yet
        self.assertEqual(b1["modprobe"][0], 0, b1["modprobe"])
        self.assertTrue(any("using 0x%x@0x%x" % (RAMOOPS_SIZE, RAMOOPS_ADDR) in line
                            for line in b1["ramoops"]), b1["ramoops"])
        self.assertEqual(b1["iomem"], ["%x-%x : Reserved" % (RAMOOPS_ADDR,
                                                             RAMOOPS_ADDR + RAMOOPS_SIZE - 1)])
        self.assertEqual(b1["records"], [], "pstore was not empty before the panic")
        # a real panic, then the guest's reset of the same VM (one QEMU): the command ran twice
        self.assertIn("pstore-lab: boot 1 token %s" % b1["token"], res.console)
        self.assertIn(PANIC_LINE, res.console)
        self.assertEqual(res.boots, 2)
        self.assertTrue(res.resets, "QEMU reported no reset")
        self.assertEqual({why for _, why in res.resets}, {"guest-reset"})
        # boot 2: the record of boot 1's panic
        self.assertEqual(f["modprobe"][0], 0, f["modprobe"])
        records = self.dmesg_records()
        for name, rec in records.items():
            self.assertRegex(name, r"^dmesg-ramoops-\d+$", "a record pstore could not decompress")
            self.assertRegex(rec["header"], r"^Panic#1 Part\d+$", rec)
        part1 = [rec for rec in records.values() if rec["header"] == "Panic#1 Part1"]
        self.assertEqual(len(part1), 1, records)
        first = part1[0]
        self.assertTrue(any(PANIC_LINE in line for line in first["panic"]), first)
        self.assertTrue(any("boot 1 token %s" % b1["token"] in line
                            for line in first["token_lines"]), first)

    def test_reported_once_per_record(self):
        res, f = self.facts()
        self.assertIsNone(f["sanitizer"], f["sanitizer"])
        records = self.dmesg_records()
        alarms = f["first"]["alarms"]
        self.assertEqual(sorted(a["text"]["record"] for a in alarms), sorted(records),
                         "%s\n%s" % (alarms, f["plugin_log"]))
        for a in alarms:
            name = a["text"]["record"]
            self.assertEqual(a["level"], "CRITICAL")
            self.assertEqual(a["key"], "pstore:" + name)
            self.assertEqual(a["text"]["backend"], "ramoops")
            self.assertEqual(a["text"]["finding"], "panic")
            self.assertEqual(a["text"]["size"], records[name]["size"])
            self.assertEqual(a["text"]["header"], records[name]["header"])
            self.assertEqual(a["text"]["node"], "sentry-lab")
        part1 = [a for a in alarms if a["text"]["header"] == "Panic#1 Part1"]
        self.assertEqual(len(part1), 1, alarms)
        self.assertIn(PANIC_LINE, part1[0]["text"]["line"])
        self.assertIn("%d new record(s) reported" % len(records), f["first"]["scan"])
        for name in records:
            self.assertIn(name + "\t", f["state_file"])

    def test_not_again_after_restarts(self):
        res, f = self.facts()
        first = f["first"]["alarms"]
        self.assertTrue(first, "nothing reported at the first start")
        self.assertEqual(f["task_restart"]["ctl"][0], 0, f["task_restart"]["ctl"])
        for when in ("task_restart", "sentryd_restart"):
            self.assertIn("pstore %s: 0 new record(s) reported" % PSTORE, f[when]["scan"],
                          "%s\n%s" % (when, f["plugin_log"]))
            self.assertEqual(f[when]["alarms"], first, when)
        print("\npstore: %d record(s) of boot 1's panic (%s), alarm 1019 seq %s, not again after "
              "a restart of the task and one of sentryd"
              % (len(first), ", ".join(a["text"]["record"] for a in first),
                 ", ".join(str(a["seq"]) for a in first)), file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:] == ["--guest"]:
        sys.exit(guest())
    labtest.require_lab()
    testmain.main()
