#include "keiretsu/node/ledger.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "keiretsu/common/overloaded.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/governance.h"
#include "node/src/ledger_apply.h"
#include "node/src/ledger_clearing.h"
#include "node/src/ledger_gov.h"

namespace keiretsu::node {

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kApplied: return "applied";
    case Outcome::kDuplicate: return "duplicate";
    case Outcome::kPending: return "pending";
    case Outcome::kForkProven: return "fork-proven";
    case Outcome::kFeedEnded: return "feed-ended";
    case Outcome::kIgnored: return "ignored";
    case Outcome::kRejected: return "rejected";
  }
  return "unknown";
}

namespace {
double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One CountEntries call per outcome present in `results`.
void CountOutcomes(Metrics& metrics, const std::vector<IngestResult>& results) {
  constexpr size_t kOutcomes = static_cast<size_t>(Outcome::kRejected) + 1;
  uint64_t counts[kOutcomes] = {};
  for (const IngestResult& r : results) ++counts[static_cast<size_t>(r.outcome)];
  for (size_t i = 0; i < kOutcomes; ++i)
    if (counts[i] > 0) metrics.CountEntries(false, OutcomeName(static_cast<Outcome>(i)), counts[i]);
}
}  // namespace

Status Ledger::Commit(storage::Batch& batch, bool sync) {
  const auto start = std::chrono::steady_clock::now();
  Status s = store_->Commit(batch, sync);
  metrics().ObserveCommit(SecondsSince(start), sync);
  return s;
}

Ledger::Ledger(protocol::Genesis genesis, std::unique_ptr<storage::Store> store,
               LedgerOptions options)
    : genesis_(std::move(genesis)),
      zero_(protocol::EpochZeroOf(genesis_)),
      options_(options),
      store_(std::move(store)) {}
Ledger::~Ledger() = default;

Result<std::unique_ptr<Ledger>> Ledger::Open(protocol::Genesis genesis,
                                             std::unique_ptr<storage::Store> store,
                                             LedgerOptions options) {
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(genesis), std::move(store), options));
  {
    std::lock_guard lock(ledger->mu_);
    KEIRETSU_RETURN_IF_ERROR(ledger->LoadFromStore());
  }
  // After an upgrade, kept records of kinds now known apply.
  KEIRETSU_RETURN_IF_ERROR(ledger->ReleasePending());
  return ledger;
}

Status Ledger::LoadFromStore() {
  KEIRETSU_RETURN_IF_ERROR(store_->CheckConsistency());
  // A feed is stored only once its author is a member of some epoch; an
  // admission undone by a fork learnt later leaves its feed uncounted.
  feeds_ = store_->LoadFeedStates();
  log_cursor_ = store_->LastLogCursor();
  KEIRETSU_RETURN_IF_ERROR(LoadGovernance());
  KEIRETSU_RETURN_IF_ERROR(LoadClearing());
  return LoadPending();
}

// Reads each stored feed's effective prefix for its governance records, key
// chain and leave (only entries of kinds 6-9 are decoded), then computes the
// epoch chain. REQUIRES: mu_ held (or the ledger not yet shared).
Status Ledger::LoadGovernance() {
  gov_feeds_.clear();
  clearing_proposers_.clear();
  constexpr size_t kChunk = 4096;
  constexpr size_t kKindOffset = 113;
  for (const auto& [author, st] : feeds_) {
    GovFeed g = NewGovFeed({author, Digest{}});
    uint64_t next = 1;
    while (next <= st.effective_seq()) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, st.effective_seq() - next + 1));
      KEIRETSU_ASSIGN_OR_RETURN(auto records, store_->ReadFeed(author, next, want));
      if (records.size() != want) return Corruption("feed " + author.Short() + " has a gap");
      for (const Bytes& rec : records) {
        const uint64_t seq = next++;
        if (rec.size() <= kKindOffset) return Corruption("stored entry too short");
        const uint8_t kind = rec[kKindOffset];
        if (kind == static_cast<uint8_t>(protocol::BodyKind::kClearingPropose))
          clearing_proposers_.insert(author);
        if (kind < static_cast<uint8_t>(protocol::BodyKind::kPropose) ||
            kind > static_cast<uint8_t>(protocol::BodyKind::kRotate))
          continue;
        auto check = FeedLocal(rec, /*verify=*/false);
        if (check.fault != protocol::Fault::kNone)
          return Corruption("stored entry " + author.Short() + "/" + std::to_string(seq) +
                            " does not decode");
        const protocol::SignedEntry& se = *check.signed_entry;
        if (const auto* p = std::get_if<protocol::Propose>(&se.entry.body))
          g.records[seq] = {seq, se.id, *p};
        else if (const auto* v = std::get_if<protocol::Vote>(&se.entry.body))
          g.records[seq] = {seq, se.id, *v};
        else if (const auto* r = std::get_if<protocol::Rotate>(&se.entry.body))
          g.keys.push_back({seq, r->new_key, r->next_key_digest});
        else if (std::holds_alternative<protocol::Leave>(se.entry.body))
          g.left_seq = seq;
      }
    }
    gov_feeds_[author] = std::move(g);
  }
  history_ = ComputeHistory(
      zero_,
      [&](const protocol::InceptionCommitment& m) -> const GovFeed& {
        auto [it, fresh] = gov_feeds_.try_emplace(m.id, NewGovFeed(m));
        it->second.keys.front().next_key_digest = m.next_key_digest;
        return it->second;
      },
      [&](const PublicKey& id) {
        auto f = feeds_.find(id);
        return f == feeds_.end() || f->second.stop_seq == 0;
      });
  PublishNamesLocked();
  return Status::Ok();
}

