"""The alarm store under real faults, end to end: a full disk (the store on a small tmpfs that is
filled) answers reports with errors that are true (none of those alarms is in the store after a
restart, kill -9 or clean stop, and every acknowledged one is) and gives no seq twice (a seq shown
before the restart is never given again); an idempotency key makes a retried report one alarm, across
a restart too; a damaged store (header overwritten, truncated, truncated to nothing) does not stop
sentryd: the file is moved aside, a new store continues above the last seq and alarm 1129 says so;
a page damaged in the middle is skipped by replays and `alarms`, which say which seqs they could
not read; and 300 pipelined history scans of a 200k-alarm store do not hold another client's
`hello` (the round trips are measured and printed)."""
import errno
import glob
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import ProtocolClient, SentryTestCase, SLOW, run, wait_for  # noqa: E402

PAGE = 4096


def pipeline(path, alarms, key=None, window=512):
    """Sends one report per alarm dict, pipelined; returns the answers in order."""
    c = ProtocolClient(path, timeout=120)
    answers = {}
    sent = 0
    try:
        while len(answers) < len(alarms):
            lines = []
            while sent < len(alarms) and sent - len(answers) < window:
                msg = {"id": sent, "verb": "report", "alarm": alarms[sent]}
                if key:
                    msg["idempotency_key"] = key(sent)
                lines.append(json.dumps(msg))
                sent += 1
            if lines:
                c.send_raw("\n".join(lines) + "\n")
            r = c.read_line()
            answers[r["id"]] = r
    finally:
        c.close()
    return [answers[i] for i in range(len(alarms))]


def all_alarms(path):
    """Every stored alarm, paging `alarms --since`; and the unreadable ranges it was told."""
    c = ProtocolClient(path, timeout=120)
    since, out, unreadable = 0, [], []
    try:
        while True:
            r = c.call("alarms", since=since, limit=10000)
            assert r["ok"], r
            out += r["result"]["alarms"]
            unreadable += r["result"].get("unreadable", [])
            if r["result"]["next"] == since:
                return out, unreadable
            since = r["result"]["next"]
    finally:
        c.close()


