#!/usr/bin/env python3
"""Tests of bench/history.py: the record a run appends, and the comparison
that flags a ratio that fell by more than 10% on the same machine."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "bench", "history.py")
FIXTURES = os.path.join(HERE, "fixtures")
REPORT = os.path.join(ROOT, "bench", "results", "latest.json")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)


def compare(fixture):
    return run("compare", "--history", os.path.join(FIXTURES, fixture))


class CompareTest(unittest.TestCase):
    def test_a_ratio_that_fell_more_than_ten_percent_is_flagged(self):
        r = compare("fell.jsonl")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("catchup.ratio_to_verify_all_cores: 0.42 -> 0.36", r.stdout)
        self.assertIn("1 ratio(s) fell", r.stdout)
        audit = [l for l in r.stdout.splitlines() if "audit.ratio_to_verify_all_cores" in l]
        self.assertEqual(len(audit), 1)
        self.assertNotIn("WORSE", audit[0])

    def test_small_drops_improvements_and_other_machines_are_not_flagged(self):
        r = compare("steady.jsonl")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Compared with the same machine's run of the same parameters (aaaa),
        # not with the other machine's (cccc) nor the quick run's (dddd).
        self.assertIn("balance_queries.ratio_to_empty_call: 0.95 -> 0.87 (-8.4%) vs aaaa", r.stdout)
        self.assertIn("footprint.ratio_to_raw: 1.07 -> 0.9", r.stdout)
        self.assertIn("no ratio fell", r.stdout)

    def test_a_larger_footprint_counts_as_worse(self):
        r = compare("footprint_worse.jsonl")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("footprint.ratio_to_raw", r.stdout.splitlines()[-1])

    def test_a_partial_run_compares_with_the_last_run_that_measured_it(self):
        r = compare("partial.jsonl")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("0.42 -> 0.3 (-28.6%) vs aaaa", r.stdout)

    def test_the_first_run_on_a_machine_has_nothing_to_compare(self):
        r = compare("first.jsonl")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no earlier run on this machine", r.stdout)

    def test_a_threshold_can_be_given(self):
        r = run("compare", "--history", os.path.join(FIXTURES, "steady.jsonl"), "--threshold",
                "0.05")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("balance_queries.ratio_to_empty_call", r.stdout.splitlines()[-1])


class BadInputTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.history = os.path.join(self.dir, "history.jsonl")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_a_missing_history_is_an_error(self):
        r = run("compare", "--history", self.history)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read", r.stderr)

    def test_an_empty_history_is_an_error(self):
        open(self.history, "w").close()
        r = run("compare", "--history", self.history)
        self.assertEqual(r.returncode, 2)
        self.assertIn("holds no run", r.stderr)

    def test_a_line_that_is_not_json_is_an_error_naming_the_line(self):
        with open(os.path.join(FIXTURES, "first.jsonl")) as f:
            good = f.read()
        with open(self.history, "w") as f:
            f.write(good + "{not json\n")
        r = run("compare", "--history", self.history)
        self.assertEqual(r.returncode, 2)
        self.assertIn("history.jsonl:2: not JSON", r.stderr)

    def test_a_record_of_another_format_is_an_error(self):
        with open(self.history, "w") as f:
            f.write(json.dumps({"format": "something-else", "ratios": {}}) + "\n")
        r = run("compare", "--history", self.history)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a keiretsu-bench-history/1 record", r.stderr)

    def test_appending_what_is_not_a_report_changes_nothing(self):
        bad = os.path.join(self.dir, "bad.json")
        with open(bad, "w") as f:
            f.write("usage: keiretsu-bench ...\n")
        r = run("append", bad, "--history", self.history)
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not a keiretsu-bench report", r.stderr)
        self.assertFalse(os.path.exists(self.history))
        with open(bad, "w") as f:
            json.dump({"format": "other/1"}, f)
        r = run("append", bad, "--history", self.history)
        self.assertEqual(r.returncode, 2)
        self.assertFalse(os.path.exists(self.history))


class AppendTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.history = os.path.join(self.dir, "history.jsonl")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_each_run_appends_one_record_with_every_ratio_and_the_machine(self):
        with open(REPORT) as f:
            report = json.load(f)
        for _ in range(2):
            r = run("append", REPORT, "--history", self.history)
            self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.history) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 2)
        rec = json.loads(lines[-1])
        self.assertEqual(rec["format"], "keiretsu-bench-history/1")
        self.assertRegex(rec["date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(rec["commit"], r"^[0-9a-f]{12}$")
        self.assertIn(rec["dirty"], (True, False))
        self.assertEqual(rec["machine"], {"cpu": report["machine"]["cpu"],
                                          "cores": report["machine"]["cores"],
                                          "kernel": report["machine"]["kernel"]})
        self.assertEqual(rec["parameters"], report["parameters"])
        self.assertEqual(rec["ratios"]["catchup.ratio_to_verify_all_cores"],
                         report["catchup"]["ratio_to_verify_all_cores"])
        self.assertEqual(rec["ratios"]["footprint.ratio_to_raw"],
                         report["footprint"]["ratio_to_raw"])
        self.assertEqual(len(rec["ratios"]), 6)
        # Two identical runs: nothing fell.
        r = run("compare", "--history", self.history)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