// The committed set-offs are a function of the stored feeds (20.5): the
// stored balances include exactly their legs.
Status Ledger::LoadClearing() {
  set_offs_.clear();
  if (clearing_proposers_.empty()) return Status::Ok();
  KEIRETSU_ASSIGN_OR_RETURN(
      auto feeds,
      ClearingFeedsOf(
          *history_,
          [&](const PublicKey& a) {
            auto f = feeds_.find(a);
            return f == feeds_.end() ? uint64_t{0} : f->second.effective_seq();
          },
          [&](const PublicKey& a, uint64_t seq) -> Result<Bytes> {
            KEIRETSU_ASSIGN_OR_RETURN(auto rec, store_->GetEntry(a, seq));
            if (!rec) return Corruption("feed " + a.Short() + " has a gap");
            return std::move(*rec);
          },
          [&](ByteView rec) { return FeedLocal(rec, /*verify=*/false); }, clearing_proposers_));
  set_offs_ = CommittedSetOffs(protocol::DecideClearing(feeds));
  return Status::Ok();
}

Result<protocol::ClearingResult> Ledger::Clearing() const {
  std::lock_guard lock(mu_);
  if (clearing_proposers_.empty()) return protocol::ClearingResult{};
  KEIRETSU_ASSIGN_OR_RETURN(
      auto feeds,
      ClearingFeedsOf(
          *history_,
          [&](const PublicKey& a) {
            auto f = feeds_.find(a);
            return f == feeds_.end() ? uint64_t{0} : f->second.effective_seq();
          },
          [&](const PublicKey& a, uint64_t seq) -> Result<Bytes> {
            KEIRETSU_ASSIGN_OR_RETURN(auto rec, store_->GetEntry(a, seq));
            if (!rec) return Corruption("feed " + a.Short() + " has a gap");
            return std::move(*rec);
          },
          [&](ByteView rec) { return FeedLocal(rec, /*verify=*/false); }, clearing_proposers_));
  return protocol::DecideClearing(feeds);
}

// After a failed commit the store refuses writes until it reopens, and the
// failed batch may or may not be there afterwards (a failed sync may still
// have written it): the caches are reloaded from what the store holds, so
// the next entry builds on the stored head, never beside it.
Status Ledger::RecoverIfNeeded() {
  if (!store_->NeedsRecovery()) return Status::Ok();
  KEIRETSU_RETURN_IF_ERROR(store_->Recover());
  return LoadFromStore();
}

Status Ledger::RefreshStorage() {
  std::lock_guard lock(mu_);
  // Recover touches nothing while the disk is below the reserve.
  (void)store_->Refresh();
  KEIRETSU_RETURN_IF_ERROR(RecoverIfNeeded());
  return store_->Writable();
}

// Counts the pending records and finds those of unknown kinds or authors.
// REQUIRES: mu_ held (or the ledger not yet shared).
Status Ledger::LoadPending() {
  KEIRETSU_ASSIGN_OR_RETURN(auto pending, store_->ListPending());
  pending_count_ = pending.size();
  non_member_pending_ = 0;
  unknown_kinds_.clear();
  std::optional<std::pair<PublicKey, uint64_t>> read;  // the (author, seq) last read
  std::vector<Bytes> records;
  for (const auto& p : pending) {
    if (!history_->EverMember(p.author)) ++non_member_pending_;
    if (read != std::make_pair(p.author, p.seq)) {
      KEIRETSU_ASSIGN_OR_RETURN(records, store_->PendingAt(p.author, p.seq));
      read = std::make_pair(p.author, p.seq);
    }
    for (const Bytes& rec : records) {
      auto check = FeedLocal(rec, /*verify=*/false);
      if (check.fault == protocol::Fault::kUnknownKind && check.signed_entry->id == p.id)
        unknown_kinds_[{p.author, p.seq, p.id}] = check.kind_tag;
    }
  }
  return Status::Ok();
}

Status Ledger::ReleasePending() {
  std::vector<AppliedEntry> applied;
  {
    std::lock_guard lock(mu_);
    KEIRETSU_RETURN_IF_ERROR(RecoverIfNeeded());
    KEIRETSU_ASSIGN_OR_RETURN(auto pending, store_->ListPending());
    Apply round(*this, feeds_, log_cursor_);
    for (const auto& p : pending) {
      auto f = feeds_.find(p.author);
      const uint64_t head = f == feeds_.end() ? 0 : f->second.head_seq;
      if (p.seq == head + 1) round.Release(p.author);
    }
    round.Settle();
    if (!round.error().ok()) return round.error();
    if (round.batch().size() == 0) return Status::Ok();
    KEIRETSU_RETURN_IF_ERROR(store_->Commit(round.batch(), /*sync=*/true));
    Adopt(round);
    applied = std::move(round.applied());
  }
  if (listener_ && !applied.empty()) listener_(applied);
  return Status::Ok();
}

