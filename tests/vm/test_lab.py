"""vm.lab: the real-kernel lab itself works, in four boots.

Boot 1 (this file again, in the lab: guest_report()) gathers what the guest sees, with an NVMe
disk (serial, iops throttling), a file passed in and one passed out through the share: the kernel
is Debian's (uname -r is the cached release, not the host's), the host's files are visible,
writes reach the overlay only, `modprobe loop` loads from the cached tree, /dev/nvme0n1 carries
the serial and is slow, BTF and tracefs are there, env/cwd/PATH are passed; exit status 0 and
stdout/stderr are both captured. Boot 2 (the CLI): a nonzero exit status and both streams.
Boot 3: death by a signal is reported as such. Boot 4 (lab.VM): the guest says it is ready, the
QEMU monitor answers, and a timeout kills the VM and says so. No boot: SIGTERM of a test that has
started QEMU takes QEMU down with it.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab  # noqa: E402
import labtest  # noqa: E402
import testmain  # noqa: E402

SERIAL = "SENTRY-LAB-1"
IOPS = 50


# ---------------------------------------------------------------------------------------------
# The guest side of boot 1

def _read(path):
    with open(path) as f:
        return f.read()


def _overlay_writes(probe_dir):
    """Changes the host's probe files from the guest; says what the guest then sees."""
    with open(os.path.join(probe_dir, "kept"), "w") as f:
        f.write("written by the guest")
    with open(os.path.join(probe_dir, "new"), "w") as f:
        f.write("new in the guest")
    os.unlink(os.path.join(probe_dir, "deleted"))
    return {"kept": _read(os.path.join(probe_dir, "kept")),
            "deleted_gone": not os.path.exists(os.path.join(probe_dir, "deleted"))}


def _nvme_latency_ms(dev, reads=30):
    """Average time of direct 4 KiB reads from the disk."""
    import mmap
    buf = mmap.mmap(-1, 4096)
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    try:
        t0 = time.monotonic()
        for i in range(reads):
            os.preadv(fd, [buf], (i * 8) * 4096)
        return (time.monotonic() - t0) / reads * 1000
    finally:
        os.close(fd)


