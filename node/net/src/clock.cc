#include "node/net/src/clock.h"

namespace keiretsu::net {

namespace {
class SteadyNetClock final : public NetClock {
 public:
  TimePoint Now() const override { return Clock::now(); }
  uint64_t UnixMs() const override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  }
};
}  // namespace

const NetClock& RealClock() {
  static const SteadyNetClock* clock = new SteadyNetClock();
  return *clock;
}

}  // namespace keiretsu::net