void Ledger::Adopt(Apply& round) {
  for (const auto& [author, st] : round.touched()) feeds_[author] = st;
  pending_count_ =
      static_cast<size_t>(static_cast<int64_t>(pending_count_) + round.pending_delta());
  non_member_pending_ += round.kept_for_membership();
  for (const auto& [ref, tag] : round.kept_unknown_kinds()) unknown_kinds_[ref] = tag;
  for (const auto& ref : round.dropped_pending()) unknown_kinds_.erase(ref);
  log_cursor_ = round.log_cursor();
  for (const auto& [author, g] : round.touched_gov()) gov_feeds_[author] = g;
  if (history_ != round.history()) {
    history_ = round.history();
    PublishNamesLocked();
  }
  clearing_proposers_.insert(round.new_proposers().begin(), round.new_proposers().end());
  if (round.set_offs()) set_offs_ = *round.set_offs();
  // Admitted authors' kept records are no longer a non-member's.
  if (round.membership_changed()) (void)LoadPending();
}

std::vector<UpgradeNeeded> Ledger::UpgradesNeeded() const {
  std::lock_guard lock(mu_);
  std::vector<UpgradeNeeded> out;
  for (const auto& [ref, tag] : unknown_kinds_)
    out.push_back(UpgradeNeeded{std::get<0>(ref), std::get<1>(ref), std::get<2>(ref), tag});
  return out;
}

protocol::RecordCheck Ledger::FeedLocal(ByteView record, bool verify) const {
  return protocol::CheckFeedLocal(record, genesis_.network_id(), keys_, verify, options_.kinds);
}

// Every member's key chain, as the ledger holds it, for checking signatures
// outside the lock.
struct Ledger::KeySnapshot {
  std::map<PublicKey, std::vector<protocol::KeySpan>> members;
};

Ledger::KeySnapshot Ledger::SnapshotKeys() const {
  KeySnapshot out;
  for (const protocol::EpochMember& m : history_->current().members) {
    auto g = gov_feeds_.find(m.id);
    out.members[m.id] = g != gov_feeds_.end() ? g->second.keys : NewGovFeed(m.inception()).keys;
  }
  return out;
}

std::vector<protocol::RecordCheck> Ledger::CheckAll(std::span<const Bytes> records,
                                                    const KeySnapshot& keys) const {
  // Decode first (cheap), then decide which keys each record may verify
  // under: the key in force before its seq, and for a rotate the new key it
  // names when that is the pre-committed one. Rotates earlier in the same
  // batch count, so a batch can carry a rotation and the entries after it.
  std::vector<protocol::RecordCheck> checks(records.size());
  std::vector<std::array<PublicKey, 2>> candidates(records.size());
  std::map<PublicKey, std::vector<protocol::KeySpan>> overlay;
  for (size_t i = 0; i < records.size(); ++i) {
    checks[i] = FeedLocal(records[i], /*verify=*/false);
    if (protocol::IsUnattributable(checks[i].fault) || !checks[i].signed_entry) continue;
    const protocol::Entry& e = checks[i].signed_entry->entry;
    auto known = keys.members.find(e.author);
    if (known == keys.members.end()) {
      candidates[i][0] = e.author;  // a non-member: its records verify under its id
      continue;
    }
    auto [chain, fresh] = overlay.try_emplace(e.author, known->second);
    const protocol::KeySpan k = SpanBefore(chain->second, e.seq);
    candidates[i][1] = k.key;
    const auto* rot = checks[i].fault == protocol::Fault::kNone
                          ? std::get_if<protocol::Rotate>(&e.body)
                          : nullptr;
    if (rot && !k.next_key_digest.IsZero() && rot->new_key != k.key &&
        protocol::NextKeyDigest(rot->new_key) == k.next_key_digest) {
      candidates[i][0] = rot->new_key;
      if (chain->second.back().from_seq < e.seq)
        chain->second.push_back({e.seq, rot->new_key, rot->next_key_digest});
    }
  }
  auto verify = [&](size_t i) {
    protocol::RecordCheck& c = checks[i];
    if (protocol::IsUnattributable(c.fault) || !c.signed_entry) return;
    const protocol::SignedEntry& se = *c.signed_entry;
    crypto::Signature sig;
    std::copy(se.record.end() - 64, se.record.end(), sig.begin());
    const Bytes message = protocol::SigningMessage(se.content());
    for (const PublicKey& key : candidates[i]) {
      if (key.IsZero()) continue;
      if (crypto::Verify(key, message, sig)) {
        c.signer = key;
        return;
      }
    }
    const std::string where = se.entry.author.Short() + "/" + std::to_string(se.entry.seq);
    c = protocol::RecordCheck{};
    c.fault = protocol::Fault::kBadSignature;
    c.status = Unauthenticated("signature of entry " + where + " does not verify");
  };
  unsigned threads = options_.verify_threads != 0
                         ? options_.verify_threads
                         : std::max(1u, std::thread::hardware_concurrency());
  // Spawning threads costs more than a few verifications.
  constexpr size_t kMinPerThread = 32;
  threads = static_cast<unsigned>(
      std::min<size_t>(threads, std::max<size_t>(1, records.size() / kMinPerThread)));
  if (threads <= 1) {
    for (size_t i = 0; i < records.size(); ++i) verify(i);
    return checks;
  }
  // Threads take small grains from a shared counter rather than a fixed
  // share each: when one is descheduled (the peer's session, the commit of
  // another ingest), the others take over its part instead of waiting.
  constexpr size_t kGrain = 16;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t begin; (begin = next.fetch_add(kGrain)) < records.size();)
      for (size_t i = begin; i < std::min(records.size(), begin + kGrain); ++i) verify(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  return checks;
}

