"""`sentryctl set MODULE --OPTION VALUE`: the reference's options and rules, checked by sentryctl
and again by sentryd (a raw client gets the same answers), written as VALUE + newline into fake
switch files under the test root; a write that fails is named with its reason, and only root may
set anything."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SentryTestCase, read, run  # noqa: E402

EID = "0123456789abcdef0123456789abcdef0123456"  # 39 characters
NOBODY = 65534
FILES = {
    "sentry_reporter": ["power_off", "oom", "ub_mem_fault", "ub_mem_fault_with_kill",
                        "oom_rate_limit"],
    "sentry_remote_reporter": ["cna", "eid", "panic", "kernel_reboot", "uvb_comm", "urma_comm",
                               "panic_timeout", "kernel_reboot_timeout"],
    "sentry_urma_comm": ["client_info", "heartbeat"],
    "sentry_uvb_comm": ["server_cna"],
}


class SetTest(SentryTestCase):
    def setUp(self):
        super().setUp()
        self.proc = self.root.path("proc")
        for module, files in FILES.items():
            os.makedirs(os.path.join(self.proc, module))
            for f in files:
                with open(os.path.join(self.proc, module, f), "w") as fh:
                    fh.write("")
        with open(self.root.conf, "a") as f:
            f.write("[xalarm]\nkernel_switch_dir = /proc\nmodule_loader =\n")
        self.root.start()

    def file(self, module, name):
        return read(os.path.join(self.proc, module, name))

    def ok(self, *args):
        rc, out, err = self.root.ctl("set", *args)
        self.assertEqual(rc, 0, out + err)
        return out

    def bad(self, *args, rc=2, text=None):
        got, out, err = self.root.ctl("set", *args)
        self.assertEqual(got, rc, out + err)
        if text:
            self.assertIn(text, err)
        return err

    def test_reporter(self):
        out = self.ok("sentry_reporter", "--oom", "on", "--power_off=off",
                      "--ub_mem_fault", "on", "--ub_mem_fault_with_kill", "off",
                      "--oom_policy", '{"RR_KSWAPD": 5, "RR_DIRECT_RECLAIM": 3}')
        self.assertIn("sentry_reporter/oom: on", out)
        self.assertEqual(self.file("sentry_reporter", "oom"), "on\n")
        self.assertEqual(self.file("sentry_reporter", "power_off"), "off\n")
        self.assertEqual(self.file("sentry_reporter", "ub_mem_fault"), "on\n")
        self.assertEqual(self.file("sentry_reporter", "ub_mem_fault_with_kill"), "off\n")
        self.assertEqual(self.file("sentry_reporter", "oom_rate_limit"),
                         "RR_KSWAPD:5,RR_DIRECT_RECLAIM:3\n")
        for args, text in [
            (["--oom", "yes"], "--oom 'yes': must be on or off"),
            (["--oom"], "--oom needs a value"),
            (["--oom_policy", '{"RR_X": 1}'], "unknown key 'RR_X'"),
            (["--oom_policy", '{"RR_KSWAPD": -1}'], "RR_KSWAPD must be an integer"),
            (["--oom_policy", "{"], "must be a JSON object"),
            (["--cna", "1"], "unknown option --cna for sentry_reporter"),
            ([], "no option given"),
        ]:
            self.bad("sentry_reporter", *args, text=text)
        self.assertEqual(self.file("sentry_reporter", "oom"), "on\n")  # nothing written

    def test_remote_reporter(self):
        self.ok("sentry_remote_reporter", "--cna", "16777215", "--eid", EID + ";" + EID,
                "--panic", "on", "--kernel_reboot", "off", "--uvb_comm", "on",
                "--urma_comm", "off", "--panic_timeout_ms", "3600000",
                "--kernel_reboot_timeout_ms", "0")
        m = "sentry_remote_reporter"
        self.assertEqual(self.file(m, "cna"), "16777215\n")
        self.assertEqual(self.file(m, "eid"), EID + ";" + EID + "\n")
        self.assertEqual(self.file(m, "panic_timeout"), "3600000\n")
        self.assertEqual(self.file(m, "kernel_reboot_timeout"), "0\n")
        self.assertEqual(self.file(m, "uvb_comm"), "on\n")
        for args, text in [
            (["--cna", "-1"], "--cna '-1'"),
            (["--cna", "16777216"], "must be an integer in 0..16777215"),
            (["--eid", "x;y;z"], "invalid value for extraneous semicolon."),
            (["--eid", "abc"], "The length of eid must be 39, but the detected input length is 3."),
            (["--panic_timeout_ms", "3600001"], "--panic_timeout_ms"),
            (["--kernel_reboot_timeout_ms", "1e3"], "--kernel_reboot_timeout_ms"),
        ]:
            self.bad(m, *args, text=text)

    def test_urma_uvb(self):
        self.ok("sentry_urma_comm", "--server_eid", EID + "," + EID + ";" + EID,
                "--client_jetty_id", "3", "--heartbeat", "on")
        self.assertEqual(self.file("sentry_urma_comm", "client_info"),
                         EID + "," + EID + ";" + EID + " 3\n")
        self.assertEqual(self.file("sentry_urma_comm", "heartbeat"), "on\n")
        self.bad("sentry_urma_comm", "--server_eid", EID,
                 text="Options --server_eid and --client_jetty_id need to be used together")
        self.bad("sentry_urma_comm", "--server_eid", EID, "--client_jetty_id", "1024",
                 text="--client_jetty_id '1024'")
        self.ok("sentry_uvb_comm", "--server_cna", "1;2;3")
        self.assertEqual(self.file("sentry_uvb_comm", "server_cna"), "1;2;3\n")
        self.bad("sentry_uvb_comm", text="no option given")
        self.bad("sentry_uvb_comm", "--server_cna", ";".join(["1"] * 33), text="32")
        self.bad("sentry_uvb_comm", "--server_cna", "1;" + "x" * 23, text="1 to 22")

    def test_unknown_module(self):
        self.bad("sentry_foo", "--x", "1", text="Unknown task name: sentry_foo")
        c = self.root.connect()
        reply = c.call("set", module="sentry_foo", options={"x": "1"})
        self.assertEqual(reply["error"]["message"], "Unknown task name: sentry_foo")

    def test_daemon_checks_again(self):
        """A client that is not sentryctl gets every member checked."""
        c = self.root.connect()
        for args, text in [
            ({"module": "sentry_reporter", "options": {"oom": "maybe"}}, "must be on or off"),
            ({"module": "sentry_reporter", "options": {"oom": True}}, "must be a string"),
            ({"module": "sentry_reporter", "options": {"oom": ["on"]}}, "must be a string"),
            ({"module": "sentry_reporter", "options": "oom=on"}, "must be an object"),
            ({"module": 5, "options": {}}, "'module'"),
            ({"module": "sentry_reporter"}, "missing member 'options'"),
            ({"module": "sentry_reporter", "options": {"oom": "on"}, "x": 1}, "unknown member"),
            ({"module": "sentry_remote_reporter", "options": {"cna": -5}}, "must be a string"),
            ({"module": "sentry_remote_reporter", "options": {"cna": "5\n6"}}, "--cna"),
            ({"module": "sentry_remote_reporter",
              "options": {"o%d" % i: "on" for i in range(100)}}, "more than"),
        ]:
            reply = c.call("set", **args)
            self.assertFalse(reply["ok"], args)
            self.assertIn(text, reply["error"]["message"], args)
        reply = c.call("set", module="sentry_remote_reporter", options={"cna": 7})
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(self.file("sentry_remote_reporter", "cna"), "7\n")
        reply = c.call("set", module="sentry_reporter",
                       options={"oom_policy": {"RR_HUGEPAGE_RECLAIM": 2}})
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(self.file("sentry_reporter", "oom_rate_limit"), "RR_HUGEPAGE_RECLAIM:2\n")

    def test_failed_write_reported(self):
        os.unlink(os.path.join(self.proc, "sentry_reporter", "ub_mem_fault"))
        rc, out, err = self.root.ctl("set", "sentry_reporter", "--oom", "on", "--ub_mem_fault",
                                     "on")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("Some parameters failed to set", err)
        self.assertIn("--ub_mem_fault (sentry_reporter/ub_mem_fault): No such file or directory "
                      "(ENOENT)", err)
        self.assertEqual(self.file("sentry_reporter", "oom"), "on\n")  # the others are written
        rc, out, err = self.root.ctl("--json", "set", "sentry_reporter", "--ub_mem_fault", "on")
        self.assertEqual(rc, 1)
        self.assertIn('"ENOENT"', out)

    def test_root_only(self):
        rc, out, err = self.root.ctl("set", "sentry_reporter", "--oom", "on", user=NOBODY)
        self.assertNotEqual(rc, 0)
        self.assertIn(rc, (4,), out + err)
        self.assertEqual(self.file("sentry_reporter", "oom"), "")

    def test_help(self):
        rc, out, err = self.root.ctl("set", "--help")
        self.assertEqual(rc, 0)
        for word in ("--oom_policy", "--kernel_reboot_timeout_ms", "--client_jetty_id",
                     "--server_cna"):
            self.assertIn(word, out)
        rc, out, err = self.root.ctl("--help")
        self.assertIn("set MODULE", out)


if __name__ == "__main__":
    run()
