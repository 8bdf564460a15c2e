// keiretsu-sim: runs the simulator (simulator.h) over a range of seeds.
//
//   keiretsu-sim [--seeds K] [--first-seed S] [--seed N] [--nodes n]
//                [--degree d] [--writes w] [--no-faults] [--burst-ms t]
//                [--open-gate] [--no-head-relay] [--bug NAME]
//                [--expect-violation] [--expect-acked n] [--verbose]
//
// --seeds defaults to $KEIRETSU_SIM_SEEDS, else 1000. Exit status 0 when
// every seed kept every invariant (with --expect-violation: when some seed
// broke one, which shows the invariants catch the bug). A failing seed is
// printed with the command that replays it.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "simulator.h"

namespace {

void Usage() {
  std::fprintf(
      stderr,
      "usage: keiretsu-sim [--seeds K] [--first-seed S] [--seed N] [--nodes n] "
      "[--degree d] [--writes w] [--no-faults] [--burst-ms t] [--open-gate] [--no-head-relay] "
      "[--bug skip-restore-gate] "
      "[--expect-violation] [--expect-acked n] [--verbose]\n");
}

}  // namespace

int main(int argc, char** argv) {
  keiretsu::sim::SimConfig base;
  uint64_t seeds = 1000, first = 1;
  if (const char* env = std::getenv("KEIRETSU_SIM_SEEDS")) seeds = std::strtoull(env, nullptr, 10);
  bool expect_violation = false;
  uint64_t expect_acked = 0;  // fail unless at least this many entries were acked in all
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seeds") {
      seeds = std::stoull(value());
    } else if (a == "--first-seed") {
      first = std::stoull(value());
    } else if (a == "--seed") {
      first = std::stoull(value());
      seeds = 1;
    } else if (a == "--nodes") {
      base.nodes = std::stoi(value());
    } else if (a == "--degree") {
      base.degree = std::stoi(value());
    } else if (a == "--writes") {
      base.writes = std::stoi(value());
    } else if (a == "--burst-ms") {
      base.burst_ms = std::stoll(value());
    } else if (a == "--open-gate") {
      base.open_gate_at_start = true;
    } else if (a == "--no-head-relay") {
      base.head_relay = false;
    } else if (a == "--no-faults") {
      base.faults = false;
    } else if (a == "--bug") {
      base.bug = value();
      if (base.bug != "skip-restore-gate") {
        std::fprintf(stderr, "unknown --bug %s (known: skip-restore-gate)\n", base.bug.c_str());
        return 2;
      }
    } else if (a == "--expect-violation") {
      expect_violation = true;
    } else if (a == "--expect-acked") {
      expect_acked = std::stoull(value());
    } else if (a == "--verbose") {
      base.verbose = true;
    } else {
      Usage();
      return 2;
    }
  }
  if (base.nodes < 2 || seeds == 0) {
    Usage();
    return 2;
  }
  spdlog::set_level(base.verbose ? spdlog::level::warn : spdlog::level::critical);
  const auto started = std::chrono::steady_clock::now();
  uint64_t failed = 0, messages = 0, bytes = 0, acked = 0, records = 0, data = 0;
  int64_t worst_converge = 0;
  for (uint64_t seed = first; seed < first + seeds; ++seed) {
    keiretsu::sim::SimConfig c = base;
    c.seed = seed;
    const auto r = keiretsu::sim::RunSimulation(c);
    messages += r.messages;
    bytes += r.bytes;
    acked += r.acked;
    records += r.records;
    data += r.data_messages;
    worst_converge = std::max(worst_converge, r.converged_ms);
    if (base.verbose || seeds == 1)
      std::printf(
          "seed %llu: %s; faults: %s; %llu acked, %llu messages (%llu bytes, %llu records in "
          "%llu batches), converged %lld ms after the last write, %llu events, RSS +%lld KiB open "
          "/ "
          "+%lld KiB end\n",
          static_cast<unsigned long long>(seed), r.ok ? "ok" : "VIOLATION", r.faults.c_str(),
          static_cast<unsigned long long>(r.acked), static_cast<unsigned long long>(r.messages),
          static_cast<unsigned long long>(r.bytes), static_cast<unsigned long long>(r.records),
          static_cast<unsigned long long>(r.data_messages), static_cast<long long>(r.converged_ms),
          static_cast<unsigned long long>(r.events), static_cast<long long>(r.rss_open_kb),
          static_cast<long long>(r.rss_end_kb));
    if ((seed - first + 1) % 1000 == 0 && seeds >= 10000) {
      std::printf("progress: %llu seeds done, %llu violated\n",
                  static_cast<unsigned long long>(seed - first + 1),
                  static_cast<unsigned long long>(failed));
      std::fflush(stdout);
    }
    if (!r.ok) {
      ++failed;
      std::printf(
          "seed %llu VIOLATION: %s\n  faults: %s\n  replay: build/tests/sim/keiretsu-sim "
          "--seed %llu --nodes %d%s%s%s --verbose\n",
          static_cast<unsigned long long>(seed), r.violation.c_str(), r.faults.c_str(),
          static_cast<unsigned long long>(seed), base.nodes,
          base.degree != 0 ? (" --degree " + std::to_string(base.degree)).c_str() : "",
          base.faults ? "" : " --no-faults",
          base.bug.empty() ? "" : (" --bug " + base.bug).c_str());
      std::fflush(stdout);
      if (expect_violation) break;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "%llu seeds from %llu, %d nodes: %llu violated an invariant; %llu entries acked, "
      "%llu messages, %llu bytes, %llu records in %llu batches; slowest convergence "
      "%lld ms; %.1f s\n",
      static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(first), base.nodes,
      static_cast<unsigned long long>(failed), static_cast<unsigned long long>(acked),
      static_cast<unsigned long long>(messages), static_cast<unsigned long long>(bytes),
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(data),
      static_cast<long long>(worst_converge), secs);
  if (expect_violation) {
    if (failed == 0)
      std::printf("expected a violation (bug %s) but none was found\n", base.bug.c_str());
    return failed > 0 ? 0 : 1;
  }
  if (acked < expect_acked) {
    std::printf("expected at least %llu acknowledged entries, got %llu\n",
                static_cast<unsigned long long>(expect_acked),
                static_cast<unsigned long long>(acked));
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
