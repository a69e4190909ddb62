"""Subscriptions of every size reach sentryd whole (issue 9, item 7): libxalarm sends the
subscribed ids as ranges of consecutive ids, so a consumer of all 128 ids (one range) gets the
ids past the 64th too, and one of every other id (64 single ids, the most any subscription
needs) gets its last id. Before, one item per id was sent and sentryd kept the first 64, so
1065..1128 never arrived. The callback API (xalarm_Register), the handle API
(xalarm_register_event) and its upgrade (xalarm_Upgrade) are all checked."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import run  # noqa: E402
import test_xalarm_compat as compat  # noqa: E402  (a module: its test class is not run here)

ID_MIN, ID_COUNT = 1001, 128  # the reference's MIN_ALARM_ID and MAX_NUM_OF_ALARM_ID
ALL_IDS = list(range(ID_MIN, ID_MIN + ID_COUNT))
ODD_IDS = ALL_IDS[::2]  # 1001, 1003, ..., 1127: 64 ranges of one id


class XalarmFilterTest(compat.XalarmCompatTest):
    """XalarmCompatTest's set-up and helpers; its own tests are not run again here."""

    def test_handle_api_all_ids(self):
        ev = self.event_consumer(*ALL_IDS)
        ev.wait_line("registered 0")
        self.report_until(ev, 1100, "EVENT 1100 ")
        self.report_until(ev, ALL_IDS[-2], "EVENT %d " % ALL_IDS[-2])
        self.report_until(ev, ALL_IDS[64], "EVENT %d " % ALL_IDS[64])

    def test_callback_api_all_ids(self):
        c = self.consumer(*ALL_IDS)
        c.wait_line("xalarm_Register returned 0")
        self.report_until(c, 1100, "ALARM 1100 1 1")
        self.report_until(c, ID_MIN, "ALARM %d 1 1" % ID_MIN)

    def test_every_other_id(self):
        c = self.consumer(*ODD_IDS)
        c.wait_line("xalarm_Register returned 0")
        self.report_until(c, ODD_IDS[-1], "ALARM %d 1 1" % ODD_IDS[-1])
        # the ids between are not subscribed: 1126 is not sent, the marker after it is
        self.report_ok(ODD_IDS[-1] - 1, 1, 1, "not subscribed")
        self.report_ok(ODD_IDS[-1], 1, 1, "marker")
        c.wait_line("ALARM %d 1 1 marker" % ODD_IDS[-1])
        self.assertFalse([line for line in c.output()
                          if line.startswith("ALARM %d " % (ODD_IDS[-1] - 1))], c.output())

    def test_upgrade_to_all_ids(self):
        c = self.consumer(ID_MIN)
        c.wait_line("xalarm_Register returned 0")
        self.report_until(c, ID_MIN, "ALARM %d 1 1" % ID_MIN)
        c.command("upgrade " + " ".join(str(i) for i in ALL_IDS))
        c.wait_line("upgrade returned 1")
        self.report_until(c, 1100, "ALARM 1100 1 1")


# XalarmCompatTest's own tests belong to test_xalarm_compat.py.
for name in [n for n in dir(compat.XalarmCompatTest) if n.startswith("test_")]:
    setattr(XalarmFilterTest, name, None)

if __name__ == "__main__":
    run()
