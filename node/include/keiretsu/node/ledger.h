// Ledger: the node's copy of the replicated ledger and the rules that decide
// what an entry does to it (docs/PROTOCOL.md "Validity", "Forks",
// "Invalid entries").
//
// Every entry reaches the ledger through Ingest (from peers, imports) or
// Append (the node's own feed). The ledger checks it, decides its outcome,
// and commits the outcome's every write (entry, head, id index, balances,
// pending, evidence) as one atomic store batch. Balances are therefore
// always exactly the effect of the effective entries, and the result does
// not depend on the order entries arrive in (tests/node/order_test.cc).
//
// Thread-safety: all methods are thread-safe. Signature checks of an Ingest
// run in parallel outside the lock; deciding and committing are serialised
// by one mutex, the ledger's only synchronisation.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <vector>

#include "keiretsu/common/status.h"
#include "keiretsu/node/metrics.h"
#include "keiretsu/protocol/checkpoint.h"
#include "keiretsu/protocol/clearing_outcome.h"
#include "keiretsu/protocol/digest.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/epoch_chain.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/storage/store.h"

namespace keiretsu::node {

using storage::BalanceRow;
using storage::FeedState;

enum class Outcome {
  kApplied,     // stored; extends its feed (effective unless the feed stopped)
  kDuplicate,   // already held: nothing changed
  kPending,     // kept, not applied (yet): ahead of the entry it follows (until
                // the gap fills), naming a prev other than the entry held at
                // seq-1 (possible fork evidence; never applied), of a kind
                // this version does not know (until an upgrade), or by an
                // author not (yet) known as a member (until admission)
  kForkProven,  // a second signed entry at a taken seq: evidence stored, feed stopped
  kFeedEnded,   // signed by its author but breaks a rule: feed stopped there
  kIgnored,     // its feed already stopped at or before its seq: no effect
  kRejected,    // refused (malformed, wrong network, bad signature, too far
                // ahead): nothing changed
};
std::string_view OutcomeName(Outcome outcome);

struct IngestResult {
  Outcome outcome = Outcome::kRejected;
  Status status;  // why, for kRejected, kFeedEnded, kForkProven, kIgnored
  std::optional<EntryId> id;
  PublicKey author;
  uint64_t seq = 0;
};

// An entry that became effective, for watchers and replication.
struct AppliedEntry {
  uint64_t cursor = 0;  // its place in this node's log (ReadLog)
  EntryId id;
  PublicKey author;
  uint64_t seq = 0;
  Bytes record;
};

// A pending record (author, seq, id).
using PendingRef = std::tuple<PublicKey, uint64_t, EntryId>;

// A record this node keeps pending because its kind is one this version
// does not know (a newer peer's): an upgrade is needed to apply it and the
// rest of its feed.
struct UpgradeNeeded {
  PublicKey author;
  uint64_t seq = 0;
  EntryId id;
  uint8_t kind_tag = 0;
};

// Governance as this node computes it (docs/PROTOCOL.md 19): one member of
// the epoch chain.
struct MemberView {
  PublicKey id;
  std::string name;
  bool removed = false;
  uint64_t since_epoch = 0;       // the epoch that admitted it (0: a founder)
  uint64_t removed_in_epoch = 0;  // when removed
  uint64_t last_seq = 0;          // when removed: its entries above it count nowhere
  uint64_t left_seq = 0;          // the seq of its leave entry; 0: it has not left
  uint64_t stop_seq = 0;          // its feed stopped here (fork, invalid entry); 0: open
  PublicKey current_key;          // the key in force at its feed's head
  uint64_t key_since_seq = 1;     // in force from this seq
  Digest next_key_digest;         // what the current key commits to (zero: none)
};

// One proposal (a propose entry in a member's prefix) and the members whose
// ballot supports it.
struct ProposalView {
  protocol::ProposalInfo info;
  std::vector<PublicKey> voters;
};

struct GovernanceState {
  uint64_t epoch = 0;  // the current (last) epoch of the chain
  Digest epoch_hash;
  uint16_t threshold = 0;
  std::vector<MemberView> members;      // every member of some epoch, by id
  std::vector<ProposalView> proposals;  // by proposal id
};

// One consistent view of what the state digest covers (Ledger::DigestSnapshot):
// what a checkpoint states and an export holds.
struct StateSnapshot {
  std::map<PublicKey, FeedState> feeds;          // committed feed states (Ledger::Feeds)
  std::vector<protocol::FeedHeadSummary> heads;  // every member's counted prefix and stop
  Digest digest;                                 // StateDigest() of this state
  // The governance state the digest is computed under (a checkpoint's
  // scope): the current epoch, its members and every member's key chain.
  protocol::CheckpointScope scope;
};

struct LedgerOptions {
  // Threads that verify signatures during Ingest. 0: one per core.
  unsigned verify_threads = 0;
  // How far beyond a feed's head an entry may be kept pending. Bounds what
  // a member can make this node store ahead. Default: 1,000,000.
  uint64_t max_pending_ahead = 1'000'000;
  // How many records of authors not (yet) known as members this node keeps
  // pending (stratum 2), all such authors together; beyond it they are
  // refused (a peer resends them later). Default: 100,000.
  uint64_t max_pending_non_members = 100'000;
  // The entry kinds this ledger applies; records of other kinds are kept
  // pending ("upgrade needed"). Default: every kind this build knows. Fewer
  // only to act as an older version would (tests).
  protocol::KindSet kinds = protocol::KindSet::All();
  // Where outcomes and commit/write latencies are reported (metrics.h); not
  // owned, must outlive the ledger. Null: nowhere.
  Metrics* metrics = nullptr;
};

// Options of one Append.
struct AppendOptions {
  // A client's idempotency key (docs/API.md "Idempotent writes"); empty:
  // none. When set, the id is stored with the entry in the same batch, and
  // a later Append with the same id does not write again: it returns the
  // original entry (replayed), or kAlreadyExists when `fingerprint` (a
  // digest of the request's content, the caller's to define) differs.
  std::string request_id;
  Hash32 fingerprint{};
  // Asked under the ledger's lock just before the entry is built and
  // signed: a non-OK status abandons the write (nothing is stored) and is
  // returned. For calls whose caller may have given up (a deadline).
  std::function<Status()> still_wanted;
};

// An Append's outcome: the entry, and whether it was written by an earlier
// Append with the same request id (nothing new was written).
struct Appended {
  protocol::SignedEntry entry;
  bool replayed = false;
};

class Ledger {
 public:
  // Opens the ledger over `store` (which must belong to genesis' network),
  // loading feed heads and checking their consistency with the entries.
  static Result<std::unique_ptr<Ledger>> Open(protocol::Genesis genesis,
                                              std::unique_ptr<storage::Store> store,
                                              LedgerOptions options = {});
  ~Ledger();

