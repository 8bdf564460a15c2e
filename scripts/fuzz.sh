#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for
# SECONDS (default 60) on its seed corpus, as many at once as there are
# cores. Exits non-zero on any finding.
#   scripts/fuzz.sh [SECONDS]      build, then fuzz each target (default 60 s)
#   scripts/fuzz.sh --build-only   build the targets, run nothing
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=0
seconds=60
if [[ "${1:-}" == --build-only ]]; then
  build_only=1
elif [[ "${1:-}" =~ ^[1-9][0-9]*$ ]]; then
  seconds=$1
elif [[ -n "${1:-}" ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS | --build-only]  (SECONDS a positive integer)" >&2
  exit 2
fi
bash scripts/bootstrap.sh
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
  -DKEIRETSU_FUZZ=ON -DKEIRETSU_BUILD_TESTS=OFF -DKEIRETSU_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_all
[ "$build_only" = 1 ] && exit 0
# One target: its seed corpus copied into a work corpus, then libFuzzer for
# SECONDS. Output goes to build-fuzz/TARGET.log; the exit status is the
# fuzzer's (non-zero on a finding).
fuzz_one() {
  local target=$1 work=build-fuzz/corpus/$1
  mkdir -p "$work"
  [ -d "fuzz/corpus/$target" ] && cp -n "fuzz/corpus/$target"/* "$work"/ 2>/dev/null || true
  build-fuzz/fuzz/"$target" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=build-fuzz/"$target"- "$work" 2>build-fuzz/"$target".log
}
report() {
  local target=$1 rc=$2
  if [ "$rc" -ne 0 ]; then
    echo "FINDING in $target: see build-fuzz/$target.log and build-fuzz/$target-*"
    tail -40 build-fuzz/"$target".log
    status=1
  else
    echo "== $target: no finding in ${seconds}s"
    grep -E "stat::number_of_executed_units" build-fuzz/"$target".log | tail -1
  fi
}
# Each fuzzer is one process on one core: run as many at once as there are
# cores (on 2 cores the stage takes half as long).
status=0
declare -A running=()  # pid -> target
for target in $(cat build-fuzz/fuzz/targets.txt); do
  while [ "${#running[@]}" -ge "$(nproc)" ]; do
    rc=0
    wait -n -p done_pid "${!running[@]}" || rc=$?
    report "${running[$done_pid]}" "$rc"
    unset "running[$done_pid]"
  done
  echo "== fuzzing $target for ${seconds}s"
  fuzz_one "$target" &
  running[$!]=$target
done
while [ "${#running[@]}" -gt 0 ]; do
  rc=0
  wait -n -p done_pid "${!running[@]}" || rc=$?
  report "${running[$done_pid]}" "$rc"
  unset "running[$done_pid]"
done
exit $status
