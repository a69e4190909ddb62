"""labtest: what a test that runs in the real-kernel lab (lab.py) needs, on both sides.

A lab test is one Python file that runs twice: started on the host (by ctest), main() boots the
lab and runs the same file in it; there (SENTRY_IN_LAB=1) its unittest cases run against the
second kernel, with the host's files visible and writes going to a throwaway overlay::

    import lab, labtest

    class Serial(labtest.TestCase):                 # runs in the lab only
        def test_serial(self):
            self.assertEqual(labtest.nvme_device("SN1"), "/dev/nvme0n1")

    if __name__ == "__main__":
        labtest.main(devices=[lab.nvme("SN1", iops=50)], timeout=300)

On the host, main() exits 77 with the reason when the lab is unavailable (ctest reports the test
as skipped: SKIP_RETURN_CODE 77), else with the guest's exit status (1 when the VM timed out or
ended without one, after printing the console's tail). Tests that drive several boots from the
host use require_lab() and lab.run() / lab.VM directly.

Python 3 standard library only.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import lab  # noqa: E402
import testmain  # noqa: E402

SKIP = 77           # ctest's SKIP_RETURN_CODE for the vm tests


def in_lab():
    """True inside the lab's guest."""
    return os.environ.get("SENTRY_IN_LAB") == "1"


def require_lab():
    """On the host: exits 77 (skipped) with the reason when the lab cannot run here."""
    if in_lab():
        return
    why = lab.unavailable()
    if why:
        print("SKIPPED: the real-kernel lab is unavailable: %s" % why)
        sys.stdout.flush()
        sys.exit(SKIP)


def share_path(name=""):
    """A path in the run's shared directory: /run/lab in the guest (see lab.VM share/files)."""
    return os.path.join(os.environ.get("SENTRY_LAB_SHARE", lab.GUEST_SHARE), name)


def nvme_device(serial):
    """In the guest: /dev/nvmeXnY of the NVMe disk with this serial (lab.nvme()), or None."""
    for name in sorted(os.listdir("/sys/block")):
        if not name.startswith("nvme"):
            continue
        try:
            with open(os.path.join("/sys/block", name, "device", "serial")) as f:
                if f.read().strip() == serial:
                    return "/dev/" + name
        except OSError:
            continue
    return None


class TestCase(unittest.TestCase):
    """A unittest case that runs only in the lab (skipped on the host, where main() runs the
    file in the lab instead)."""

    @classmethod
    def setUpClass(cls):
        if not in_lab():
            raise unittest.SkipTest("runs in the real-kernel lab only (labtest.main())")


def report(res, out=sys.stdout, err=sys.stderr):
    """Prints a lab Result: the command's output, then a summary line; gives an exit status."""
    out.write(res.stdout)
    out.flush()
    err.write(res.stderr)
    print(res.summary(), file=err)
    if res.returncode is None:
        print("lab: %s" % res.error, file=err)
        if not res.timed_out:
            print("--- console (tail)\n%s" % res.console_tail(), file=err)
        return 1
    return res.returncode if res.returncode >= 0 else 128 - res.returncode


def main(**lab_options):
    """Runs the calling file's unittest cases: in the lab when called in the lab, else boots the
    lab with lab_options (as for lab.run()) and runs the file there with the same arguments."""
    if in_lab():
        testmain.main()  # 77 when something was skipped: the host reports it as skipped
        return
    require_lab()
    script = os.path.abspath(sys.modules["__main__"].__file__)
    try:
        res = lab.run([sys.executable, script] + sys.argv[1:], **lab_options)
    except lab.LabError as e:
        print("lab: %s" % e, file=sys.stderr)
        sys.exit(1)
    sys.exit(report(res))
