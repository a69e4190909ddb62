#!/usr/bin/env python3
"""Benchmark of the collector's io sources. Prints figures as ratios against a baseline measured
in the same run; it fails only when something does not work, never on a figure.

1. eBPF overhead: iops of a loop disk under random 4 KiB direct reads, alternately with and
   without the eBPF source attached (sentry-iostat-probe --source bpf following the disk), in
   ROUNDS pairs, each pair in the other order than the one before (so that a drift of the
   machine weighs on both sides); prints each pair's ratio with/without and their median. The
   disk's file is on tmpfs when there is one, so that the device costs nothing and the overhead
   shows at its largest; then the same on a loop disk whose file is on the root file system
   (direct io down to the machine's own disk), where an io costs what it costs on a real
   device. On a shared or small machine single pairs vary by several percent:
   raise BENCH_ROUNDS for a figure to compare. With BENCH_BPF_STATS=1 one more run measures, with
   the kernel's BPF statistics (sysctl kernel.bpf_stats_enabled, put back afterwards), the run
   time of each of the source's programs per io.
2. Reading cost: CPU time (user + system) of sentry-iostat-probe reading 16 loop disks once per
   second with the best source (and with diskstats), over INTERVALS seconds after start-up, as
   a ratio to wall time, while the disks are under light load.

Needs root (loop devices) and fio; uses tests/fault/slowdisk.py for the disks."""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fault"))
import slowdisk  # noqa: E402

BUILD_DIR = os.environ.get("SENTRY_BUILD_DIR", os.path.join(os.getcwd(), "build"))
PROBE = os.path.join(BUILD_DIR, "collector", "sentry-iostat-probe")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
BPF_STATS = os.environ.get("BENCH_BPF_STATS", "") not in ("", "0")
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
INTERVALS = int(os.environ.get("BENCH_INTERVALS", "10"))
N_DISKS = 16


def fio_read(devices, seconds, iodepth=32, rate_iops=None):
    """fio's "read" figures of random 4 KiB direct reads on the devices."""
    argv = ["fio", "--output-format=json", "--direct=1", "--rw=randread", "--bs=4k",
            "--ioengine=libaio", "--iodepth=%d" % iodepth, "--runtime=%d" % seconds,
            "--time_based", "--group_reporting"]
    if rate_iops:
        argv.append("--rate_iops=%d" % rate_iops)
    for i, dev in enumerate(devices):
        argv += ["--name=j%d" % i, "--filename=%s" % dev]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=seconds + 120)
    if p.returncode != 0:
        raise RuntimeError("fio failed: %s" % p.stderr)
    return json.loads(p.stdout)["jobs"][0]["read"]


def fio_iops(devices, seconds, iodepth=32, rate_iops=None):
    return fio_read(devices, seconds, iodepth, rate_iops)["iops"]


