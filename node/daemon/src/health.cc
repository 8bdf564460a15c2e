#include "node/daemon/src/health.h"

#include <spdlog/spdlog.h>

namespace keiretsu::daemon {

Periodic::Periodic(std::chrono::milliseconds interval, std::function<void()> task) {
  thread_ = std::thread([this, interval, task = std::move(task)] {
    std::unique_lock lock(mu_);
    for (;;) {
      if (wake_.wait_for(lock, interval, [this] { return stop_; })) return;
      lock.unlock();
      task();
      lock.lock();
    }
  });
}

Periodic::~Periodic() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool WritabilityLog::Observe(const Status& writable) {
  const bool first = !last_.has_value();
  const bool was_ok = first || last_->ok();
  const bool changed =
      first ? !writable.ok() : was_ok != writable.ok() || last_->code() != writable.code();
  last_ = writable;
  if (!changed) return false;
  if (writable.ok()) {
    spdlog::info("writes resumed: the data directory is writable again");
  } else if (was_ok) {
    spdlog::error("writes stopped: {} (reads and peer sessions go on; checked every second)",
                  writable.message());
  } else {
    spdlog::warn("writes still stopped, now: {}", writable.message());
  }
  return true;
}

ApiWatch::ApiWatch(int max_failures, std::function<void()> feed,
                   std::function<void(const Status&)> dead)
    : max_failures_(max_failures), feed_(std::move(feed)), dead_(std::move(dead)) {}

void ApiWatch::Observe(const Status& check) {
  if (check.ok()) {
    if (failures_ > 0) spdlog::info("api self-check: the API answers again");
    failures_ = 0;
    if (feed_) feed_();
    return;
  }
  ++failures_;
  if (failures_ == 1) spdlog::warn("api self-check failed: {}", check.message());
  if (failures_ >= max_failures_ && !dead_called_) {
    dead_called_ = true;
    spdlog::error("api self-check failed {} times in a row ({}): the API no longer answers",
                  failures_, check.message());
    if (dead_) dead_(check);
  }
}

}  // namespace keiretsu::daemon
