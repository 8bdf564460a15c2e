// The benchmark scenarios. Each starts real keiretsud processes in its own
// directory under the work directory, drives them through the gRPC API, the
// peer protocol or the command-line tools, stops them, and returns its
// section of the report as JSON (figures, goals, whether each goal is met).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "bench/src/limits.h"
#include "keiretsu/common/status.h"

namespace keiretsu::bench {

using Json = nlohmann::ordered_json;

struct BenchEnv {
  std::string keiretsud;  // binaries under test
  std::string cli;
  std::string audit;
  std::string work;                               // scratch root, one subdirectory per scenario
  std::chrono::milliseconds load_seconds{10000};  // measured window of each load
  uint64_t catchup_entries = 100000;
  uint64_t large_entries = 1000000;
  int writers = 10;                // firms with entries in generated ledgers
  double propagation_rate = 1000;  // entries/s written at A during propagation
  int clearing_firms = 1000;       // the clearing scenario's generated graph
  int clearing_edges = 20000;
  int many_nodes = 20;  // the many-nodes scenario: firms, each its own keiretsud
  int many_degree = 4;  // average peer links per node (ring + random chords)
  uint64_t many_seed = 1;
  int many_probes = 200;  // single writes timed to every node
  int many_burst = 20;    // entries each node writes at once
};

// Logs a progress line to stderr ("[bench  12.3s] ...").
void Progress(const std::string& line);

// 2. A fresh node pulls a generated ledger from a running peer.
Result<Json> RunCatchUp(const BenchEnv& env, const Limits& limits);
// 3 and 5, and the empty-call limit: writes from 32 clients to one node,
// then GetBalance and empty (health) calls from the same clients. Sets
// `limits_json["grpc_empty_unary_per_s"]`.
Result<Json> RunApi(const BenchEnv& env, const Limits& limits, Json& limits_json);
// 4. A -> B -> C: from A's reply to arrival at C, under a steady load.
Result<Json> RunPropagation(const BenchEnv& env);
// 6 and 7: a node holding a large ledger: its memory, its export audited,
// its size on disk after compaction.
Result<Json> RunLargeLedger(const BenchEnv& env, const Limits& limits);

// 9. Many real nodes, sparsely peered: propagation to the farthest node,
// convergence after a burst at every node, gossip amplification, memory.
Result<Json> RunManyNodes(const BenchEnv& env);

// 8. The clearing solver on a generated obligation graph (no node runs).
Result<Json> RunClearing(const BenchEnv& env);

// A goal line: {"goal": "...", "met": bool}.
Json Goal(const std::string& text, bool met);

}  // namespace keiretsu::bench
