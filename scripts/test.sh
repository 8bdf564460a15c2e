#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
#
#   scripts/test.sh              the normal build (build/) and every test
#   scripts/test.sh --sanitize   the same under AddressSanitizer + UBSan (build-asan/)
#
# Exit status is ctest's: 0 only when every test passed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=normal
[ "${1:-}" = "--sanitize" ] && mode=sanitize

bash scripts/bootstrap.sh
jobs=$(nproc)

if [ "$mode" = sanitize ]; then
  dir=build-asan
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DKEIRETSU_SANITIZE=ON -DKEIRETSU_BUILD_BENCH=OFF >/dev/null
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  labels=(-L unit)  # multi-process tests run in the normal build only
else
  dir=build
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  labels=()
fi

echo "== building ($mode) in $dir"
cmake --build "$dir" -j "$jobs"
echo "== testing ($mode)"
cd "$dir"
ctest --output-on-failure -j "$jobs" "${labels[@]}"
