"""Slow io found for real: a disk made slow with nbdkit (100 ms per io) and a healthy loop disk
take the same load while sentryd runs its io collector and the avg_block_io / ai_block_io
plugins. The slow disk raises alarm 1002 (driver slow, block_stack bio,rq_driver); the healthy
one raises nothing; when the slow disk goes away (or becomes fast) RECOVER follows and nothing
crashes. ai_block_io, trained while the disk was healthy, flags it when it turns slow."""
import json
import os
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import slowdisk  # noqa: E402
import testmain  # noqa: E402
from shipped_tasks import write_shipped_tasks  # noqa: E402
from sentry_harness import (BUILD_DIR, ProtocolClient, SentryRoot, SLOW, read,  # noqa: E402
                            wait_for)

AVG = os.path.join(BUILD_DIR, "plugins", "avg_block_io", "avg_block_io")
AI = os.path.join(BUILD_DIR, "plugins", "ai_block_io", "ai_block_io")
MISSING = slowdisk.missing_facilities()



Load = slowdisk.ReadLoad


def avg_ini(path, disks, win_size=5):
    with open(path, "w") as f:
        f.write("[common]\ndisk = %s\nstage = default\niotype = read\nperiod_time = 1\n"
                "[algorithm]\nwin_size = %d\nwin_threshold_latency = 3\nwin_threshold_iodump = 3\n"
                "[latency_virtual]\nread_avg_lim = 20000\nread_avg_time = 3\n"
                "read_tot_lim = 50000\n[iodump]\nread_iodump_lim = 0\n"
                % (",".join(disks), win_size))


def ai_ini(path, disks):
    # 0.01 h = 36 samples of 1 s: trained within a test. Below 20 ms nothing is abnormal: a
    # healthy loop disk takes well under it on a real machine and in the emulated lab alike,
    # the slowed one 100 ms and more.
    with open(path, "w") as f:
        f.write("[common]\ndisk = %s\nstage = bio,rq_driver\niotype = read\nperiod_time = 1\n"
                "[algorithm]\ntrain_data_duration = 0.01\ntrain_update_duration = 0.005\n"
                "algorithm_type = boxplot\nboxplot_parameter = 1.5\nwin_type = not_continuous\n"
                "win_size = 5\nwin_threshold_latency = 3\nwin_threshold_iodump = 3\n"
                "[latency_virtual]\nread_avg_lim = 20000\nread_tot_lim = 1000000\n"
                "[iodump]\nread_iodump_lim = 1000\n" % ",".join(disks))


class AlarmWatch:
    """A subscription to alarm 1002 read on a thread."""

    def __init__(self, socket_path):
        self.c = ProtocolClient(socket_path, timeout=600)
        assert self.c.call("subscribe", ids="1002")["ok"]
        self.alarms = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            while True:
                m = self.c.read_line()
                if "alarm" in m:
                    self.alarms.append(m["alarm"])
        except (EOFError, OSError):
            pass

    def find(self, key=None, type_="OCCUR"):
        return [a for a in self.alarms if a["type"] == type_ and (key is None or a["key"] == key)]


