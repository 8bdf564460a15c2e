#!/usr/bin/env python3
"""The benchmark's history: one JSON line per run of bench/run.sh in
bench/results/history.jsonl, and a comparison of the latest run with the
previous one on the same machine (docs/PERFORMANCE.md "History").

    python3 bench/history.py append report.json   [--history FILE]
    python3 bench/history.py compare              [--history FILE] [--threshold 0.10]

`append` reads a keiretsu-bench report and appends one record: the date,
the commit and whether the tree had uncommitted changes, the machine (CPU
model, cores, kernel), the run's parameters, and every ratio of the report
("section.key", e.g. "catchup.ratio_to_verify_all_cores").

`compare` takes the latest record and, for each of its ratios, the most
recent earlier record of the same machine and parameters that has that
ratio (a run of only some scenarios compares what it measured). A ratio
that moved the bad way by more than the threshold (10% by default) of its
previous value is flagged. Exit status: 0 nothing fell, 1 something fell,
2 no history or a bad file.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

FORMAT = "keiretsu-bench-history/1"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_HISTORY = os.path.join(HERE, "results", "history.jsonl")

# Ratios where a larger value is worse (size on disk over the raw records).
LOWER_IS_BETTER = {"footprint.ratio_to_raw"}


def ratios_of(report):
    """Every number under a key starting with "ratio" in a report section,
    as {"section.key": value}, sections and keys in report order."""
    out = {}
    for section, body in report.items():
        if not isinstance(body, dict):
            continue
        for key, value in body.items():
            if key.startswith("ratio") and isinstance(value, (int, float)) \
                    and not isinstance(value, bool):
                out[f"{section}.{key}"] = value
    return out


def git(*args):
    try:
        return subprocess.run(["git", "-C", HERE, *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def record_of(report, commit=None, dirty=None, date=None):
    m = report.get("machine", {})
    if commit is None:
        commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    if dirty is None:
        status = git("status", "--porcelain", "--untracked-files=no")
        dirty = bool(status) if status is not None else None
    return {
        "format": FORMAT,
        "date": date or datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit,
        "dirty": dirty,
        "machine": {"cpu": m.get("cpu"), "cores": m.get("cores"), "kernel": m.get("kernel")},
        "load_average_1m_at_start": m.get("load_average_1m_at_start"),
        "parameters": report.get("parameters", {}),
        "seconds": report.get("seconds"),
        "ratios": ratios_of(report),
    }


def read_history(path):
    records = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON: {e}") from e
            if not isinstance(r, dict) or r.get("format") != FORMAT \
                    or not isinstance(r.get("ratios"), dict):
                raise ValueError(f"{path}:{n}: not a {FORMAT} record")
            records.append(r)
    return records


def same_setup(a, b):
    return a["machine"] == b["machine"] and a.get("parameters") == b.get("parameters")


def compare(records, threshold):
    """Returns (lines, fell): a line per ratio of the latest record, and
    the names of those that fell by more than `threshold`."""
    latest = records[-1]
    lines, fell = [], []
    earlier = [r for r in records[:-1] if same_setup(r, latest)]
    for name, now in latest["ratios"].items():
        prev = next((r for r in reversed(earlier) if name in r["ratios"]), None)
        if prev is None:
            lines.append(f"  {name}: {now:.4g} (no earlier run on this machine)")
            continue
        before = prev["ratios"][name]
        change = (now - before) / before if before else 0.0
        worse = -change if name not in LOWER_IS_BETTER else change
        flag = worse > threshold
        if flag:
            fell.append(name)
        lines.append(f"  {name}: {before:.4g} -> {now:.4g} ({change:+.1%}) "
                     f"vs {prev['commit']} of {prev['date']}"
                     + ("  ** WORSE by more than " + f"{threshold:.0%}" if flag else ""))
    return lines, fell


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("append", help="append a report's record to the history")
    a.add_argument("report")
    a.add_argument("--history", default=DEFAULT_HISTORY)
    c = sub.add_parser("compare", help="compare the latest run with the previous one")
    c.add_argument("--history", default=DEFAULT_HISTORY)
    c.add_argument("--threshold", type=float, default=0.10)
    args = p.parse_args(argv)

    if args.command == "append":
        try:
            with open(args.report) as f:
                report = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            print(f"history: {args.report} is not a keiretsu-bench report: {e}", file=sys.stderr)
            return 2
        if not isinstance(report, dict) or not str(report.get("format", "")).startswith(
                "keiretsu-bench/"):
            print(f"history: {args.report} is not a keiretsu-bench report", file=sys.stderr)
            return 2
        rec = record_of(report)
        os.makedirs(os.path.dirname(os.path.abspath(args.history)), exist_ok=True)
        with open(args.history, "a") as f:
            f.write(json.dumps(rec, sort_keys=False) + "\n")
        print(f"history: appended {len(rec['ratios'])} ratio(s) of {rec['commit']}"
              f"{' (dirty)' if rec['dirty'] else ''} to {args.history}", file=sys.stderr)
        return 0

    try:
        records = read_history(args.history)
    except OSError as e:
        print(f"history: cannot read {args.history}: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"history: {e}", file=sys.stderr)
        return 2
    if not records:
        print(f"history: {args.history} holds no run", file=sys.stderr)
        return 2
    latest = records[-1]
    print(f"latest run: {latest['commit']}{' (dirty)' if latest['dirty'] else ''} of "
          f"{latest['date']} on {latest['machine']['cpu']}, {latest['machine']['cores']} cores")
    lines, fell = compare(records, args.threshold)
    print("\n".join(lines))
    if fell:
        print(f"{len(fell)} ratio(s) fell by more than {args.threshold:.0%}: {', '.join(fell)}")
        return 1
    print(f"no ratio fell by more than {args.threshold:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
