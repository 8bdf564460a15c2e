// The catch-up set-up shared by two scenarios: a ledger generated into the
// data directory of a source node (member 0), the source started as a
// keiretsud with a peer listener, then a fresh node (the last member, no
// entries of its own) started with the source as its only peer and timed
// until it holds every entry. Both nodes are left running for the caller.
#pragma once

#include <optional>
#include <string>

#include "bench/src/daemon_process.h"
#include "bench/src/ledger_gen.h"
#include "bench/src/scenario.h"

namespace keiretsu::bench {

struct CatchUpCluster {
  GeneratedLedger generated;
  std::optional<DaemonProcess> source;
  std::optional<DaemonProcess> fresh;
  std::string fresh_data_dir;
  std::string genesis_path;
  NetworkId network;
  double seconds = 0;             // from starting the fresh node to it holding every entry
  double source_cpu_seconds = 0;  // used while the fresh node caught up
  double fresh_cpu_seconds = 0;
};

Result<CatchUpCluster> GenerateAndCatchUp(const BenchEnv& env, const std::string& dir,
                                          uint64_t entries);

}  // namespace keiretsu::bench
