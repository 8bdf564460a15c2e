// Small synchronous helpers over a node's API used by several scenarios.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "bench/src/api_load.h"
#include "keiretsu/common/status.h"

namespace keiretsu::bench {

struct NodeSummary {
  uint64_t entries = 0;  // sum of every feed's head_seq
  bool writable = false;
  std::string digest;
  int connected_peers = 0;
};
Result<NodeSummary> Summarise(ApiClient& client);

// Polls `done` every `every` until it returns true or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every = std::chrono::milliseconds(20));

}  // namespace keiretsu::bench
