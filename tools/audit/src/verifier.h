// Private: record checks on many cores. The auditor hands over a batch of
// records and gets one RecordCheck per record, in the same order, so the
// chain checks that follow stay sequential and deterministic.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "keiretsu/audit/audit.h"
#include "keiretsu/protocol/entry.h"

namespace keiretsu::audit {

class Verifier {
 public:
  // `threads` worker threads (0: one per core); the calling thread helps
  // in CheckAll. `cache` may be null.
  Verifier(const protocol::Genesis& genesis, unsigned threads,
           std::shared_ptr<SignatureCache> cache);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Strata 1 and 2 of a record (protocol::CheckFeedLocal, then
  // protocol::CheckMembership against the genesis) with the signature
  // verified (or known verified through the cache: the same bytes verified
  // before).
  protocol::RecordCheck Check(ByteView record) const;

  // Check() of every record in `records`, in parallel; out[i] for records[i].
  void CheckAll(const std::vector<const Bytes*>& records, std::vector<protocol::RecordCheck>* out);

  // The same in the background: Start returns at once, and the workers fill
  // `out` while the caller does other work (the auditor reads and handles
  // the neighbouring batch meanwhile). `records`, the bytes they point to
  // and `out` must stay untouched until Wait() returns. One job at a time.
  void Start(const std::vector<const Bytes*>& records, std::vector<protocol::RecordCheck>* out);
  void Wait();

 private:
  protocol::RecordCheck CheckStrata(ByteView record, bool verify_signature) const;
  void Work();
  void RunShare();
  // Start's body; false when `records` were checked inline (too few, or
  // no workers) and nothing runs in the background.
  bool Dispatch(const std::vector<const Bytes*>& records, std::vector<protocol::RecordCheck>* out);

  const protocol::Genesis& genesis_;
  std::shared_ptr<SignatureCache> cache_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;  // GUARDED_BY(mu_): bumped per CheckAll
  size_t busy_ = 0;          // GUARDED_BY(mu_): workers still on this generation
  bool stop_ = false;        // GUARDED_BY(mu_)
  // The current job (set before generation_ is bumped, read by workers).
  const std::vector<const Bytes*>* job_ = nullptr;
  std::vector<protocol::RecordCheck>* out_ = nullptr;
  std::atomic<size_t> next_{0};
};

}  // namespace keiretsu::audit
