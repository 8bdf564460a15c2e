// Redial delays: exponential backoff with jitter, as a pure function so it
// can be tested without clocks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace keiretsu::net {

// The delay before attempt `failures + 1` after `failures` consecutive
// failures (>= 1): min * 2^(failures-1), capped at max, then scaled by a
// jitter factor in [0.5, 1.0) taken from `unit_random` in [0, 1), so peers
// that failed together do not redial together.
inline std::chrono::milliseconds RedialDelay(unsigned failures, std::chrono::milliseconds min,
                                             std::chrono::milliseconds max, double unit_random) {
  const unsigned doublings = std::min(failures == 0 ? 0u : failures - 1, 30u);
  const int64_t base = std::min<int64_t>(max.count(), min.count() * (int64_t{1} << doublings));
  const double jitter = 0.5 + 0.5 * std::clamp(unit_random, 0.0, 0.999999);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(base) * jitter));
}

}  // namespace keiretsu::net
