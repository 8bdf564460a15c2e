#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for
# SECONDS (default 60) on its seed corpus. Exits non-zero on any finding.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bash scripts/bootstrap.sh
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
  -DKEIRETSU_FUZZ=ON -DKEIRETSU_BUILD_TESTS=OFF -DKEIRETSU_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_all
status=0
for target in $(cat build-fuzz/fuzz/targets.txt); do
  corpus_seed=fuzz/corpus/$target
  work=build-fuzz/corpus/$target
  mkdir -p "$work"
  [ -d "$corpus_seed" ] && cp -n "$corpus_seed"/* "$work"/ 2>/dev/null || true
  echo "== fuzzing $target for ${seconds}s"
  if ! build-fuzz/fuzz/"$target" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix=build-fuzz/"$target"- "$work" 2>build-fuzz/"$target".log; then
    echo "FINDING in $target: see build-fuzz/$target.log and build-fuzz/$target-*"
    tail -40 build-fuzz/"$target".log
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" build-fuzz/"$target".log | tail -2
  fi
done
exit $status