std::vector<IngestResult> Ledger::Ingest(std::span<const Bytes> records, bool sync) {
  return Ingest(records, sync, {});
}

std::vector<IngestResult> Ledger::Ingest(std::span<const Bytes> records, bool sync,
                                         const std::vector<bool>& as_evidence) {
  if (!as_evidence.empty() && as_evidence.size() != records.size()) {
    const Status s =
        InvalidArgument("Ingest: " + std::to_string(as_evidence.size()) + " evidence flags for " +
                        std::to_string(records.size()) + " records");
    return std::vector<IngestResult>(records.size(),
                                     IngestResult{Outcome::kRejected, s, {}, {}, 0});
  }
  KeySnapshot keys;
  {
    std::lock_guard lock(mu_);
    keys = SnapshotKeys();
  }
  std::vector<protocol::RecordCheck> checks = CheckAll(records, keys);
  std::vector<IngestResult> results;
  results.reserve(records.size());
  std::vector<AppliedEntry> applied;
  std::vector<storage::Evidence> stopped;
  {
    std::lock_guard lock(mu_);
    if (Status s = RecoverIfNeeded(); !s.ok()) {
      for (const auto& check : checks) {
        IngestResult& r = results.emplace_back(IngestResult{Outcome::kRejected, s, {}, {}, 0});
        if (const auto& se = check.signed_entry) {
          r.id = se->id;
          r.author = se->entry.author;
          r.seq = se->entry.seq;
        }
      }
      return results;
    }
    Apply round(*this, feeds_, log_cursor_);
    for (size_t i = 0; i < checks.size(); ++i)
      results.push_back(round.Take(checks[i], !as_evidence.empty() && as_evidence[i]));
    round.Settle();
    if (round.batch().size() > 0 || !round.error().ok()) {
      Status s = round.error().ok() ? Commit(round.batch(), sync) : round.error();
      if (!s.ok()) {
        for (auto& r : results) r = IngestResult{Outcome::kRejected, s, r.id, r.author, r.seq};
        CountOutcomes(metrics(), results);
        return results;
      }
      Adopt(round);
      applied = std::move(round.applied());
      stopped = std::move(round.stopped());
    }
  }
  CountOutcomes(metrics(), results);
  if (listener_ && !applied.empty()) listener_(applied);
  if (stop_listener_ && !stopped.empty()) stop_listener_(stopped);
  return results;
}

// Group commit: concurrent Appends queue up; the first caller to find no
// leader commits everything queued in one synced batch, then hands over.
// One fsync then covers many entries, which is what makes synced writes
// fast (bench/), while each caller still returns only once its entry is on
// stable storage.
struct Ledger::QueuedAppend {
  const crypto::SigningKey* key = nullptr;
  protocol::Body body;
  uint64_t timestamp_ms = 0;
  const AppendOptions* options = nullptr;
  // Set for AppendRotation: the firm that rotates (`key` is its next key).
  std::optional<PublicKey> rotation_firm;
  std::optional<Result<protocol::SignedEntry>> result;  // written by the group's leader
  bool replayed = false;                                // written by the group's leader
  // GUARDED_BY(append_mu_): the result is final (set after the leader
  // wrote it, so a waiter never reads it while it is being written).
  bool done = false;
  bool lead = false;  // GUARDED_BY(append_mu_): commit the queue next
  std::condition_variable wake;
};

Result<protocol::SignedEntry> Ledger::Append(const crypto::SigningKey& key, protocol::Body body,
                                             uint64_t timestamp_ms) {
  KEIRETSU_ASSIGN_OR_RETURN(Appended a, Append(key, std::move(body), timestamp_ms, {}));
  return std::move(a.entry);
}

Result<protocol::SignedEntry> Ledger::AppendRotation(const PublicKey& firm,
                                                     const crypto::SigningKey& next_key,
                                                     const Digest& next_after,
                                                     uint64_t timestamp_ms) {
  QueuedAppend me;
  me.key = &next_key;
  me.body = protocol::Rotate{next_key.public_key(), next_after};
  me.timestamp_ms = timestamp_ms;
  const AppendOptions none;
  me.options = &none;
  me.rotation_firm = firm;
  KEIRETSU_ASSIGN_OR_RETURN(Appended a, RunQueued(me));
  return std::move(a.entry);
}

Result<Appended> Ledger::Append(const crypto::SigningKey& key, protocol::Body body,
                                uint64_t timestamp_ms, const AppendOptions& options) {
  QueuedAppend me;
  me.key = &key;
  me.body = std::move(body);
  me.timestamp_ms = timestamp_ms;
  me.options = &options;
  return RunQueued(me);
}

