"""`make install` never overwrites an operator's configuration: into a DESTDIR, a second install
over an edited plugin .ini keeps the edit, puts the new default beside it as .new and says so in
one line; files left as shipped get no .new. The sysusers.d file of the sentry group is
installed, and with DESTDIR the group is not created (the install says so)."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SOURCE_DIR, run  # noqa: E402


class InstallConfigTest(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="sentry-install-config-")
        self.addCleanup(shutil.rmtree, self.dest, ignore_errors=True)

    def install(self):
        p = subprocess.run(["cmake", "--install", BUILD_DIR], capture_output=True, text=True,
                           env=dict(os.environ, DESTDIR=self.dest), timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout + p.stderr

    def etc_files(self):
        conf = glob.glob(os.path.join(self.dest, "**", "sentry", "sentryd.conf"), recursive=True)
        self.assertEqual(len(conf), 1, conf)
        etc = os.path.dirname(os.path.dirname(conf[0]))
        files = sorted(glob.glob(os.path.join(etc, "sentry", "**", "*"), recursive=True) +
                       glob.glob(os.path.join(etc, "logrotate.d", "*")))
        return etc, [f for f in files if os.path.isfile(f)]

    def test_edited_file_kept_new_default_beside(self):
        out = self.install()
        self.assertIn("sentry: DESTDIR is set, so the system group 'sentry' is not created", out)
        sysusers = glob.glob(os.path.join(self.dest, "**", "sysusers.d", "sentry.conf"),
                             recursive=True)
        self.assertEqual(len(sysusers), 1)
        self.assertRegex(open(sysusers[0]).read(), r"(?m)^g sentry -")
        etc, files = self.etc_files()
        for name in ("sentry/sentryd.conf", "sentry/plugins/avg_block_io.ini",
                     "sentry/plugins/ai_block_io.ini", "sentry/tasks/avg_block_io.mod",
                     "logrotate.d/sentry"):
            self.assertIn(os.path.join(etc, name), files)
        self.assertFalse([f for f in files if f.endswith(".new")], files)

        # identical files: a second install changes nothing and says nothing about them
        before = {f: os.stat(f).st_mtime_ns for f in files}
        out = self.install()
        self.assertNotIn("sentry: kept your", out)
        _, again = self.etc_files()
        self.assertEqual(again, files)
        self.assertEqual({f: os.stat(f).st_mtime_ns for f in again}, before)

        # the operator edits a plugin configuration and the main one
        ini = os.path.join(etc, "sentry/plugins/avg_block_io.ini")
        conf = os.path.join(etc, "sentry/sentryd.conf")
        shipped = open(ini).read()
        for path in (ini, conf):
            with open(path, "a") as f:
                f.write("# tuned by the operator\n")
        out = self.install()
        self.assertEqual(open(ini).read(), shipped + "# tuned by the operator\n")
        self.assertEqual(open(ini + ".new").read(), shipped)
        self.assertEqual(open(ini + ".new").read(),
                         open(os.path.join(SOURCE_DIR, "config/plugins/avg_block_io.ini")).read())
        self.assertTrue(open(conf).read().endswith("# tuned by the operator\n"))
        self.assertTrue(os.path.exists(conf + ".new"))
        kept = [l for l in out.splitlines() if "sentry: kept your" in l]
        self.assertEqual(kept, [
            "sentry: kept your %s; the new default is in sentryd.conf.new" % conf,
            "sentry: kept your %s; the new default is in avg_block_io.ini.new" % ini,
        ])
        # only the edited files got a .new
        _, files = self.etc_files()
        self.assertEqual(sorted(f for f in files if f.endswith(".new")),
                         sorted([ini + ".new", conf + ".new"]))

    def test_removed_file_comes_back(self):
        self.install()
        etc, _ = self.etc_files()
        mod = os.path.join(etc, "sentry/tasks/example.mod")
        os.unlink(mod)
        self.install()
        self.assertTrue(os.path.exists(mod))
        self.assertFalse(os.path.exists(mod + ".new"))


if __name__ == "__main__":
    run()
