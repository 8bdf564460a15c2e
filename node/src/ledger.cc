#include "keiretsu/node/ledger.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "keiretsu/protocol/balance.h"
#include "node/src/ledger_apply.h"

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
    : genesis_(std::move(genesis)), options_(options), store_(std::move(store)) {}
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
  auto feeds = store_->LoadFeedStates();
  for (const auto& [author, st] : feeds)
    if (!genesis_.IsMember(author))
      return Corruption("data directory holds a feed of non-member " + author.Short());
  feeds_ = std::move(feeds);
  log_cursor_ = store_->LastLogCursor();
  return LoadPending();
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
    if (!membership_.AuthorIsMember(p.author, p.seq)) ++non_member_pending_;
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

std::vector<protocol::RecordCheck> Ledger::CheckAll(std::span<const Bytes> records) const {
  std::vector<protocol::RecordCheck> checks(records.size());
  unsigned threads = options_.verify_threads != 0
                         ? options_.verify_threads
                         : std::max(1u, std::thread::hardware_concurrency());
  // Spawning threads costs more than a few verifications.
  constexpr size_t kMinPerThread = 32;
  threads = static_cast<unsigned>(
      std::min<size_t>(threads, std::max<size_t>(1, records.size() / kMinPerThread)));
  if (threads <= 1) {
    for (size_t i = 0; i < records.size(); ++i) checks[i] = FeedLocal(records[i], /*verify=*/true);
    return checks;
  }
  // Threads take small grains from a shared counter rather than a fixed
  // share each: when one is descheduled (the peer's session, the commit of
  // another ingest), the others take over its part instead of waiting.
  constexpr size_t kGrain = 16;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t begin; (begin = next.fetch_add(kGrain)) < records.size();)
      for (size_t i = begin; i < std::min(records.size(), begin + kGrain); ++i)
        checks[i] = FeedLocal(records[i], /*verify=*/true);
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
                                         std::span<const bool> as_evidence) {
  if (!as_evidence.empty() && as_evidence.size() != records.size()) {
    const Status s =
        InvalidArgument("Ingest: " + std::to_string(as_evidence.size()) + " evidence flags for " +
                        std::to_string(records.size()) + " records");
    return std::vector<IngestResult>(records.size(),
                                     IngestResult{Outcome::kRejected, s, {}, {}, 0});
  }
  std::vector<protocol::RecordCheck> checks = CheckAll(records);
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

Result<Appended> Ledger::Append(const crypto::SigningKey& key, protocol::Body body,
                                uint64_t timestamp_ms, const AppendOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  QueuedAppend me;
  me.key = &key;
  me.body = std::move(body);
  me.timestamp_ms = timestamp_ms;
  me.options = &options;
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
  protocol::RecordCheck check = protocol::CheckRecord(*record, genesis_, /*verify=*/false);
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
      const PublicKey& author = q->key->public_key();
      if (!genesis_.IsMember(author)) {
        q->result = PermissionDenied("this node's key " + author.Short() + " is not a member");
        continue;
      }
      if (!write_gate_.empty()) {
        q->result = Unavailable("writes are paused: " + write_gate_);
        continue;
      }
      FeedState st = round.Peek(author);
      if (st.stop_seq != 0) {
        q->result = FailedPrecondition("this firm's own feed stopped at seq " +
                                       std::to_string(st.stop_seq) + "; see `keiretsu status`");
        continue;
      }
      protocol::Entry entry{genesis_.network_id(), author,
                            st.head_seq + 1,       st.head_id,
                            q->timestamp_ms,       std::move(q->body)};
      auto se = protocol::SignEntry(entry, *q->key, genesis_);
      if (!se.ok()) {  // a rule: nothing was signed, the others go on
        q->result = se.status();
        continue;
      }
      protocol::RecordCheck check;
      check.signed_entry = *se;
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

Digest Ledger::StateDigest() const {
  std::vector<protocol::FeedHeadSummary> heads;
  for (const auto& [author, st] : Feeds())
    heads.push_back({author, st.effective_seq(), st.effective_id, st.stop_seq});
  return protocol::StateDigest(genesis_.network_id(), std::move(heads));
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
  for (const auto& [author, st] : Feeds()) {
    uint64_t next = 1;
    while (next <= st.effective_seq()) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, st.effective_seq() - next + 1));
      KEIRETSU_ASSIGN_OR_RETURN(auto records, store_->ReadFeed(author, next, want));
      if (records.size() != want) return Corruption("feed " + author.Short() + " has a gap");
      for (const Bytes& rec : records) {
        auto check = protocol::CheckRecord(rec, genesis_, /*verify=*/false);
        if (check.fault != protocol::Fault::kNone || check.signed_entry->entry.seq != next)
          return Corruption("stored entry " + author.Short() + "/" + std::to_string(next) +
                            " does not decode as a valid entry");
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
