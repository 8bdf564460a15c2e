// Store: the node's durable state in RocksDB (key schema in
// docs/ARCHITECTURE.md "Storage").
//
//   entries   author|seq        -> record (content || signature), the chain
//   ids       entry id          -> author|seq
//   heads     author            -> FeedState
//   balances  firm|other|unit   -> net amount other owes firm (int128)
//   pending   author|seq|id     -> record that arrived ahead of its prev
//   evidence  author|seq        -> Evidence (fork proof or invalid entry)
//   claims    debtor|claim id   -> creditor|seq   (effective claims)
//   answers   debtor|claim|answer -> ""  (effective accepts/declines; a debtor
//                                  may answer twice, and a fork may undo one)
//   log       cursor            -> entry id, in the order entries became
//                                  effective on this node (for Watch)
//   meta      name              -> network id, schema version
//
// The store knows encodings and atomicity, not ledger rules: node/ decides
// what to write and hands the store one Batch per decision, which is
// committed atomically (one RocksDB WriteBatch), synced when asked.
//
// Thread-safety: all methods may be called from any thread; commits are
// atomic with respect to reads (RocksDB). Deciding what to write from what
// was read is the caller's to serialise (node::Ledger holds one mutex).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/protocol/balance.h"

namespace keiretsu::storage {

using protocol::Amount128;

enum class StopReason : uint8_t { kNone = 0, kFork = 1, kInvalidEntry = 2 };

// The state of one author's feed as this node holds it.
struct FeedState {
  uint64_t head_seq = 0;  // entries 1..head_seq are stored, chained
  EntryId head_id;
  uint64_t stop_seq = 0;  // 0: open; else entries from stop_seq on have no effect
  StopReason stop_reason = StopReason::kNone;
  EntryId effective_id;  // id of entry effective_seq() (== head_id when open)

  uint64_t effective_seq() const {
    return stop_seq == 0 ? head_seq : std::min(head_seq, stop_seq - 1);
  }
  friend bool operator==(const FeedState&, const FeedState&) = default;
};

// Proof that a feed stopped: two signed records at one seq (a fork), or one
// signed record that breaks a rule (an invalid entry) with the reason.
struct Evidence {
  PublicKey author;
  uint64_t seq = 0;
  StopReason kind = StopReason::kFork;
  Bytes first;         // kFork: the record with the lower id; kInvalidEntry: the record
  Bytes second;        // kFork: the other record; kInvalidEntry: empty
  std::string reason;  // for kInvalidEntry: the broken rule
};

struct BalanceRow {
  PublicKey firm;
  PublicKey counterparty;
  std::string unit;
  Amount128 net = 0;  // > 0: counterparty owes firm
};

class FaultInjector;  // keiretsu/storage/fault_injector.h

struct StoreOptions {
  std::string path;
  NetworkId network;  // a store belongs to one network for life
  bool create_if_missing = true;
  // Tests only: read and write through this injector's file system (in
  // memory or on disk) instead of the operating system's, so that writes
  // and syncs can fail and power can be cut. Null in production.
  std::shared_ptr<FaultInjector> faults_for_test = nullptr;
};

// A set of writes committed atomically by Store::Commit.
class Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  void PutEntry(const PublicKey& author, uint64_t seq, const EntryId& id, ByteView record);
  void SetFeedState(const PublicKey& author, const FeedState& state);
  // Adds `change.delta` to net(creditor, debtor) and subtracts it from
  // net(debtor, creditor).
  void AddDebt(const protocol::DebtChange& change);
  void PutPending(const PublicKey& author, uint64_t seq, const EntryId& id, ByteView record);
  void DeletePending(const PublicKey& author, uint64_t seq, const EntryId& id);
  void PutEvidence(const Evidence& evidence);
  void IndexClaim(const PublicKey& debtor, const EntryId& claim, const PublicKey& creditor,
                  uint64_t seq);
  void UnindexClaim(const PublicKey& debtor, const EntryId& claim);
  void IndexAnswer(const PublicKey& debtor, const EntryId& claim, const EntryId& answer);
  void UnindexAnswer(const PublicKey& debtor, const EntryId& claim, const EntryId& answer);
  void AppendLog(uint64_t cursor, const EntryId& id);