Result<Appended> Ledger::RunQueued(QueuedAppend& me) {
  const auto start = std::chrono::steady_clock::now();
  auto outcome = [&me]() -> Result<Appended> {
    if (!me.result->ok()) return me.result->status();
    return Appended{std::move(*me.result).value(), me.replayed};
  };
  std::unique_lock lock(append_mu_);
  append_queue_.push_back(&me);
  if (append_leader_) {
    // Woken only for this entry: when its group committed (done) or when
    // the previous leader hands the queue over (lead). No thundering herd.
    me.wake.wait(lock, [&] { return me.done || me.lead; });
    if (me.done) {
      metrics().ObserveWrite(SecondsSince(start), me.result->ok());
      return outcome();
    }
  }
  append_leader_ = true;
  std::vector<QueuedAppend*> group;
  group.swap(append_queue_);
  lock.unlock();
  CommitAppends(group);  // sets every result in the group
  lock.lock();
  for (QueuedAppend* q : group) {
    q->done = true;
    if (q != &me) q->wake.notify_one();
  }
  if (append_queue_.empty()) {
    append_leader_ = false;
  } else {  // those who queued meanwhile form the next group, led by the first
    append_queue_.front()->lead = true;
    append_queue_.front()->wake.notify_one();
  }
  metrics().ObserveWrite(SecondsSince(start), me.result->ok());
  return outcome();
}

Result<std::optional<protocol::SignedEntry>> Ledger::FindRequest(const std::string& request_id,
                                                                 const Hash32& fingerprint) const {
  KEIRETSU_ASSIGN_OR_RETURN(auto rec, store_->GetRequest(request_id));
  if (!rec) return std::optional<protocol::SignedEntry>();
  if (rec->fingerprint != fingerprint)
    return AlreadyExists("request id was already used for a different request (entry " +
                         rec->entry.Short() + "); a new write needs a new request id");
  KEIRETSU_ASSIGN_OR_RETURN(auto record, GetEntry(rec->entry));
  if (!record) return Corruption("request id names entry " + rec->entry.Short() + ", not stored");
  protocol::RecordCheck check = FeedLocal(*record, /*verify=*/false);
  if (check.fault != protocol::Fault::kNone || !check.signed_entry)
    return Corruption("stored entry " + rec->entry.Short() +
                      " does not decode: " + check.status.message());
  return std::optional<protocol::SignedEntry>(std::move(*check.signed_entry));
}

bool Ledger::ReplayRequest(QueuedAppend& q, const std::map<std::string, QueuedAppend*>& group_ids) {
  const AppendOptions& o = *q.options;
  if (o.request_id.empty()) return false;
  if (auto it = group_ids.find(o.request_id); it != group_ids.end()) {
    if (it->second->options->fingerprint != o.fingerprint)
      q.result = AlreadyExists("request id was already used for a different request");
    else
      q.result = *it->second->result, q.replayed = true;
    return true;
  }
  auto found = FindRequest(o.request_id, o.fingerprint);
  if (!found.ok()) {
    q.result = found.status();
    return true;
  }
  if (!*found) return false;
  q.result = std::move(**found);
  q.replayed = true;
  return true;
}

void Ledger::CommitAppends(const std::vector<QueuedAppend*>& group) {
  std::vector<AppliedEntry> applied;
  std::vector<QueuedAppend*> signed_ok;
  {
    std::lock_guard lock(mu_);
    if (Status s = RecoverIfNeeded(); !s.ok()) {
      for (QueuedAppend* q : group) q->result = s;
      return;
    }
    Apply round(*this, feeds_, log_cursor_);
    bool round_broken = false;
    std::map<std::string, QueuedAppend*> group_ids;  // request ids signed in this group
    for (QueuedAppend* q : group) {
      if (ReplayRequest(*q, group_ids)) continue;
      if (q->options->still_wanted) {
        if (Status wanted = q->options->still_wanted(); !wanted.ok()) {
          q->result = wanted;
          continue;
        }
      }
      auto author = AuthorOfAppend(round, *q);
      if (!author.ok()) {
        q->result = author.status();
        continue;
      }
      if (!write_gate_.empty()) {
        q->result = Unavailable("writes are paused: " + write_gate_);
        continue;
      }
      FeedState st = round.Peek(*author);
      protocol::Entry entry{genesis_.network_id(), *author,           st.head_seq + 1, st.head_id,
                            q->timestamp_ms,       std::move(q->body)};
      auto se = protocol::SignEntryUnder(entry, *q->key);
      if (!se.ok()) {  // a rule: nothing was signed, the others go on
        q->result = se.status();
        continue;
      }
      protocol::RecordCheck check;
      check.signed_entry = *se;
      check.signer = q->key->public_key();
      IngestResult r = round.Take(check);
      if (r.outcome != Outcome::kApplied || !round.error().ok()) {
        // Only a damaged state gets here (e.g. a record of this very feed
        // kept at the next seq): commit nothing rather than fork our feed.
        q->result = Internal("own entry was not applied: " + std::string(OutcomeName(r.outcome)) +
                             " " + r.status.message() + " " + round.error().message());
        round_broken = true;
        break;
      }
      if (!q->options->request_id.empty()) {
        round.batch().PutRequest(q->options->request_id,
                                 {se->id, q->options->fingerprint, q->timestamp_ms});
        group_ids.emplace(q->options->request_id, q);
      }
      q->result = std::move(se).value();
      signed_ok.push_back(q);
    }
    if (!round_broken) round.Settle();
    if (!round.error().ok()) {
      for (QueuedAppend* q : group)
        if (!q->result || q->result->ok()) q->result = round.error();
      return;
    }
    Status s = round_broken ? Internal("another write of this group failed; nothing was stored")
               : signed_ok.empty() ? Status::Ok()
                                   : Commit(round.batch(), /*sync=*/true);
    if (!s.ok()) {
      for (QueuedAppend* q : group)
        if (!q->result || q->result->ok()) q->result = s;
      return;
    }
    if (signed_ok.empty()) return;
    metrics().CountEntries(true, "applied", signed_ok.size());
    Adopt(round);
    applied = std::move(round.applied());
  }
  if (listener_) listener_(applied);
}

