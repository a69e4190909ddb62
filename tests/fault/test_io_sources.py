#!/usr/bin/env python3
"""Fault test of the collector's io sources on real block devices.

A 100 ms slow disk (nbdkit delay filter behind nbdfuse and a loop device) and a healthy loop disk
get the same random direct-io load; sentry-iostat-probe --json then has to show, through the
diskstats source, ~100 ms average bio latency on the slow disk and little on the healthy one, and
through the eBPF source the latency in rq_driver and bio plus a dump gauge above zero for the ios
stuck longer than a 50 ms threshold. Also checks that the slow-disk kit injects errors and always
cleans up. Needs root and /dev/fuse (skipped, saying why, without them)."""

import json
import mmap
import os
import random
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import slowdisk  # noqa: E402
import testmain  # noqa: E402

BUILD_DIR = os.environ.get("SENTRY_BUILD_DIR", os.path.join(os.getcwd(), "build"))
PROBE = os.path.join(BUILD_DIR, "collector", "sentry-iostat-probe")
DELAY_MS = 100
THRESHOLD_MS = 50
INTERVALS = 4


class Loader:
    """Random 4 KiB direct reads and writes on a block device from a few threads."""

    def __init__(self, device, threads=4, size=32 << 20):
        self.device = device
        self.threads = threads
        self.size = size
        self.stop = threading.Event()
        self.ios = 0
        self.errors = []
        self._lock = threading.Lock()
        self._workers = []

    def _run(self, seed):
        rnd = random.Random(seed)
        buf = mmap.mmap(-1, 4096)  # page aligned, as O_DIRECT wants
        try:
            fd = os.open(self.device, os.O_RDWR | os.O_DIRECT)
        except OSError as e:
            self.errors.append(e)
            return
        try:
            while not self.stop.is_set():
                off = rnd.randrange(self.size // 4096) * 4096
                if rnd.random() < 0.5:
                    os.preadv(fd, [buf], off)
                else:
                    os.pwritev(fd, [buf], off)
                with self._lock:
                    self.ios += 1
        except OSError as e:
            self.errors.append(e)
        finally:
            os.close(fd)

    def __enter__(self):
        for i in range(self.threads):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self._workers:
            t.join(timeout=30)
        return False


def run_probe(source, disks, count=INTERVALS, threshold_ms=THRESHOLD_MS, extra=(), env=None):
    """Runs sentry-iostat-probe; returns (returncode, [interval objects], stderr)."""
    argv = [PROBE, "--json", "--count", str(count), "--interval", "1",
            "--threshold-ms", str(threshold_ms)] + list(extra)
    if source:
        argv += ["--source", source]
    argv += disks
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120, env=dict(os.environ, **(env or {})))
    intervals = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return p.returncode, intervals, p.stderr


def report(source, intervals, disks, stages):
    """Prints what a source saw (for the test log)."""
    for disk in disks:
        for stage in stages:
            n, lat, dump = summary(intervals, disk, stage)
            print("%-9s %-8s %-9s ios=%-6d avg_latency=%8.2f ms max_dump=%d"
                  % (source, disk, stage, n, lat, dump), file=sys.stderr)


def summary(intervals, disk, stage, ops=("read", "write")):
    """(ios, average latency in ms, largest dump) of a stage over all intervals and ops."""
    ios = 0
    weighted = 0.0
    dump = 0
    for iv in intervals:
        per_op = iv["disks"].get(disk, {}).get(stage, {})
        for op in ops:
            f = per_op.get(op)
            if not f:
                continue
            ios += f["finished"]
            weighted += f["latency_us"] * f["finished"]
            dump = max(dump, f["dump"])
    return ios, (weighted / ios / 1000.0 if ios else 0.0), dump


class IoSourcesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = slowdisk.missing_facilities()
        if why:
            raise unittest.SkipTest("slow disks need: " + ", ".join(why))
        if not os.access(PROBE, os.X_OK):
            raise AssertionError("%s not built (SENTRY_BUILD_DIR=%s)" % (PROBE, BUILD_DIR))
        slowdisk.cleanup_stale()

    def setUp(self):
        self.slow = slowdisk.SlowDisk(delay_ms=DELAY_MS).start()
        self.addCleanup(self.slow.stop)
        self.healthy = slowdisk.HealthyDisk(size_mb=64).start()
        self.addCleanup(self.healthy.stop)

    def probe_under_load(self, runs, env=None):
        """Runs probes (source, extra args) side by side while both disks are loaded."""
        results = {}

        def one(key, source, extra):
            results[key] = run_probe(source, [self.slow.name, self.healthy.name], extra=extra,
                                     env=env)

        with Loader(self.slow.device) as ls, Loader(self.healthy.device, threads=2) as lh:
            time.sleep(1.0)  # the queues fill
            threads = [threading.Thread(target=one, args=(k, s, e)) for k, (s, e) in runs.items()]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(ls.errors, [])
        self.assertEqual(lh.errors, [])
        self.assertGreater(ls.ios, 0)
        self.assertGreater(lh.ios, ls.ios)
        return results

    def test_diskstats_and_bpf(self):
        have_btf = os.path.exists("/sys/kernel/btf/vmlinux")
        runs = {"diskstats": ("diskstats", ())}
        if have_btf:
            runs["bpf"] = ("bpf", ("--dumps",))
        res = self.probe_under_load(runs)

        rc, ivs, err = res["diskstats"]
        self.assertEqual(rc, 0, err)
        report("diskstats", ivs, (self.slow.name, self.healthy.name), ("bio",))
        self.assertEqual(len(ivs), INTERVALS)
        self.assertEqual(ivs[0]["source"], "diskstats")
        n, lat, dump = summary(ivs, self.slow.name, "bio")
        self.assertGreater(n, 10, "slow disk completed too few ios: %s" % ivs)
        self.assertGreaterEqual(lat, 0.9 * DELAY_MS, "slow disk bio latency %.1f ms" % lat)
        self.assertEqual(dump, 0)  # diskstats cannot age in-flight ios
        n, lat, _ = summary(ivs, self.healthy.name, "bio")
        self.assertGreater(n, 100)
        self.assertLess(lat, 20, "healthy disk bio latency %.1f ms" % lat)
        # diskstats has the whole device only
        self.assertEqual(set(ivs[-1]["disks"][self.slow.name]), {"bio"})

        if not have_btf:
            self.skipTest("kernel without BTF (/sys/kernel/btf/vmlinux): no eBPF source")
        rc, ivs, err = res["bpf"]
        self.assertEqual(rc, 0, "eBPF source failed (exit %d): %s" % (rc, err))
        self.assertEqual(len(ivs), INTERVALS)
        self.assertEqual(ivs[0]["source"], "bpf")
        report("bpf", ivs, (self.slow.name, self.healthy.name),
               ("wbt", "gettag", "plug", "hctx", "rq_driver", "bio"))
        for stage in ("rq_driver", "bio"):
            n, lat, dump = summary(ivs, self.slow.name, stage)
            self.assertGreater(n, 10, "%s: too few ios: %s" % (stage, ivs))
            self.assertGreaterEqual(lat, 0.9 * DELAY_MS,
                                    "slow disk %s latency %.1f ms" % (stage, lat))
            self.assertGreater(dump, 0,
                               "no %s io over %d ms on the slow disk" % (stage, THRESHOLD_MS))
            n, lat, dump = summary(ivs, self.healthy.name, stage)
            self.assertGreater(n, 100)
            self.assertLess(lat, 20, "healthy disk %s latency %.1f ms" % (stage, lat))
            self.assertEqual(dump, 0, "healthy disk has %s ios over %d ms" % (stage, THRESHOLD_MS))
        # the stages before the driver are seen, and take little time here
        for stage in ("wbt", "gettag"):
            n, lat, _ = summary(ivs, self.slow.name, stage)
            self.assertGreater(n, 0, "stage %s not seen" % stage)
            self.assertLess(lat, DELAY_MS / 2)
        # the details name the stuck ios in the reference's "task,pid,stage,ptr,ms" form
        details = [d for iv in ivs for d in iv["dumps"].get(self.slow.name, [])]
        self.assertTrue(details, "no iodump details for the slow disk")
        pat = re.compile(r"^[^,]*,\d+,(bio|rq_driver|plug|hctx|gettag|wbt),[0-9a-f]{0,16},(\d+)$")
        for d in details:
            m = pat.match(d)
            self.assertIsNotNone(m, d)
            self.assertGreaterEqual(int(m.group(2)), THRESHOLD_MS, d)
        self.assertFalse(any(iv["dumps"].get(self.healthy.name) for iv in ivs))

    def test_bpf_gettag_wait(self):
        """Few request tags and many submitters: the wait for a tag shows in stage gettag."""
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            self.skipTest("kernel without BTF (/sys/kernel/btf/vmlinux): no eBPF source")
        self.slow.set_queue("nr_requests", 4)
        with Loader(self.slow.device, threads=12) as ls:
            time.sleep(0.5)
            rc, ivs, err = run_probe("bpf", [self.slow.name], count=3)
        self.assertEqual(ls.errors, [])
        self.assertEqual(rc, 0, err)
        report("bpf", ivs, (self.slow.name,), ("gettag", "rq_driver", "bio"))
        n, lat, dump = summary(ivs, self.slow.name, "gettag")
        self.assertGreater(n, 5)
        self.assertGreater(lat, DELAY_MS / 4, "gettag wait %.1f ms" % lat)
        self.assertGreater(dump, 0, "no submitter waiting for a tag over %d ms" % THRESHOLD_MS)

    def sources_report(self, env=None):
        """The probe's --sources report for the two disks (one sample after it)."""
        argv = [PROBE, "--sources", "--json", "--count", "1", "--interval", "0.2",
                self.slow.name, self.healthy.name]
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=120, env=dict(os.environ, **(env or {})))
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout.splitlines()[0]), p.stderr

    def test_auto_per_stage(self):
        """auto: every stage from the best source that measures it on this kernel."""
        rep, err = self.sources_report()
        self.assertEqual(rep["spec"], "auto")
        self.assertEqual([x["name"] for x in rep["sources"]], ["hierarchy", "bpf", "diskstats"])
        stages = rep["disks"][self.slow.name]
        print("stage sources on %s: %s" % (os.uname().release, {
            st: v["source"] for st, v in stages.items()}), file=sys.stderr)
        # bio is always measured: diskstats at worst
        self.assertIsNotNone(stages["bio"]["source"])
        hierarchy = rep["sources"][0]["available"]
        if hierarchy or not os.path.exists("/sys/kernel/btf/vmlinux"):
            self.skipTest("the eBPF part needs kernel BTF and no blk_io_hierarchy")
        bpf = rep["sources"][1]
        self.assertTrue(bpf["available"], bpf)
        for stage in ("bio", "rq_driver", "hctx" if self.scheduler() == "none" else "deadline"):
            self.assertEqual(stages[stage]["source"], "bpf", (stage, stages[stage]))
        # every stage eBPF does not give says why, from the program it needs
        progs = {x["name"]: x for x in bpf["parts"]}
        for stage, v in stages.items():
            if v["source"] != "bpf":
                self.assertTrue(v["why_not"].get("bpf"), (stage, v))
        # a kernel before 6.5 has no block_io_start: the plug stage says so, and the waits end
        # at block_getrq instead
        if progs["rq_made"]["state"] == "no event":
            self.assertEqual(progs["rq_made"]["reason"], "this kernel has no tracepoint "
                             "block_io_start")
            self.assertIn("needs BPF program rq_made (tp_btf/block_io_start), no event",
                          stages["plug"]["why_not"]["bpf"])
            self.assertEqual(progs["waits_end"]["state"], "on")
        else:
            self.assertEqual(progs["rq_made"]["state"], "on")
            self.assertEqual(stages["plug"]["source"], "bpf")
            self.assertEqual(progs["waits_end"]["state"], "not needed")
            self.assertEqual(progs["waits_end"]["reason"], "rq_made does its work on this kernel")
        for stage in ("wbt", "gettag"):
            self.assertEqual(stages[stage]["source"], "bpf", (stage, stages[stage]))

    def scheduler(self):
        with open("/sys/block/%s/queue/scheduler" % self.slow.name) as f:
            text = f.read()
        return text[text.index("[") + 1:text.index("]")] if "[" in text else "none"

    def test_refused_program_costs_only_its_stages(self):
        """A program the verifier refuses (the test hook makes rq_issue take a path every
        verifier refuses) costs the stages that need it, nothing else: the driver stage is not
        measured, the bio stage still is, by eBPF, with the slow disk's real latency."""
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            self.skipTest("kernel without BTF (/sys/kernel/btf/vmlinux): no eBPF source")
        env = {"SENTRY_TEST_BPF_REFUSE": "rq_issue"}
        rep, err = self.sources_report(env)
        progs = {x["name"]: x for x in rep["sources"][1]["parts"]}
        self.assertEqual(progs["rq_issue"]["state"], "refused")
        self.assertIn("refused by the verifier: ", progs["rq_issue"]["reason"])
        self.assertIn("map_value_or_null", progs["rq_issue"]["reason"])
        self.assertIn("BPF program rq_issue (tp_btf/block_rq_issue) is off: refused by the "
                      "verifier: ", err)
        self.assertEqual(progs["rq_complete"]["state"], "on")
        stages = rep["disks"][self.slow.name]
        self.assertIsNone(stages["rq_driver"]["source"])
        self.assertIn("needs BPF program rq_issue", stages["rq_driver"]["why_not"]["bpf"])
        self.assertEqual(stages["bio"]["source"], "bpf")
        res = self.probe_under_load({"bpf": (None, ())}, env=env)
        rc, ivs, err = res["bpf"]
        self.assertEqual(rc, 0, err)
        self.assertNotIn("rq_driver", ivs[-1]["disks"][self.slow.name])
        self.assertEqual(ivs[-1]["stage_sources"][self.slow.name]["bio"], "bpf")
        n, lat, _ = summary(ivs, self.slow.name, "bio")
        self.assertGreater(n, 10)
        self.assertGreaterEqual(lat, 0.9 * DELAY_MS, "slow disk bio latency %.1f ms" % lat)

    def test_bio_from_diskstats_when_bpf_cannot(self):
        """Without bio_queue (refused for real) eBPF has no bio stage: it comes from diskstats,
        with the slow disk's latency, while the driver stage still comes from eBPF."""
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            self.skipTest("kernel without BTF (/sys/kernel/btf/vmlinux): no eBPF source")
        env = {"SENTRY_TEST_BPF_REFUSE": "bio_queue"}
        res = self.probe_under_load({"auto": (None, ())}, env=env)
        rc, ivs, err = res["auto"]
        self.assertEqual(rc, 0, err)
        from_ = ivs[-1]["stage_sources"][self.slow.name]
        self.assertEqual(from_["bio"], "diskstats")
        self.assertEqual(from_["rq_driver"], "bpf")
        for stage in ("bio", "rq_driver"):
            n, lat, _ = summary(ivs, self.slow.name, stage)
            self.assertGreater(n, 10, stage)
            self.assertGreaterEqual(lat, 0.9 * DELAY_MS, "%s latency %.1f ms" % (stage, lat))
        n, lat, _ = summary(ivs, self.healthy.name, "bio")
        self.assertLess(lat, 20)


class SlowDiskKitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = slowdisk.missing_facilities()
        if why:
            raise unittest.SkipTest("slow disks need: " + ", ".join(why))

    def test_errors_and_teardown(self):
        flag = "/tmp/sentry-slowdisk-errors-%d" % os.getpid()
        with slowdisk.SlowDisk(delay_ms=1, error_rate=1.0, error_file=flag) as d:
            dev, backing = d.device, d.file
            buf = mmap.mmap(-1, 4096)
            fd = os.open(d.device, os.O_RDONLY | os.O_DIRECT)
            try:
                os.preadv(fd, [buf], 0)  # the error file is absent: no error
                open(flag, "w").close()
                with self.assertRaises(OSError) as cm:
                    os.preadv(fd, [buf], 8192)
                self.assertEqual(cm.exception.errno, 5)  # EIO
                os.unlink(flag)
                os.preadv(fd, [buf], 16384)
            finally:
                os.close(fd)
                if os.path.exists(flag):
                    os.unlink(flag)
        # nothing is left: no loop device on the file, no mount, no directory
        self.assertNotIn(backing, slowdisk._backing_file(dev))
        self.assertFalse(slowdisk._is_mounted(backing))
        self.assertFalse(os.path.exists(os.path.dirname(backing)))

    def test_teardown_when_the_test_fails(self):
        held = {}
        with self.assertRaises(ZeroDivisionError):
            with slowdisk.SlowDisk(delay_ms=1) as d, slowdisk.HealthyDisk(size_mb=8) as h:
                held.update(slow=(d.device, d.file), healthy=(h.device, h.file))
                1 / 0
        for dev, backing in held.values():
            self.assertNotEqual(slowdisk._backing_file(dev), backing)
            self.assertFalse(os.path.exists(backing))
        self.assertEqual(slowdisk._live, [])


if __name__ == "__main__":
    testmain.main()