class Probe:
    """sentry-iostat-probe in the background; ready once it printed its first interval."""

    def __init__(self, source, disks, interval=1, count=0):
        argv = [PROBE, "--json", "--interval", str(interval)]
        if count:
            argv += ["--count", str(count)]
        if source:
            argv += ["--source", source]
        self.proc = subprocess.Popen(argv + disks, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.source = None

    def next_interval(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("probe ended: %s" % self.proc.stderr.read())
        obj = json.loads(line)
        self.source = obj["source"]
        return obj

    def cpu_seconds(self):
        """CPU time used so far (the probe has one thread): schedstat's exact run time in ns,
        or utime + stime in clock ticks where the kernel lacks schedstat."""
        try:
            with open("/proc/%d/schedstat" % self.proc.pid) as f:
                return int(f.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            pass
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def bpf_prog_ids(self):
        """Ids of the BPF programs the probe holds (from its file descriptors)."""
        ids = set()
        fdinfo = "/proc/%d/fdinfo" % self.proc.pid
        for fd in os.listdir(fdinfo):
            try:
                with open(os.path.join(fdinfo, fd)) as f:
                    for line in f:
                        if line.startswith("prog_id:"):
                            ids.add(int(line.split()[1]))
            except OSError:
                pass
        return ids

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def fio_with_bpf(disk, seconds):
    """fio_iops() while the probe follows the disk with the eBPF source."""
    probe = Probe("bpf", [os.path.basename(disk)])
    try:
        probe.next_interval()  # programs loaded and attached
        return fio_iops([disk], seconds)
    finally:
        probe.stop()


def bpf_programs(ids):
    """{id: (name, run_time_ns, run_cnt)} of the given BPF programs."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    return {p["id"]: (p["name"], p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out) if p["id"] in ids}


def bench_bpf_stats(disk):
    """Run time of each program of the source per io, from the kernel's BPF statistics."""
    if shutil.which("bpftool") is None:
        print("(no bpftool: no per-program figures)")
        return
    sysctl = "/proc/sys/kernel/bpf_stats_enabled"
    with open(sysctl) as f:
        old = f.read().strip()
    probe = Probe("bpf", [os.path.basename(disk)])
    try:
        probe.next_interval()
        ids = probe.bpf_prog_ids()
        with open(sysctl, "w") as f:
            f.write("1")
        before = bpf_programs(ids)
        read = fio_read([disk], SECONDS)
        iops, ios = read["iops"], read["total_ios"]
        after = bpf_programs(ids)
    finally:
        with open(sysctl, "w") as f:
            f.write(old)
        probe.stop()
    print("BPF run time per io (kernel.bpf_stats_enabled, which adds its own clock reads), "
          "%.0f iops:" % iops)
    total = 0
    for pid, (name, ns, cnt) in sorted(after.items(), key=lambda kv: kv[1][0]):
        dns, dcnt = ns - before[pid][1], cnt - before[pid][2]
        if dcnt == 0:
            continue
        total += dns
        print("  %-16s %7.1f ns/io  %7.1f ns/run  %5.2f runs/io" % (name, dns / ios, dns / dcnt,
                                                                  dcnt / ios))
    print("  %-16s %7.1f ns/io" % ("total", total / ios))


def bench_bpf_overhead(disk, backing):
    print("== eBPF overhead: fio randread 4k, iodepth 32, %d s per run, on %s (file on %s)"
          % (SECONDS, disk, backing))
    fio_iops([disk], 2)  # warm up
    ratios = []
    for r in range(ROUNDS):
        if r % 2 == 0:
            without = fio_iops([disk], SECONDS)
            with_bpf = fio_with_bpf(disk, SECONDS)
        else:
            with_bpf = fio_with_bpf(disk, SECONDS)
            without = fio_iops([disk], SECONDS)
        ratios.append(with_bpf / without)
        print("round %d: without %.0f iops, with bpf %.0f iops, ratio %.3f" % (
            r + 1, without, with_bpf, ratios[-1]))
    ratio = statistics.median(ratios)
    print("iops with bpf / without: median %.3f of %d pairs (%.3f .. %.3f)" % (
        ratio, len(ratios), min(ratios), max(ratios)))
    if BPF_STATS:
        bench_bpf_stats(disk)
    return ratio


def bench_read_cost(disks, source):
    names = [os.path.basename(d) for d in disks]
    # light load on every disk, so the in-flight maps are not empty
    load = subprocess.Popen(
        ["fio", "--direct=1", "--rw=randread", "--bs=4k", "--ioengine=libaio", "--iodepth=4",
         "--runtime=%d" % (INTERVALS + 30), "--time_based", "--rate_iops=200"] +
        sum((["--name=j%d" % i, "--filename=%s" % d] for i, d in enumerate(disks)), []),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = Probe(source, names, count=INTERVALS + 1)
    try:
        first = probe.next_interval()
        t0, c0 = time.monotonic(), probe.cpu_seconds()
        for _ in range(INTERVALS - 1):
            probe.next_interval()
        t1, c1 = time.monotonic(), probe.cpu_seconds()
        probe.next_interval()
    finally:
        probe.stop()
        load.terminate()
        load.wait()
    ratio = (c1 - c0) / (t1 - t0)
    n_disks = len(first["disks"])
    print("%-9s reading %d disks every second: cpu %.4f s over %.1f s wall = %.4f%% of one cpu"
          % (probe.source, n_disks, c1 - c0, t1 - t0, 100 * ratio))
    if n_disks != len(disks):
        raise RuntimeError("probe read %d disks, expected %d" % (n_disks, len(disks)))
    return probe.source, ratio


def main():
    why = [w for w in slowdisk.missing_facilities() if "nbd" not in w and "fuse" not in w]
    if why:
        print("bench_io_sources: cannot run: %s" % ", ".join(why))
        return 77
    if shutil.which("fio") is None:
        print("bench_io_sources: cannot run: fio not installed")
        return 77
    if not os.access(PROBE, os.X_OK):
        print("bench_io_sources: %s not built" % PROBE)
        return 1
    slowdisk.cleanup_stale()
    disks = []
    try:
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        for i in range(N_DISKS):
            disks.append(slowdisk.HealthyDisk(size_mb=128 if i == 0 else 16,
                                              directory=shm).start())
        if os.path.exists("/sys/kernel/btf/vmlinux"):
            disks[0].set_scheduler("none")  # as a loop disk comes, whatever a test left
            bench_bpf_overhead(disks[0].device, "tmpfs" if shm else "the root file system")
            if shm:
                on_disk = slowdisk.HealthyDisk(size_mb=256).start()
                on_disk.set_scheduler("none")
                bench_bpf_overhead(on_disk.device, "the root file system")
        print("== reading cost")
        for source in (None, "diskstats"):
            bench_read_cost([d.device for d in disks], source)
    finally:
        slowdisk.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
