// The dialer's decisions (Replicator::Core's DialLoop), as pure functions
// of NetClock instants so they are tested on a fake clock without sockets:
// redial delays (exponential backoff with jitter), when to dial next, and
// the state after a dialled session ended. The dialer only sleeps (a
// NetTimer) until the instant NextDialAt returns.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "node/net/src/clock.h"

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

// How long a dialer whose firm has a session sleeps before looking again
// (the session's end wakes it sooner).
inline constexpr std::chrono::hours kDialerRecheck{1};

// When the dialer of a firm dials next, looking at `now`: not while a
// session is up (now + kDialerRecheck), else at the later of the backoff's
// `next_dial` and a misbehaviour ban's end; `now` or earlier: dial now.
inline TimePoint NextDialAt(bool session_up, TimePoint next_dial, TimePoint banned_until,
                            TimePoint now) {
  if (session_up) return now + kDialerRecheck;
  return std::max(next_dial, banned_until);
}

// A dialled session ended at `now`. `answered`: the peer accepted the
// handshake and sent its first Have (a peer that refuses the handshake
// after our last message counts as a failure, or a refused dialler, a
// removed member say, would redial at the minimum delay forever).
struct RedialPlan {
  unsigned failures = 0;  // consecutive failures, for the next delay
  TimePoint next_dial{};  // no dial before this instant
};
inline RedialPlan AfterDialledSession(unsigned failures, bool answered, TimePoint now,
                                      std::chrono::milliseconds min, std::chrono::milliseconds max,
                                      double unit_random) {
  RedialPlan p;
  p.failures = answered ? 0 : failures + 1;
  p.next_dial = now + RedialDelay(std::max(1u, p.failures), min, max, unit_random);
  return p;
}

// The accept loop's pause after a failed accept (out of file descriptors,
// say), instead of spinning.
inline constexpr std::chrono::milliseconds kAcceptPause{100};

}  // namespace keiretsu::net
