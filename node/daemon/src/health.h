// Private: the daemon's periodic health work, kept apart from its wiring so
// the decisions can be tested without time passing.
//   - Periodic runs a task every interval on its own thread;
//   - WritabilityLog logs the store's writability once per change;
//   - ApiWatch turns self-check results into service-manager watchdog
//     pings, and into an exit when the API stays dead.
//
// Thread-safety: Periodic's task runs on Periodic's thread; WritabilityLog
// and ApiWatch are used from that one thread only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "keiretsu/common/status.h"

namespace keiretsu::daemon {

// Calls `task` every `interval` (first after one interval) until destroyed.
// Between calls it waits on a condition variable, which the destructor
// signals, so stopping never waits out an interval and nothing spins.
class Periodic {
 public:
  Periodic(std::chrono::milliseconds interval, std::function<void()> task);
  ~Periodic();  // stops, waits for a running task, joins
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

// Logs the data directory's writability when it changes, and only then:
// writes stopping is an error (with the reason), a different reason a
// warning, writes resuming an info line. Returns true when it logged.
class WritabilityLog {
 public:
  bool Observe(const Status& writable);

 private:
  std::optional<Status> last_;
};

// Counts self-check failures in a row. A pass calls `feed` (systemd's
// WATCHDOG=1); `max_failures` failures in a row call `dead` once, with the
// last failure. Logs the first failure and the recovery, not every check.
class ApiWatch {
 public:
  ApiWatch(int max_failures, std::function<void()> feed, std::function<void(const Status&)> dead);
  void Observe(const Status& check);
  int failures() const { return failures_; }

 private:
  const int max_failures_;
  std::function<void()> feed_;
  std::function<void(const Status&)> dead_;
  int failures_ = 0;
  bool dead_called_ = false;
};

}  // namespace keiretsu::daemon
