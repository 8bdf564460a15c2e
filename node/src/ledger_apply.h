// Private: one ledger decision round. Ledger::Apply takes checked records,
// decides each one's outcome against the feed states (committed, plus what
// this round already decided), and accumulates every write in one store
// batch. Nothing touches the store's contents until Ledger commits the batch.
#pragma once

#include <map>
#include <set>
#include <tuple>

#include "keiretsu/node/ledger.h"

namespace keiretsu::node {

class Ledger::Apply {
 public:
  Apply(const Ledger& ledger, const std::map<PublicKey, FeedState>& committed, uint64_t log_cursor)
      : ledger_(ledger), committed_(committed), log_cursor_(log_cursor) {}

  // Decides the outcome of one checked record, then promotes the pending
  // entries it unblocks.
  // `check` is stratum 1 (CheckFeedLocal); Take adds stratum 2.
  // `as_evidence`: the record arrived as half of a proof (an evidence
  // batch or an export's evidence), which no distance ahead refuses (8.2).
  IngestResult Take(protocol::RecordCheck& check, bool as_evidence = false);

  // Re-decides `author`'s pending records from its head on (after an
  // upgrade taught this node their kind, or governance made their author a
  // member): promotes what now chains and applies.
  void Release(const PublicKey& author) { PromotePending(author); }

  // The feed state as this round sees it (committed plus decided so far).
  const FeedState& Peek(const PublicKey& author) { return State(author); }

  storage::Batch& batch() { return batch_; }
  const std::map<PublicKey, FeedState>& touched() const { return touched_; }
  std::vector<AppliedEntry>& applied() { return applied_; }
  // The evidence this round stored (feeds it stopped), in order.
  std::vector<storage::Evidence>& stopped() { return stopped_; }
  int64_t pending_delta() const { return pending_delta_; }
  // Pending records of kinds this build does not know, kept this round,
  // and every pending record this round removed.
  const std::map<PendingRef, uint8_t>& kept_unknown_kinds() const { return kept_unknown_kinds_; }
  const std::set<PendingRef>& dropped_pending() const { return dropped_pending_; }
  size_t kept_for_membership() const { return kept_for_membership_; }
  uint64_t log_cursor() const { return log_cursor_; }
  // The first storage error met while deciding; when not OK the round must
  // not be committed (its decisions rest on a failed read).
  const Status& error() const { return error_; }

 private:
  using FeedSeq = std::pair<PublicKey, uint64_t>;
  using PendingId = PendingRef;

  FeedState& State(const PublicKey& author);
  Result<Bytes> EntryAt(const PublicKey& author, uint64_t seq);
  Result<std::map<EntryId, Bytes>> PendingAt(const PublicKey& author, uint64_t seq);

  IngestResult Decide(protocol::RecordCheck& check, bool as_evidence);
  IngestResult KeepForMembership(const protocol::RecordCheck& check);
  IngestResult Extend(const protocol::RecordCheck& check, FeedState& st);
  IngestResult Fork(const PublicKey& author, uint64_t seq, ByteView a, ByteView b);
  void Keep(const protocol::SignedEntry& se);
  IngestResult Fail(const protocol::SignedEntry& se, const Status& why);
  IngestResult EndFeed(const protocol::SignedEntry& se, const Status& why);
  Status StopAt(const PublicKey& author, uint64_t seq);
  Status DropPendingFrom(const PublicKey& author, uint64_t seq);
  void PromotePending(const PublicKey& author);
  // Applies (or with add=false undoes) every effect of effective entry `e`:
  // balances and claim/answer index rows.
  void Effects(const protocol::Entry& e, const EntryId& id, bool add);

  const Ledger& ledger_;
  const std::map<PublicKey, FeedState>& committed_;
  storage::Batch batch_;
  std::map<PublicKey, FeedState> touched_;
  std::map<FeedSeq, Bytes> new_entries_;
  std::map<PendingId, Bytes> new_pending_;
  std::set<PendingId> dropped_pending_;
  std::vector<AppliedEntry> applied_;
  std::vector<storage::Evidence> stopped_;
  int64_t pending_delta_ = 0;
  std::map<PendingRef, uint8_t> kept_unknown_kinds_;
  size_t kept_for_membership_ = 0;
  uint64_t log_cursor_;
  Status error_;
};

}  // namespace keiretsu::node
