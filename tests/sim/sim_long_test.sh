#!/usr/bin/env bash
# ctest sim_long_script: scripts/sim-long.sh exits 0 on a clean range, and 1
# with the failing seed's replay command when a seed breaks an invariant
# (the injected skip-restore-gate bug, which seed 5 catches).
#   sim_long_test.sh <scripts/sim-long.sh> <keiretsu-sim>
set -u
script=$1
export KEIRETSU_SIM=$2 JOBS=2 CHUNK=3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

OUT=$dir/ok "$script" 6 1 >"$dir/ok.out" 2>&1
rc=$?
if [[ $rc != 0 ]] || ! grep -q "summary: 6 seeds from 1, 0 violated" "$dir/ok.out"; then
  echo "FAIL: a clean range exited $rc:"
  cat "$dir/ok.out"
  exit 1
fi

SIM_ARGS="--bug skip-restore-gate" OUT=$dir/bug "$script" 6 1 >"$dir/bug.out" 2>&1
rc=$?
if [[ $rc != 1 ]] ||
  ! grep -q "replay: .*--seed 5 .*--bug skip-restore-gate" "$dir/bug.out"; then
  echo "FAIL: with the injected bug, exit $rc (want 1) and no replay of seed 5:"
  cat "$dir/bug.out"
  exit 1
fi

"$script" 0 >"$dir/usage.out" 2>&1
rc=$?
if [[ $rc != 2 ]] || ! grep -q "usage:" "$dir/usage.out"; then
  echo "FAIL: SEEDS=0 exited $rc (want 2, a usage error)"
  exit 1
fi
echo "sim-long.sh: clean range 0, violation 1 with the replay, bad usage 2"
