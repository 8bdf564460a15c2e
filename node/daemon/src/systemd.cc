#include "node/daemon/src/systemd.h"

#include <systemd/sd-daemon.h>

#include <cstdint>

namespace keiretsu::daemon::systemd {

void NotifyReady(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void NotifyStopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void NotifyWatchdog() {
  sd_notify(0, "WATCHDOG=1");
}

std::chrono::microseconds WatchdogInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(usec);
}

}  // namespace keiretsu::daemon::systemd
