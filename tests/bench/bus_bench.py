"""The alarm bus under load: sentryd against bus_relay (a relay of the same sockets without
storage, tests/helpers) measured in the same run, on the native and the xalarm paths, with 1, 8
and 64 subscribers (bus_load drives both):

  - throughput: acknowledged (native) or sent (xalarm) alarms/s, and alarms/s to each subscriber
  - the server's CPU time per alarm (steadier than rates on a busy machine)
  - latency report -> subscriber, p50/p99/max, at a fixed 10k alarms/s
  - loss (bus_load checks every alarm arrived exactly once, in order)
  - sentryd's resident memory while loaded (VmRSS sampled, and VmHWM)
  - the never-reading subscriber: what the others get with one that reads nothing, against
    without it

Targets from the issue: native >= 200k acknowledged/s with 1 subscriber and >= 100k/s to each of
8; xalarm >= 50% of the relay; p99 < 1 ms at 10k/s; RSS <= 8 MiB. The figures are printed,
never asserted. Usage: bus_bench.py [--scale F] [--paths native,xalarm] [--subscribers 1,8,64]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SentryRoot, read  # noqa: E402

HELPERS = os.path.join(BUILD_DIR, "tests", "helpers")
BUS_LOAD = os.path.join(HELPERS, "bus_load")
BUS_RELAY = os.path.join(HELPERS, "bus_relay")

# Alarms per throughput run, by path and number of subscribers (times --scale).
ALARMS = {"native": {1: 400000, 8: 200000, 64: 40000},
          "xalarm": {1: 100000, 8: 40000, 64: 8000}}
LATENCY_RATE = 10000
LATENCY_SECONDS = 3


def status_kib(pid, field):
    for line in read("/proc/%d/status" % pid).splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """user + system CPU time of a process."""
    fields = read("/proc/%d/stat" % pid).rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Largest VmRSS of a process while it runs, sampled every 20 ms."""

    def __init__(self, pid):
        self.pid, self.max, self.stop = pid, 0, threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop.wait(0.02):
            self.max = max(self.max, status_kib(self.pid, "VmRSS"))

    def done(self):
        self.stop.set()
        self.t.join()
        return self.max


class Sentryd:
    """A fresh sentryd in a temporary root, quiet, without alarm log."""
    name = "sentryd"

    def __init__(self):
        self.root = SentryRoot(name="bench-bus")
        with open(self.root.conf, "w") as f:
            f.write("[daemon]\nroot = %s\nlog_level = warning\nlog_target = stderr\n"
                    "[alarms]\nlog = none\n" % self.root.dir)
        self.root.start()
        self.pid = self.root.proc.pid
        self.socket = self.root.socket
        self.xdir = self.root.path("var/run/xalarm")

    def close(self):
        self.root.cleanup()


