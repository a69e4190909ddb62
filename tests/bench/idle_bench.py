"""sentryd start-up and idle cost, with 10 loaded idle tasks, against notify_baseline (a program
that only links libsystemd, sends READY=1 and sleeps) measured in the same run:

  - time from exec to READY=1 (median and worst of N starts)
  - resident memory after READY
  - wake-ups (context switches) over 10 s of idle

Targets from the issue: READY <= 50 ms, RSS <= 4 MiB, no wake-ups while idle. The figures are
printed, never asserted. Usage: idle_bench.py [--runs N] [--idle SECONDS]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SENTRYD, SentryRoot, read  # noqa: E402

BASELINE = os.path.join(BUILD_DIR, "tests", "helpers", "notify_baseline")


def status_field(pid, name):
    for line in read("/proc/%d/status" % pid).splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def rollup(pid, name):
    """A field of /proc/PID/smaps_rollup in KiB (Pss, Private_Dirty, ...)."""
    for line in read("/proc/%d/smaps_rollup" % pid).splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def switches(pid):
    return status_field(pid, "voluntary_ctxt_switches") + \
        status_field(pid, "nonvoluntary_ctxt_switches")


def start_and_wait_ready(argv, env_extra=None):
    """Starts argv with a NOTIFY_SOCKET; returns (process, seconds from exec to READY=1)."""
    d = tempfile.mkdtemp(prefix="bench-notify-")
    path = os.path.join(d, "n.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=path, **(env_extra or {}))
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        msg = s.recv(4096).decode()
        if "READY=1" in msg.split("\n"):
            break
    elapsed = time.monotonic() - t0
    s.close()
    os.unlink(path)
    os.rmdir(d)
    return p, elapsed


def stop(p):
    p.terminate()
    p.wait(30)


def measure(argv, runs, idle):
    times = []
    for _ in range(runs):
        p, t = start_and_wait_ready(argv)
        times.append(t)
        stop(p)
    p, _ = start_and_wait_ready(argv)
    time.sleep(0.5)
    rss = status_field(p.pid, "VmRSS")
    mem = (rss, rollup(p.pid, "Pss"), rollup(p.pid, "Private_Dirty"))
    before = switches(p.pid)
    time.sleep(idle)
    wakeups = switches(p.pid) - before
    stop(p)
    return times, mem, wakeups


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--idle", type=float, default=10.0)
    a = ap.parse_args()

    root = SentryRoot(name="bench-idle", conf_extra="[daemon]\nlog_level = info\n")
    # the harness's conf sets debug; rewrite for a quiet daemon
    with open(root.conf, "w") as f:
        f.write("[daemon]\nroot = %s\nlog_level = warning\nlog_target = stderr\n" % root.dir)
    for i in range(10):
        root.write_mod("idle%02d" % i, enabled="yes", type="oneshot", task_start="/bin/sleep 60",
                       task_stop="kill $pid")
    try:
        s_times, s_rss, s_wake = measure([SENTRYD, "--config", root.conf], a.runs, a.idle)
        b_times, b_rss, b_wake = measure([BASELINE], a.runs, a.idle)
    finally:
        root.cleanup()

    def ms(v):
        return v * 1000.0

    print("sentryd with 10 idle tasks vs notify_baseline, %d starts each, %.0f s idle" %
          (a.runs, a.idle))
    print("  exec->READY median  sentryd %.2f ms  baseline %.2f ms  ratio %.2f  (target <= 50 ms)" % (
        ms(statistics.median(s_times)), ms(statistics.median(b_times)),
        statistics.median(s_times) / statistics.median(b_times)))
    print("  exec->READY worst   sentryd %.2f ms  baseline %.2f ms" % (ms(max(s_times)),
                                                                     ms(max(b_times))))
    print("  RSS after READY     sentryd %d KiB  baseline %d KiB  ratio %.2f  (target <= 4096 KiB)" % (
        s_rss[0], b_rss[0], s_rss[0] / max(b_rss[0], 1)))
    print("  PSS after READY     sentryd %d KiB  baseline %d KiB  (shared library pages divided)" % (
        s_rss[1], b_rss[1]))
    print("  private dirty       sentryd %d KiB  baseline %d KiB  (memory of its own)" % (
        s_rss[2], b_rss[2]))
    print("  wake-ups while idle sentryd %d  baseline %d  (target 0)" % (s_wake, b_wake))


if __name__ == "__main__":
    main()
