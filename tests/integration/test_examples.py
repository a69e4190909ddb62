"""The consumers shown in docs/examples build and receive alarms: the C one against libsentry's
installed header names, the Python one with the standard library only."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SOURCE_DIR, SentryTestCase, run, wait_for  # noqa: E402

EXAMPLES = os.path.join(SOURCE_DIR, "docs", "examples")


class ExamplesTest(SentryTestCase):
    def run_consumer(self, argv):
        env = dict(os.environ, SENTRY_SOCKET=self.root.socket)
        out = tempfile.NamedTemporaryFile(mode="w+", delete=False)
        self.addCleanup(os.unlink, out.name)
        p = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
        self.addCleanup(p.kill)
        c = self.root.connect()
        first = c.call("report", alarm={"id": 1002, "text": "before", "key": "sda"})
        self.assertTrue(first["ok"])
        wait_for(lambda: self.root.ctl_json("stats")["subscribers"]["native"] == 1,
                 what="consumer subscribed")
        c.call("report", alarm={"id": 1007, "text": "filtered out"})
        c.call("report", alarm={"id": 1003, "text": "after"})
        wait_for(lambda: "after" in open(out.name).read(), what="consumer output")
        text = open(out.name).read()
        self.assertIn("before", text)  # since 0: replayed from the store
        self.assertNotIn("filtered out", text)
        self.assertIn("key sda", text)

    def test_c_consumer(self):
        self.root.start()
        exe = os.path.join(self.root.dir, "consumer")
        cc = subprocess.run(["cc", "-Wall", "-Werror", "-o", exe,
                             os.path.join(EXAMPLES, "consumer.c"),
                             "-I", os.path.join(SOURCE_DIR, "lib", "include"),
                             "-L", os.path.join(BUILD_DIR, "lib"), "-lsentry",
                             "-Wl,-rpath," + os.path.join(BUILD_DIR, "lib")] +
                            # a sanitizer build of libsentry needs its runtime in the program
                            (["-fsanitize=address,undefined"] if os.environ.get("SENTRY_SANITIZE")
                             else []),
                            capture_output=True, text=True)
        self.assertEqual(cc.returncode, 0, cc.stderr)
        self.run_consumer([exe, "1001-1005", "0"])

    def test_python_consumer(self):
        self.root.start()
        self.run_consumer([sys.executable, os.path.join(EXAMPLES, "consumer.py"), "1001-1005",
                           "0"])


if __name__ == "__main__":
    run()
