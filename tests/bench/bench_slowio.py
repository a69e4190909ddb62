"""Slow-io detection figures, measured on real disks (nbdkit + loop):

  1. time from a disk's slowdown to alarm 1002 with avg_block_io, against the least the window
     allows (win_threshold_latency periods), as a ratio;
  2. CPU of sentryd's io collector following 16 loop disks at a 1 s period, as a share of one
     core, for each io source, against the same sentryd with the collector idle.

Figures are printed, never asserted. Needs root, /dev/fuse, nbdkit, nbdfuse."""
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fault"))
import slowdisk  # noqa: E402
from sentry_harness import BUILD_DIR, ProtocolClient, SentryRoot, read, wait_for  # noqa: E402

AVG = os.path.join(BUILD_DIR, "plugins", "avg_block_io", "avg_block_io")


def cpu_seconds(pid):
    f = read("/proc/%d/stat" % pid).rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def reader(dev, stop):
    import mmap
    buf = mmap.mmap(-1, 4096)
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    i = 0
    while not stop.is_set():
        i = (i * 7919 + 4096) % (32 << 20)
        try:
            os.preadv(fd, [buf], i & ~4095)
        except OSError:
            time.sleep(0.01)
    os.close(fd)


def time_to_alarm(win_size=10, threshold=3):
    disk = slowdisk.SlowDisk(delay_ms=0, rate="10G").start()
    try:
        root = SentryRoot(name="bench-slowio", conf_extra="[collector]\ndisk = %s\n" % disk.name)
        ini = root.path("avg.ini")
        with open(ini, "w") as f:
            f.write("[common]\ndisk = %s\nstage = default\niotype = read\nperiod_time = 1\n"
                    "[algorithm]\nwin_size = %d\nwin_threshold_latency = %d\n"
                    "win_threshold_iodump = %d\n" % (disk.name, win_size, threshold, win_size))
        root.write_mod("avg_block_io", enabled="yes", type="oneshot", onstart="yes",
                       task_start="%s --config %s" % (AVG, ini), task_stop="kill $pid")
        root.start()
        c = ProtocolClient(root.socket, timeout=300)
        c.call("subscribe", ids="1002")
        stop = threading.Event()
        threads = [threading.Thread(target=reader, args=(disk.device, stop), daemon=True)
                   for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(win_size + 5)  # warm-up on a healthy disk
        disk.set_rate("320K")
        t0 = time.monotonic()
        while True:
            m = c.read_line()
            if m.get("alarm", {}).get("type") == "OCCUR":
                break
        elapsed = time.monotonic() - t0
        info = json.loads(m["alarm"]["text"])
        stop.set()
        root.cleanup()
        return elapsed, info["reason"]
    finally:
        disk.stop()


def collector_cpu(source, seconds=30, n_disks=16):
    disks = [slowdisk.HealthyDisk(size_mb=4).start() for _ in range(n_disks)]
    try:
        root = SentryRoot(name="bench-coll", conf_extra=(
            "[collector]\nsource = %s\nlease = 3600\ndisk = %s\n"
            % (source, ",".join(d.name for d in disks))))
        root.start()
        pid = root.proc.pid
        time.sleep(1)
        base0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds / 3)
        idle = (cpu_seconds(pid) - base0) / (time.monotonic() - t0)
        c = ProtocolClient(root.socket)
        r = c.call("io_disks")
        assert r["ok"], r
        time.sleep(2)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        busy = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        followed = len(r["result"]["disks"])
        root.cleanup()
        return busy, idle, followed
    finally:
        for d in disks:
            d.stop()


def main():
    why = slowdisk.missing_facilities()
    if why:
        print("skipped: " + ", ".join(why))
        sys.exit(77)
    elapsed, reason = time_to_alarm()
    print("slowdown to alarm 1002 (avg_block_io, window 10, threshold 3, period 1 s): "
          "%.1f s, reason %s; least possible 3.0 s, ratio %.2f" % (elapsed, reason, elapsed / 3.0))
    for source in ("bpf", "diskstats"):
        busy, idle, n = collector_cpu(source)
        print("collector, %d loop disks at 1 s, %s source: %.3f%% of a core "
              "(sentryd idle: %.3f%%, target <= 0.1%%)" % (n, source, busy * 100, idle * 100))


if __name__ == "__main__":
    main()
