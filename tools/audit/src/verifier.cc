#include "tools/audit/src/verifier.h"

#include <unordered_set>

#include "keiretsu/crypto/hash.h"

namespace keiretsu::audit {

struct SignatureCache::Impl {
  explicit Impl(size_t cap) : capacity(cap) {}
  std::mutex mu;
  std::unordered_set<Digest> verified;  // GUARDED_BY(mu)
  const size_t capacity;
};

SignatureCache::SignatureCache(size_t capacity) : impl_(std::make_unique<Impl>(capacity)) {}
SignatureCache::~SignatureCache() = default;

namespace {
// Below this many records a batch is checked on the calling thread: waking
// workers costs more than a few verifications.
constexpr size_t kMinParallel = 64;
constexpr size_t kGrain = 16;  // records a worker takes at a time
}  // namespace

Verifier::Verifier(const protocol::Genesis& genesis, unsigned threads,
                   std::shared_ptr<SignatureCache> cache)
    : genesis_(genesis), cache_(std::move(cache)) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  if (threads > 1)
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

Verifier::~Verifier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

// Stratum 1 (the record and its own feed), then stratum 2 (membership).
protocol::RecordCheck Verifier::CheckStrata(ByteView record, bool verify_signature) const {
  protocol::RecordCheck check = protocol::CheckFeedLocal(
      record, genesis_.network_id(), protocol::InceptionKeys{}, verify_signature);
  protocol::CheckMembership(check, protocol::GenesisMembership(genesis_));
  return check;
}

protocol::RecordCheck Verifier::Check(ByteView record) const {
  if (!cache_) return CheckStrata(record, /*verify_signature=*/true);
  // The signature's validity depends on the record's bytes alone (author,
  // content, signature), so a hash of them is a sound key; network and
  // membership are still checked against this audit's genesis every time.
  Digest key{crypto::Blake2b256(record)};
  SignatureCache::Impl& c = *cache_->impl_;
  bool known;
  {
    std::lock_guard lock(c.mu);
    known = c.verified.count(key) != 0;
  }
  protocol::RecordCheck check = CheckStrata(record, !known);
  if (!known && check.signed_entry) {
    std::lock_guard lock(c.mu);
    if (c.verified.size() >= c.capacity) c.verified.clear();
    c.verified.insert(key);
  }
  return check;
}

void Verifier::RunShare() {
  const size_t n = job_->size();
  for (;;) {
    size_t begin = next_.fetch_add(kGrain);
    if (begin >= n) return;
    size_t end = std::min(n, begin + kGrain);
    for (size_t i = begin; i < end; ++i) (*out_)[i] = Check(*(*job_)[i]);
  }
}

void Verifier::Work() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    RunShare();
    {
      std::lock_guard lock(mu_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
}

void Verifier::Start(const std::vector<const Bytes*>& records,
                     std::vector<protocol::RecordCheck>* out) {
  (void)Dispatch(records, out);
}

bool Verifier::Dispatch(const std::vector<const Bytes*>& records,
                        std::vector<protocol::RecordCheck>* out) {
  out->assign(records.size(), protocol::RecordCheck{});
  if (workers_.empty() || records.size() < kMinParallel) {
    for (size_t i = 0; i < records.size(); ++i) (*out)[i] = Check(*records[i]);
    return false;  // done already: Wait() returns at once
  }
  job_ = &records;
  out_ = out;
  next_.store(0);
  {
    std::lock_guard lock(mu_);
    busy_ = workers_.size();
    ++generation_;
  }
  wake_.notify_all();
  return true;
}

void Verifier::Wait() {
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return busy_ == 0; });
}

void Verifier::CheckAll(const std::vector<const Bytes*>& records,
                        std::vector<protocol::RecordCheck>* out) {
  if (Dispatch(records, out)) {
    RunShare();  // the calling thread helps
    Wait();
  }
}

}  // namespace keiretsu::audit
