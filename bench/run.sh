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
#
# Run it on an otherwise idle machine: the figures are ratios to limits
# measured in the same run, but a busy neighbour still skews them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKEIRETSU_BUILD_BENCH=ON >/dev/null
echo "== building (Release) in build/" >&2
cmake --build build -j "$(nproc)" --target keiretsu-bench >&2
exec build/bench/keiretsu-bench --bin-dir build "$@"
