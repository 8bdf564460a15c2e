// The feed-local walk: docs/PROTOCOL.md 19.5-19.7.
#include "keiretsu/protocol/key_chain.h"

#include <algorithm>
#include <map>
#include <set>

#include "keiretsu/protocol/entry.h"

namespace keiretsu::protocol {
namespace {

// Records of one seq that verify under one key, by id (a record id counted
// once, whichever of its copies verified).
using IdsAt = std::map<EntryId, size_t>;

class Walker {
 public:
  Walker(const InceptionCommitment& inception, std::span<const FeedRecord> records)
      : records_(records), key_(inception.id), next_(inception.next_key_digest) {
    for (size_t i = 0; i < records.size(); ++i) by_seq_[records[i].seq].push_back(i);
    used_.insert(key_);
    out_.keys.push_back({1, key_, next_});
  }

  FeedWalk Run() {
    for (uint64_t s = 1;; ++s) {
      if (!Step(s)) break;
    }
    if (out_.open() && next_.IsZero()) StopAtForkAbove(out_.prefix.size() + 1);
    return std::move(out_);
  }

 private:
  bool Verified(size_t i, const PublicKey& key) {
    auto [it, fresh] = verified_.try_emplace({i, key}, false);
    if (fresh) it->second = VerifiesUnder(records_[i], key);
    return it->second;
  }

  IdsAt UnderKey(uint64_t s, const PublicKey& key) {
    IdsAt ids;
    auto it = by_seq_.find(s);
    if (it == by_seq_.end()) return ids;
    for (size_t i : it->second)
      if (!ids.contains(records_[i].id) && Verified(i, key)) ids.emplace(records_[i].id, i);
    return ids;
  }

  // Rotates at s signed by the pre-committed next key.
  IdsAt ByNextKey(uint64_t s) {
    IdsAt ids;
    auto it = by_seq_.find(s);
    if (it == by_seq_.end() || next_.IsZero()) return ids;
    for (size_t i : it->second) {
      const auto& rot = records_[i].rotate;
      if (!rot || rot->new_key == key_ || NextKeyDigest(rot->new_key) != next_) continue;
      if (!ids.contains(records_[i].id) && Verified(i, rot->new_key))
        ids.emplace(records_[i].id, i);
    }
    return ids;
  }

  // A record at seq >= t + W signed by `key` (the key a rotate at t retires).
  bool ExceedsWindow(const PublicKey& key, uint64_t t) {
    for (auto it = by_seq_.lower_bound(t + kRecoveryWindow); it != by_seq_.end(); ++it)
      for (size_t i : it->second)
        if (Verified(i, key)) return true;
    return false;
  }

  void Stop(uint64_t s, StopReason reason, WalkEvidence evidence) {
    out_.stop_seq = s;
    out_.stop_reason = reason;
    out_.evidence.push_back(std::move(evidence));
  }
  void StopFork(uint64_t s, const EntryId& a, const EntryId& b) {
    Stop(s, StopReason::kFork, {EvidenceKind::kFork, s, std::min(a, b), std::max(a, b), ""});
  }
  void StopForkOfTwoLowest(uint64_t s, const IdsAt& ids) {
    auto it = ids.begin();
    EntryId first = it->first;
    StopFork(s, first, (++it)->first);
  }

  // Picks the record the chain continues with at s; nullopt ends the walk
  // (a gap, or a stop recorded here).
  std::optional<std::pair<size_t, bool>> Choose(uint64_t s) {
    IdsAt a = UnderKey(s, key_);
    IdsAt b = ByNextKey(s);
    if (b.size() >= 2) {
      StopForkOfTwoLowest(s, b);
      return std::nullopt;
    }
    if (b.size() == 1 && !a.empty()) {
      size_t r = b.begin()->second;
      const EntryId& old = a.begin()->first;
      if (records_[r].prev != prev_ || ExceedsWindow(key_, s)) {
        StopFork(s, records_[r].id, old);
        return std::nullopt;
      }
      out_.evidence.push_back({EvidenceKind::kKeyRecovery, s, records_[r].id, old,
                               "rotation by the pre-committed next key overrides the "
                               "records signed by the key it retires"});
      return std::pair{r, true};
    }
    if (b.size() == 1) return std::pair{b.begin()->second, true};
    if (a.size() >= 2) {
      StopForkOfTwoLowest(s, a);
      return std::nullopt;
    }
    if (a.size() == 1) return std::pair{a.begin()->second, false};
    return std::nullopt;
  }