def _modprobe_loop():
    p = subprocess.run(["modprobe", "loop"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    modinfo = subprocess.run(["modinfo", "-n", "loop"], stdout=subprocess.PIPE, text=True)
    loaded = any(line.split()[0] == "loop" for line in _read("/proc/modules").splitlines())
    return {"status": p.returncode, "output": p.stdout, "loaded": loaded,
            "file": modinfo.stdout.strip()}


def _mounts():
    """{mount point: [file system type, root of the mount within its file system]}."""
    return {fields[4]: [fields[fields.index("-") + 1], fields[3]]
            for fields in (line.split() for line in _read("/proc/self/mountinfo").splitlines())}


def guest_report(probe_dir):
    """Everything boot 1 checks, as one JSON object on stdout; a marker line on stderr."""
    dev = labtest.nvme_device(SERIAL)
    tracing = "/sys/kernel/tracing/events"
    report = {
        "release": os.uname().release,
        "in_lab": os.environ.get("SENTRY_IN_LAB"),
        "env_probe": os.environ.get("LAB_TEST_PROBE"),
        "path": os.environ.get("PATH"),
        "cwd": os.getcwd(),
        "lab_py": _read(os.path.join(HERE, "lab.py")),
        "overlay": _overlay_writes(probe_dir),
        "share_in": _read(labtest.share_path("in.txt")),
        "modprobe_loop": _modprobe_loop(),
        "nvme_dev": dev,
        "nvme_serial": _read("/sys/block/nvme0n1/device/serial").strip()
        if os.path.exists("/sys/block/nvme0n1") else None,
        "nvme_ms": _nvme_latency_ms(dev) if dev else None,
        "btf_size": os.path.getsize("/sys/kernel/btf/vmlinux")
        if os.path.exists("/sys/kernel/btf/vmlinux") else 0,
        "block_events": sorted(os.listdir(os.path.join(tracing, "block")))
        if os.path.isdir(os.path.join(tracing, "block")) else [],
        "event_systems": len(os.listdir(tracing)) if os.path.isdir(tracing) else 0,
        "mounts": _mounts(),
    }
    with open(labtest.share_path("out.txt"), "w") as f:
        f.write("from the guest")
    print(json.dumps(report))
    print("stderr-marker", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# The host side

class Lab(unittest.TestCase):
    boot1 = None            # (Result, the report, the probe dir, the share dir)

    @classmethod
    def setUpClass(cls):
        labtest.require_lab()
        cls.tmp = tempfile.TemporaryDirectory(prefix="sentry-lab-test.")
        # A host directory under /tmp, where a checkout or build tree may be: the guest sees it
        # and its writes there stay in the overlay.
        cls.probe = tempfile.TemporaryDirectory(prefix="sentry-lab-probe.", dir="/tmp")
        for name in ("kept", "deleted"):
            with open(os.path.join(cls.probe.name, name), "w") as f:
                f.write("host")
        share = os.path.join(cls.tmp.name, "share")
        os.mkdir(share)
        res = lab.run([sys.executable, os.path.abspath(__file__), "--guest-report",
                       cls.probe.name],
                      timeout=240, devices=[lab.nvme(serial=SERIAL, size_mb=16, iops=IOPS)],
                      env={"LAB_TEST_PROBE": "passed"}, cwd=HERE, share=share,
                      files={"in.txt": "from the host"})
        print("\nboot 1: %s; QEMU start to command %.1fs (guest kernel uptime %.1fs), command "
              "%.1fs, total %.1fs" % (res.summary(), res.boot_seconds or -1,
                                      res.guest_boot_seconds or -1, res.run_seconds or -1,
                                      res.total_seconds), file=sys.stderr)
        report = None
        if res.returncode == 0:
            report = json.loads(res.stdout)
        cls.boot1 = (res, report, share)

    @classmethod
    def tearDownClass(cls):
        cls.probe.cleanup()
        cls.tmp.cleanup()

    def report(self):
        res, report, _ = self.boot1
        if report is None:
            self.fail("boot 1 failed: %s\n%s\n%s\n%s" % (res.summary(), res.stdout, res.stderr,
                                                         res.console_tail()))
        return report

    def test_boot1_status_and_streams(self):
        res, _, _ = self.boot1
        self.assertEqual(res.returncode, 0, res.stderr + res.console_tail())
        self.assertIsNone(res.signal)
        self.assertFalse(res.timed_out)
        self.assertIn("stderr-marker", res.stderr)
        self.assertTrue(res.stdout.startswith("{"))
        self.assertIn(res.accel, ("kvm", "tcg"))
        self.assertGreater(res.boot_seconds, 0)

    def test_debian_kernel(self):
        report = self.report()
        self.assertEqual(report["release"], lab.find_kernel().release)
        self.assertNotEqual(report["release"], os.uname().release)

    def test_host_files_visible(self):
        with open(os.path.join(HERE, "lab.py")) as f:
            self.assertEqual(self.report()["lab_py"], f.read())

    def test_writes_stay_in_the_overlay(self):
        overlay = self.report()["overlay"]
        self.assertEqual(overlay, {"kept": "written by the guest", "deleted_gone": True})
        probe = self.probe.name
        with open(os.path.join(probe, "kept")) as f:
            self.assertEqual(f.read(), "host")
        self.assertTrue(os.path.exists(os.path.join(probe, "deleted")))
        self.assertFalse(os.path.exists(os.path.join(probe, "new")))

    def test_env_cwd_path_and_share(self):
        report = self.report()
        self.assertEqual(report["in_lab"], "1")
        self.assertEqual(report["env_probe"], "passed")
        self.assertEqual(report["path"], os.environ.get("PATH"))
        self.assertEqual(report["cwd"], HERE)
        self.assertEqual(report["share_in"], "from the host")
        with open(os.path.join(self.boot1[2], "out.txt")) as f:
            self.assertEqual(f.read(), "from the guest")

    def test_guest_mounts(self):
        mounts = self.report()["mounts"]
        for path, fstype in (("/", "overlay"), ("/proc", "proc"), ("/sys", "sysfs"),
                             ("/dev", "devtmpfs"), ("/dev/pts", "devpts"), ("/dev/shm", "tmpfs"),
                             ("/run", "tmpfs"), (lab.GUEST_SHARE, "9p"),
                             ("/sys/kernel/debug", "debugfs"),
                             ("/sys/kernel/tracing", "tracefs"), ("/sys/fs/cgroup", "cgroup2")):
            self.assertEqual(mounts.get(path, [None])[0], fstype, path)
        self.assertNotIn("/tmp", mounts)  # the overlay's: the host's /tmp shows through

    def test_modprobe_from_the_cached_tree(self):
        loop = self.report()["modprobe_loop"]
        self.assertEqual(loop["status"], 0, loop["output"])
        self.assertTrue(loop["loaded"])
        kernel = lab.find_kernel()
        self.assertRegex(loop["file"], r"^/lib/modules/%s/kernel/drivers/block/loop\.ko"
                         % kernel.release.replace(".", r"\."))
        # /lib/modules/<release> is the cached tree, bound there (not the host's own modules)
        where = os.path.join(os.path.realpath("/lib/modules"), kernel.release)
        fstype, root = self.report()["mounts"][where]
        self.assertEqual(root, os.path.realpath(kernel.moddir))

    def test_nvme_serial_and_throttling(self):
        report = self.report()
        self.assertEqual(report["nvme_dev"], "/dev/nvme0n1")
        self.assertEqual(report["nvme_serial"], SERIAL)
        # iops=50 is 20 ms per io once the first burst is spent
        print("\nnvme: %.1f ms per 4 KiB read at iops=%d" % (report["nvme_ms"], IOPS),
              file=sys.stderr)
        self.assertGreater(report["nvme_ms"], 8)

    def test_btf_and_tracefs(self):
        report = self.report()
        self.assertGreater(report["btf_size"], 1 << 20)
        self.assertIn("block_rq_complete", report["block_events"])
        print("\nguest tracefs: %d event systems; block: %s; block_io_start: %s"
              % (report["event_systems"], " ".join(report["block_events"]),
                 "yes" if "block_io_start" in report["block_events"] else "no"),
              file=sys.stderr)

    def test_cli_nonzero_status_and_streams(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "lab.py"), "run", "--cpus", "1",
                            "--mem", "512M", "--timeout", "180", "--",
                            "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=240)
        print("\ncli: %s" % p.stderr.strip().splitlines()[-1], file=sys.stderr)
        self.assertEqual(p.returncode, 7, p.stderr)
        self.assertEqual(p.stdout, "to-stdout\n")
        self.assertIn("to-stderr\n", p.stderr)

    def test_death_by_signal(self):
        res = lab.run(["sh", "-c", "echo before; kill -KILL $$"], cpus=1, mem="512M",
                      timeout=180)
        print("\nsignal: %s" % res.summary(), file=sys.stderr)
        self.assertEqual(res.signal, signal.SIGKILL, res.error)
        self.assertEqual(res.returncode, -signal.SIGKILL)
        self.assertEqual(res.stdout, "before\n")

    def test_timeout_kills_the_vm(self):
        with lab.VM(["sh", "-c", "touch %s/ready; exec sleep 1000" % lab.GUEST_SHARE],
                    cpus=1, mem="512M", timeout=180) as vm:
            vm.wait_for_file("ready")
            self.assertIn("running", vm.hmp("info status"))
            workdir, proc = vm.workdir, vm.proc
            res = vm.wait(timeout=2)
        print("\ntimeout: %s" % res.summary(), file=sys.stderr)
        self.assertTrue(res.timed_out)
        self.assertIsNone(res.returncode)
        self.assertIn("timed out", res.error)
        self.assertIsNotNone(proc.poll())
        self.assertFalse(os.path.exists(workdir))

    def test_sigterm_takes_qemu_down(self):
        with subprocess.Popen(
                [sys.executable, "-c",
                 "import sys, time; sys.path.insert(0, %r); import lab\n"
                 "vm = lab.VM(['sleep', '1000'], timeout=120).start()\n"
                 "print(vm.proc.pid, vm.workdir, flush=True)\n"
                 "time.sleep(120)\n" % HERE],
                stdout=subprocess.PIPE, text=True) as child:
            try:
                pid, workdir = child.stdout.readline().split()
                child.send_signal(signal.SIGTERM)
                self.assertEqual(child.wait(timeout=30), -signal.SIGTERM)
            finally:
                child.kill()
        deadline = time.monotonic() + 10
        while _alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(_alive(int(pid)), "QEMU survived the test's SIGTERM")
        self.assertFalse(os.path.exists(workdir))

    def test_check_command(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "lab.py"), "check"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("accel:", p.stdout)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--guest-report":
        sys.exit(guest_report(sys.argv[2]))
    labtest.require_lab()
    testmain.main()
