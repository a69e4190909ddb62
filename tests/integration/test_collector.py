"""The io collector's verbs on this machine's real disks, with the always-available diskstats
source: disks are listed with their type, figures appear once a period has passed, queries are
validated, sampling stops when nobody asks (the lease) and starts again on the next query."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
import slowdisk  # noqa: E402
from sentry_harness import SentryTestCase, run, wait_for, SLOW  # noqa: E402


class CollectorTest(SentryTestCase):
    conf_extra = "[collector]\nsource = diskstats\nperiod_time = 1\nmax_save = 3\nlease = 3\n"

    def setUp(self):
        super().setUp()
        # a disk of our own (a loop device on a file) that we may read
        try:
            self.disk = slowdisk.HealthyDisk(size_mb=16).start()
        except (slowdisk.SlowDiskError, OSError) as e:
            self.skipTest("no loop device can be made here: %s" % e)
        self.addCleanup(self.disk.stop)
        self.root.start()
        self.c = self.root.connect()
        self.addCleanup(self.c.close)

    def call(self, verb, **args):
        r = self.c.call(verb, **args)
        return r

    def disks(self):
        r = self.call("io_disks")
        self.assertTrue(r["ok"], r)
        return r["result"]

    def test_disks_and_figures(self):
        info = self.disks()
        self.assertEqual((info["source"], info["period_time"], info["max_save"]),
                         ("diskstats", 1, 3))
        d = [x for x in info["disks"] if x["name"] == self.disk.name][0]
        self.assertEqual(d["type"], "virtual")
        self.assertIn("bio", d["stages"])
        self.assertRegex(d["devnum"], r"^\d+:\d+$")
        # some io on the first disk, then its figures
        fd = os.open("/dev/" + d["name"], os.O_RDONLY)
        self.addCleanup(os.close, fd)

        def figures():
            os.pread(fd, 4096, 0)
            r = self.call("io_query", disks=[d["name"]], stages=["bio"], iotypes=["read", "write"],
                          period=1)
            self.assertTrue(r["ok"], r)
            return r["result"]["data"][d["name"]].get("bio")
        got = wait_for(figures, timeout=10, what="a period of figures")
        self.assertEqual(len(got["read"]), 4)  # latency, iodump, io_length, iops
        valid = self.call("io_valid", disks=[d["name"]])["result"]["disks"]
        self.assertEqual(valid[d["name"]], ["bio"])
        dumps = self.call("io_dump")["result"]["data"]
        self.assertEqual(dumps[d["name"]], [])  # diskstats cannot age ios
        rc, out, err = self.root.ctl("iostat", "--all", "-d", d["name"])
        self.assertEqual(rc, 0, err)
        self.assertIn("io sources diskstats, period 1 s", out)
        self.assertRegex(out, r"\n%s\s+\S+\s+bio\s+read.*diskstats\n" % d["name"])
        self.assertEqual(d["stage_sources"], {"bio": "diskstats"})

    def test_query_validation(self):
        name = self.disk.name
        cases = [
            (dict(disks=[name], iotypes=["read"], period=4), "between 1 and 3"),
            (dict(disks=[name], iotypes=["read"], period=0), "between 1 and 3"),
            (dict(disks=[name], iotypes=["read"]), "missing member 'period'"),
            (dict(disks=["../etc"], iotypes=["read"], period=1), "not a disk name"),
            (dict(disks=["x%d" % i for i in range(11)], iotypes=["read"], period=1),
             "at most 10"),
            (dict(disks=[name], iotypes=["reading"], period=1), "not a io type"),
            (dict(disks=[name], stages=["bio", "nope"], iotypes=["read"], period=1),
             "not a stage"),
            (dict(iotypes=["read"], period=1), "required"),
        ]
        for args, part in cases:
            r = self.call("io_query", **args)
            self.assertFalse(r["ok"], args)
            self.assertEqual(r["error"]["code"], "EINVAL")
            self.assertIn(part, r["error"]["message"])
        r = self.call("io_query", disks=["nosuchdisk9"], iotypes=["read"], period=1)
        self.assertEqual(r["result"]["unknown_disks"], ["nosuchdisk9"])
        rc, _, err = self.root.ctl("iostat", "-d", "nosuchdisk9")
        self.assertEqual(rc, 1)
        self.assertIn("no disk nosuchdisk9", err)

    def test_lease_stops_and_restarts_sampling(self):
        self.disks()
        self.assertInLog("collector: sampling")
        wait_for(lambda: "nobody asked for io data" in self.root.log(), timeout=10 * SLOW,
                 what="sampling stopped after the lease")
        n = self.root.log().count("collector: sampling")
        self.disks()
        wait_for(lambda: self.root.log().count("collector: sampling") == n + 1,
                 what="sampling started again")


class CollectorSourcesTest(SentryTestCase):
    """Where each stage comes from, and why not from the others: blk_io_hierarchy first (absent
    on this kernel, or not for a loop disk), then diskstats."""
    conf_extra = "[collector]\nsource = hierarchy,diskstats\nperiod_time = 1\n"

    def test_sources_explained(self):
        try:
            disk = slowdisk.HealthyDisk(size_mb=16).start()
        except (slowdisk.SlowDiskError, OSError) as e:
            self.skipTest("no loop device can be made here: %s" % e)
        self.addCleanup(disk.stop)
        self.root.start()
        r = self.root.connect().call("io_sources")
        self.assertTrue(r["ok"], r)
        rep = r["result"]
        self.assertEqual(rep["spec"], "hierarchy,diskstats")
        self.assertEqual([s["name"] for s in rep["sources"]], ["hierarchy", "diskstats"])
        self.assertTrue(rep["sources"][1]["available"])
        stages = rep["disks"][disk.name]
        self.assertEqual(stages["bio"]["source"], "diskstats")
        self.assertIn("hierarchy", stages["bio"]["why_not"])
        self.assertIsNone(stages["rq_driver"]["source"])
        self.assertEqual(stages["rq_driver"]["why_not"]["diskstats"],
                         "diskstats sees the whole device only (stage bio)")
        rc, out, err = self.root.ctl("iostat", "--sources", "-d", disk.name)
        self.assertEqual(rc, 0, err)
        self.assertIn("io sources (hierarchy,diskstats), best first:", out)
        self.assertRegex(out, r"\n  diskstats +on\n")
        self.assertRegex(out, r"\n%s +bio +diskstats" % disk.name)
        self.assertRegex(out, r"\n%s +rq_driver +- +diskstats: diskstats sees the whole device"
                         % disk.name)
        rc, out, err = self.root.ctl("iostat", "--sources", "--json")
        self.assertEqual(rc, 0, err)
        self.assertIn('"why_not"', out)


class CollectorDisabledTest(SentryTestCase):
    conf_extra = "[collector]\nenabled = no\n"

    def test_disabled(self):
        self.root.start()
        r = self.root.connect().call("io_disks")
        self.assertEqual(r["error"]["code"], "EOPNOTSUPP")
        self.assertIn("disabled", r["error"]["message"])


class CollectorConfigTest(SentryTestCase):
    conf_extra = "[collector]\nsource = bpf,bpf\ndisk = ok1,bad/name\nmax_save = 0\n"

    def test_bad_values_named(self):
        self.root.start()
        log = self.root.log()
        self.assertIn("[collector] source = 'bpf,bpf': must be auto, or some of hierarchy, bpf, "
                      "diskstats in order of preference", log)
        self.assertIn("[collector] disk = 'ok1,bad/name'", log)
        self.assertIn("[collector] max_save = '0'", log)


if __name__ == "__main__":
    run()