  // Why the chosen record at s breaks a rule, or empty.
  std::string Invalid(const FeedRecord& r, bool by_next_key) {
    if (!r.body_status.ok()) return std::string(r.body_status.message());
    if (!r.rotate) return "";
    if (!by_next_key) return "rotation signed by the key it replaces, not by its new key";
    if (used_.contains(r.rotate->new_key)) return "rotation to a key the firm used before";
    if (r.rotate->next_key_digest == NextKeyDigest(r.rotate->new_key)) return "next key reused";
    for (const PublicKey& k : used_)
      if (r.rotate->next_key_digest == NextKeyDigest(k))
        return "rotation commits to a key the firm used before";
    return "";
  }

  // Decides seq s; false ends the walk.
  bool Step(uint64_t s) {
    auto chosen = Choose(s);
    if (!chosen) return false;
    const FeedRecord& r = records_[chosen->first];
    if (r.prev != prev_) return false;  // a wrong prev: kept, never applied
    if (std::string why = Invalid(r, chosen->second); !why.empty()) {
      Stop(s, StopReason::kInvalidEntry, {EvidenceKind::kInvalidEntry, s, r.id, EntryId{}, why});
      return false;
    }
    out_.prefix.push_back(chosen->first);
    out_.effective_id = r.id;
    prev_ = r.id;
    if (r.rotate) {
      used_.insert(r.rotate->new_key);
      key_ = r.rotate->new_key;
      next_ = r.rotate->next_key_digest;
      out_.keys.push_back({s, key_, next_});
    }
    if (r.leave) {
      out_.left_seq = s;
      return false;
    }
    return true;
  }

  // A feed whose key can never change keeps the v1 rule: a fork proven
  // anywhere above the head stops the feed at the lowest such seq.
  void StopAtForkAbove(uint64_t from) {
    for (auto it = by_seq_.upper_bound(from); it != by_seq_.end(); ++it) {
      IdsAt a = UnderKey(it->first, key_);
      if (a.size() >= 2) {
        StopForkOfTwoLowest(it->first, a);
        return;
      }
    }
  }

  std::span<const FeedRecord> records_;
  std::map<uint64_t, std::vector<size_t>> by_seq_;
  std::map<std::pair<size_t, PublicKey>, bool> verified_;
  PublicKey key_;
  Digest next_;
  std::set<PublicKey> used_;
  EntryId prev_;
  FeedWalk out_;
};

}  // namespace

std::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone: return "";
    case StopReason::kFork: return "fork";
    case StopReason::kInvalidEntry: return "invalid-entry";
  }
  return "";
}

const PublicKey& FeedWalk::KeyAt(uint64_t seq) const {
  const KeySpan* span = &keys.front();
  for (const KeySpan& k : keys)
    if (k.from_seq <= seq) span = &k;
  return span->key;
}

std::vector<PublicKey> FeedWalk::Keys() const {
  std::vector<PublicKey> out;
  for (const KeySpan& k : keys) out.push_back(k.key);
  return out;
}

bool VerifiesUnder(const FeedRecord& record, const PublicKey& key) {
  return crypto::Verify(key, SigningMessage(record.content), record.signature);
}

FeedWalk WalkFeed(const InceptionCommitment& inception, std::span<const FeedRecord> records) {
  return Walker(inception, records).Run();
}

}  // namespace keiretsu::protocol
