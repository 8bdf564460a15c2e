// NetTimer: the one place the net code waits on real time (the Asio
// adapter). Sans-I/O code decides when something is due, as an instant of
// the injected NetClock (PeerSync's ticks, the dialer's backoff, the
// handshake deadline, the accept pause); a NetTimer only sleeps until the
// clock reaches that instant. It sleeps the remaining time and, woken,
// asks the clock again: with RealClock that is one sleep; with a test clock
// the instant has come when the clock says so (one already past completes
// at once).
//
// Thread-safety: as asio::steady_timer: use it on its executor (a strand);
// Cancel from elsewhere by posting it there.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include "node/net/src/clock.h"

namespace keiretsu::net {

class NetTimer {
 public:
  NetTimer(asio::any_io_executor executor, const NetClock& clock)
      : timer_(std::move(executor)), clock_(clock) {}

  // Waits until the clock reaches `at` (TimePoint::max(): until Cancel).
  // True when it did; false when cancelled (by Cancel or by another
  // WaitUntil on this timer).
  asio::awaitable<bool> WaitUntil(TimePoint at) {
    constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);
    for (;;) {
      if (at == TimePoint::max()) {
        timer_.expires_at(asio::steady_timer::time_point::max());
      } else {
        const auto now = clock_.Now();
        if (now >= at) co_return true;
        timer_.expires_after(at - now);
      }
      auto [ec] = co_await timer_.async_wait(nothrow);
      if (ec) co_return false;
    }
  }
  // Ends the pending wait, which returns false.
  void Cancel() { timer_.cancel(); }
  asio::any_io_executor get_executor() { return timer_.get_executor(); }

 private:
  asio::steady_timer timer_;
  const NetClock& clock_;
};

}  // namespace keiretsu::net
