#!/usr/bin/env bash
# The benchmark suite in one command: installs what is missing, builds in
# Release (build/, the same tree as scripts/test.sh), runs keiretsu-bench and
# prints its JSON report on stdout (progress on stderr). Takes about 10
# minutes on 2 cores and needs ~3 GB free in the work directory.
#
#   bash bench/run.sh                      the full suite (docs/PERFORMANCE.md)
#   bash bench/run.sh --quick              a 2-minute smoke run of every scenario
#   bash bench/run.sh --out results.json   also write the report to a file
#   bash bench/run.sh --help               every option
#   bash bench/run.sh --compare            compare the latest run with the previous one on
#                                          this machine (bench/history.py; exit 1 when a
#                                          ratio fell by more than 10%)
#
# Every run that produces a report appends one record (date, commit, dirty
# flag, machine, every ratio) to bench/results/history.jsonl; set
# KEIRETSU_BENCH_HISTORY to another file, or to "off" for none.
#
# Run it on an otherwise idle machine: the figures are ratios to limits
# measured in the same run, but a busy neighbour still skews them.
set -euo pipefail
cd "$(dirname "$0")/.."
history="${KEIRETSU_BENCH_HISTORY:-bench/results/history.jsonl}"

if [[ "${1:-}" == "--compare" ]]; then
  shift
  exec python3 bench/history.py compare --history "$history" "$@"
fi

bash scripts/bootstrap.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKEIRETSU_BUILD_BENCH=ON >/dev/null
echo "== building (Release) in build/" >&2
cmake --build build -j "$(nproc)" --target keiretsu-bench >&2
report="$(mktemp /tmp/keiretsu-bench-report.XXXXXX)"
trap 'rm -f "$report"' EXIT
status=0
build/bench/keiretsu-bench --bin-dir build "$@" | tee "$report" || status=$?
# --help prints no report; a run that failed a scenario still has one.
if [[ "$history" != off ]] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' \
  "$report" 2>/dev/null; then
  python3 bench/history.py append "$report" --history "$history" >&2 || true
fi
exit "$status"