Result<PublicKey> Ledger::AuthorOfAppend(Apply& round, QueuedAppend& q) {
  const protocol::EpochHistory& h = *round.history();
  const protocol::Epoch& now = h.current();
  const PublicKey pk = q.key->public_key();
  PublicKey author;
  if (q.rotation_firm) {
    author = *q.rotation_firm;
    if (!h.EverMember(author)) return NotFound("firm " + author.Short() + " is not a member");
  } else {
    std::optional<PublicKey> found;
    for (const protocol::EpochMember& m : now.members)
      if (round.PeekGov(m.id).keys.back().key == pk) found = m.id;
    if (!found)
      return PermissionDenied("this node's key " + pk.Short() +
                              " is not the key in force of any member");
    author = *found;
  }
  const protocol::EpochMember* m = now.Find(author);
  if (m->removed)
    return FailedPrecondition("this firm was removed in epoch " +
                              std::to_string(m->removed_in_epoch) + ": its entries after seq " +
                              std::to_string(m->last_seq) + " count nowhere");
  const GovFeed& g = round.PeekGov(author);
  if (g.left_seq != 0)
    return FailedPrecondition("this firm left the network at seq " + std::to_string(g.left_seq));
  const FeedState& st = round.Peek(author);
  if (st.stop_seq != 0)
    return FailedPrecondition("this firm's own feed stopped at seq " + std::to_string(st.stop_seq) +
                              "; see `keiretsu status`");
  auto stale = [&](const Digest& named) {
    for (const protocol::Epoch& e : h.epochs)
      if (e.hash == named && e.number != now.number)
        return FailedPrecondition("stale epoch: the body names epoch " + std::to_string(e.number) +
                                  ", the current epoch is " + std::to_string(now.number) + " (" +
                                  now.hash.Short() + ")");
    return FailedPrecondition("the body names epoch hash " + named.Short() +
                              ", which is no epoch of this network's chain; the current epoch is " +
                              std::to_string(now.number) + " (" + now.hash.Short() + ")");
  };
  Status problem = std::visit(
      Overloaded{
          [&](const protocol::Rotate& r) -> Status {
            if (!q.rotation_firm)
              return InvalidArgument(
                  "a rotation is signed by the firm's pre-committed next key, not by the key in "
                  "force: use AppendRotation");
            const protocol::KeySpan& k = g.keys.back();
            if (k.next_key_digest.IsZero())
              return FailedPrecondition("this firm committed to no next key: it cannot rotate");
            if (protocol::NextKeyDigest(r.new_key) != k.next_key_digest)
              return PermissionDenied(
                  "the rotation must be signed by the key the firm's current key committed to "
                  "(next-key digest " +
                  k.next_key_digest.Short() + "); key " + r.new_key.Short() + " is not it");
            if (std::string why = RotationProblem(g.keys, r, true); !why.empty())
              return InvalidArgument(why);
            return Status::Ok();
          },
          [&](const protocol::Propose& p) -> Status {
            if (p.epoch_hash != now.hash) return stale(p.epoch_hash);
            if (const auto* a = std::get_if<protocol::AdmitAction>(&p.action)) {
              for (const protocol::EpochMember& x : now.members) {
                if (x.id == a->inception_key)
                  return AlreadyExists("firm " + a->inception_key.Short() +
                                       " is or was a member (" + x.name +
                                       "); a key is never admitted twice");
              }
            }
            if (std::string why = protocol::InvalidAgainst(p, now); !why.empty()) {
              if (std::holds_alternative<protocol::AdmitAction>(p.action) &&
                  why.find("name") != std::string::npos)
                return AlreadyExists("proposal " + why);
              return InvalidArgument("proposal " + why);
            }
            return Status::Ok();
          },
          [&](const protocol::Vote& v) -> Status {
            if (v.epoch_hash != now.hash) return stale(v.epoch_hash);
            auto it = h.proposals.find(v.proposal_id);
            if (it == h.proposals.end() || it->second.body.epoch_hash != v.epoch_hash ||
                it->second.body.round != v.round)
              return NotFound("no proposal " + v.proposal_id.Short() + " of round " +
                              std::to_string(v.round) + " in the current epoch is known here");
            return Status::Ok();
          },
          [&](const protocol::Leave&) { return Status::Ok(); },
          [&](const auto& b) -> Status {
            for (const PublicKey& named :
                 protocol::KindOps<std::decay_t<decltype(b)>>::PartiesOf(b).named)
              if (!h.EverMember(named))
                return InvalidArgument("counterparty " + named.Short() + " is not a member");
            return Status::Ok();
          },
      },
      q.body);
  if (!problem.ok()) return problem;
  return author;
}

void Ledger::SetWriteGate(std::string reason) {
  std::lock_guard lock(mu_);
  write_gate_ = std::move(reason);
}

std::string Ledger::WriteGate() const {
  std::lock_guard lock(mu_);
  return write_gate_;
}

