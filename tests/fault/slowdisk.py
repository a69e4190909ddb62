#!/usr/bin/env python3
"""slowdisk: real block devices with real latency or real errors, for fault-injection tests.

A slow disk is an nbdkit RAM disk behind the ``delay`` filter (and optionally the ``error``
filter), exposed as a regular file by ``nbdfuse`` and attached with ``losetup --direct-io=on``:
every read and write of /dev/loopN really waits (or fails) in the block layer, so it shows in
/proc/diskstats and in the block tracepoints like a slow or failing drive. A healthy disk is a
plain file (on disk or tmpfs) behind a loop device, the counterpart that tests compare with.

Everything created is torn down when the ``with`` block ends, when the process exits (atexit)
and when it is killed by SIGTERM, SIGINT or SIGHUP, even if a test fails. ``cleanup_stale()``
also removes what an earlier run that was killed with SIGKILL left behind.

As a module::

    with slowdisk.SlowDisk(delay_ms=100) as slow, slowdisk.HealthyDisk() as ok:
        print(slow.device, ok.device)      # /dev/loop3 /dev/loop4

As a command (stays in the foreground until interrupted, prints the device)::

    slowdisk.py slow --delay-ms 100 [--size-mb 64] [--error-rate 0.1 [--error-file F]]
    slowdisk.py healthy [--size-mb 64] [--dir /dev/shm]
    slowdisk.py cleanup

Python 3 standard library only; needs root, /dev/fuse, nbdkit, nbdfuse, losetup, fusermount3.
"""

import argparse
import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PREFIX = "sentry-slowdisk-"
_live = []
_live_lock = threading.RLock()
_handlers_installed = False
_previous_handlers = {}


class ReadLoad:
    """Direct reads spread over the first 32 MiB of some block devices, from a few threads each,
    until the with block ends; a device that goes away ends its threads."""

    def __init__(self, devices, threads_per_disk=4):
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(d,), daemon=True)
                        for d in devices for _ in range(threads_per_disk)]

    def run(self, dev):
        import mmap
        buf = mmap.mmap(-1, 4096)
        try:
            fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
        except OSError:
            return
        size = 32 << 20
        i = 0
        while not self.stop.is_set():
            i = (i * 7919 + 4096) % size
            try:
                os.preadv(fd, [buf], i & ~4095)
            except OSError:
                if not os.path.exists(dev):
                    break
                time.sleep(0.01)
        os.close(fd)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)


class SlowDiskError(RuntimeError):
    pass


