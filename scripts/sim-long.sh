#!/usr/bin/env bash
# The long simulator run (docs/TESTING.md "Simulation", docs/SCALE.md "Many
# seeds"): SEEDS seeds of the default fault run (5 nodes, faults, a byzantine
# member on even seeds), sharded over JOBS processes at nice 19 so that
# everything else on the machine keeps priority.
#
#   scripts/sim-long.sh [SEEDS] [FIRST]     (defaults: 100000 seeds from 1)
#
# Environment: KEIRETSU_SIM (the binary; default build/tests/sim/keiretsu-sim),
# JOBS (processes; default nproc), OUT (directory for the shards' logs;
# default a new one under /tmp), CHUNK (seeds per keiretsu-sim call; default
# 100, so progress is on record as it goes), CHUNK_CPU_SECONDS (CPU time a
# chunk may use before it is stopped and reported as an error; default 600,
# about 50 times what 100 seeds take), SIM_ARGS (more options for every
# call, e.g. "--bug skip-restore-gate" to see the failure path).
#
# Each shard takes every JOBS-th chunk. Progress lines go to stdout as chunks
# finish; at the end a summary. Exit status 1 if any seed violated an
# invariant, each printed with the command that replays it; 2 on a usage or
# run error (a shard that crashed, rather than reported a violation).
set -euo pipefail

SEEDS="${1:-100000}"
FIRST="${2:-1}"
SIM="${KEIRETSU_SIM:-build/tests/sim/keiretsu-sim}"
JOBS="${JOBS:-$(nproc)}"
CHUNK="${CHUNK:-100}"
CHUNK_CPU_SECONDS="${CHUNK_CPU_SECONDS:-600}"
OUT="${OUT:-$(mktemp -d /tmp/sim-long.XXXXXX)}"

if ! [[ "$SEEDS" =~ ^[1-9][0-9]*$ && "$FIRST" =~ ^[1-9][0-9]*$ && "$JOBS" =~ ^[1-9][0-9]*$ &&
  "$CHUNK" =~ ^[1-9][0-9]*$ && "$CHUNK_CPU_SECONDS" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/sim-long.sh [SEEDS] [FIRST]  (positive integers; JOBS, CHUNK too)" >&2
  exit 2
fi
if [[ ! -x "$SIM" ]]; then
  echo "no simulator at $SIM: build it (cmake --build build --target keiretsu-sim)" >&2
  exit 2
fi
mkdir -p "$OUT"
LAST=$((FIRST + SEEDS - 1))
CHUNKS=$(((SEEDS + CHUNK - 1) / CHUNK))
echo "sim-long: seeds $FIRST..$LAST in $CHUNKS chunks of $CHUNK over $JOBS processes (nice 19);" \
  "logs in $OUT; started $(date -u +%FT%TZ)"
START=$(date +%s)

# One shard: chunks k = shard, shard + JOBS, ... Each chunk's summary line
# (and any violation) goes to the shard's log; a crash of the simulator
# (no summary line) is recorded as an error.
shard() {
  local s=$1 k from n rc
  for ((k = s; k < CHUNKS; k += JOBS)); do
    from=$((FIRST + k * CHUNK))
    n=$((LAST - from + 1 < CHUNK ? LAST - from + 1 : CHUNK))
    rc=0
    # shellcheck disable=SC2086 # SIM_ARGS is a list of options
    # A CPU-time limit, not a wall-clock one: at nice 19 a chunk may wait
    # long for the cores, but one that computes for CHUNK_CPU_SECONDS has a
    # seed that does not end (the simulated clock stopped advancing).
    (ulimit -t "$CHUNK_CPU_SECONDS" && exec nice -n 19 "$SIM" --seeds "$n" --first-seed "$from" \
      ${SIM_ARGS:-}) >"$OUT/chunk-$k.log" 2>&1 || rc=$?
    if ! grep -q "^$n seeds from $from," "$OUT/chunk-$k.log"; then
      echo "ERROR chunk $k (seeds $from..$((from + n - 1))): simulator exited $rc without a summary" \
        "(CPU limit ${CHUNK_CPU_SECONDS} s: a seed that does not end?); find the seed with:" \
        "for s in \$(seq $from $((from + n - 1))); do timeout 10 $SIM --seed \$s >/dev/null || echo \$s; done" \
        >>"$OUT/shard-$s.log"
    fi
    echo "done $k $from $n $rc" >>"$OUT/shard-$s.log"
  done
}

pids=()
for ((s = 0; s < JOBS; ++s)); do
  : >"$OUT/shard-$s.log"
  shard "$s" &
  pids+=($!)
done
echo "sim-long: shard pids ${pids[*]}"

progress() {
  local done_chunks seeds_done violated
  done_chunks=$(cat "$OUT"/shard-*.log | grep -c '^done ' || true)
  seeds_done=$(cat "$OUT"/shard-*.log | awk '/^done /{s += $4} END {print s + 0}')
  violated=$(cat "$OUT"/chunk-*.log 2>/dev/null | grep -c ' VIOLATION: ' || true)
  echo "sim-long: $(date -u +%FT%TZ) $seeds_done/$SEEDS seeds ($done_chunks/$CHUNKS chunks)," \
    "$violated violated, $(($(date +%s) - START)) s"
}

# A progress line a minute while any shard runs (polled every 5 s).
ticks=0
while true; do
  running=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=1; done
  [[ $running == 0 ]] && break
  ((ticks++ % 12 == 0)) && progress
  sleep 5
done
wait "${pids[@]}" || true
progress

violations=$(cat "$OUT"/chunk-*.log | grep -A2 ' VIOLATION: ' || true)
errors=$(cat "$OUT"/shard-*.log | grep '^ERROR' || true)
events=$(cat "$OUT"/chunk-*.log | grep -c ' VIOLATION: ' || true)
echo "sim-long: summary: $SEEDS seeds from $FIRST, $events violated an invariant," \
  "$(($(date +%s) - START)) s wall, finished $(date -u +%FT%TZ)"
if [[ -n "$errors" ]]; then
  echo "$errors"
  exit 2
fi
if [[ -n "$violations" ]]; then
  echo "$violations"
  exit 1
fi
exit 0