  // Checks and applies records from outside, in the given order, committing
  // all their effects in one atomic batch (synced when `sync`). One result
  // per record. If the commit fails every result is kRejected with the
  // storage error (kIOError, kCorruption) and nothing visible changed; the
  // next call reopens the store first (see "Storage failures" below).
  std::vector<IngestResult> Ingest(std::span<const Bytes> records, bool sync);
  // As above, with one flag per record (`as_evidence.size()` must equal
  // `records.size()`): true for a record that arrived as half of a proof (a
  // peer's EvidenceBatch, an export's evidence section) rather than as a feed
  // entry. Such a record is never refused for being more than
  // `max_pending_ahead` past its feed's head (PROTOCOL.md 8.2 step 5), so the
  // setting cannot change which forks a node proves.
  std::vector<IngestResult> Ingest(std::span<const Bytes> records, bool sync,
                                   const std::vector<bool>& as_evidence);

  // Appends a new entry to the feed of `key`'s firm: builds it at the next
  // seq, checks the rules, signs it and commits it synced: when this returns
  // OK the entry survives a crash. Concurrent calls are group-committed:
  // one synced batch carries every entry queued meanwhile. Errors: kInvalidArgument (a rule;
  // nothing signed), kFailedPrecondition (own feed stopped), kUnavailable (writes gated), kIOError.
  //
  // Storage failures: when a commit fails, the store refuses writes until it
  // is reopened, and whether the failed batch reached the disk is unknown
  // (a failed sync may have written it). The next Ingest or Append reopens
  // the store and reloads the feed heads and counters from it before
  // deciding anything, so a new entry always builds on the stored head: an
  // Append that failed may turn out stored, but the feed never forks. While
  // the store cannot be reopened, every call fails with the storage error.
  Result<protocol::SignedEntry> Append(const crypto::SigningKey& key, protocol::Body body,
                                       uint64_t timestamp_ms);
  // The same, with a request id and a cancellation check (AppendOptions).
  // More errors: kAlreadyExists (request id used for other content), and
  // whatever options.still_wanted returns.
  Result<Appended> Append(const crypto::SigningKey& key, protocol::Body body, uint64_t timestamp_ms,
                          const AppendOptions& options);