FeedState Ledger::Feed(const PublicKey& author) const {
  std::lock_guard lock(mu_);
  auto it = feeds_.find(author);
  return it == feeds_.end() ? FeedState{} : it->second;
}

std::map<PublicKey, FeedState> Ledger::Feeds() const {
  std::lock_guard lock(mu_);
  return feeds_;
}

namespace {

// What the v2 digest covers (19.11): every member of some epoch of `h`, its
// counted prefix and stop. A counted prefix cut below the head names a
// stored entry, which never changes, so `store` may be read unlocked.
std::vector<protocol::FeedHeadSummary> CountedHeads(const protocol::EpochHistory& h,
                                                    const std::map<PublicKey, FeedState>& feeds,
                                                    const storage::Store& store) {
  std::vector<protocol::FeedHeadSummary> heads;
  for (const protocol::EpochMember& m : h.current().members) {
    auto f = feeds.find(m.id);
    const FeedState st = f == feeds.end() ? FeedState{} : f->second;
    const uint64_t counted = CountedSeq(h, m.id, st.effective_seq());
    EntryId id = st.effective_id;
    if (counted < st.effective_seq()) {
      id = EntryId{};
      if (counted > 0) {
        auto rec = store.GetEntry(m.id, counted);
        if (rec.ok() && *rec) id = *protocol::IdOfRecord(**rec);
      }
    }
    heads.push_back({m.id, counted, id, st.stop_seq});
  }
  return heads;
}

}  // namespace

Digest Ledger::StateDigest() const {
  std::shared_ptr<const protocol::EpochHistory> h;
  std::map<PublicKey, FeedState> feeds;
  {
    std::lock_guard lock(mu_);
    h = history_;
    feeds = feeds_;
  }
  const protocol::Epoch& now = h->current();
  return protocol::StateDigestV2(genesis_.network_id(), now.number, now.hash,
                                 CountedHeads(*h, feeds, *store_));
}

StateSnapshot Ledger::DigestSnapshot() const {
  std::shared_ptr<const protocol::EpochHistory> h;
  StateSnapshot out;
  {
    std::lock_guard lock(mu_);
    h = history_;
    out.feeds = feeds_;
    for (const protocol::EpochMember& m : h->current().members) {
      auto g = gov_feeds_.find(m.id);
      out.scope.key_chains[m.id] =
          g != gov_feeds_.end() ? g->second.keys : NewGovFeed(m.inception()).keys;
    }
  }
  const protocol::Epoch& now = h->current();
  out.scope.epoch = now.number;
  out.scope.epoch_hash = now.hash;
  out.scope.members = now.members;
  out.heads = CountedHeads(*h, out.feeds, *store_);
  out.digest = protocol::StateDigestV2(genesis_.network_id(), now.number, now.hash, out.heads);
  return out;
}

GovernanceState Ledger::Governance() const {
  std::lock_guard lock(mu_);
  const protocol::EpochHistory& h = *history_;
  GovernanceState out;
  out.epoch = h.current().number;
  out.epoch_hash = h.current().hash;
  out.threshold = h.current().threshold;
  for (const protocol::EpochMember& m : h.current().members) {
    MemberView v;
    v.id = m.id;
    v.name = m.name;
    v.removed = m.removed;
    v.since_epoch = m.since_epoch;
    v.removed_in_epoch = m.removed_in_epoch;
    v.last_seq = m.last_seq;
    auto g = gov_feeds_.find(m.id);
    const GovFeed feed = g != gov_feeds_.end() ? g->second : NewGovFeed(m.inception());
    v.left_seq = feed.left_seq;
    v.current_key = feed.keys.back().key;
    v.key_since_seq = feed.keys.back().from_seq;
    v.next_key_digest = feed.keys.back().next_key_digest;
    auto f = feeds_.find(m.id);
    if (f != feeds_.end()) v.stop_seq = f->second.stop_seq;
    out.members.push_back(std::move(v));
  }
  for (const auto& [id, info] : h.proposals)
    out.proposals.push_back({info, VotersOf(info, h, gov_feeds_)});
  return out;
}

std::vector<protocol::Epoch> Ledger::Epochs() const {
  std::lock_guard lock(mu_);
  return history_->epochs;
}

std::optional<PublicKey> Ledger::FirmOfKey(const PublicKey& key) const {
  std::lock_guard lock(mu_);
  for (const protocol::EpochMember& m : history_->current().members) {
    auto g = gov_feeds_.find(m.id);
    const PublicKey& current = g != gov_feeds_.end() ? g->second.keys.back().key : m.id;
    if (current == key) return m.id;
  }
  return std::nullopt;
}

std::shared_ptr<const Ledger::MemberNameMap> Ledger::MemberNames() const {
  std::lock_guard lock(names_mu_);
  return names_;
}

void Ledger::PublishNamesLocked() {
  auto names = std::make_shared<MemberNameMap>();
  for (const protocol::EpochMember& m : history_->current().members) names->emplace(m.id, m.name);
  std::lock_guard lock(names_mu_);
  names_ = std::move(names);
}

bool Ledger::IsActiveMember(const PublicKey& firm) const {
  std::lock_guard lock(mu_);
  return history_->current().IsActive(firm);
}

