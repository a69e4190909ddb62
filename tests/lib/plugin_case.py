"""PluginTestCase: a sentryd in a scratch root running one shipped plugin with a test's own ini
file: writing the ini, starting the task from its shipped .mod, reading its alarms, and failing
the test that ran it when the plugin's log holds a sanitizer report."""
import json
import os

from sentry_harness import SentryTestCase, wait_for
from shipped_tasks import shipped_mod

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class PluginTestCase(SentryTestCase):
    """Subclasses set PLUGIN_NAME and PLUGIN (the program) and may override ini_defaults()."""
    PLUGIN_NAME = None
    PLUGIN = None

    def setUp(self):
        super().setUp()
        if not os.path.exists(self.PLUGIN):
            self.skipTest("%s is not built" % self.PLUGIN)
        self.ini = self.root.path("%s.ini" % self.PLUGIN_NAME)
        # registered after the root's cleanup, so it runs before the root is removed
        self.addCleanup(self.check_sanitizer)

    def check_sanitizer(self):
        """Under the sanitizers a report of the plugin fails the test that ran it."""
        log = self.root.task_log(self.PLUGIN_NAME)
        for mark in SANITIZER_MARKS:
            if mark in log:
                raise AssertionError("sanitizer report from %s:\n%s"
                                     % (self.PLUGIN_NAME, log[log.find(mark) - 200:][:3000]))

    def dump_on_failure(self):
        return (self.root.log()[-3000:] + "\n--- plugin:\n"
                + self.root.task_log(self.PLUGIN_NAME)[-5000:])

    def ini_defaults(self):
        return {}

    def write_ini(self, **sections):
        base = self.ini_defaults()
        for name, keys in sections.items():
            base.setdefault(name, {}).update(keys)
        with open(self.ini, "w") as f:
            for name, keys in base.items():
                f.write("[%s]\n" % name)
                for k, v in keys.items():
                    f.write("%s = %s\n" % (k, v))

    def start(self):
        text = shipped_mod(self.PLUGIN_NAME, self.PLUGIN)
        start = [l for l in text.splitlines() if l.startswith("task_start")][0]
        text = text.replace(start, "task_start = %s --config %s" % (self.PLUGIN, self.ini))
        self.root.write_mod(self.PLUGIN_NAME, text=text)
        self.root.start()

    def alarms(self, aid):
        out = self.root.ctl_json("alarms", "--id", str(aid), "--limit", "1000")["alarms"]
        return [dict(a, text=json.loads(a["text"])) for a in out]

    def wait_alarms(self, aid, n, timeout=20, cond=None):
        def got():
            a = [x for x in self.alarms(aid) if cond is None or cond(x["text"])]
            return a if len(a) >= n else None
        try:
            return wait_for(got, timeout, what="%d alarm(s) %d" % (n, aid))
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, self.dump_on_failure()))