  // Governance writes go through Append too (propose, vote, leave), with
  // these errors, each changing nothing: kPermissionDenied (the author is
  // not an active member of the current epoch), kFailedPrecondition (the
  // body names an epoch that is not the current one: stale), kAlreadyExists
  // (an admit of a firm or name that is or was a member), kNotFound (a vote
  // for a proposal this node does not hold in that epoch and round),
  // kInvalidArgument (a threshold not above half of the members, a remove
  // of a firm that is not active, a rotate body: see AppendRotation).
  //
  // Rotates the firm `firm`'s key (docs/PROTOCOL.md 19.5): signs a rotate
  // entry with `next_key`, which must be the key the firm's current key
  // committed to, naming `next_after`, the digest of the key after it. From
  // then on the firm's entries are signed by `next_key` (Append takes it).
  // Errors, each changing nothing: kPermissionDenied (`next_key` is not the
  // pre-committed next key: a thief holding only the current key cannot
  // rotate), kInvalidArgument (`next_after` commits to a key the firm used,
  // or to `next_key` itself; zero), kFailedPrecondition (the feed stopped or
  // left, writes gated), kNotFound (`firm` is not a member).
  Result<protocol::SignedEntry> AppendRotation(const PublicKey& firm,
                                               const crypto::SigningKey& next_key,
                                               const Digest& next_after, uint64_t timestamp_ms);

  // The entry an earlier Append stored under `request_id`, if any.
  // Errors: kAlreadyExists when it was stored with another fingerprint;
  // kCorruption, kIOError.
  Result<std::optional<protocol::SignedEntry>> FindRequest(const std::string& request_id,
                                                           const Hash32& fingerprint) const;

  // Closes (reason non-empty) or opens (reason empty) the gate on Append.
  // Replication closes it at start until the node has learned its own
  // feed's head from a peer, so a restored backup never re-uses a seq.
  void SetWriteGate(std::string reason);
  // Empty when Append is allowed; else why not.
  std::string WriteGate() const;

  // Called after every commit with the entries that became effective, in
  // commit order, outside the ledger's lock. Set before use; not thread-safe.
  using Listener = std::function<void(const std::vector<AppliedEntry>&)>;
  void SetListener(Listener listener) { listener_ = std::move(listener); }
  // Called after every commit that stored evidence (a fork proof or an
  // invalid entry: a feed stopped), with that evidence, outside the
  // ledger's lock. Set before use; not thread-safe.
  using StopListener = std::function<void(const std::vector<storage::Evidence>&)>;
  void SetStopListener(StopListener listener) { stop_listener_ = std::move(listener); }