def _run(argv, check=True, timeout=30):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise SlowDiskError("%s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                    p.stderr.strip()))
    return p


def missing_facilities():
    """What this machine lacks for slow disks, as a list of reasons (empty when all is there)."""
    why = []
    if os.geteuid() != 0:
        why.append("not root")
    if not os.path.exists("/dev/fuse"):
        why.append("no /dev/fuse")
    for tool in ("nbdkit", "nbdfuse", "losetup", "fusermount3"):
        if shutil.which(tool) is None:
            why.append("%s not installed" % tool)
    return why


def _losetup_attach(path, direct_io=True):
    argv = ["losetup", "-f", "--show"]
    if direct_io:
        argv.append("--direct-io=on")
    argv.append(path)
    dev = _run(argv).stdout.strip()
    if not dev.startswith("/dev/loop"):
        raise SlowDiskError("losetup printed %r" % dev)
    return dev


def _losetup_detach(dev):
    for _ in range(50):
        p = _run(["losetup", "-d", dev], check=False)
        if p.returncode == 0 or "No such device" in p.stderr:
            return
        time.sleep(0.1)
    raise SlowDiskError("cannot detach %s" % dev)


def _backing_file(dev):
    try:
        with open("/sys/block/%s/loop/backing_file" % os.path.basename(dev)) as f:
            return f.read().strip()
    except OSError:
        return ""


def _is_mounted(path):
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 4 and fields[4] == path:
                    return True
    except OSError:
        pass
    return False


def _unmount(path):
    if not _is_mounted(path):
        return
    p = _run(["fusermount3", "-u", path], check=False)
    if p.returncode != 0:
        _run(["fusermount3", "-u", "-z", path], check=False)


class _Disk:
    """What both kinds share: a loop device over a file, and teardown bookkeeping."""

    def __init__(self):
        self.device = None
        self.workdir = None
        self._closed = False
        self._queue_saved = []  # (path, value) to put back: queue settings outlive the disk

    @property
    def name(self):
        """Kernel name of the disk, e.g. "loop3"."""
        return os.path.basename(self.device) if self.device else None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _register(self):
        _install_handlers()
        with _live_lock:
            _live.append(self)

    def _unregister(self):
        with _live_lock:
            if self in _live:
                _live.remove(self)

    def set_queue(self, knob, value):
        """Sets /sys/block/<disk>/queue/<knob>; put back when the disk is torn down (the loop
        device keeps its queue settings for whoever attaches it next)."""
        path = "/sys/block/%s/queue/%s" % (self.name, knob)
        with open(path) as f:
            old = f.read().strip()
        if knob == "scheduler":
            old = old[old.index("[") + 1:old.index("]")] if "[" in old else old
        self._queue_saved.append((path, old))
        with open(path, "w") as f:
            f.write(str(value))

    def set_scheduler(self, name):
        self.set_queue("scheduler", name)

    def _restore_queue(self):
        while self._queue_saved:
            path, value = self._queue_saved.pop()
            try:
                with open(path, "w") as f:
                    f.write(value)
            except OSError:
                pass


class SlowDisk(_Disk):
    """A RAM disk whose reads and writes take delay_ms (rdelay/wdelay of nbdkit's delay filter).

    error_rate (0..1) makes that share of requests fail with EIO through nbdkit's error filter;
    with error_file set, only while that file exists (create it to start failing).

    rate (bits per second, e.g. "320K") limits the bandwidth through nbdkit's rate filter, and
    set_rate() changes it while the disk runs: a disk that is fast at first and turns slow (or
    the other way round) without being replaced."""

    def __init__(self, delay_ms=100, size_mb=64, read_delay_ms=None, write_delay_ms=None,
                 error_rate=None, error_file=None, direct_io=True, rate=None):
        super().__init__()
        self.rate = rate
        self.read_delay_ms = delay_ms if read_delay_ms is None else read_delay_ms
        self.write_delay_ms = delay_ms if write_delay_ms is None else write_delay_ms
        self.size_mb = size_mb
        self.error_rate = error_rate
        self.error_file = error_file
        self.direct_io = direct_io
        self.file = None
        self.nbdfuse = None

    def command(self):
        """The nbdfuse command line (nbdkit runs as its child, on its stdin/stdout)."""
        nbdkit = ["nbdkit", "-s", "--exit-with-parent"]
        params = []
        if self.error_rate is not None:
            nbdkit.append("--filter=error")
            params += ["error=EIO", "error-rate=%g" % self.error_rate]
            if self.error_file:
                params.append("error-file=%s" % self.error_file)
        if self.rate is not None:
            nbdkit.append("--filter=rate")
            params += ["rate=%s" % self.rate, "rate-file=%s" % self.rate_file()]
        nbdkit.append("--filter=delay")
        nbdkit += ["memory", "%dM" % self.size_mb]
        params += ["rdelay=%dms" % self.read_delay_ms, "wdelay=%dms" % self.write_delay_ms]
        return ["nbdfuse", "-P", os.path.join(self.workdir, "nbdfuse.pid"), self.file,
                "--command"] + nbdkit + params

    def start(self):
        why = missing_facilities()
        if why:
            raise SlowDiskError("cannot make a slow disk: " + ", ".join(why))
        self._register()
        self.workdir = tempfile.mkdtemp(prefix=PREFIX)
        self.file = os.path.join(self.workdir, "disk")
        open(self.file, "w").close()  # nbdfuse mounts over a regular file
        log = open(os.path.join(self.workdir, "nbdfuse.log"), "w")
        self.nbdfuse = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        pidfile = os.path.join(self.workdir, "nbdfuse.pid")
        deadline = time.monotonic() + 20
        while not os.path.exists(pidfile) or os.path.getsize(self.file) == 0:
            if self.nbdfuse.poll() is not None:
                raise SlowDiskError("nbdfuse exited (%d): %s" % (self.nbdfuse.returncode,
                                                                self._log()))
            if time.monotonic() > deadline:
                raise SlowDiskError("nbdfuse did not come up: %s" % self._log())
            time.sleep(0.05)
        self.device = _losetup_attach(self.file, self.direct_io)
        return self

    def rate_file(self):
        return os.path.join(self.workdir, "rate")

    def set_rate(self, rate):
        """Changes the bandwidth limit of a disk made with rate= (takes about a second)."""
        if self.rate is None:
            raise SlowDiskError("this disk has no rate filter")
        tmp = self.rate_file() + ".new"
        with open(tmp, "w") as f:
            f.write("%s\n" % rate)
        os.rename(tmp, self.rate_file())

    def _log(self):
        try:
            with open(os.path.join(self.workdir, "nbdfuse.log")) as f:
                return f.read().strip()
        except OSError:
            return ""

    def stop(self):
        if self._closed:
            return
        self._closed = True
        try:
            self._restore_queue()
            if self.device:
                _losetup_detach(self.device)
            if self.file:
                _unmount(self.file)
            if self.nbdfuse is not None:
                try:
                    self.nbdfuse.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    # nbdfuse wants to be stopped by unmounting; it did not go, so make it go.
                    os.killpg(self.nbdfuse.pid, signal.SIGTERM)
                    try:
                        self.nbdfuse.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        os.killpg(self.nbdfuse.pid, signal.SIGKILL)
                        self.nbdfuse.wait(timeout=5)
        finally:
            if self.workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            self._unregister()


class HealthyDisk(_Disk):
    """A plain file behind a loop device (direct io where the file system allows it)."""

    def __init__(self, size_mb=64, directory=None, direct_io=True):
        super().__init__()
        self.size_mb = size_mb
        self.directory = directory
        self.direct_io = direct_io
        self.file = None

    def start(self):
        if os.geteuid() != 0:
            raise SlowDiskError("cannot make a loop disk: not root")
        self._register()
        self.workdir = tempfile.mkdtemp(prefix=PREFIX, dir=self.directory)
        self.file = os.path.join(self.workdir, "disk")
        with open(self.file, "wb") as f:
            # written, not sparse: reads then cost what a real read costs
            block = b"\0" * (1 << 20)
            for _ in range(self.size_mb):
                f.write(block)
        try:
            self.device = _losetup_attach(self.file, self.direct_io)
        except SlowDiskError:
            if not self.direct_io:
                raise
            self.device = _losetup_attach(self.file, False)  # e.g. a tmpfs without O_DIRECT
        return self

    def stop(self):
        if self._closed:
            return
        self._closed = True
        try:
            self._restore_queue()
            if self.device:
                _losetup_detach(self.device)
        finally:
            if self.workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            self._unregister()


def stop_all():
    """Tears down every disk of this process that is still there."""
    with _live_lock:
        disks = list(reversed(_live))
    for d in disks:
        try:
            d.stop()
        except Exception as e:  # keep going: the others must go too
            print("slowdisk: teardown of %s: %s" % (d.device, e), file=sys.stderr)


def _on_signal(signum, frame):
    stop_all()
    previous = _previous_handlers.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers():
    global _handlers_installed
    with _live_lock:
        if _handlers_installed:
            return
        _handlers_installed = True
    atexit.register(stop_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still runs
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        previous = signal.getsignal(sig)
        if previous is signal.SIG_IGN:
            continue
        _previous_handlers[sig] = previous
        signal.signal(sig, _on_signal)


def cleanup_stale():
    """Removes loop devices, FUSE mounts and directories left by runs that were killed."""
    tmp = tempfile.gettempdir()
    removed = []
    for dev in sorted(os.listdir("/sys/block")):
        if not dev.startswith("loop"):
            continue
        backing = _backing_file(dev)
        if PREFIX in backing:
            _losetup_detach("/dev/" + dev)
            removed.append("/dev/" + dev)
    try:
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f if len(line.split()) > 4]
    except OSError:
        mounts = []
    for m in mounts:
        if PREFIX in m:
            _unmount(m)
            removed.append(m)
    for entry in os.listdir(tmp):
        if entry.startswith(PREFIX):
            shutil.rmtree(os.path.join(tmp, entry), ignore_errors=True)
            removed.append(os.path.join(tmp, entry))
    return removed


def _wait_forever(disk):
    print(disk.device, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


def main(argv=None):
    ap = argparse.ArgumentParser(description="Real slow, failing or healthy block devices.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("slow", help="a RAM disk with a delay per io (and optional errors)")
    s.add_argument("--delay-ms", type=int, default=100)
    s.add_argument("--read-delay-ms", type=int)
    s.add_argument("--write-delay-ms", type=int)
    s.add_argument("--size-mb", type=int, default=64)
    s.add_argument("--error-rate", type=float, help="share of requests that fail with EIO")
    s.add_argument("--error-file", help="inject errors only while this file exists")
    h = sub.add_parser("healthy", help="a plain file behind a loop device")
    h.add_argument("--size-mb", type=int, default=64)
    h.add_argument("--dir", help="where the backing file goes (default: the temp directory)")
    sub.add_parser("cleanup", help="remove what killed runs left behind")
    a = ap.parse_args(argv)

    if a.cmd == "cleanup":
        for r in cleanup_stale():
            print("removed", r)
        return 0
    if a.cmd == "slow":
        disk = SlowDisk(delay_ms=a.delay_ms, size_mb=a.size_mb, read_delay_ms=a.read_delay_ms,
                        write_delay_ms=a.write_delay_ms, error_rate=a.error_rate,
                        error_file=a.error_file)
    else:
        disk = HealthyDisk(size_mb=a.size_mb, directory=a.dir)
    with disk:
        _wait_forever(disk)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SlowDiskError as e:
        print("slowdisk: %s" % e, file=sys.stderr)
        sys.exit(1)
