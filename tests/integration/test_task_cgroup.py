"""A task's processes are ended with it (issue 9, item 12): every task runs in a cgroup v2 of its
own, so the 1,000 children of a task, and a daemon it double-forked into a session of its own,
are all gone when `sentryctl stop` answers, when its heartbeat is lost, when it times out, when
its main process ends on its own and when sentryd shuts down; the cgroups are removed after.
`[tasks] cgroup = off` falls back to process groups, which still end the plain children, and
says so in the log and in `status`. The auto subtree lies under sentryd's own cgroup.

Needs root and a writable cgroup2 mount (the tests use a private subtree of it)."""
import json
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SentryTestCase, read, run, wait_for, SLOW  # noqa: E402

# The lab (tests/vm/test_tasks_lab.py) runs these under TCG, where a fork costs much more.
CHILDREN = int(os.environ.get("SENTRY_TEST_TASK_CHILDREN", "1000"))


def own_cgroup_dir():
    """The directory of this process's v2 cgroup, or None (no cgroup2 mounted, none shows it)."""
    own = None
    for line in read("/proc/self/cgroup").splitlines():
        if line.startswith("0::"):
            own = line[3:]
    if own is None:
        return None
    for line in read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        if right.split()[0] != "cgroup2":
            continue
        f = left.split()
        root, point = f[3], f[4].replace("\\040", " ")
        if root == "/" or own == root or own.startswith(root + "/"):
            rest = own[len(root):] if root != "/" else own
            return point + (rest if rest != "/" else "")
    return None


def delegated(path):
    for name in ("trusted.delegate", "user.delegate"):
        try:
            if os.getxattr(path, name).startswith(b"1"):
                return True
        except OSError:
            pass
    return False


def cgroup_usable():
    if os.geteuid() != 0:
        return "needs root"
    base = own_cgroup_dir()
    if not base:
        return "no cgroup2 mount shows this process's cgroup"
    probe = os.path.join(base, "sentry-it-probe-%d" % os.getpid())
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as e:
        return "cannot create a cgroup under %s: %s" % (base, e)
    return None


