// Private: one ledger decision round. Ledger::Apply takes checked records,
// decides each one's outcome against the feed states (committed, plus what
// this round already decided), and accumulates every write in one store
// batch. Nothing touches the store's contents until Ledger commits the batch.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "keiretsu/node/ledger.h"
#include "node/src/ledger_clearing.h"

namespace keiretsu::node {

class Ledger::Apply {
 public:
  Apply(const Ledger& ledger, const std::map<PublicKey, FeedState>& committed, uint64_t log_cursor)
      : ledger_(ledger), committed_(committed), h_(ledger.history_), log_cursor_(log_cursor) {}

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
  // The same for its governance and keys (a member's feed).
  const GovFeed& PeekGov(const PublicKey& author) { return Gov(author); }

  // Governance settles (docs/PROTOCOL.md 19): recomputes the epoch chain
  // when this round changed what it is computed from, makes the
  // materialised effects follow the new counted prefixes and members, and
  // releases the kept records of newly admitted members; repeats until the
  // chain no longer changes. Call once after the last Take, before commit.
  // Ends with the clearing outcomes (SettleClearing), then writes the
  // final state of every feed the round changed (once per feed, not once
  // per entry: only the last value of a head counts).
  void Settle();
  // The committed set-offs after this round, when it computed them (any
  // clearing entry counts); the batch moves balances from the ledger's
  // set-offs to these.
  const std::optional<SetOffs>& set_offs() const { return set_offs_; }
  // Authors whose clearing proposals this round applied.
  const std::set<PublicKey>& new_proposers() const { return new_proposers_; }
  // The epoch chain as this round sees it.
  const std::shared_ptr<const protocol::EpochHistory>& history() const { return h_; }
  const std::map<PublicKey, GovFeed>& touched_gov() const { return touched_gov_; }
  // True when this round changed the set of ever-members.
  bool membership_changed() const { return membership_changed_; }

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
  GovFeed& Gov(const PublicKey& author);
  // Whether `author`'s key can still change (its next-key digest at the
  // head is not zero): then forks above a gap are not proven early and a
  // rotate may take a seq (19.7).
  bool Rotatable(const PublicKey& author);
  // The key span in force just before `seq` (the key records at seq verify
  // under, unless a rotate takes it).
  const protocol::KeySpan& SpanBefore(const PublicKey& author, uint64_t seq);
  // Whether `check`'s record verifies under `key` (re-verified unless its
  // signer was `key`).
  bool VerifiedUnder(const protocol::RecordCheck& check, const PublicKey& key);
  // Chooses among several records kept at author's next seq (19.7):
  // extends, proves a fork, or leaves them kept.
  void ChooseAt(const PublicKey& author, uint64_t seq, std::map<EntryId, Bytes>& waiting);
  // The counted prefix's end under `h` for a feed effective up to `eff`.
  static uint64_t Cut(const protocol::EpochHistory& h, const PublicKey& author, uint64_t eff);
  // Whether effective entry `e` has its effects under `h` (its author's
  // counted prefix, its counterparties members of some epoch).
  bool Counts(const protocol::EpochHistory& h, const protocol::Entry& e);
  // Moves the materialised effects from what `from` counts to what `to`
  // counts.
  void Recount(const protocol::EpochHistory& from, const protocol::EpochHistory& to);
  // Clearing (docs/PROTOCOL.md 20.5): decides every proposal over the
  // counted prefixes as this round sees them and moves the balances from
  // the ledger's committed set-offs to the new ones.
  void SettleClearing();
  // Puts the state of every feed in heads_to_write_ into the batch.
  void WriteHeads();
  Result<Bytes> EntryAt(const PublicKey& author, uint64_t seq);
  Result<std::map<EntryId, Bytes>> PendingAt(const PublicKey& author, uint64_t seq);

  IngestResult Decide(protocol::RecordCheck& check, bool as_evidence);
  IngestResult KeepForMembership(const protocol::RecordCheck& check);
  IngestResult Extend(const protocol::RecordCheck& check, FeedState& st);
  IngestResult Chained(protocol::RecordCheck& check);
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
  std::shared_ptr<const protocol::EpochHistory> h_;
  std::map<PublicKey, GovFeed> touched_gov_;
  bool gov_dirty_ = false;
  bool membership_changed_ = false;
  storage::Batch batch_;
  std::map<PublicKey, FeedState> touched_;
  // Feeds whose state this round changed; written by WriteHeads.
  std::set<PublicKey> heads_to_write_;
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
  std::set<PublicKey> new_proposers_;
  std::optional<SetOffs> set_offs_;
};

}  // namespace keiretsu::node
