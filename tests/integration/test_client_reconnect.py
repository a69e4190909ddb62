"""Clients that outlive sentryd (issue 9, item 15): sentryd stopping, restarting or refusing a
connection under sentryctl or a libsentry program is an error for that program to handle, never
a SIGPIPE that kills it (exit status 141). libsentry then connects again by itself: a heartbeat
after a restart goes through as if nothing happened, one while sentryd is away fails with an
error and the next ones succeed once it is back; a subscription ends with its connection and is
resumed from sentry_last_seq() without a gap.

tests/helpers/heartbeat_client is the plugin-like program (SIGPIPE at its default action);
sentryctl is run against a real sentryd and against a fake one that closes its reading side,
which makes the next request hit a closed socket for certain."""
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import (BUILD_DIR, SENTRYCTL, SLOW, SentryTestCase, run,  # noqa: E402
                            wait_for)
from test_xalarm_compat import Child  # noqa: E402

HEARTBEAT_CLIENT = os.path.join(BUILD_DIR, "tests", "helpers", "heartbeat_client")
TASK = "beating"
LOST = (-errno.EPIPE, -errno.ECONNRESET)             # the call that finds sentryd gone
AWAY = LOST + (-errno.ENOENT, -errno.ECONNREFUSED)   # later calls while it is away


def results(child, prefix):
    """The values R of the lines "PREFIX R" the child printed so far."""
    return [int(line.split()[1]) for line in child.output() if line.startswith(prefix + " ")]


