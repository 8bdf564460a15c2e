// Builds a benchmark ledger: `entries` signed entries from the first
// `writers` members of a network, the kinds a federation records (direct
// obligations, claims and the debtors' accepts of them, releases), chained
// per feed, committed into a keiretsu data directory through node::Ledger.
// The node that later opens the directory serves exactly what a node that
// had ingested these entries from peers would.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "bench/src/bench_network.h"
#include "keiretsu/common/status.h"

namespace keiretsu::bench {

struct GeneratedLedger {
  uint64_t entries = 0;
  uint64_t record_bytes = 0;  // the signed records' total size (content || signature)
  double sign_seconds = 0;
  double ingest_seconds = 0;
};

// `progress(done, total)` is called now and then from the calling thread.
Result<GeneratedLedger> GenerateLedger(const BenchNetwork& net, int writers, uint64_t entries,
                                       const std::string& data_dir,
                                       const std::function<void(uint64_t, uint64_t)>& progress);

}  // namespace keiretsu::bench
