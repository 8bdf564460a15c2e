#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
#
#   scripts/test.sh                  the normal build (build/) and every test
#   scripts/test.sh --sanitize       the unit tests under AddressSanitizer + UBSan (build-asan/)
#   scripts/test.sh --build-only     build what the tests need, run nothing (either mode)
#
# Exit status is ctest's: 0 only when every test passed (with --build-only,
# the build's).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
mode=normal
build_only=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) mode=sanitize ;;
    --build-only) build_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

bash scripts/bootstrap.sh
jobs=$(nproc)

if [ "$mode" = sanitize ]; then
  dir=build-asan
  # -Og with line tables: readable sanitizer reports, tests that run fast,
  # and a third less compile time than -O1 (GCC's UBSan instrumentation is
  # costly to optimise: node/net/src/replicator.cc takes 54 s at -O1, 35 s
  # at -Og). Test code itself is compiled at -O0 (cmake/Testing.cmake).
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-Og -g1" \
    -DKEIRETSU_SANITIZE=ON -DKEIRETSU_BUILD_BENCH=OFF >/dev/null
  # alloc_dealloc_mismatch=0: Asio recycles C++20 coroutine frames through
  # its own thread-local allocator, and with GCC 12 the frame's
  # operator new/delete pairing reads to ASan as new-vs-free (seen in
  # asio::detail::awaitable_thread::pump). Every other check stays on.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:alloc_dealloc_mismatch=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0
  # 30 arrival orders per property test instead of 200: every code path is
  # still taken under the sanitizers; the normal build covers the breadth.
  export KEIRETSU_PROPERTY_SEEDS=30
  # The governance order test: 4 histories x 8 orders instead of 12 x 20,
  # and 100 quorum histories instead of 300 (it was the sanitizer run's
  # longest test, 3 minutes).
  export KEIRETSU_GOV_HISTORIES=4 KEIRETSU_GOV_ORDERS=8 KEIRETSU_GOV_QUORUM_HISTORIES=100
  # 200 power cuts instead of 2,000 (tests/faults/power_cut_test.cc).
  export KEIRETSU_POWER_CUTS=200
  # 50 simulator seeds instead of 1,000 (tests/sim).
  export KEIRETSU_SIM_SEEDS=50
  labels=(-L unit)  # multi-process tests run in the normal build only
  # Build just what the unit tests run, not the daemons and tools no unit
  # test runs: each test's own program (a test is named after it) and every
  # program of the build tree that a test's command names (keiretsu-audit,
  # which the vectors tests drive; keiretsu-vectors-clearing, a test's
  # command itself). The commands are read from the CTestTestfile.cmake
  # files, since ctest reports none for a program not built yet.
  targets=$(cd "$dir" && ctest -N -L unit --show-only=json-v1 | python3 -c '
import glob, json, os, re, sys
build = os.getcwd() + "/"
unit = {test["name"] for test in json.load(sys.stdin)["tests"]}
for name in unit:
    print(name)
for testfile in glob.glob(build + "**/CTestTestfile.cmake", recursive=True):
    for m in re.finditer(r"^add_test\(\[=\[(.+?)\]=\] (.*)\)$", open(testfile).read(), re.M):
        if m.group(1) in unit:
            for arg in re.findall(r"\"([^\"]*)\"", m.group(2)):
                if arg.startswith(build):
                    print(os.path.basename(arg))' | sort -u | while read -r t; do ninja -t query "$t" >/dev/null 2>&1 && echo "$t"; done)
  [ -n "$targets" ] || { echo "test.sh: found no unit-test targets in $dir" >&2; exit 1; }
else
  dir=build
  # Everything the tests run, which is everything but the benchmarks (no
  # test runs keiretsu-bench; bench/run.sh turns them back on in this same
  # tree and builds them). They are a sixth of the build's compile time.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKEIRETSU_BUILD_BENCH=OFF >/dev/null
  labels=()
  targets=all
fi

echo "== building ($mode) in $dir"
# shellcheck disable=SC2086  # the target list is meant to split
cmake --build "$dir" -j "$jobs" --target $targets
[ "$build_only" = 1 ] && exit 0
echo "== testing ($mode)"
cd "$dir"
ctest --output-on-failure -j "$jobs" "${labels[@]}"
