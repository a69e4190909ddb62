"""A task's log is capped (issue 9, item 14): a task that writes as fast as it can (`yes`) for a
few seconds leaves at most log_max_files files of at most log_max_size bytes, rotated with a
marker line, while sentryd keeps answering other clients at once; `sentryctl status` still shows
the tail of the current file and says that the run began in an older one."""
import glob
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SENTRYCTL, SentryTestCase, run  # noqa: E402

CAP = 64 * 1024
FILES = 3


class LogCapTest(SentryTestCase):
    conf_extra = "[tasks]\nlog_max_size = 64K\nlog_max_files = %d\n" % FILES

    def log_files(self, name):
        return sorted(glob.glob(os.path.join(self.root.log_dir, name + ".log*")))

    def test_fast_writer_is_capped_and_sentryd_stays_responsive(self):
        self.root.write_mod("chatty", enabled="yes", type="oneshot", task_stop="kill $pid",
                            task_start="/bin/sh -c '/usr/bin/timeout 3 /usr/bin/yes "
                                       "chatty-output-line; exit 0'")
        self.root.start()
        latencies, sizes, stop = [], [], threading.Event()

        def ask():
            # another client, all along: `sentryctl list` must be answered at once
            while not stop.is_set():
                t0 = time.monotonic()
                p = subprocess.run([SENTRYCTL, "--socket", self.root.socket, "list"],
                                   capture_output=True, text=True, timeout=30)
                latencies.append((time.monotonic() - t0, p.returncode))
                for f in self.log_files("chatty"):
                    try:
                        sizes.append((f, os.path.getsize(f)))
                    except OSError:
                        pass
                time.sleep(0.05)

        asker = threading.Thread(target=ask)
        self.assertEqual(self.root.ctl("start", "chatty")[0], 0)
        asker.start()
        try:
            self.root.wait_state("chatty", "EXITED", timeout=30)
        finally:
            stop.set()
            asker.join()

        self.assertGreater(len(latencies), 10, latencies)
        self.assertTrue(all(rc == 0 for _, rc in latencies), latencies)
        slowest = max(t for t, _ in latencies)
        self.assertLess(slowest, 1.0, "sentryctl list took %.2f s while the task wrote" % slowest)

        # never more than the cap, never more files than log_max_files, in the run or after it
        files = self.log_files("chatty")
        self.assertEqual([os.path.basename(f) for f in files],
                         ["chatty.log", "chatty.log.1", "chatty.log.2"])
        for f, size in sizes + [(f, os.path.getsize(f)) for f in files]:
            self.assertLessEqual(size, CAP, f)
        self.assertFalse(os.path.exists(os.path.join(self.root.log_dir, "chatty.log.3")))
        # the rotated files are full, whole lines, each begun by the rotation marker
        for f in files[1:]:
            self.assertGreater(os.path.getsize(f), CAP - 100, f)
        for f in files:
            with open(f) as fh:
                text = fh.read()
            first, rest = text.split("\n", 1)
            self.assertTrue(first.startswith("-- sentryd: log rotated at "), first)
            self.assertIn("log_max_size): the older output is in chatty.log.1", first)
            lines = rest.splitlines()
            self.assertTrue(all(l == "chatty-output-line" for l in lines[:-1]), f)
        # `status` shows the current file's tail (TailAcrossRotationTest: and says where the
        # run began)
        st = self.root.ctl_json("status", "chatty", "-n", "3")
        self.assertIn("chatty-output-line", st["log_tail"])


class TailAcrossRotationTest(SentryTestCase):
    # a file is no larger than the window `status` reads (16 KiB): the tail always sees the
    # beginning of the current file
    conf_extra = "[tasks]\nlog_max_size = 16K\nlog_max_files = 2\n"

    def test_tail_across_a_rotation(self):
        # 100 lines of 101 bytes a run: the second run passes the cap after about 61 lines, so
        # its marker is in twice.log.1 and its last lines in a new twice.log
        self.root.write_mod("twice", enabled="yes", type="oneshot", task_stop="kill $pid",
                            task_start='/usr/bin/seq -f "%%05g %s" 1 100' % ("x" * 94))
        self.root.start()
        log_dir = self.root.log_dir

        def one_run():
            self.assertEqual(self.root.ctl("start", "twice")[0], 0)
            self.root.wait_state("twice", "EXITED")
            return self.root.ctl_json("status", "twice", "-n", "1000")["log_tail"]

        tail = one_run()
        self.assertTrue(tail[0].startswith("-- sentryd: run 1 started at "), tail[:2])
        self.assertEqual(len(tail), 101)
        tail = one_run()
        self.assertEqual(sorted(f for f in os.listdir(log_dir) if f.startswith("twice.")),
                         ["twice.log", "twice.log.1"])
        # the run began in the older file: the tail says so, then the current file's lines
        self.assertTrue(tail[0].startswith("-- sentryd: log rotated at "), tail[:2])
        self.assertIn("the older output is in twice.log.1", tail[0])
        numbers = [int(l.split()[0]) for l in tail[1:]]
        self.assertEqual(numbers, list(range(numbers[0], 101)))
        self.assertTrue(1 < numbers[0] < 100, numbers[0])
        with open(os.path.join(log_dir, "twice.log.1")) as f:
            older = f.read()
        self.assertIn("-- sentryd: run 2 started at ", older)
        self.assertTrue(older.endswith("%05d %s\n" % (numbers[0] - 1, "x" * 94)))
        # the next run fits the current file: its tail begins at its own marker again
        tail = one_run()
        self.assertTrue(tail[0].startswith("-- sentryd: run 3 started at "), tail[:2])
        self.assertEqual(len(tail), 101)
        for f in os.listdir(log_dir):
            if f.startswith("twice."):
                self.assertLessEqual(os.path.getsize(os.path.join(log_dir, f)), 16384, f)


if __name__ == "__main__":
    run()
