#include "keiretsu/api/watch_hub.h"

namespace keiretsu::api {

void WatchHub::Publish(uint64_t cursor) {
  {
    std::lock_guard lock(mu_);
    if (cursor > latest_) latest_ = cursor;
  }
  cv_.notify_all();
}

void WatchHub::OnApplied(const std::vector<node::AppliedEntry>& applied) {
  if (!applied.empty()) Publish(applied.back().cursor);
}

bool WatchHub::WaitBeyond(uint64_t after, std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, max_wait, [&] { return closed_ || latest_ > after; });
  return latest_ > after;
}

void WatchHub::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool WatchHub::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

}  // namespace keiretsu::api
