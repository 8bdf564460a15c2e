#!/usr/bin/env python3
"""CPU per process in the alternating windows of scenario 5 (balance queries):
each 50 ms of samples is labelled by the handler the node ran in it and its
neighbours (GetBalance or the health check), and the samples of each label
are summed per process, as cores busy over the labelled time.

    perf record -a -F 250 --call-graph dwarf,16384 -o bq.data -- sleep 9
    perf script -i bq.data -F pid,tid,comm,time,ip,sym,dso > bq.txt
    python3 bench/perf_phases.py bq.txt NODE_PID BENCH_PID [HZ]

Divide a label's node cores by the call rate of its windows (the report's
balance_queries.rounds) for the node's CPU per call.
"""
import collections
import sys

from perf_shares import read_samples

BUCKET = 0.05


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    path, node, bench = sys.argv[1], sys.argv[2], sys.argv[3]
    hz = float(sys.argv[4]) if len(sys.argv) > 4 else 250.0
    samples = read_samples(path)
    if not samples:
        sys.exit("no samples in " + path)
    if any(s["t"] is None for s in samples):
        sys.exit(path + ": samples without a time; run perf script with -F pid,tid,comm,time,ip,sym,dso")
    t0 = min(s["t"] for s in samples)
    seen = collections.defaultdict(collections.Counter)
    for s in samples:
        stack = " ".join(sym for sym, _ in s["frames"])
        b = int((s["t"] - t0) / BUCKET)
        if "GetBalanceRequest" in stack:
            seen[b]["balance"] += 1
        elif "Health" in stack:
            seen[b]["empty"] += 1
    n = int((max(s["t"] for s in samples) - t0) / BUCKET) + 1
    label = {}
    for b in range(n):
        c = collections.Counter()
        for d in range(-3, 4):
            c.update(seen.get(b + d, {}))
        if c["balance"] > 2 * c["empty"] and c["balance"] >= 2:
            label[b] = "balance"
        elif c["empty"] > 2 * c["balance"] and c["empty"] >= 2:
            label[b] = "empty"
        else:
            label[b] = "?"
    print("timeline (50 ms each): " + "".join({"balance": "B", "empty": "E", "?": "."}[label[b]] for b in range(n)))
    busy = collections.defaultdict(collections.Counter)
    for s in samples:
        who = "node" if s["pid"] == node else "bench" if s["pid"] == bench else "others"
        busy[label[int((s["t"] - t0) / BUCKET)]][who] += 1
    for name in ("empty", "balance", "?"):
        secs = sum(1 for b in label if label[b] == name) * BUCKET
        if secs == 0:
            continue
        cores = ", ".join(f"{who} {busy[name][who] / hz / secs:.2f}" for who in ("node", "bench", "others"))
        print(f"{name}: {secs:.2f} s labelled; cores busy: {cores}")


if __name__ == "__main__":
    main()