def checkpoint(db):
    """Copies the WAL into the database file (sentryd stopped)."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def page_of(db, marker):
    with open(db, "rb") as f:
        data = f.read()
    at = data.find(marker.encode())
    assert at >= 0, marker
    return at // PAGE


class StoreTestCase(SentryTestCase):
    conf_extra = "[alarms]\nlog = none\n"

    def db(self):
        return self.root.path("var/lib/sentry/alarms.db")

    def head(self):
        c = self.root.connect()
        try:
            r = c.call("stats")
        finally:
            c.close()
        return r["result"]["head"]

    def restart(self, kill=False):
        if kill:
            self.root.proc.kill()
            self.root.proc.wait()
        else:
            self.assertEqual(self.root.stop(), 0, self.root.log()[-3000:])
        self.root.start()


class TmpfsStoreTestCase(StoreTestCase):
    """The store on a small tmpfs, to be filled."""
    SIZE = "3m"

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root: mounts a tmpfs")
        self.store_dir = self.root.path("var/lib/sentry")
        os.makedirs(self.store_dir, mode=0o700)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % self.SIZE, "tmpfs",
                        self.store_dir], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.store_dir])

    def fill(self, leave_pages=0):
        """Fills the file system, to the last byte or but leave_pages pages."""
        fd = os.open(os.path.join(self.store_dir, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            if leave_pages:
                st = os.statvfs(self.store_dir)
                os.posix_fallocate(fd, 0, (st.f_bavail - leave_pages) * st.f_bsize)
                return
            for size in (65536, 4096, 1):
                while True:
                    try:
                        if os.write(fd, b"\0" * size) < size:
                            break
                    except OSError as e:
                        self.assertEqual(e.errno, errno.ENOSPC)
                        break
        finally:
            os.close(fd)

    def unfill(self):
        os.unlink(os.path.join(self.store_dir, "filler"))


class DiskFullTest(TmpfsStoreTestCase):
    """A full disk while reports flow."""

    def flood_full_disk(self):
        """Stores some alarms, fills the disk, reports on; returns (acked texts, refused texts,
        refusals, the heads shown meanwhile)."""
        self.root.start()
        pad = "x" * 1500
        first = pipeline(self.root.socket, [{"id": 1002, "text": "before-%d %s" % (i, pad)}
                                            for i in range(200)])
        self.assertTrue(all(r["ok"] for r in first))
        self.fill()
        heads = [self.head()]
        alarms = [{"id": 1002, "text": "during-%d %s" % (i, pad)} for i in range(3000)]
        answers = []
        for k in range(0, len(alarms), 500):
            answers += pipeline(self.root.socket, alarms[k:k + 500])
            heads.append(self.head())
        acked = {a["text"] for a, r in zip(alarms, answers) if r["ok"]}
        acked |= {"before-%d %s" % (i, pad) for i in range(200)}
        refused = {a["text"] for a, r in zip(alarms, answers) if not r["ok"]}
        errors = [r["error"] for r in answers if not r["ok"]]
        self.assertTrue(errors, "the disk never got full")
        return acked, refused, errors, heads

    def check_after_restart(self, acked, refused, heads):
        stored, unreadable = all_alarms(self.root.socket)
        self.assertEqual(unreadable, [])
        texts = [a["text"] for a in stored]
        self.assertEqual(len(texts), len(set(texts)), "an alarm stored twice")
        ghosts = refused & set(texts)
        self.assertFalse(ghosts, "%d alarms answered 'not stored' are in the store (%s...)"
                         % (len(ghosts), sorted(ghosts)[0][:20] if ghosts else ""))
        lost = acked - set(texts)
        self.assertFalse(lost, "%d acknowledged alarms lost" % len(lost))
        seqs = [a["seq"] for a in stored]
        self.assertEqual(seqs, sorted(seqs))
        # no seq shown before is given again
        new = pipeline(self.root.socket, [{"id": 1002, "text": "after"}])[0]
        self.assertTrue(new["ok"], new)
        self.assertGreater(new["result"]["seq"], max(heads + seqs))

    def check_errors(self, errors):
        for e in errors:
            self.assertIn(e["code"], ("ENOSPC", "EIO"), e)
            self.assertTrue(e["message"].startswith("the alarm was not stored: "), e)
        self.assertIn("ENOSPC", [e["code"] for e in errors])
        log = self.root.log()
        self.assertIn("database or disk is full", log)
        self.assertNotIn("no transaction is active", log)

    def test_full_disk_kill9(self):
        acked, refused, errors, heads = self.flood_full_disk()
        self.check_errors(errors)
        self.unfill()
        self.restart(kill=True)
        self.check_after_restart(acked, refused, heads)

    def test_full_disk_clean_stop(self):
        acked, refused, errors, heads = self.flood_full_disk()
        self.unfill()
        self.restart()
        self.check_after_restart(acked, refused, heads)


class GhostCommitTest(TmpfsStoreTestCase):
    """SQLite can fail a commit after it wrote the transaction to the WAL: when the WAL passes
    the 4062 frames the first block of its index covers, the index (-shm) must grow by 32 KiB, and
    on a full disk that fails after the frames are written. The commit is answered as failed; the
    next start recovers the WAL and, unless sentryd deleted them, brings the rows back. Made to
    happen here on purpose: a reader keeps the WAL from being reset while single reports grow it
    to just below that frame, then the disk is filled but for a few pages, then one report."""
    SIZE = "48m"
    BOUNDARY = 4062  # frames the first hash block of the WAL index covers

    def wal_frames(self):
        try:
            return (os.path.getsize(self.db() + "-wal") - 32) // (PAGE + 24)
        except FileNotFoundError:
            return 0

    def test_commit_failed_after_wal_write_is_not_stored(self):
        self.root.start()
        c = self.root.connect()
        r = c.call("report", alarm={"id": 1002, "type": "RECOVER", "text": "first"})
        self.assertTrue(r["ok"], r)
        reader = sqlite3.connect(self.db(), isolation_level=None)
        self.addCleanup(reader.close)
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM alarms").fetchone()  # pins the WAL: no reset
        n = 0
        while self.wal_frames() < self.BOUNDARY - 4:  # 2 or 3 frames each
            r = c.call("report", alarm={"id": 1002, "type": "RECOVER", "text": "grow-%d" % n})
            self.assertTrue(r["ok"], r)
            n += 1
        frames = self.wal_frames()
        self.assertLessEqual(frames, self.BOUNDARY, "the WAL went past the index block already")
        # room for the next transaction's frames (a few pages: an 8 KiB text overflows into two),
        # not for the 8 pages the index grows by
        self.fill(leave_pages=7)
        text = "ghost " + "g" * 8000
        r = c.call("report", alarm={"id": 1002, "type": "RECOVER", "text": text})
        c.close()
        self.assertFalse(r["ok"], "the report was stored although the disk is full: %s" % r)
        self.assertEqual(r["error"]["code"], "ENOSPC", r)
        after = self.wal_frames()
        print("\n  WAL frames before the failed commit %d, after %d (index block ends at %d)"
              % (frames, after, self.BOUNDARY), file=sys.stderr)
        self.assertGreater(after, self.BOUNDARY, "the frames were not written: no ghost to test")
        reader.close()
        self.root.proc.kill()
        self.root.proc.wait()
        self.unfill()
        self.root.start()
        stored, _ = all_alarms(self.root.socket)
        self.assertFalse(text in [a["text"] for a in stored],
                         "the alarm answered 'not stored' came back with the WAL")
        self.assertEqual(len(stored), n + 1)


class UrgentBeforeCommitTest(TmpfsStoreTestCase):
    """A kernel notice (1003..1010) reaches xalarm clients before its commit: on a node out of
    memory the commit would wait for the memory that only the answer frees. With the store's
    disk full nothing commits, yet 1009 arrives; 1002 (not urgent) does not."""

    def test_kernel_notice_sent_before_commit(self):
        import test_xalarm_compat as compat  # noqa: E402
        self.root.start()
        xdir = compat.XalarmCompatTest.find_xalarm_dir(self)
        env = dict(os.environ, SENTRY_XALARM_DIR=xdir)
        consumer = compat.Child([compat.EVENT_CONSUMER, "1002", "1009"], env)
        self.addCleanup(consumer.stop)
        consumer.wait_line(lambda line: line.startswith("registered 0"))
        watch = ProtocolClient(self.root.socket, timeout=30)
        self.assertTrue(watch.call("subscribe", ids="1002,1009")["ok"])
        head = self.head()
        self.fill()
        for rid, text in ((1002, "slow"), (1009, "7_{cna:1,eid:x}")):
            p = subprocess.run([compat.REPORTER, "-e", str(rid), text], env=env,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        line = consumer.wait_line(lambda line: line.startswith("EVENT 1009 "), timeout=10 * SLOW)
        self.assertTrue(line.endswith(" 7_{cna:1,eid:x}"), line)
        time.sleep(1)
        self.assertEqual([x for x in consumer.output() if x.startswith("EVENT 1002 ")], [],
                         "an alarm that is not urgent waits for its commit")
        self.assertEqual(self.head(), head, "nothing could be committed")
        # the native subscriber keeps its order and gets neither (nothing was stored)
        watch.sock.settimeout(1)
        with self.assertRaises(OSError):
            watch.read_line()
        watch.close()
        # room again: 1002 is stored and sent; 1009 reached the xalarm client once only
        self.unfill()
        subprocess.run([compat.REPORTER, "-e", "1002", "after"], env=env, check=True,
                       capture_output=True, timeout=30)
        consumer.wait_line(lambda line: line.startswith("EVENT 1002 ") and line.endswith("after"),
                           timeout=10 * SLOW)
        time.sleep(0.5)
        self.assertEqual(len([x for x in consumer.output() if x.startswith("EVENT 1009 ")]), 1)


class IdempotencyTest(StoreTestCase):
    def test_retry_is_one_alarm(self):
        self.root.start()
        c = self.root.connect()
        r1 = c.call("report", idempotency_key="k1", alarm={"id": 1002, "text": "one"})
        self.assertTrue(r1["ok"], r1)
        r2 = c.call("report", idempotency_key="k1", alarm={"id": 1002, "text": "one again"})
        self.assertEqual(r2["result"], {"seq": r1["result"]["seq"], "duplicate": True})
        self.assertNotIn("duplicate", r1["result"])
        # a retry while the first is on its way: one alarm, both answered with its seq
        c.send_raw("".join(json.dumps({"id": 100 + i, "verb": "report", "idempotency_key": "k2",
                                       "alarm": {"id": 1002, "text": "two"}}) + "\n"
                           for i in range(3)))
        seqs = {c.read_line()["result"]["seq"] for _ in range(3)}
        self.assertEqual(len(seqs), 1)
        # keys are per source
        r3 = c.call("report", idempotency_key="k1",
                    alarm={"id": 1002, "source": "other", "text": "one"})
        self.assertNotEqual(r3["result"]["seq"], r1["result"]["seq"])
        for bad in ("", "x" * 129, "a\nb", 12):
            r = c.call("report", idempotency_key=bad, alarm={"id": 1002})
            self.assertEqual(r["error"]["code"], "EINVAL", bad)
            self.assertIn("idempotency_key", r["error"]["message"])
        c.close()
        self.restart(kill=True)
        c = self.root.connect()
        r4 = c.call("report", idempotency_key="k1", alarm={"id": 1002, "text": "after restart"})
        self.assertEqual(r4["result"], {"seq": r1["result"]["seq"], "duplicate": True})
        c.close()
        stored, _ = all_alarms(self.root.socket)
        self.assertEqual([a["text"] for a in stored], ["one", "two", "one"])


class DamagedStoreTest(StoreTestCase):
    def make_store(self, n):
        """n alarms with findable texts, then a clean stop and the WAL in the file."""
        self.root.start()
        pad = "p" * 100
        answers = pipeline(self.root.socket, [{"id": 1002, "text": "marker-%06d %s" % (i, pad)}
                                              for i in range(1, n + 1)])
        self.assertTrue(all(r["ok"] for r in answers))
        self.assertEqual(self.root.stop(), 0)
        checkpoint(self.db())
        return answers[-1]["result"]["seq"]

    def assert_recovered(self, last, problem):
        """sentryd runs on a new store above last, and says so with alarm 1129."""
        stored, _ = all_alarms(self.root.socket)
        own = [a for a in stored if a["id"] == 1129]
        self.assertEqual(len(own), 1, stored[:3])
        a = own[0]
        self.assertEqual((a["source"], a["key"], a["level"], a["type"]),
                         ("sentryd", problem, "MAJOR", "OCCUR"))
        self.assertGreater(a["seq"], last)
        text = json.loads(a["text"])
        self.assertEqual((text["problem"], text["continues_after"]), (problem, last))
        r = pipeline(self.root.socket, [{"id": 1002, "text": "new"}])[0]
        self.assertGreater(r["result"]["seq"], a["seq"])
        act = self.root.ctl_json("alarms", "--active")["alarms"]
        self.assertIn((1129, problem), [(x["id"], x["key"]) for x in act])
        return text

    def assert_moved_aside(self, text):
        moved = glob.glob(self.db() + ".damaged-*")
        self.assertEqual([m for m in moved if not m.endswith(("-wal", "-shm"))],
                         [text["moved_to"]])
        self.assertIn("moved aside", self.root.log())

    def test_header_overwritten(self):
        last = self.make_store(300)
        with open(self.db(), "r+b") as f:
            f.write(b"\xde\xad" * 50)
        self.root.start()
        self.assert_moved_aside(self.assert_recovered(last, "damaged"))

    def test_truncated(self):
        last = self.make_store(3000)
        os.truncate(self.db(), os.path.getsize(self.db()) // 2)
        self.root.start()
        self.assert_moved_aside(self.assert_recovered(last, "damaged"))
        # and a second time: a second file aside, seqs still go up
        self.root.stop()
        with open(self.db(), "r+b") as f:
            f.write(b"\0" * 100)
        self.root.start()
        self.assertEqual(len([m for m in glob.glob(self.db() + ".damaged-*")
                              if not m.endswith(("-wal", "-shm"))]), 2)

    def test_truncated_to_nothing(self):
        last = self.make_store(300)
        os.truncate(self.db(), 0)
        self.root.start()
        self.assert_recovered(last, "emptied")

    def test_damaged_page_skipped_by_replay_and_history(self):
        last = self.make_store(3000)
        page = page_of(self.db(), "marker-001500")
        with open(self.db(), "r+b") as f:
            f.seek(page * PAGE)
            f.write(b"\xff" * 16)  # a b-tree page type that does not exist
        self.root.start()
        self.assertEqual(glob.glob(self.db() + ".damaged-*"), [])  # kept: most of it reads
        # a subscriber from the start gets every readable alarm, in order, and is told the rest
        c = ProtocolClient(self.root.socket, timeout=60)
        ans = c.call("subscribe", since=0)
        self.assertTrue(ans["ok"], ans)
        got, ranges, own = [], [], None
        while own is None:
            m = c.read_line()
            if "unreadable" in m:
                ranges.append((m["unreadable"]["first"], m["unreadable"]["last"]))
            elif m["alarm"]["id"] == 1129:
                own = m["alarm"]
            else:
                got.append(m["seq"])
        c.close()
        self.assertEqual(len(ranges), 1, ranges)
        first, lastbad = ranges[0]
        self.assertLessEqual(first, 1500)
        self.assertGreaterEqual(lastbad, 1500)
        self.assertLess(lastbad - first, 100)  # a page of rows, not the rest of the store
        self.assertEqual(got, [s for s in range(1, last + 1) if not first <= s <= lastbad])
        self.assertEqual(json.loads(own["text"])["first"], first)
        self.assertEqual(own["key"], "unreadable")
        # the history says the same
        stored, unreadable = all_alarms(self.root.socket)
        self.assertEqual(unreadable, [{"first": first, "last": lastbad}])
        self.assertEqual([a["seq"] for a in stored if a["id"] == 1002], got)
        c = self.root.connect()
        r = c.call("alarms", limit=10000)  # the newest ones: read downwards
        c.close()
        self.assertEqual(r["result"]["unreadable"], [{"first": first, "last": lastbad}])
        self.assertEqual([a["seq"] for a in r["result"]["alarms"] if a["id"] == 1002], got)


class ScanFloodTest(StoreTestCase):
    conf_extra = "[alarms]\nlog = none\nretention_count = 0\n"
    N = 200000 if SLOW <= 1 else 60000
    SCANS = 300 if SLOW <= 1 else 100

    def test_hello_answered_during_scan_flood(self):
        self.root.start()
        for k in range(0, self.N, 50000):
            answers = pipeline(self.root.socket, [{"id": 1002, "text": "n%d" % i}
                                                  for i in range(k, min(self.N, k + 50000))],
                               window=2048)
            self.assertTrue(all(r["ok"] for r in answers))
        # 300 history queries in one write, each looking at 100000 alarms (none matches)
        scans = ProtocolClient(self.root.socket, timeout=600)
        done = []

        def read_answers():
            while len(done) < self.SCANS:
                done.append(scans.read_line())

        reader = threading.Thread(target=read_answers, daemon=True)
        reader.start()
        t0 = time.monotonic()
        scans.send_raw("".join(json.dumps({"id": i, "verb": "alarms", "ids": "9999",
                                           "limit": 100}) + "\n" for i in range(self.SCANS)))
        hello = ProtocolClient(self.root.socket, timeout=60)
        rtts = []
        during = 0  # hellos answered while scans were still unanswered
        while len(done) < self.SCANS and time.monotonic() - t0 < 20 * SLOW:
            t = time.monotonic()
            r = hello.call("hello")
            rtts.append(time.monotonic() - t)
            self.assertTrue(r["ok"], r)
            if len(done) < self.SCANS:
                during += 1
            time.sleep(0.005)
        reader.join(600 * SLOW)
        total = time.monotonic() - t0
        hello.close()
        scans.close()
        rtts.sort()
        p = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))] * 1000  # noqa: E731
        print("\n  %d scans of %d alarms: hello round trips while they ran: n=%d p50 %.2f ms "
              "p99 %.2f ms max %.2f ms; all %d answered in %.1f s"
              % (self.SCANS, self.N, during, p(0.5), p(0.99), rtts[-1] * 1000, len(done),
                 total), file=sys.stderr)
        self.assertGreater(during, 20, "too few hellos ran while the scans did")
        self.assertLess(rtts[-1], 0.5, "a hello waited %.0f ms" % (rtts[-1] * 1000))
        self.assertEqual(len(done), self.SCANS)
        for r in done:
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["result"]["alarms"], [])


if __name__ == "__main__":
    run()