@unittest.skipIf(MISSING, "slow disks cannot be made here: " + ", ".join(MISSING))
class SlowIoTest(unittest.TestCase):
    def start_sentry(self, disks, tasks, source="auto", env=None):
        root = SentryRoot(name="slowio", conf_extra=(
            "[collector]\nenabled = yes\nperiod_time = 1\nmax_save = 10\ndisk = %s\n"
            "virtual_threshold = 50\nsource = %s\n" % (",".join(disks), source)))
        self.addCleanup(root.cleanup)
        for name, (exe, ini) in tasks.items():
            root.write_mod(name, enabled="yes", type="oneshot", onstart="yes",
                           task_start="%s --config %s" % (exe, ini), task_stop="kill $pid",
                           alarm_id="1002", alarm_clear_time="600")
        root.start(env_extra=env)
        return root

    def test_avg_block_io_slow_disk_then_gone(self):
        slow = slowdisk.SlowDisk(delay_ms=100).start()
        self.addCleanup(slow.stop)
        ok = slowdisk.HealthyDisk().start()
        self.addCleanup(ok.stop)
        sname, oname = slow.name, ok.name
        tmp = self.id().split(".")[-1]
        ini = os.path.join("/tmp", tmp + "-avg.ini")
        self.addCleanup(os.unlink, ini)
        avg_ini(ini, [sname, oname])
        root = self.start_sentry([sname, oname], {"avg_block_io": (AVG, ini)})
        watch = AlarmWatch(root.socket)
        with Load([slow.device, ok.device]):
            t0 = time.monotonic()
            occ = wait_for(lambda: watch.find(sname + "/read"), timeout=60,
                           what="alarm 1002 for the slow disk")[0]
            elapsed = time.monotonic() - t0
            info = json.loads(occ["text"])
            self.assertEqual(info["reason"], "driver slow", info)
            self.assertEqual(info["block_stack"], "bio,rq_driver")
            self.assertEqual(info["driver_name"], sname)
            self.assertEqual(info["alarm_source"], "avg_block_io")
            self.assertEqual(occ["source"], "avg_block_io")
            self.assertEqual(occ["level"], "MINOR")
            print("slowdown to alarm: %.1f s (window 5 periods)" % elapsed)
            time.sleep(3)
            self.assertEqual(watch.find(oname + "/read"), [], "the healthy disk stays quiet")
            self.assertEqual(len(watch.find(sname + "/read")), 1, "one OCCUR, not one per period")
            # operators see it
            rc, out, err = root.ctl("iostat", "-d", sname, "-s", "rq_driver")
            self.assertEqual(rc, 0, err)
            row = [l for l in out.splitlines() if l.startswith(sname) and " read " in l]
            self.assertTrue(row, out)
            self.assertGreater(float(row[0].split()[4]), 50000, row)
            got = root.ctl_json("get_alarm", "avg_block_io", "-s", "600")
            self.assertEqual(got[0]["alarm_info"]["reason"], "driver slow")
            self.assertEqual(got[0]["alarm_info"]["block_stack"], "bio,rq_driver")
            self.assertEqual(root.ctl_json("alarms", "--active")["alarms"][0]["key"],
                             sname + "/read")
        # the slow disk goes away: RECOVER, and everything keeps running
        slow.stop()
        wait_for(lambda: watch.find(sname + "/read", "RECOVER"), timeout=30,
                 what="RECOVER after the disk went away")
        self.assertEqual(root.state("avg_block_io"), "RUNNING")
        self.assertIsNone(root.proc.poll())
        self.assertEqual(root.ctl_json("alarms", "--active")["alarms"], [])

    def test_avg_block_io_without_the_driver_stage(self):
        """The eBPF program of the driver stage is refused (for real, by the verifier, through
        the test hook): avg_block_io watches the stages that are left, says which are off and
        why in its result, and still finds the slow disk from its bio stage."""
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            self.skipTest("kernel without BTF: no eBPF source to degrade")
        slow = slowdisk.SlowDisk(delay_ms=100).start()
        self.addCleanup(slow.stop)
        ok = slowdisk.HealthyDisk().start()
        self.addCleanup(ok.stop)
        sname, oname = slow.name, ok.name
        ini = os.path.join("/tmp", self.id().split(".")[-1] + "-avg.ini")
        self.addCleanup(os.unlink, ini)
        avg_ini(ini, [sname, oname])
        root = self.start_sentry([sname, oname], {"avg_block_io": (AVG, ini)},
                                 env={"SENTRY_TEST_BPF_REFUSE": "rq_issue"})
        watch = AlarmWatch(root.socket)

        def watching():
            res = root.ctl_json("get_result", "avg_block_io")
            return res if res.get("details", {}).get("watched") else None
        res = wait_for(watching, timeout=30, what="avg_block_io reporting what it watches")
        details = res["details"]
        self.assertEqual(res["result"], "PASS")
        self.assertEqual(sorted(details["watched"]), sorted([sname, oname]))
        self.assertIn("bio", details["watched"][sname])
        self.assertNotIn("rq_driver", details["watched"][sname])
        self.assertIn("needs BPF program rq_issue (tp_btf/block_rq_issue), refused",
                      details["stages_off"][sname]["rq_driver"])
        self.assertIn("stage(s) not measured here", details["msg"])
        self.assertEqual(root.state("avg_block_io"), "RUNNING")
        with Load([slow.device, ok.device]):
            occ = wait_for(lambda: watch.find(sname + "/read"), timeout=60,
                           what="alarm 1002 for the slow disk")[0]
            info = json.loads(occ["text"])
            self.assertEqual(info["block_stack"], "bio")  # no driver stage to blame
            self.assertEqual(info["reason"], "unknown")
            time.sleep(3)
            self.assertEqual(watch.find(oname + "/read"), [], "the healthy disk stays quiet")

    def test_no_bio_stage_is_the_reason_shown(self):
        """With eBPF as the only source and its bio program refused, no disk has a bio stage:
        avg_block_io fails, and the first line of `sentryctl status` says exactly that."""
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            self.skipTest("kernel without BTF: no eBPF source")
        ok = slowdisk.HealthyDisk().start()
        self.addCleanup(ok.stop)
        ini = os.path.join("/tmp", self.id().split(".")[-1] + "-avg.ini")
        self.addCleanup(os.unlink, ini)
        avg_ini(ini, [ok.name])
        root = self.start_sentry([ok.name], {"avg_block_io": (AVG, ini)}, source="bpf",
                                 env={"SENTRY_TEST_BPF_REFUSE": "bio_queue"})
        wait_for(lambda: root.state("avg_block_io") == "FAILED", timeout=30,
                 what="avg_block_io failing")
        rc, out, err = root.ctl("status", "avg_block_io")
        self.assertEqual(rc, 0, err)
        first = out.splitlines()[0]
        self.assertIn("no disk to watch: disk %s has no bio stage (needs BPF program bio_queue"
                      % ok.name, first)
        self.assertIn("refused by the verifier", first)
        self.assertIn("exited with status 1", first)

    def test_shipped_configuration(self):
        """The task files and plugin configurations as installed: both plugins run (never
        FAILED) on this kernel; a disk slowed well past its type's limits (300 ms per io on a
        virtual disk whose limit is 100 ms) raises 1002, a slightly slow one (5 ms) and a healthy
        one under the same load raise nothing."""
        slow = slowdisk.SlowDisk(delay_ms=300).start()
        self.addCleanup(slow.stop)
        mild = slowdisk.SlowDisk(delay_ms=5).start()
        self.addCleanup(mild.stop)
        ok = slowdisk.HealthyDisk().start()
        self.addCleanup(ok.stop)
        names = [slow.name, mild.name, ok.name]
        root = SentryRoot(name="shipped", conf_extra=(
            "[collector]\ndisk = %s\n" % ",".join(names)))
        self.addCleanup(root.cleanup)
        write_shipped_tasks(root, {"avg_block_io": AVG, "ai_block_io": AI})
        root.start()
        watch = AlarmWatch(root.socket)
        for task in ("avg_block_io", "ai_block_io"):
            wait_for(lambda: root.state(task) == "RUNNING", timeout=10,
                     what="%s running" % task)
        with Load([slow.device, mild.device, ok.device]):
            occ = wait_for(lambda: watch.find(slow.name + "/read") + watch.find(slow.name),
                           timeout=120, what="alarm 1002 for the disk slowed past its limits")
            self.assertEqual(occ[0]["id"], 1002)
            time.sleep(5)
            for other in (mild.name, ok.name):
                self.assertEqual([a for a in watch.alarms if a["key"].split("/")[0] == other],
                                 [], "%s stays quiet" % other)
        rc, out, err = root.ctl("list")
        self.assertEqual(rc, 0, err)
        for task in ("avg_block_io", "ai_block_io"):
            self.assertRegex(out, r"\n%s +oneshot +RUNNING" % task)
        self.assertNotIn("FAILED", out)

    def test_ai_block_io_learns_then_flags(self):
        disk = slowdisk.SlowDisk(delay_ms=0, rate="10G").start()
        self.addCleanup(disk.stop)
        name = disk.name
        ini = os.path.join("/tmp", self.id().split(".")[-1] + "-ai.ini")
        self.addCleanup(os.unlink, ini)
        ai_ini(ini, [name])
        root = self.start_sentry([name], {"ai_block_io": (AI, ini)})
        watch = AlarmWatch(root.socket)
        with Load([disk.device], threads_per_disk=2):
            # 36 s of healthy training (the threshold is set when the queue first fills)
            time.sleep(45 + 5 * SLOW)
            self.assertEqual(watch.find(name), [], "no alarm while healthy")
            disk.set_rate("320K")  # about 100 ms per 4 KiB io from now on
            occ = wait_for(lambda: watch.find(name), timeout=90,
                           what="ai_block_io alarm after the disk turned slow")[0]
            info = json.loads(occ["text"])
            self.assertEqual(occ["level"], "MAJOR")
            self.assertIn("bio", info["block_stack"])
            self.assertIn(info["reason"], ("driver_slow", "unknown"), info)
            self.assertIn("latency", info["alarm_type"])
            disk.set_rate("10G")
            wait_for(lambda: watch.find(name, "RECOVER"), timeout=90,
                     what="RECOVER after the disk became fast again")


if __name__ == "__main__":
    testmain.main(warnings="ignore")
