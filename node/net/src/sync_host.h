// What a peer session's protocol logic (PeerSync) needs from the node around
// it, as three narrow interfaces. Replicator::Core implements them for the
// daemon; the simulator (tests/sim) implements them per simulated node.
//
// Thread-safety: implementations are called from a session's strand (or
// the simulator's one thread); Core's are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keiretsu/protocol/head_report.h"
#include "node/net/src/head_flood.h"
#include "node/net/src/peer_model.h"

namespace keiretsu::net {

// The local ledger as sessions see it: a cached snapshot of the feed
// states (no store reads) and membership, which the ledger keeps in memory.
class SyncLedger {
 public:
  virtual ~SyncLedger() = default;
  virtual const PublicKey& self() const = 0;
  // The latest snapshot of the feed states; RefreshFeeds takes a new one.
  virtual std::shared_ptr<const FeedMap> Feeds() const = 0;
  virtual void RefreshFeeds() = 0;
  // `firm` is a member of some epoch this ledger knows (it has a key chain).
  virtual bool KnowsMember(const PublicKey& firm) const = 0;
  // `firm` is an active member of the current epoch.
  virtual bool IsActiveMember(const PublicKey& firm) const = 0;
  // `firm`'s key in force (the last of its key chain); nullopt for a firm
  // this ledger has no key chain of.
  virtual std::optional<PublicKey> KeyInForce(const PublicKey& firm) const = 0;
  // The port this node accepts peers on (0: none), announced in Have.
  virtual uint32_t ListenPort() const = 0;
  virtual std::string Name(const PublicKey& firm) const = 0;
};

// The peer registry: per-firm statistics, misbehaviour and learned addresses.
class PeerRegistry {
 public:
  virtual ~PeerRegistry() = default;
  virtual void Seen(const PublicKey& firm) = 0;
  virtual void CountSent(const PublicKey& firm, uint64_t n) = 0;
  virtual void CountReceived(const PublicKey& firm, uint64_t n) = 0;
  // `count` invalid items from `firm`; true when it crossed the threshold
  // (the session must close; the firm is banned for a while).
  virtual bool Misbehaved(const PublicKey& firm, uint64_t count, const std::string& what) = 0;
  virtual void HaveReceived(const PublicKey& firm, const ReportedMap& reported) = 0;
  // An inbound peer announced its listener port (dial it back there).
  virtual void LearnListenPort(const PublicKey& firm, const std::string& host, uint32_t port) = 0;
};

// The restore rule (replicator.h, PROTOCOL.md 13.2): given the reports of
// how far other members hold this node's own feed (nullopt: none of it),
// whether writes may open: a strict majority of the other members
// (`quorum`) reported, and `mine` holds its own feed at least as far as
// every report (or is stopped where a report is). `highest`: the highest
// head reported. Pure; Replicator::Core and the simulator both decide so.
struct RestoreGateDecision {
  bool enough_reports = false;
  bool open = false;
  uint64_t highest = 0;
};
RestoreGateDecision DecideRestoreGate(
    const std::map<PublicKey, std::optional<ReportedFeed>>& reports, size_t quorum,
    const node::FeedState& mine);

// One member's reports of this node's own feed within a run (direct, from
// its Haves, or relayed, signed): the most demanding counts, so the order
// they arrive in never changes the decision. Keeps in `slot` the greater of
// the two by (stopped, head, stop), "none" (nullopt) lowest.
void MergeOwnReport(std::optional<ReportedFeed>& slot, const std::optional<ReportedFeed>& report);
// What a signed head report says of the subject's feed, as a report.
std::optional<ReportedFeed> ReportedOf(const protocol::HeadReport& report);

// The restore rule's write gate (replicator.h): `firm` reports how far it
// holds this node's own feed (nullopt: none of it).
class WriteGateKeeper {
 public:
  virtual ~WriteGateKeeper() = default;
  virtual void CheckGate(const PublicKey& firm, const std::optional<ReportedFeed>& own) = 0;

  // The flooded head queries and reports (PROTOCOL.md 13.2.8), as `firm`
  // sent them (checked for form by the wire; nothing else): the keeper
  // answers, verifies, counts and forwards them to its other sessions.
  virtual void OnHeadQuery(const PublicKey& firm, const PublicKey& subject,
                           const protocol::HeadNonce& nonce) = 0;
  virtual void OnHeadReport(const PublicKey& firm, ByteView statement,
                            const crypto::Signature& signature) = 0;
  // What a session with `firm` sends after its first Have: the queries and
  // reports the node keeps for it (HeadFlood::Backlog).
  virtual std::vector<FloodItem> HeadFloodBacklog(const PublicKey& firm) = 0;
};

}  // namespace keiretsu::net