class Relay:
    """bus_relay on sockets in a temporary directory."""
    name = "relay"

    def __init__(self, path):
        self.dir = tempfile.mkdtemp(prefix="bench-relay-")
        self.socket = os.path.join(self.dir, "relay.sock")
        self.xdir = os.path.join(self.dir, "xalarm")
        where = ["--socket", self.socket] if path == "native" else ["--xalarm-dir", self.xdir]
        self.proc = subprocess.Popen([BUS_RELAY, "--path", path] + where, stdout=subprocess.PIPE,
                                     text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("bus_relay did not start")
        self.pid = self.proc.pid

    def close(self):
        self.proc.terminate()
        self.proc.wait(30)
        for dirpath, dirs, files in os.walk(self.dir, topdown=False):
            for f in files:
                os.unlink(os.path.join(dirpath, f))
            os.rmdir(dirpath)


def bus_load(server, path, *args):
    where = (["--socket", server.socket] if path == "native"
             else ["--path", "xalarm", "--xalarm-dir", server.xdir])
    cmd = [BUS_LOAD, "--json"] + where + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if not p.stdout:
        raise RuntimeError("bus_load failed (%d): %s" % (p.returncode, p.stderr))
    return json.loads(p.stdout)


def measure_once(server_factory, path, subs, n, producers):
    """Throughput and latency runs on one fresh server; returns a dict of figures."""
    server = server_factory()
    try:
        time.sleep(0.2)
        idle = status_kib(server.pid, "VmRSS")
        sampler = RssSampler(server.pid)
        cpu = cpu_seconds(server.pid)
        thr = bus_load(server, path, "--producers", producers, "--subscribers", subs,
                       "--alarms", n)
        cpu = cpu_seconds(server.pid) - cpu
        lat = bus_load(server, path, "--producers", 1, "--subscribers", subs,
                       "--rate", LATENCY_RATE, "--alarms", LATENCY_RATE * LATENCY_SECONDS)
        rss = sampler.done()
        hwm = status_kib(server.pid, "VmHWM")
    finally:
        server.close()
    return {"ack": thr["ack_rate"], "sub_min": thr["delivery_rate"]["min"],
            "cpu_us": cpu * 1e6 / max(thr["acked"], 1),
            "sub_mean": thr["delivery_rate"]["mean"], "p50": lat["latency_us"]["p50"],
            "p99": lat["latency_us"]["p99"], "max": lat["latency_us"]["max"],
            "loss": thr["lost"] + lat["lost"], "ok": thr["ok"] and lat["ok"], "rss": rss,
            "hwm": hwm, "idle": idle, "thr": thr, "lat": lat}


def measure(server_factory, path, subs, n, producers, repeat):
    """The median of each figure over `repeat` fresh servers (this machine's scheduling varies
    a lot from run to run); memory and loss are the worst seen."""
    runs = [measure_once(server_factory, path, subs, n, producers) for _ in range(repeat)]
    m = {k: statistics.median(r[k] for r in runs)
         for k in ("ack", "sub_min", "sub_mean", "cpu_us", "p50", "p99", "max")}
    m.update(loss=sum(r["loss"] for r in runs), ok=all(r["ok"] for r in runs),
             rss=max(r["rss"] for r in runs), hwm=max(r["hwm"] for r in runs),
             idle=min(r["idle"] for r in runs), runs=runs)
    return m


def never_reading(path, subs, n, producers, repeat):
    """bus_load results without and with a subscriber that never reads (the median run of
    each by the others' mean rate; the two kinds alternate so drift hits both)."""
    runs = {False: [], True: []}
    for stall in [False, True] * repeat:
        server = Sentryd()
        try:
            args = ["--producers", producers, "--alarms", n]
            if stall:
                args += ["--subscribers", subs + 1, "--stall", "1:done"]
            else:
                args += ["--subscribers", subs]
            runs[stall].append(bus_load(server, path, *args))
        finally:
            server.close()

    def median_run(rs):
        return sorted(rs, key=lambda r: r["fast_rate"]["mean"])[len(rs) // 2]
    return median_run(runs[False]), median_run(runs[True]), runs


def ratio(a, b):
    return a / b if b else float("nan")


def print_table(path, rows):
    print("\n%s path: sentryd vs relay (ratio = sentryd / relay)" % path)
    print("  %-3s | %-27s | %-27s | %-21s | %-35s | %-8s | %s" % (
        "S", "acknowledged alarms/s", "alarms/s to each (min)", "server CPU us/alarm",
        "latency at 10k/s p50/p99/max us", "loss", "RSS idle -> loaded (max) / HWM"))
    for subs, s, r in rows:
        print("  %-3d | %9.0f %9.0f  x%5.2f | %9.0f %9.0f  x%5.2f | %6.1f %6.1f  x%5.2f | "
              "%8.0f %8.0f %8.0f (sentryd) | %d/%d%s | sentryd %4.1f -> %5.1f / %5.1f MiB" % (
                  subs, s["ack"], r["ack"], ratio(s["ack"], r["ack"]), s["sub_min"],
                  r["sub_min"], ratio(s["sub_min"], r["sub_min"]), s["cpu_us"], r["cpu_us"],
                  ratio(s["cpu_us"], r["cpu_us"]), s["p50"], s["p99"], s["max"],
                  s["loss"], r["loss"], "" if s["ok"] and r["ok"] else " FAILED",
                  s["idle"] / 1024.0, s["rss"] / 1024.0, s["hwm"] / 1024.0))
        print("      |%29s|%29s|%23s| %8.0f %8.0f %8.0f (relay)   |          | relay   %4.1f -> "
              "%5.1f MiB" % ("", "", "", r["p50"], r["p99"], r["max"], r["idle"] / 1024.0,
                             r["rss"] / 1024.0))


def print_targets(results, stalls):
    def row(path, subs):
        return next(s for p, n, s, r in results if p == path and n == subs)

    def relay(path, subs):
        return next(r for p, n, s, r in results if p == path and n == subs)

    def verdict(ok):
        return "met" if ok else "NOT met"

    print("\ntargets")
    have = {(p, n) for p, n, _, _ in results}
    if ("native", 1) in have:
        v = row("native", 1)["ack"]
        print("  native >= 200k acknowledged/s, 1 subscriber: %.0f/s  %s" % (v, verdict(v >= 2e5)))
    if ("native", 8) in have:
        v = row("native", 8)["sub_min"]
        print("  native >= 100k/s to each of 8:              %.0f/s  %s" % (v, verdict(v >= 1e5)))
    for subs in (1, 8, 64):
        if ("xalarm", subs) in have:
            v = ratio(row("xalarm", subs)["sub_min"], relay("xalarm", subs)["sub_min"])
            print("  xalarm >= 50%% of the relay, %2d subscriber(s): %.0f%%  %s" % (
                subs, v * 100, verdict(v >= 0.5)))
    for p, n, s, _ in results:
        print("  p99 < 1 ms at 10k/s, %s, %2d subscriber(s): %.0f us  %s" % (
            p, n, s["p99"], verdict(s["p99"] < 1000)))
    worst = max(s["rss"] for _, _, s, _ in results)
    print("  sentryd RSS <= 8 MiB under load: max %.1f MiB  %s" % (worst / 1024.0,
                                                                    verdict(worst <= 8192)))
    for path, subs, (alone, stalled, _) in stalls:
        print("  never-reading subscriber, %s, %d readers: %.0f/s to each without it, %.0f/s with "
              "it, ratio %.2f; it then got %d of %d (lost %d)" % (
                  path, subs, alone["fast_rate"]["mean"], stalled["fast_rate"]["mean"],
                  ratio(stalled["fast_rate"]["mean"], alone["fast_rate"]["mean"]),
                  next(s["received"] for s in stalled["per_subscriber"]
                       if s["mode"] == "stalled"), stalled["acked"], stalled["lost"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="alarms per run, times this")
    ap.add_argument("--paths", default="native,xalarm")
    ap.add_argument("--subscribers", default="1,8,64")
    ap.add_argument("--producers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="fresh servers per figure (median)")
    ap.add_argument("--json", help="also write every figure to this file")
    a = ap.parse_args()
    paths = a.paths.split(",")
    subs_list = [int(x) for x in a.subscribers.split(",")]

    print("alarm bus benchmark: %d producer(s), native window 256, 128-byte texts; sentryd with "
          "its defaults but [alarms] log = none; median of %d runs; %d CPUs, load %.1f"
          % (a.producers, a.repeat, os.cpu_count(), os.getloadavg()[0]))
    results, stalls = [], []
    for path in paths:
        rows = []
        for subs in subs_list:
            n = max(1000, int(ALARMS[path].get(subs, 20000) * a.scale))
            s = measure(Sentryd, path, subs, n, a.producers, a.repeat)
            r = measure(lambda: Relay(path), path, subs, n, a.producers, a.repeat)
            rows.append((subs, s, r))
            results.append((path, subs, s, r))
        print_table(path, rows)
        sys.stdout.flush()
        n = max(1000, int(ALARMS[path][8] * a.scale))
        stalls.append((path, 8, never_reading(path, 8, n, a.producers, a.repeat)))
    print_targets(results, stalls)
    print("load average at the end: %.1f (other work on the machine makes the figures vary)"
          % os.getloadavg()[0])
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": [{"path": p, "subscribers": n, "sentryd": s, "relay": r}
                                   for p, n, s, r in results],
                       "never_reading": [{"path": p, "subscribers": n, "runs": {
                           "without": rs[False], "with": rs[True]}}
                           for p, n, (_, _, rs) in stalls]}, f, indent=1)


if __name__ == "__main__":
    main()
