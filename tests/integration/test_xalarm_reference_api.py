"""Today's reference libxalarm API (issue 9, item 16), against a real sentryd: a consumer written
for the newest sysSentry register_xalarm.h (tests/helpers/xalarm_reference_consumer) registers,
receives, answers with the 3-argument xalarm_report_event(id, text, len), unregisters with
xalarm_unregister_event(&handle) (which must clear the handle: with the old one-star signature
such a program passes the address of its pointer and the library frees a stack address) and
exits cleanly; the header's names have the reference's values, RETURE_CODE_* included as the
aliases of older headers."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import BUILD_DIR, SLOW, run  # noqa: E402
import test_xalarm_compat as compat  # noqa: E402  (a module: its test class is not run here)

REFERENCE_CONSUMER = os.path.join(BUILD_DIR, "tests", "helpers", "xalarm_reference_consumer")

# The values of sysSentry's newest src/libs/libxalarm/register_xalarm.h.
REFERENCE_IDS = {
    "MIN_ALARM_ID": 1001, "MAX_NUM_OF_ALARM_ID": 128, "MEMORY_ALARM_ID": 1001,
    "ALARM_REBOOT_EVENT": 1003, "ALARM_REBOOT_ACK_EVENT": 1004,
    "ALARM_OOM_EVENT": 1005, "ALARM_OOM_ACK_EVENT": 1006,
    "ALARM_PANIC_EVENT": 1007, "ALARM_PANIC_ACK_EVENT": 1008,
    "ALARM_KERNEL_REBOOT_EVENT": 1009, "ALARM_KERNEL_REBOOT_ACK_EVENT": 1010,
    "ALARM_UBUS_MEM_EVENT": 1013, "ALARM_RAS_SENTRY_EVENT": 1015, "ALARM_LINK_EVENT": 1016,
    "SYSSENTRY_DOWN_ALARM_ID": 1128,
    "RETURN_CODE_SUCCESS": 0, "RETURN_CODE_FAIL": -1,
    "RETURE_CODE_SUCCESS": 0, "RETURE_CODE_FAIL": -1,
}
EBADF = 9


class XalarmReferenceApiTest(compat.XalarmCompatTest):
    """XalarmCompatTest's set-up and helpers; its own tests are not run again here."""

    def reference_consumer(self, *args):
        c = compat.Child([REFERENCE_CONSUMER] + [str(a) for a in args], self.env)
        self.addCleanup(c.stop)
        return c

    def finish(self, c):
        """The consumer's end: unregistered with &handle, the handle NULL, exit 0."""
        c.wait_line("handle NULL")
        rc = c.proc.wait(10 * SLOW)
        self.assertEqual(rc, 0, (c.output(), c.err))
        self.assertEqual(c.err, [])  # the handle API prints nothing

    def test_header_names(self):
        p = subprocess.run([REFERENCE_CONSUMER, "-i"], capture_output=True, text=True,
                           timeout=20 * SLOW)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = dict(line.split("=") for line in p.stdout.split())
        self.assertEqual({k: int(v) for k, v in got.items()}, REFERENCE_IDS)

    def test_register_get_answer_unregister(self):
        answers = self.consumer(1004)
        answers.wait_line("xalarm_Register returned 0")
        c = self.reference_consumer("-c", "-a", REFERENCE_IDS["ALARM_REBOOT_ACK_EVENT"],
                                    REFERENCE_IDS["ALARM_REBOOT_EVENT"])
        c.wait_line("contract ok")
        c.wait_line("registered 0")
        self.report_until(c, 1003, "EVENT 1003 ")
        c.wait_line("answered 0")
        answers.wait_line("ALARM 1004 1 1 ack 1003")
        # the contract checks sent nothing: every answer 1004 is "ack 1003"
        self.assertFalse([line for line in answers.output()
                          if line.startswith("ALARM 1004") and not line.endswith("ack 1003")])
        self.report_ok(1003, 1, 1, "stop")
        c.wait_line("EVENT 1003 stop")
        self.finish(c)

    def test_all_ids_and_service_down(self):
        """Subscribed to every id, 1100 arrives (issue 9, item 7); when sentryd stops the
        handle gets the service-down alarm as -EBADF, and unregistering still clears it."""
        c = self.reference_consumer("-A")
        c.wait_line("registered 0")
        self.report_until(c, 1100, "EVENT 1100 ")
        self.assertEqual(self.root.stop(), 0)
        c.wait_line("xalarm_get_event returned %d" % -EBADF)
        self.finish(c)

    def test_report_event_three_arguments(self):
        answers = self.consumer(1004)
        answers.wait_line("xalarm_Register returned 0")
        self.report_until(answers, 1004, "ALARM 1004 1 1")
        # len shorter than the text: only len bytes are sent
        text = self.unique("len")
        p = subprocess.run([compat.REPORTER, "-e", "1004", text + "tail", str(len(text))],
                           env=self.env, capture_output=True, text=True, timeout=20 * SLOW)
        self.assertEqual(p.stdout, "xalarm_report_event returned 0\n", p.stderr)
        self.assertEqual(p.stderr, "")
        answers.wait_line("ALARM 1004 1 1 " + text)
        # the reference's refusals: -EINVAL (the handle API prints nothing, see compat.md)
        for args in (["1004", "abc", "4"], ["1004", "abc", "0"], ["1004", "abc", "8192"],
                     ["1000", "abc"], ["1129", "abc"]):
            p = subprocess.run([compat.REPORTER, "-e"] + args, env=self.env, capture_output=True,
                               text=True, timeout=20 * SLOW)
            self.assertEqual(p.stdout, "xalarm_report_event returned -22\n", args)
            self.assertEqual(p.stderr, "", args)


# XalarmCompatTest's own tests belong to test_xalarm_compat.py.
for name in [n for n in dir(compat.XalarmCompatTest) if n.startswith("test_")]:
    setattr(XalarmReferenceApiTest, name, None)

if __name__ == "__main__":
    run()
