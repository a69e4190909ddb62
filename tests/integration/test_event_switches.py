"""The kernel event switches follow the xalarm subscribers, as the reference's xalarmd does: the
first client registering "event_ids" for 1005 turns /proc/sentry_reporter/oom on (fake files
under the test root), it stays on while any client holds it, and the last one leaving turns it
off; kernel_reboot (1009) stays on. A client counts once per id however often it registers, a
missing switch is logged once and breaks nothing, and a missing module directory runs the
module loader once."""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SLOW, SentryTestCase, read, run, wait_for  # noqa: E402


class SwitchTestCase(SentryTestCase):
    loader = ""

    def setUp(self):
        super().setUp()
        self.proc = self.root.path("proc")
        self.prepare()
        with open(self.root.conf, "a") as f:
            f.write("[xalarm]\nkernel_switch_dir = /proc\nmodule_loader = %s\n" % self.loader)
        self.root.start()
        self.alarm = self.root.path("var", "run", "xalarm", "alarm")
        wait_for(lambda: os.path.exists(self.alarm), what="xalarm sockets")

    def prepare(self):
        for rel in ("sentry_reporter/oom", "sentry_reporter/power_off",
                    "sentry_remote_reporter/kernel_reboot", "sentry_remote_reporter/panic"):
            self.write(rel, "off\n")

    def write(self, rel, text):
        path = os.path.join(self.proc, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def switch(self, rel):
        return read(os.path.join(self.proc, rel))

    def client(self, action="register_events", event_ids=(1005,)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.alarm)
        self.register(s, action, event_ids)
        return s

    @staticmethod
    def register(s, action="register_events", event_ids=(1005,)):
        msg = {"action": action, "id_filter": [1001]}
        if event_ids is not None:
            msg["event_ids"] = list(event_ids)
        s.sendall((json.dumps(msg) + "\n").encode())

    def wait_switch(self, rel, value):
        wait_for(lambda: self.switch(rel) == value, what="%s = %r" % (rel, value))

    def stays(self, rel, value, seconds=0.5):
        end = time.monotonic() + seconds * SLOW
        while time.monotonic() < end:
            self.assertEqual(self.switch(rel), value, rel)
            time.sleep(0.05)


class FollowSubscribersTest(SwitchTestCase):
    def test_first_on_last_off(self):
        a = self.client(event_ids=[1005, 1009])
        self.wait_switch("sentry_reporter/oom", "on\n")
        self.wait_switch("sentry_remote_reporter/kernel_reboot", "on\n")
        b = self.client(event_ids=[1005])
        # b's registration was read once a later message of b is: an update round trip
        self.register(b, "update_filter", None)
        a.close()
        self.stays("sentry_reporter/oom", "on\n")
        b.close()
        self.wait_switch("sentry_reporter/oom", "off\n")
        self.stays("sentry_remote_reporter/kernel_reboot", "on\n")  # never turned off
        self.assertEqual(self.switch("sentry_reporter/power_off"), "off\n")

    def test_counted_once_per_client(self):
        a = self.client(event_ids=[1005] * 500)
        for _ in range(50):
            self.register(a, event_ids=[1005, 1005])
        self.wait_switch("sentry_reporter/oom", "on\n")
        b = self.client(event_ids=[1005])
        b.close()  # b leaves; a still holds 1005 however many times it registered
        self.stays("sentry_reporter/oom", "on\n")
        a.close()
        self.wait_switch("sentry_reporter/oom", "off\n")

    def test_unregister(self):
        a = self.client(event_ids=[1003, 1005])
        self.wait_switch("sentry_reporter/power_off", "on\n")
        self.register(a, "unregister_events", [1003])
        self.wait_switch("sentry_reporter/power_off", "off\n")
        self.stays("sentry_reporter/oom", "on\n")
        self.register(a, "unregister_events", None)  # every id
        self.wait_switch("sentry_reporter/oom", "off\n")
        a.close()

    def test_already_on_left_alone(self):
        self.write("sentry_reporter/oom", "on")
        a = self.client()
        self.assertInLog("already on (event 1005)")
        self.assertEqual(self.switch("sentry_reporter/oom"), "on")
        a.close()

    def test_stop_releases_but_keeps_sticky(self):
        a = self.client(event_ids=[1005, 1007])
        self.wait_switch("sentry_reporter/oom", "on\n")
        self.wait_switch("sentry_remote_reporter/panic", "on\n")
        self.root.stop()
        self.assertEqual(self.switch("sentry_reporter/oom"), "off\n")
        self.assertEqual(self.switch("sentry_remote_reporter/panic"), "on\n")
        a.close()


class MissingSwitchTest(SwitchTestCase):
    def test_missing_logged_once(self):
        clients = [self.client(event_ids=[1013, 1016]) for _ in range(3)]
        self.assertInLog("no kernel switch for event 1013")
        self.assertInLog("no kernel switch for event 1016")
        for c in clients:
            c.close()
        clients = [self.client(event_ids=[1013]) for _ in range(3)]
        a = self.client(event_ids=[1005])
        self.wait_switch("sentry_reporter/oom", "on\n")
        self.assertEqual(self.root.log().count("no kernel switch for event 1013"), 1)
        self.assertIsNone(self.root.proc.poll())
        for c in clients + [a]:
            c.close()


class ModuleLoaderTest(SwitchTestCase):
    """A missing module directory runs the loader (without a shell, argv MODULE), once."""

    def prepare(self):
        self.calls = self.root.path("loader.calls")
        self.loader = self.root.path("modprobe")
        with open(self.loader, "w") as f:
            f.write("#!%s\nimport os, sys\nopen(%r, 'a').write(sys.argv[1] + '\\n')\n"
                    "if sys.argv[1] == 'sentry_msg_helper':\n"
                    "    os.makedirs(%r, exist_ok=True)\n"
                    "    open(%r, 'w').write('off\\n')\n"
                    % (sys.executable, self.calls, os.path.join(self.proc, "sentry_reporter"),
                       os.path.join(self.proc, "sentry_reporter", "oom")))
        os.chmod(self.loader, 0o755)

    def test_loader(self):
        a = self.client(event_ids=[1005])
        self.wait_switch("sentry_reporter/oom", "on\n")
        self.assertEqual(read(self.calls), "sentry_reporter\nsentry_msg_helper\n")
        b = self.client(event_ids=[1007])  # its directory is missing too: loaded once
        self.assertInLog("no kernel switch for event 1007")
        a.close()
        b.close()
        self.wait_switch("sentry_reporter/oom", "off\n")
        c = self.client(event_ids=[1009])
        self.assertInLog("no kernel switch for event 1009")
        self.assertEqual(read(self.calls).count("sentry_remote_reporter"), 1)
        c.close()


if __name__ == "__main__":
    run()