class ClientReconnectTest(SentryTestCase):
    def setUp(self):
        super().setUp()
        # A running task with a heartbeat, restarted with sentryd (onstart), so that its
        # heartbeats are accepted before and after a restart.
        self.root.write_mod(TASK, enabled="yes", type="oneshot", onstart="yes",
                            heartbeat_interval="600", task_start="/bin/sleep 600",
                            task_stop="kill $pid")
        self.start_sentryd()

    def start_sentryd(self):
        self.root.start()
        self.root.wait_state(TASK, "RUNNING")

    def client(self):
        env = dict(os.environ, SENTRY_SOCKET=self.root.socket)
        c = Child([HEARTBEAT_CLIENT, TASK], env)
        self.addCleanup(c.stop)
        c.wait_line("connected 0")
        return c

    def command(self, child, line, prefix):
        """Sends a command and returns the value of the next "PREFIX R" line."""
        n = len(results(child, prefix))
        child.command(line)
        wait_for(lambda: len(results(child, prefix)) > n or child.proc.poll() is not None,
                 what="%r answered" % line)
        self.assertIsNone(child.proc.poll(), "heartbeat_client died (%s): %s\n%s"
                          % (child.proc.returncode, child.output()[-5:], child.err[-5:]))
        return results(child, prefix)[n]

    def assert_alive_and_quit(self, child):
        child.command("quit")
        rc = child.proc.wait(10 * SLOW)
        self.assertNotEqual(rc, -signal.SIGPIPE, "killed by SIGPIPE")
        self.assertEqual(rc, 0, (child.output()[-10:], child.err[-10:]))

    # ---- libsentry -------------------------------------------------------------------------
    def test_heartbeat_across_restart(self):
        c = self.client()
        self.assertEqual(self.command(c, "beat", "heartbeat"), 0)
        # sentryd restarts between two heartbeats: the next one does not notice.
        self.assertEqual(self.root.stop(), 0)
        self.start_sentryd()
        self.assertEqual(self.command(c, "beat", "heartbeat"), 0)
        self.assertEqual(self.command(c, "result", "result"), 0)
        # sentryd is away: errors, no SIGPIPE.
        self.assertEqual(self.root.stop(), 0)
        self.assertIn(self.command(c, "beat", "heartbeat"), LOST)
        self.assertIn(self.command(c, "beat", "heartbeat"), AWAY)
        self.assertIn(self.command(c, "result", "result"), AWAY)
        self.assertIn(self.command(c, "report 1050 lost", "report"), AWAY)
        # It is back: the next call connects again.
        self.start_sentryd()
        self.assertEqual(self.command(c, "beat", "heartbeat"), 0)
        self.assertEqual(self.command(c, "report 1050 back", "report"), 0)
        self.assert_alive_and_quit(c)

    def test_heartbeat_loop_while_sentryd_restarts(self):
        """A plugin heartbeating in a loop: errors while sentryd is away, then it goes on."""
        c = self.client()
        c.command("loop %d 50" % int(160 * SLOW))
        wait_for(lambda: results(c, "heartbeat").count(0) >= 5, what="first heartbeats")
        self.assertEqual(self.root.stop(), 0)
        wait_for(lambda: any(r in AWAY for r in results(c, "heartbeat")) or
                 c.proc.poll() is not None, what="an error while sentryd is away")
        time.sleep(0.5)
        self.start_sentryd()
        c.wait_line("loop done", timeout=60)
        self.assertIsNone(c.proc.poll(), "heartbeat_client died (%s)" % c.proc.returncode)
        got = results(c, "heartbeat")
        first_error = next(i for i, r in enumerate(got) if r != 0)
        # -ESRCH: the task is not running: sentryd stopped it on its way down (the window is
        # as long as the task takes to stop), or is back but has not started it yet
        self.assertTrue(all(r in AWAY + (-errno.ESRCH,) for r in got[first_error:] if r != 0),
                        got)
        lost = [r for r in got[first_error:] if r in LOST]
        self.assertTrue(lost, "the call that found sentryd gone said so: %s" % got)
        self.assertTrue(all(r in LOST + (-errno.ESRCH,) for r in got[first_error:]
                            [:got[first_error:].index(lost[0])]), got)
        self.assertEqual(got[-1], 0, got)
        self.assert_alive_and_quit(c)

    def test_subscription_resumes_from_last_seq(self):
        c = self.client()
        self.assertEqual(self.command(c, "subscribe 1050", "subscribe"), 0)
        ok, _, err = self.root.ctl("inject", "--id", "1050", "--text", "one")
        self.assertEqual(ok, 0, err)
        c.command("wait 1")
        line = c.wait_line(lambda line: line.startswith("alarm ") and line.endswith(" one"))
        seq_one = int(line.split()[1])
        c.wait_line("run 0")
        # sentryd goes away while the program waits: sentry_run() returns the loss.
        c.command("wait 1")
        time.sleep(0.3 * SLOW)
        self.assertEqual(self.root.stop(), 0)
        lost = int(c.wait_line(lambda line: line.startswith("run -")).split()[1])
        self.assertIn(lost, LOST)
        # What comes while it is not subscribed is replayed when it resumes: no gap.
        self.start_sentryd()
        for text in ("two", "three"):
            rc, _, err = self.root.ctl("inject", "--id", "1050", "--text", text)
            self.assertEqual(rc, 0, err)
        self.assertEqual(self.command(c, "resume 1050", "resume"), 0)
        c.command("wait 2")
        c.wait_line(lambda line: line.startswith("alarm ") and line.endswith(" three"))
        got = [line.split(None, 3) for line in c.output() if line.startswith("alarm ")]
        self.assertEqual([g[3] for g in got], ["one", "two", "three"])
        self.assertEqual(len({int(g[1]) for g in got}), 3)
        self.assertGreater(int(got[1][1]), seq_one)
        self.assert_alive_and_quit(c)

    # ---- sentryctl -----------------------------------------------------------------------------
    def test_sentryctl_request_after_sentryd_closed_reading(self):
        """`alarms --follow` sends hello, then subscribe. The fake sentryd answers hello after
        shutting its reading side, so the subscribe is written to a closed socket: EPIPE, which
        without MSG_NOSIGNAL is a SIGPIPE."""
        path = self.root.path("fake.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        self.addCleanup(srv.close)

        def serve():
            conn, _ = srv.accept()
            with conn:
                buf = b""
                while b"\n" not in buf:
                    buf += conn.recv(4096)
                conn.shutdown(socket.SHUT_RD)
                conn.sendall(b'{"id":1,"ok":true,"result":{"version":1}}\n')
                time.sleep(2 * SLOW)
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        p = subprocess.run([SENTRYCTL, "--socket", path, "alarms", "--follow"],
                           capture_output=True, text=True, timeout=30 * SLOW)
        t.join(10)
        self.assertNotEqual(p.returncode, -signal.SIGPIPE, "sentryctl killed by SIGPIPE")
        self.assertEqual(p.returncode, 3, (p.stdout, p.stderr))
        self.assertIn("sentryctl: subscribe: communication with sentryd failed: Broken pipe",
                      p.stderr)

    def test_sentryctl_while_sentryd_stops(self):
        """sentryctl between two requests of one command when sentryd stops (iostat asks again
        while the collector has nothing), and follow when sentryd stops: exit 3, no SIGPIPE."""
        follow = subprocess.Popen([SENTRYCTL, "--socket", self.root.socket, "alarms", "--follow"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(follow.kill)
        iostat = subprocess.Popen([SENTRYCTL, "--socket", self.root.socket, "iostat", "-d",
                                   "nosuchdisk"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.addCleanup(iostat.kill)
        time.sleep(0.5 * SLOW)
        self.assertEqual(self.root.stop(), 0)
        for p in (follow, iostat):
            out, err = p.communicate(timeout=30 * SLOW)
            self.assertNotEqual(p.returncode, -signal.SIGPIPE, "%s killed by SIGPIPE" % p.args)
            self.assertIn(p.returncode, (1, 3), (p.args, out, err))


if __name__ == "__main__":
    run()