  // --- Queries (consistent snapshots of committed state)
  const protocol::Genesis& genesis() const { return genesis_; }
  FeedState Feed(const PublicKey& author) const;
  std::map<PublicKey, FeedState> Feeds() const;
  Digest StateDigest() const;
  // Feed states, digest, epoch and key chains taken under one lock.
  StateSnapshot DigestSnapshot() const;
  Result<protocol::Amount128> GetBalance(const PublicKey& firm, const PublicKey& counterparty,
                                         const std::string& unit) const;
  Result<std::vector<BalanceRow>> ListBalances(const PublicKey& firm) const;
  Result<std::vector<BalanceRow>> ListAllBalances() const;
  Result<std::vector<Bytes>> ReadFeed(const PublicKey& author, uint64_t from_seq,
                                      size_t limit) const;
  Result<std::optional<Bytes>> GetEntry(const EntryId& id) const;
  Result<std::vector<storage::Evidence>> ListEvidence() const;
  size_t PendingCount() const;
  // The governance state: the current epoch, every member with its status
  // and key, every proposal with its state and supporters.
  GovernanceState Governance() const;
  // The membership history: epoch 0 (the genesis) to the current epoch.
  std::vector<protocol::Epoch> Epochs() const;
  // Every clearing proposal in a counted prefix, decided as the ledger
  // decides it (docs/PROTOCOL.md 20.4; protocol::DecideClearing), with the
  // committed set-offs. Errors: storage errors reading the feeds.
  Result<protocol::ClearingResult> Clearing() const;
  // The firm whose key in force is `key` (its id, or the key it rotated
  // to); nullopt when none.
  std::optional<PublicKey> FirmOfKey(const PublicKey& key) const;
  // `firm`'s key chain as applied here (inception key first); empty when
  // it is not a member.
  std::vector<protocol::KeySpan> KeyChain(const PublicKey& firm) const;
  // Every member of any epoch (founders and admitted firms, removed ones
  // too) by id, with its name: what views show beside a key. A snapshot,
  // replaced when the epoch chain changes; never waits for a commit.
  using MemberNameMap = std::map<PublicKey, std::string>;
  std::shared_ptr<const MemberNameMap> MemberNames() const;
  // Whether `firm` is an active member of the current epoch (admitted, not
  // removed; a firm that left stays one until removed).
  bool IsActiveMember(const PublicKey& firm) const;
  // `firm`'s applied rotate records, oldest first: its key chain as proof
  // (what the peer handshake sends). Empty when it never rotated.
  std::vector<Bytes> RotationRecords(const PublicKey& firm) const;
  // Pending records of kinds this version does not know, lowest seq first
  // per author: what `status` reports as "upgrade needed".
  std::vector<UpgradeNeeded> UpgradesNeeded() const;

  // Re-decides every feed's pending records from its head on, applying
  // what now chains: run at Open (after an upgrade the kinds of kept
  // records may be known; governance may have admitted their authors).
  // Ingest and Append do the same within their round whenever governance
  // changes. Commits synced. Errors: storage errors (nothing changed).
  Status ReleasePending();

  // Effective claims against `debtor` it has not answered (records).
  Result<std::vector<Bytes>> ListOpenClaims(const PublicKey& debtor) const;
  // The id of `debtor`'s effective accept/decline of `claim`, if any.
  Result<std::optional<EntryId>> FindAnswer(const PublicKey& debtor, const EntryId& claim) const;
  // Entries in the order they became effective on this node, after `cursor`
  // (0: from the start), at most `limit`. Cursors are local to this node.
  Result<std::vector<AppliedEntry>> ReadLog(uint64_t cursor, size_t limit) const;
  uint64_t LastCursor() const;

  // Recomputes every balance from the stored effective entries, ignoring the
  // materialised balances: the reference the tests hold them against. Same
  // order as ListAllBalances.
  Result<std::vector<BalanceRow>> RecomputeBalances() const;

  storage::Store& store() { return *store_; }
  // Measures free space and recovers storage when it can: the store's
  // Refresh (a read-only store reopened for writing), then, after a failed
  // commit, the reopen and reload of RecoverIfNeeded once the disk is above
  // its reserve. Returns the store's writability. keiretsud calls it every
  // second, so a node recovers from a full disk by itself.
  Status RefreshStorage();

 private:
  class Apply;
  struct QueuedAppend;
  struct KeySnapshot;

 public:
  // What the ledger keeps of one member feed's effective prefix for
  // governance and keys (private; public only for the helpers in src/).
  struct GovFeed {
    std::map<uint64_t, protocol::GovernanceRecord> records;  // propose and vote, by seq
    std::vector<protocol::KeySpan> keys;                     // front: the inception
    uint64_t left_seq = 0;                                   // 0: not left
  };

