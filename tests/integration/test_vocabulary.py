"""The alarm vocabulary is declared once: `sentryctl alarm_ids` (the table compiled from
<sentry/alarm_ids.h> and lib/common/alarm_vocab.c) and the table of docs/alarms.md say the same,
id for id; the reference's macros in register_xalarm.h have the same values; the request / answer
pairs are consistent."""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import testmain  # noqa: E402
from sentry_harness import SENTRYCTL, SOURCE_DIR  # noqa: E402


def docs_table():
    """{id: (name, reference, pair, meaning)} from the table of docs/alarms.md."""
    rows = {}
    with open(os.path.join(SOURCE_DIR, "docs", "alarms.md")) as f:
        for line in f:
            m = re.match(r"^\| (\d{4}) \| ([a-z_]+) \|\s*([A-Z_]*)\s*\|([^|]*)\| (.*) \|$", line)
            if m:
                rows[int(m.group(1))] = (m.group(2), m.group(3) or None, m.group(4).strip(),
                                         m.group(5))
    return rows


def header_macros():
    """{macro: value} of register_xalarm.h's reference names, resolved through alarm_ids.h."""
    values = {}
    with open(os.path.join(SOURCE_DIR, "lib", "include", "sentry", "alarm_ids.h")) as f:
        for m in re.finditer(r"\b(SENTRY_ALARM_[A-Z_]+) = (\d+)", f.read()):
            values[m.group(1)] = int(m.group(2))
    macros = {}
    with open(os.path.join(SOURCE_DIR, "lib", "include", "sentry", "register_xalarm.h")) as f:
        for m in re.finditer(r"#define ([A-Z_]+) +(SENTRY_ALARM_ID_[A-Z_]+)\n", f.read()):
            if m.group(2) in values:
                macros[m.group(1)] = values[m.group(2)]
    return macros


class VocabularyTest(unittest.TestCase):
    def setUp(self):
        p = subprocess.run([SENTRYCTL, "alarm_ids", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30,
                           env=dict(os.environ, SENTRY_SOCKET="/nonexistent"))
        self.assertEqual(p.returncode, 0, p.stderr)  # no daemon needed
        self.table = json.loads(p.stdout)

    def test_range(self):
        self.assertEqual((self.table["min"], self.table["max"]), (1001, 1128))
        for k in self.table["ids"]:
            self.assertTrue(1001 <= k["id"] <= 1128, k)

    def test_docs_say_the_same(self):
        docs = docs_table()
        self.assertEqual(sorted(docs), [k["id"] for k in self.table["ids"]])
        for k in self.table["ids"]:
            name, ref, pair, meaning = docs[k["id"]]
            self.assertEqual((name, ref, meaning), (k["name"], k["reference"], k["meaning"]))
            want = ("answered by %d" % k["answered_by"] if k["answered_by"]
                    else "answers %d" % k["answers"] if k["answers"] else "")
            self.assertEqual(pair, want, k)

    def test_reference_macros(self):
        macros = header_macros()
        for k in self.table["ids"]:
            if k["reference"]:
                self.assertEqual(macros.get(k["reference"]), k["id"], k)

    def test_pairs(self):
        by_id = {k["id"]: k for k in self.table["ids"]}
        names = [k["name"] for k in self.table["ids"]]
        self.assertEqual(len(names), len(set(names)))
        for k in self.table["ids"]:
            if k["answered_by"]:
                self.assertEqual(by_id[k["answered_by"]]["answers"], k["id"])
                self.assertEqual(k["answered_by"], k["id"] + 1)
            if k["answers"]:
                self.assertEqual(by_id[k["answers"]]["answered_by"], k["id"])

    def test_text_form(self):
        p = subprocess.run([SENTRYCTL, "alarm_ids"], stdout=subprocess.PIPE, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"\n1003 +power_off +ALARM_REBOOT_EVENT +-> 1004 +a node")
        self.assertRegex(p.stdout, r"\n1128 +service_down +SYSSENTRY_DOWN_ALARM_ID +- +")


if __name__ == "__main__":
    testmain.main()
