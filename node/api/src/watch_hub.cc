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

void WatchHub::OnStopped(const std::vector<storage::Evidence>& stopped) {
  if (stopped.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (const storage::Evidence& e : stopped) {
      kept_stops_.push_back(e);
      ++stops_;
      if (kept_stops_.size() > kMaxStops) kept_stops_.pop_front();
    }
  }
  cv_.notify_all();
}

uint64_t WatchHub::stops() const {
  std::lock_guard lock(mu_);
  return stops_;
}

std::vector<storage::Evidence> WatchHub::StopsAfter(uint64_t seen) const {
  std::lock_guard lock(mu_);
  const uint64_t first_kept = stops_ - kept_stops_.size() + 1;
  std::vector<storage::Evidence> out;
  for (uint64_t n = std::max(seen + 1, first_kept); n <= stops_; ++n)
    out.push_back(kept_stops_[static_cast<size_t>(n - first_kept)]);
  return out;
}

void WatchHub::WaitForChange(uint64_t after, uint64_t stops_seen,
                             std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, max_wait, [&] { return closed_ || latest_ > after || stops_ > stops_seen; });
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