std::vector<Bytes> Ledger::RotationRecords(const PublicKey& firm) const {
  std::vector<Bytes> out;
  for (const protocol::KeySpan& k : KeyChain(firm)) {
    if (k.key == firm) continue;  // the inception
    auto rec = store_->GetEntry(firm, k.from_seq);
    if (rec.ok() && *rec) out.push_back(std::move(**rec));
  }
  return out;
}

std::vector<protocol::KeySpan> Ledger::KeyChain(const PublicKey& firm) const {
  std::lock_guard lock(mu_);
  const protocol::EpochMember* m = history_->current().Find(firm);
  if (!m) return {};
  auto g = gov_feeds_.find(firm);
  return g != gov_feeds_.end() ? g->second.keys : NewGovFeed(m->inception()).keys;
}

Result<protocol::Amount128> Ledger::GetBalance(const PublicKey& firm, const PublicKey& counterparty,
                                               const std::string& unit) const {
  return store_->GetBalance(firm, counterparty, unit);
}
Result<std::vector<BalanceRow>> Ledger::ListBalances(const PublicKey& firm) const {
  return store_->ListBalances(firm);
}
Result<std::vector<BalanceRow>> Ledger::ListAllBalances() const {
  return store_->ListAllBalances();
}
Result<std::vector<Bytes>> Ledger::ReadFeed(const PublicKey& author, uint64_t from_seq,
                                            size_t limit) const {
  return store_->ReadFeed(author, from_seq, limit);
}
Result<std::optional<Bytes>> Ledger::GetEntry(const EntryId& id) const {
  KEIRETSU_ASSIGN_OR_RETURN(auto loc, store_->FindEntry(id));
  if (!loc) return std::optional<Bytes>();
  return store_->GetEntry(loc->author, loc->seq);
}
Result<std::vector<storage::Evidence>> Ledger::ListEvidence() const {
  return store_->ListEvidence();
}
size_t Ledger::PendingCount() const {
  std::lock_guard lock(mu_);
  return pending_count_;
}

Result<std::vector<Bytes>> Ledger::ListOpenClaims(const PublicKey& debtor) const {
  KEIRETSU_ASSIGN_OR_RETURN(auto refs, store_->ListOpenClaims(debtor));
  std::vector<Bytes> out;
  for (const auto& ref : refs) {
    KEIRETSU_ASSIGN_OR_RETURN(auto rec, store_->GetEntry(ref.creditor, ref.seq));
    if (!rec) return Corruption("claim index names a missing entry");
    out.push_back(std::move(*rec));
  }
  return out;
}

Result<std::optional<EntryId>> Ledger::FindAnswer(const PublicKey& debtor,
                                                  const EntryId& claim) const {
  return store_->FindAnswer(debtor, claim);
}

Result<std::vector<AppliedEntry>> Ledger::ReadLog(uint64_t cursor, size_t limit) const {
  KEIRETSU_ASSIGN_OR_RETURN(auto ids, store_->ReadLog(cursor, limit));
  std::vector<AppliedEntry> out;
  for (const auto& [c, id] : ids) {
    KEIRETSU_ASSIGN_OR_RETURN(auto loc, store_->FindEntry(id));
    if (!loc) return Corruption("log names a missing entry " + id.Short());
    KEIRETSU_ASSIGN_OR_RETURN(auto rec, store_->GetEntry(loc->author, loc->seq));
    if (!rec) return Corruption("log names a missing entry " + id.Short());
    out.push_back(AppliedEntry{c, id, loc->author, loc->seq, std::move(*rec)});
  }
  return out;
}

uint64_t Ledger::LastCursor() const {
  std::lock_guard lock(mu_);
  return log_cursor_;
}

Result<std::vector<BalanceRow>> Ledger::RecomputeBalances() const {
  using Key = std::tuple<PublicKey, PublicKey, std::string>;
  std::map<Key, protocol::Amount128> sums;
  constexpr size_t kChunk = 4096;
  std::shared_ptr<const protocol::EpochHistory> h;
  {
    std::lock_guard lock(mu_);
    h = history_;
  }
  for (const auto& [author, st] : Feeds()) {
    uint64_t next = 1;
    const uint64_t counted = CountedSeq(*h, author, st.effective_seq());
    while (next <= counted) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, counted - next + 1));
      KEIRETSU_ASSIGN_OR_RETURN(auto records, store_->ReadFeed(author, next, want));
      if (records.size() != want) return Corruption("feed " + author.Short() + " has a gap");
      for (const Bytes& rec : records) {
        auto check = FeedLocal(rec, /*verify=*/false);
        if (check.fault != protocol::Fault::kNone || check.signed_entry->entry.seq != next)
          return Corruption("stored entry " + author.Short() + "/" + std::to_string(next) +
                            " does not decode as a valid entry");
        if (!EntryCounts(*h, check.signed_entry->entry)) {
          ++next;
          continue;
        }
        if (auto c = protocol::EffectOf(check.signed_entry->entry)) {
          sums[{c->creditor, c->debtor, c->unit}] += c->delta;
          sums[{c->debtor, c->creditor, c->unit}] -= c->delta;
        }
        ++next;
      }
    }
  }
  std::vector<BalanceRow> rows;
  for (auto& [k, v] : sums)
    if (v != 0) rows.push_back(BalanceRow{std::get<0>(k), std::get<1>(k), std::get<2>(k), v});
  return rows;
}

}  // namespace keiretsu::node
