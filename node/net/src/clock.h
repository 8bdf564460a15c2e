// NetClock: where the net code reads the time. The daemon uses RealClock
// (std::chrono::steady_clock and the system clock); a simulator injects its
// own, so sessions, bans and redials run on simulated time. Every timing
// decision is computed from it by sans-I/O code (PeerSync's ticks and idle
// timeout, backoff.h's redials, the accept pause); the Asio code only
// sleeps until the instant decided, on a NetTimer (net_timer.h, the one
// user of asio::steady_timer), and a simulator schedules events at
// NetClock times.
//
// Thread-safety: Now() and UnixMs() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace keiretsu::net {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

class NetClock {
 public:
  virtual ~NetClock() = default;
  // Monotonic time, for timeouts, intervals and backoffs.
  virtual TimePoint Now() const = 0;
  // Wall-clock milliseconds since the Unix epoch, for status reports.
  virtual uint64_t UnixMs() const = 0;
};

// The real clocks; a process-wide instance that is never destroyed.
const NetClock& RealClock();

}  // namespace keiretsu::net