 private:
  void CommitAppends(const std::vector<QueuedAppend*>& group);
  // Queues `me` for the next group commit and waits for its result.
  Result<Appended> RunQueued(QueuedAppend& me);
  // The firm `q` writes for, checked against governance as `round` sees it
  // (member, not removed or left, feed open, the body's governance rules).
  // REQUIRES: mu_ held.
  Result<PublicKey> AuthorOfAppend(Apply& round, QueuedAppend& q);
  // Whether `q` repeats a request id, stored or earlier in this group:
  // then sets its result and returns true. REQUIRES: mu_ held.
  bool ReplayRequest(QueuedAppend& q, const std::map<std::string, QueuedAppend*>& group_ids);
  // Check the store and (re)load the caches below from it. REQUIRES: mu_.
  Status LoadFromStore();
  // Reopens the store after a failed commit, then LoadFromStore. REQUIRES: mu_.
  Status RecoverIfNeeded();
  Ledger(protocol::Genesis genesis, std::unique_ptr<storage::Store> store, LedgerOptions options);
  // Stratum 1 of each record, its signature checked under the key in force
  // per `keys` (a rotate under the new key it names, when pre-committed).
  std::vector<protocol::RecordCheck> CheckAll(std::span<const Bytes> records,
                                              const KeySnapshot& keys) const;
  // store_->Commit, timed for the metrics.
  Status Commit(storage::Batch& batch, bool sync);
  Metrics& metrics() const { return options_.metrics ? *options_.metrics : NoMetrics(); }
  // Stratum 1 of one record with this ledger's keys and kinds.
  protocol::RecordCheck FeedLocal(ByteView record, bool verify) const;
  Status LoadPending();
  // Rebuilds gov_feeds_ and history_ from the stored feeds. REQUIRES: mu_.
  Status LoadGovernance();
  // Rebuilds set_offs_ from the stored feeds (after LoadGovernance).
  // REQUIRES: mu_.
  Status LoadClearing();
  // The keys each known author's records may verify under. REQUIRES: mu_.
  KeySnapshot SnapshotKeys() const;
  // After a committed round: the ledger's caches follow the round.
  void Adopt(Apply& round);

  const protocol::Genesis genesis_;
  const protocol::EpochZero zero_;
  // Stratum 1 with verify=false only (signatures are checked against
  // KeySnapshot, which knows key chains).
  const protocol::InceptionKeys keys_;
  const LedgerOptions options_;
  std::unique_ptr<storage::Store> store_;
  Listener listener_;
  StopListener stop_listener_;

  mutable std::mutex mu_;
  std::map<PublicKey, FeedState> feeds_;         // GUARDED_BY(mu_): committed feed states
  size_t pending_count_ = 0;                     // GUARDED_BY(mu_)
  size_t non_member_pending_ = 0;                // GUARDED_BY(mu_): pending of non-members
  std::map<PendingRef, uint8_t> unknown_kinds_;  // GUARDED_BY(mu_): pending, kind unknown
  // Governance (docs/PROTOCOL.md 19), derived from the stored feeds and
  // rebuilt at LoadFromStore: each member feed's governance records, key
  // chain and leave within its effective prefix, and the epoch chain
  // computed from them by protocol::ComputeEpochs.
  std::map<PublicKey, GovFeed> gov_feeds_;                 // GUARDED_BY(mu_)
  std::shared_ptr<const protocol::EpochHistory> history_;  // GUARDED_BY(mu_)
  // history_'s member names, for readers that must not wait on mu_ (which
  // commits hold): set with history_ (PublishNamesLocked).
  void PublishNamesLocked();
  mutable std::mutex names_mu_;
  std::shared_ptr<const MemberNameMap> names_;  // GUARDED_BY(names_mu_)
  // Clearing (docs/PROTOCOL.md 20.5): the authors with a clearing proposal
  // in their effective prefix (a superset: it only grows until the next
  // load), and the committed set-offs whose legs the stored balances
  // include, by proposal id. Rebuilt at LoadFromStore.
  std::set<PublicKey> clearing_proposers_;                         // GUARDED_BY(mu_)
  std::map<EntryId, std::vector<protocol::DebtChange>> set_offs_;  // GUARDED_BY(mu_)
  uint64_t log_cursor_ = 0;  // GUARDED_BY(mu_): last log cursor committed
  std::string write_gate_;   // GUARDED_BY(mu_): non-empty: Append refused

  // Group commit of Append (see ledger.cc). append_mu_ is never held while
  // mu_ is taken by the same thread's caller, and is released before the
  // leader takes mu_.
  std::mutex append_mu_;
  std::vector<QueuedAppend*> append_queue_;  // GUARDED_BY(append_mu_)
  bool append_leader_ = false;               // GUARDED_BY(append_mu_)
};

}  // namespace keiretsu::node
