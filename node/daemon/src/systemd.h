// Private to keiretsud: the service manager protocol (sd_notify(3)). Each
// call is a no-op when keiretsud does not run under systemd (no
// NOTIFY_SOCKET), so the daemon calls them unconditionally.
#pragma once

#include <chrono>
#include <string>

namespace keiretsu::daemon::systemd {

// READY=1 and a STATUS line: the API is serving.
void NotifyReady(const std::string& status);
// STOPPING=1: a graceful stop began.
void NotifyStopping();
// WATCHDOG=1: the API answered its self-check.
void NotifyWatchdog();
// The unit's WatchdogSec when the service manager expects WATCHDOG=1
// pings from this process; zero otherwise.
std::chrono::microseconds WatchdogInterval();

}  // namespace keiretsu::daemon::systemd
