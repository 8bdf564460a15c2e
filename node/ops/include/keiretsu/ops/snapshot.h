// NodeSnapshot: what the operations listener shows, read from the node in
// one go (ledger queries, replication status, the data directory's file
// system). Plain values: rendering (metrics, HTML, JSON) never touches the
// ledger.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keiretsu/common/status.h"
#include "keiretsu/net/replicator.h"
#include "keiretsu/node/ledger.h"

namespace keiretsu::ops {

struct MemberView {
  PublicKey key;
  std::string name;
  bool self = false;
  node::FeedState feed;  // head, effective seq, stop
};

struct ClaimView {
  std::string id_hex;
  PublicKey creditor;  // the claim's author
  PublicKey debtor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
  uint64_t timestamp_ms = 0;
};

struct DiskSpace {
  uint64_t free_bytes = 0;   // available to this (unprivileged) process
  uint64_t total_bytes = 0;  // size of the file system
};

struct NodeSnapshot {
  uint64_t taken_unix_ms = 0;
  std::string version;
  std::string commit;
  PublicKey self;
  std::string self_name;
  std::string network_name;
  std::string network_id_hex;
  std::string state_digest_hex;
  std::string write_block_reason;   // empty: writable
  std::vector<MemberView> members;  // the genesis' members, sorted by name
  bool replication = false;         // peers configured or a peer listener
  std::vector<net::PeerStatus> peers;
  std::vector<node::BalanceRow> balances;  // every non-zero position, both sides
  std::vector<ClaimView> open_claims;      // oldest first, at most kMaxClaimsShown
  size_t open_claims_total = 0;
  size_t pending_entries = 0;
  std::optional<DiskSpace> disk;  // nullopt: statvfs failed
  std::string error;              // a query that failed (the rest is still shown)

  // The member's name, else the key's first 8 hex.
  std::string NameOf(const PublicKey& key) const;
  size_t FeedsStopped(storage::StopReason reason) const;
};

inline constexpr size_t kMaxClaimsShown = 200;

// Where a snapshot is read from. `ledger` must outlive its use;
// `replicator` may be null (no replication).
struct SnapshotSources {
  node::Ledger* ledger = nullptr;
  const net::Replicator* replicator = nullptr;
  PublicKey self;
  std::string data_dir;
  std::string version;
  std::string commit;
};

// Reads the node's state now. Never fails as a whole: a failed query is
// named in `error` and its part left empty. Thread-safe.
NodeSnapshot TakeSnapshot(const SnapshotSources& sources, uint64_t now_unix_ms);

}  // namespace keiretsu::ops
