// WatchHub: wakes Watch streams when the ledger commits.
//
// Watch streams read the ledger's applied-entry log (Ledger::ReadLog) and,
// once caught up, sleep here until a newer cursor is published. The hub
// holds only the newest cursor, never entries: a slow watcher catches up
// from the log, so nothing is buffered per watcher.
//
// Wiring: whoever owns the ledger forwards its listener here, e.g.
//   ledger.SetListener([hub](const auto& applied) { hub->OnApplied(applied); });
//
// Thread-safety: every method is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "keiretsu/node/ledger.h"

namespace keiretsu::api {

class WatchHub {
 public:
  // Records that the log now reaches `cursor` and wakes every waiter.
  // Cheap: called from the ledger's commit path.
  void Publish(uint64_t cursor);
  // Publish(the last cursor of `applied`); nothing when empty.
  void OnApplied(const std::vector<node::AppliedEntry>& applied);

  // Feeds that stopped (the ledger's stop listener): each proof becomes a
  // numbered stop event and every waiter wakes. The newest kMaxStops are
  // kept; stops are rare (at most a few per member).
  static constexpr size_t kMaxStops = 1024;
  void OnStopped(const std::vector<storage::Evidence>& stopped);
  // Stop events published so far (their numbers are 1..stops()).
  uint64_t stops() const;
  // The kept stop events numbered after `seen`, oldest first.
  std::vector<storage::Evidence> StopsAfter(uint64_t seen) const;
  // As WaitBeyond, also returning early when a stop event after
  // `stops_seen` was published.
  void WaitForChange(uint64_t after, uint64_t stops_seen, std::chrono::milliseconds max_wait);

  // Blocks until a cursor beyond `after` was published, Close() was called,
  // or `max_wait` passed. Returns true when a newer cursor is known.
  bool WaitBeyond(uint64_t after, std::chrono::milliseconds max_wait);

  // Ends every wait now and every later one at once: Watch streams see
  // closed() and finish cleanly (server shutdown).
  void Close();
  bool closed() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t latest_ = 0;                       // GUARDED_BY(mu_)
  uint64_t stops_ = 0;                        // GUARDED_BY(mu_): stop events published
  std::deque<storage::Evidence> kept_stops_;  // GUARDED_BY(mu_): the newest, up to kMaxStops
  bool closed_ = false;                       // GUARDED_BY(mu_)
};

}  // namespace keiretsu::api
