#!/usr/bin/env python3
"""Tests of bench/perf_shares.py and bench/perf_phases.py, the two readers of
`perf script` output behind the profiles in docs/PERFORMANCE.md: samples are
parsed into process, thread, time and frames; shares are counted per
process and per symbol; windows are labelled by the handler that ran; input
without what a script needs is refused."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(os.path.dirname(os.path.dirname(HERE)), "bench")
sys.path.insert(0, BENCH)
import perf_shares  # noqa: E402


def sample(comm, pid, tid, t, *frames):
    head = f"{comm} {pid}/{tid}" + (f" {t:.6f}:" if t is not None else "")
    return head + "\n" + "".join(f"\t    7f00 {sym} ({dso})\n" for sym, dso in frames) + "\n"


SCRATCH = tempfile.TemporaryDirectory()  # removed when the tests end


def write(text):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=SCRATCH.name, delete=False) as f:
        f.write(text)
    return f.name


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(BENCH, script), *args],
                          capture_output=True, text=True)


class ReadSamplesTest(unittest.TestCase):
    def test_a_sample_gives_its_process_thread_time_and_frames(self):
        path = write(sample("keiretsud", 10, 11, 5.25, ("crypto_sign+0x1f", "/usr/lib/libsodium.so"),
                            ("Ledger::CommitAppends", "/x/keiretsud")))
        [s] = perf_shares.read_samples(path)
        self.assertEqual((s["comm"], s["pid"], s["tid"], s["t"]), ("keiretsud", "10", "11", 5.25))
        self.assertEqual(s["frames"], [("crypto_sign", "libsodium.so"),
                                       ("Ledger::CommitAppends", "keiretsud")])

    def test_a_sample_without_a_time_has_none(self):
        [s] = perf_shares.read_samples(write(sample("a", 1, 2, None, ("f", "/l"))))
        self.assertIsNone(s["t"])


class SharesTest(unittest.TestCase):
    def test_processes_and_a_threads_symbols_are_counted(self):
        text = (sample("node", 10, 11, 1.0, ("sign", "/libsodium.so")) * 3 +
                sample("node", 10, 12, 1.0, ("write", "/librocksdb.so")) +
                sample("bench", 20, 21, 1.0, ("call", "/libgrpc.so")))
        r = run("perf_shares.py", write(text), "tid:11")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("80.0%  pid 10", r.stdout)
        self.assertIn("100.0%  sign", r.stdout)

    def test_a_thread_without_samples_is_refused(self):
        r = run("perf_shares.py", write(sample("node", 10, 11, 1.0, ("f", "/l"))), "tid:99")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no samples of tid:99", r.stderr)


class PhasesTest(unittest.TestCase):
    def test_windows_are_labelled_by_the_handler_that_ran(self):
        text = "".join(sample("node", 10, 11, 0.01 * i, ("GetBalanceRequest::Parse", "/n"))
                       for i in range(20))
        text += "".join(sample("node", 10, 11, 1.0 + 0.01 * i, ("grpc::Health::Check", "/n"))
                        for i in range(20))
        r = run("perf_phases.py", write(text), "10", "20")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("balance:", r.stdout)
        self.assertIn("empty:", r.stdout)
        timeline = r.stdout.splitlines()[0]
        self.assertTrue(timeline.split(": ")[1].startswith("B"), timeline)
        self.assertTrue(timeline.endswith("E"), timeline)

    def test_samples_without_a_time_are_refused(self):
        r = run("perf_phases.py", write(sample("node", 10, 11, None, ("f", "/l"))), "10", "20")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("samples without a time", r.stderr)


def tearDownModule():
    SCRATCH.cleanup()


if __name__ == "__main__":
    unittest.main()
