// Scenario 5 (docs/PERFORMANCE.md): GetBalance against the empty gRPC call,
// measured so that a change in the machine's load (other processes, the
// node's own background compactions) hits both alike.
#pragma once

#include <chrono>
#include <string>

#include "bench/src/api_load.h"
#include "bench/src/bench_network.h"
#include "bench/src/scenario.h"

namespace keiretsu::bench {

struct BalanceQueries {
  Json json;              // the report's balance_queries section
  LoadResult best_empty;  // the best empty-call window (the limit)
};

// On the node at `address`: one pool of `clients` connections, used for
// both calls. After a warm-up of each, `pairs` pairs of windows (empty call
// then GetBalance, the next pair the other way round), each window
// `total / (2 * pairs)` long. The ratio is the median of the pairs' ratios
// (a neighbour's load that comes or goes falls in both windows of a pair),
// each pair's and window's figures are reported too.
Result<BalanceQueries> MeasureBalanceQueries(const std::string& address, const BenchNetwork& net,
                                             int clients, int pairs,
                                             std::chrono::milliseconds total);

}  // namespace keiretsu::bench
