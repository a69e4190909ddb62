"""What `make install` puts on a machine works together: the shipped sentryd.conf and task
files load without a warning, the task files name programs that were installed, the systemd
unit points at the installed sentryd, and a sysSentry consumer finds <register_xalarm.h> and
-lxalarm. Installs into a temporary DESTDIR from the build tree under test."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SOURCE_DIR, run  # noqa: E402


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="sentry-install-")
        p = subprocess.run(["cmake", "--install", BUILD_DIR], env=dict(os.environ,
                           DESTDIR=cls.dest), capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise AssertionError(p.stdout + p.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def find(self, pattern):
        hits = glob.glob(os.path.join(self.dest, "**", pattern), recursive=True)
        self.assertTrue(hits, "nothing installed matches %s" % pattern)
        return hits[0]

    def under(self, path):
        """An installed absolute path, inside DESTDIR."""
        return self.dest + path

    def test_shipped_configuration_loads_cleanly(self):
        conf = self.find("sentry/sentryd.conf")
        tasks = os.path.dirname(conf) + "/tasks"
        root = tempfile.mkdtemp(prefix="sentry-root-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        os.makedirs(root + "/etc/sentry")
        shutil.copytree(tasks, root + "/etc/sentry/tasks")
        sentryd = self.find("sbin/sentryd")
        p = subprocess.run([sentryd, "--config", conf, "--root", root, "--check"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        shipped = len(glob.glob(os.path.join(SOURCE_DIR, "config", "tasks", "*.mod")))
        self.assertEqual(len(glob.glob(tasks + "/*.mod")), shipped)
        self.assertIn("reloaded %d task(s), 0 failed" % shipped, p.stdout)
        self.assertNotIn("warning", (p.stdout + p.stderr).lower())
        # every program a shipped task starts was installed
        for mod in glob.glob(tasks + "/*.mod"):
            text = open(mod).read()
            m = re.search(r"^task_start\s*=\s*(\S+)", text, re.M)
            prog = m.group(1)
            if prog.startswith("/bin/"):
                continue
            self.assertTrue(os.access(self.under(prog), os.X_OK), "%s: %s" % (mod, prog))
            self.assertNotIn("@", text, "unsubstituted variable in %s" % mod)
            cfg = re.search(r"--config (\S+)", text)
            if cfg:
                self.assertTrue(os.path.exists(self.under(cfg.group(1))), cfg.group(1))

    def test_plugin_programs_and_unit(self):
        lib = os.path.dirname(self.find("libsentry.so"))
        for prog in ("avg_block_io", "ai_block_io"):
            exe = self.find("libexec/sentry/" + prog)
            # installed into DESTDIR, the library is not where its run path says
            p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, LD_LIBRARY_PATH=lib))
            self.assertEqual(p.returncode, 0)
            self.assertIn("--config FILE", p.stdout)
        unit = open(self.find("sentryd.service")).read()
        exec_start = re.search(r"^ExecStart=(\S+)", unit, re.M).group(1)
        self.assertTrue(os.access(self.under(exec_start), os.X_OK), exec_start)
        self.assertIn("Type=notify", unit)
        self.assertIn("WatchdogSec=", unit)
        self.assertIn("Restart=on-failure", unit)

    def test_syssentry_consumer_builds_against_installed_files(self):
        inc = os.path.dirname(self.find("include/register_xalarm.h"))
        lib = os.path.dirname(self.find("libxalarm.so"))
        src = os.path.join(SOURCE_DIR, "tests", "helpers", "xalarm_consumer.c")
        exe = os.path.join(self.dest, "consumer")
        flags = ["-fsanitize=address,undefined"] if os.environ.get("SENTRY_SANITIZE") else []
        p = subprocess.run(["cc", "-o", exe, src, "-I", inc, "-L", lib, "-lxalarm",
                            "-Wl,-rpath," + lib] + flags, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    run()