  size_t size() const;  // number of writes
  struct Rep;

 private:
  std::unique_ptr<Rep> rep_;
  friend class Store;
};

class Store {
 public:
  // Opens (or creates) the store at options.path. Errors: kFailedPrecondition
  // (locked by another process, or belongs to another network),
  // kCorruption, kIOError.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Applies `batch` atomically. With sync, returns only after the write is
  // on stable storage (WAL fsync): what it reports stored survives power loss.
  // When it fails (kIOError, kCorruption), whether the batch reached the
  // disk is unknown: it is not visible now, but a failed sync may still
  // have written it, and RocksDB refuses every later write of this open
  // instance. Every later Commit then fails (kIOError) until Recover
  // succeeds.
  Status Commit(Batch& batch, bool sync);

  // True after a failed Commit, until Recover succeeds.
  bool NeedsRecovery() const;
  // Closes and reopens the database after a failed commit (RocksDB cannot
  // resume from a failed WAL write in place). The failed batch is then
  // either wholly there or wholly absent: callers reload whatever they
  // cached from the store. Reads wait meanwhile. Errors: as Open (the fault
  // persists); the store stays unusable for writes and Recover may be tried
  // again.
  Status Recover();

  // --- Feeds
  std::map<PublicKey, FeedState> LoadFeedStates() const;
  Result<std::optional<Bytes>> GetEntry(const PublicKey& author, uint64_t seq) const;
  struct Location {
    PublicKey author;
    uint64_t seq = 0;
  };
  Result<std::optional<Location>> FindEntry(const EntryId& id) const;
  // Up to `limit` records of `author` with seq >= from_seq, in seq order.
  Result<std::vector<Bytes>> ReadFeed(const PublicKey& author, uint64_t from_seq,
                                      size_t limit) const;

  // --- Balances
  Result<Amount128> GetBalance(const PublicKey& firm, const PublicKey& counterparty,
                               const std::string& unit) const;
  // Every non-zero position of `firm`, by counterparty then unit.
  Result<std::vector<BalanceRow>> ListBalances(const PublicKey& firm) const;
  // Every non-zero position of every firm.
  Result<std::vector<BalanceRow>> ListAllBalances() const;

  // --- Pending entries (arrived before the entry they follow)
  // Records waiting at exactly (author, seq), by id.
  Result<std::vector<Bytes>> PendingAt(const PublicKey& author, uint64_t seq) const;
  // Every pending (author, seq, id), for cleanup and status.
  struct PendingKey {
    PublicKey author;
    uint64_t seq = 0;
    EntryId id;
  };
  Result<std::vector<PendingKey>> ListPending() const;
  // Every pending key of `author` with seq >= from_seq.
  Result<std::vector<PendingKey>> ListPendingFor(const PublicKey& author, uint64_t from_seq) const;

  // --- Evidence
  Result<std::vector<Evidence>> ListEvidence() const;

  // --- Claims addressed to a debtor, and the debtor's answers
  struct ClaimRef {
    EntryId claim;
    PublicKey creditor;
    uint64_t seq = 0;
  };
  // Effective claims against `debtor` that it has not answered, by claim id.
  Result<std::vector<ClaimRef>> ListOpenClaims(const PublicKey& debtor) const;
  // The id of `debtor`'s effective answer to `claim` (the lowest id when it
  // answered more than once), if any.
  Result<std::optional<EntryId>> FindAnswer(const PublicKey& debtor, const EntryId& claim) const;

  // --- Log of entries in the order they became effective here
  // Up to `limit` (cursor, id) pairs with cursor > after.
  Result<std::vector<std::pair<uint64_t, EntryId>>> ReadLog(uint64_t after, size_t limit) const;
  uint64_t LastLogCursor() const;  // 0 when empty

  // Checks that every feed state agrees with the entries stored: entry
  // head_seq exists with id head_id, entry head_seq+1 does not, and the
  // effective id matches. Errors: kCorruption naming the feed.
  Status CheckConsistency() const;

  // Flushes the memtables and compacts every column family to the bottom
  // level: the smallest footprint the data has (benchmarks measure it).
  Status Compact();

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keiretsu::storage
