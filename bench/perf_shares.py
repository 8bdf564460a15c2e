#!/usr/bin/env python3
"""Shares of CPU samples from `perf script` output, per process and thread,
and the self and inclusive symbols of one process or thread.

Release builds have no frame pointers, so record with DWARF call chains:

    perf record -a -F 250 --call-graph dwarf,16384 -o p.data -- sleep 7
    perf script -i p.data -F pid,tid,comm,ip,sym,dso > p.txt
    python3 bench/perf_shares.py p.txt                 # processes and threads
    python3 bench/perf_shares.py p.txt keiretsud       # + symbols of a process (comm or pid)
    python3 bench/perf_shares.py p.txt tid:12345 30 80 # one thread; 30 self, 80 inclusive rows

Self = the sample's leaf frame; inclusive = the symbol anywhere on its
stack (counted once per sample). Percentages of a process or thread are of
its own samples; a libsodium or other library without symbols shows as
[library].
"""
import collections
import re
import sys


def read_samples(path):
    """Samples of `perf script` output: comm, pid, tid, t (or None), frames (symbol, library)."""
    samples, cur = [], None
    with open(path, errors="replace") as f:
        lines = f.readlines()
    for line in lines:
        if not line.strip():
            if cur:
                samples.append(cur)
            cur = None
            continue
        if not line.startswith((" ", "\t")):
            # "comm pid/tid [time:]": the time when perf script was asked for it (-F time).
            m = re.match(r"\s*(\S.*?)\s+(\d+)/(\d+)(?:\s+([\d.]+):)?", line)
            cur = (
                {"comm": m.group(1), "pid": m.group(2), "tid": m.group(3),
                 "t": float(m.group(4)) if m.group(4) else None, "frames": []}
                if m else None
            )
            continue
        if cur is None:
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            continue
        m = re.match(r"(.*) \((.*)\)$", parts[1])
        sym, dso = (m.group(1), m.group(2).split("/")[-1]) if m else (parts[1], "?")
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        if sym.startswith("[unknown]") or sym.startswith("0x"):
            sym = "[" + dso + "]"
        cur["frames"].append((sym, dso))
    if cur:
        samples.append(cur)
    return samples


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    samples = read_samples(sys.argv[1])
    n = len(samples)
    if n == 0:
        sys.exit("no samples in " + sys.argv[1])
    print(f"samples {n}")
    by_pid = collections.Counter(s["pid"] for s in samples)
    threads = collections.defaultdict(collections.Counter)
    for s in samples:
        threads[s["pid"]][(s["tid"], s["comm"])] += 1
    print("-- by process (share of all samples), then its busiest threads")
    for pid, k in by_pid.most_common(8):
        top = ", ".join(f"{c}/{t} {100 * m / n:.1f}%" for (t, c), m in threads[pid].most_common(5))
        print(f"{100 * k / n:6.1f}%  pid {pid}: {top}")
    if len(sys.argv) < 3:
        return
    want = sys.argv[2]
    if want.startswith("tid:"):
        sel = [s for s in samples if s["tid"] == want[4:]]
    else:
        sel = [s for s in samples if s["pid"] == want or s["comm"].startswith(want)]
    m = len(sel)
    if m == 0:
        sys.exit("no samples of " + want)
    print(f"-- {want}: {m} samples ({100 * m / n:.1f}% of all)")
    dso = collections.Counter(s["frames"][0][1] if s["frames"] else "?" for s in sel)
    print("self by library: " + ", ".join(f"{d} {100 * k / m:.1f}%" for d, k in dso.most_common(8)))
    leaf = collections.Counter(s["frames"][0][0] if s["frames"] else "?" for s in sel)
    print("-- self")
    for k, c in leaf.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 25):
        print(f"{100 * c / m:6.1f}%  {k[:150]}")
    inc = collections.Counter()
    for s in sel:
        inc.update({f[0] for f in s["frames"]})
    print("-- inclusive")
    for k, c in inc.most_common(int(sys.argv[4]) if len(sys.argv) > 4 else 60):
        print(f"{100 * c / m:6.1f}%  {k[:150]}")


if __name__ == "__main__":
    main()