def live_with(token):
    """Pids of the living processes (zombies are not) whose command line holds token."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % d) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if token.encode() in cmd and state != "Z":
            pids.append(int(d))
    return pids


def kill_all(token):
    for pid in live_with(token):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def remove_tree(path):
    """Ends what a failed test left in a cgroup subtree and removes it."""
    if not os.path.isdir(path):
        return
    for d, dirs, _ in os.walk(path, topdown=False):
        for sub in dirs:
            sub = os.path.join(d, sub)
            try:
                with open(os.path.join(sub, "cgroup.kill"), "w") as f:
                    f.write("1")
            except OSError:
                pass
            for _ in range(100):
                try:
                    os.rmdir(sub)
                    break
                except OSError:
                    time.sleep(0.02)
    try:
        os.rmdir(path)
    except OSError:
        pass


# $1: the token (a sleep's seconds), $2: how many children. The last one double-forks into a
# session of its own, as a daemon does: its parent is gone and it is in no group of the task's.
FORKER = r'''#!/bin/sh
i=0
while [ "$i" -lt "$2" ]; do
    /bin/sleep "$1" &
    i=$((i + 1))
done
( /usr/bin/setsid /bin/sleep "$1" & )
wait
'''

# Starts a setsid daemon, then children, then never sends a heartbeat.
SILENT = r'''
import subprocess, sys, time
subprocess.Popen(["/usr/bin/setsid", "/bin/sleep", sys.argv[1]])
for i in range(int(sys.argv[2])):
    subprocess.Popen(["/bin/sleep", sys.argv[1]])
time.sleep(600)
'''


class CgroupTestCase(SentryTestCase):
    """Each test's sentryd puts its tasks' cgroups into a private subtree (cgroup = PATH)."""
    private_cgroup = True
    extra = ""

    def setUp(self):
        why = cgroup_usable()
        if why:
            self.skipTest(why)
        self.token = "%d.%06d" % (700 + random.randrange(200), random.randrange(1000000))
        self.base = os.path.join(own_cgroup_dir(), "sentry-it-%d-%06d" % (
            os.getpid(), random.randrange(1000000)))
        self.conf_extra = "[tasks]\nstop_timeout = 5\n%s%s" % (
            "cgroup = %s\n" % self.base if self.private_cgroup else "", self.extra)
        super().setUp()
        self.addCleanup(remove_tree, self.base)
        self.addCleanup(kill_all, self.token)
        self.forker = self.root.path("forker.sh")
        with open(self.forker, "w") as f:
            f.write(FORKER)
        os.chmod(self.forker, 0o755)

    def forking_task(self, name, **keys):
        mod = dict(enabled="yes", type="oneshot", task_stop="kill $pid",
                   task_start="%s %s %d" % (self.forker, self.token, CHILDREN))
        mod.update(keys)
        self.root.write_mod(name, **mod)

    def start_and_wait_children(self, name, count=CHILDREN + 1):
        rc, out, err = self.root.ctl("start", name)
        self.assertEqual(rc, 0, out + err)
        wait_for(lambda: len(live_with(self.token)) >= count, timeout=60,
                 what="%d processes of %s" % (count, name))

    def assertNoneLeft(self, when):
        left = live_with(self.token)
        self.assertEqual(left, [], "%d process(es) of the task left %s" % (len(left), when))


class OrphansTest(CgroupTestCase):
    def test_stop_ends_1000_children_and_a_setsid_daemon(self):
        self.forking_task("forker")
        self.root.start()
        self.start_and_wait_children("forker")
        st = self.root.status("forker")
        self.assertEqual(st["tracking"], "cgroup")
        cgroup = st["cgroup"]
        self.assertEqual(cgroup, os.path.join(self.base, "forker"))
        procs = set(int(p) for p in read(os.path.join(cgroup, "cgroup.procs")).split())
        self.assertTrue(set(live_with(self.token)) <= procs, "every process is in the cgroup")
        rc, out, err = self.root.ctl("stop", "forker")
        self.assertEqual(rc, 0, out + err)
        # answered only once nothing is left: no waiting here
        self.assertNoneLeft("after sentryctl stop answered")
        self.assertFalse(os.path.exists(cgroup), "the task's cgroup is removed")
        self.assertEqual(self.root.status("forker")["phase"], "idle")
        self.assertInLog("processes left in cgroup %s" % cgroup)
        # and it starts again in a new cgroup
        self.start_and_wait_children("forker")
        self.assertTrue(os.path.isdir(cgroup))
        self.assertEqual(self.root.ctl("stop", "forker")[0], 0)
        self.assertNoneLeft("after the second stop")

    def test_heartbeat_loss_ends_everything(self):
        script = self.root.path("hb.py")
        with open(script, "w") as f:
            f.write(SILENT)
        # 10 s, stretched where everything is slower (a sanitizer build, the lab's TCG): the
        # interpreter must start and fork before the heartbeat is missed
        self.root.write_mod("hb", enabled="yes", type="oneshot",
                            heartbeat_interval=str(int(10 * SLOW)),
                            task_stop="kill $pid",
                            task_start="%s %s %s 200" % (sys.executable, script, self.token))
        self.root.start()
        # the daemon and a few children are there before the heartbeat is lost; where forks are
        # slow (the lab's TCG) the loss may come before all 200 are
        self.start_and_wait_children("hb", count=12)
        st = wait_for(lambda: (lambda s: s["state"] == "FAILED" and s["phase"] == "idle" and s)(
            self.root.status("hb")), timeout=30, what="hb failed and idle")
        self.assertIn("heartbeat lost", st["reason"])
        self.assertNoneLeft("after the heartbeat was lost")
        self.assertFalse(os.path.exists(os.path.join(self.base, "hb")))

    def test_timeout_ends_everything(self):
        # the timeout must come after all the children are there: forking 1000 takes 4-5 s on
        # a 2-core test machine, longer under a sanitizer
        self.forking_task("slow", timeout=str(int(15 * SLOW)))
        self.root.start()
        self.start_and_wait_children("slow")
        st = wait_for(lambda: (lambda s: s["state"] == "FAILED" and s["phase"] == "idle" and s)(
            self.root.status("slow")), timeout=40, what="slow failed and idle")
        self.assertIn("timed out", st["reason"])
        self.assertNoneLeft("after the timeout")

    def test_end_of_run_ends_what_it_left(self):
        # the main process exits at once, leaving a plain child and a setsid daemon behind
        self.root.write_mod("leaver", enabled="yes", type="oneshot", task_stop="kill $pid",
                            task_start="/bin/sh -c '/bin/sleep %s & ( /usr/bin/setsid /bin/sleep "
                                       "%s & ) ; exit 0'" % (self.token, self.token))
        self.root.start()
        self.assertEqual(self.root.ctl("start", "leaver")[0], 0)
        st = wait_for(lambda: (lambda s: s["phase"] == "idle" and s)(self.root.status("leaver")),
                      timeout=20, what="leaver idle")
        self.assertEqual(st["state"], "EXITED")
        self.assertNoneLeft("once the run was over")

    def test_shutdown_ends_everything(self):
        self.forking_task("forker")
        self.root.start()
        self.start_and_wait_children("forker")
        self.assertTrue(os.path.isdir(os.path.join(self.base, "forker")))
        self.assertEqual(self.root.stop(), 0)
        self.assertNoneLeft("after sentryd stopped")
        self.assertFalse(os.path.exists(self.base), "sentryd removes the subtree it made")

    def test_leftovers_of_a_killed_sentryd_are_ended_at_start(self):
        self.forking_task("forker")
        self.root.start()
        self.start_and_wait_children("forker")
        self.root.proc.send_signal(signal.SIGKILL)
        self.root.proc.wait()
        self.assertGreater(len(live_with(self.token)), CHILDREN)  # nothing stopped them
        self.root.start()
        self.assertInLog("ended the processes an earlier sentryd left in 1 task cgroup(s)")
        self.assertNoneLeft("after the next sentryd started")


class AutoCgroupTest(CgroupTestCase):
    private_cgroup = False

    def test_auto_is_under_sentryds_own_cgroup(self):
        self.root.write_mod("sleeper", enabled="yes", type="oneshot", task_stop="kill $pid",
                            task_start="/bin/sleep %s" % self.token)
        self.root.start()
        self.assertEqual(self.root.ctl("start", "sleeper")[0], 0)
        st = self.root.status("sleeper")
        own = [l[3:] for l in read("/proc/self/cgroup").splitlines() if l.startswith("0::")][0]
        if os.path.exists("/run/systemd/system") and own != "/" and not delegated(own_cgroup_dir()):
            # under systemd a cgroup that was not delegated is systemd's: auto does not use it
            self.assertIsNone(st["cgroup"])
            self.assertIn("is not delegated to it", st["tracking"])
            self.assertInLog("tasks are not put into cgroups: sentryd's cgroup %s is not "
                             "delegated" % own)
            return
        base = os.path.dirname(st["cgroup"])
        # <sentryd's cgroup>/sentry-tasks-<hash of the root>: the test's own cgroup here
        self.assertEqual(os.path.dirname(base), own_cgroup_dir())
        self.assertRegex(os.path.basename(base), r"^sentry-tasks-[0-9a-f]{16}$")
        self.assertIn(str(st["pid"]), read(os.path.join(st["cgroup"], "cgroup.procs")).split())
        self.assertInLog("each task runs in a cgroup of its own under %s" % base)
        self.assertEqual(self.root.stop(), 0)
        self.assertNoneLeft("after sentryd stopped")
        self.assertFalse(os.path.exists(base))


class ProcessGroupFallbackTest(CgroupTestCase):
    private_cgroup = False
    extra = "cgroup = off\n"

    def test_off_still_ends_plain_children(self):
        self.forking_task("forker", task_start="%s %s 200" % (self.forker, self.token))
        self.root.start()
        self.assertInLog("tasks are not put into cgroups: cgroups are off ([tasks] cgroup = off)")
        self.start_and_wait_children("forker", count=201)
        st = self.root.status("forker")
        self.assertIsNone(st["cgroup"])
        self.assertTrue(st["tracking"].startswith("process group: cgroups are off"), st)
        group = os.getpgid(st["pid"])

        def in_group(pid):
            try:
                return pid != st["pid"] and os.getpgid(pid) == group
            except ProcessLookupError:
                return False
        plain = [p for p in live_with(self.token) if in_group(p)]
        self.assertEqual(len(plain), 200)
        rc, out, err = self.root.ctl("stop", "forker")
        self.assertEqual(rc, 0, out + err)
        # the main process's group gets SIGTERM when it ends: every plain child goes
        wait_for(lambda: not [p for p in plain if p in live_with(self.token)], timeout=10,
                 what="the plain children gone")
        # (the setsid one left the group: without a cgroup it is not found; cleanup kills it)


class BadSettingTest(SentryTestCase):
    conf_extra = "[tasks]\ncgroup = sys/fs/cgroup\nlog_max_size = 1k\nlog_max_files = many\n"

    def test_bad_values_named(self):
        self.root.start()
        for text in ("[tasks] cgroup = 'sys/fs/cgroup': must be auto, off, or the absolute path "
                     "of a directory in a cgroup2 file system; using auto",
                     "[tasks] log_max_size = '1k': must be a size in bytes from 16K to 1G",
                     "[tasks] log_max_files = 'many': out of range or not a number; using 3"):
            self.assertInLog(self.root.conf + ": " + text)


if __name__ == "__main__":
    run()
