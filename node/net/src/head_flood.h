// HeadFlood: one node's bookkeeping for the restore rule's flooded head
// queries and reports (docs/PROTOCOL.md 13.2.8). Pure: no sockets, no
// threads, no signing; the node (Replicator::Core, the simulator) verifies
// and signs, and sends what this says to send.
//
// Kept per subject (a member asking): the latest query nonce seen, the peer
// it first came from (its upstream: the first hop of the fastest path back
// to the subject) and the reports answering it, one per reporter. A newer
// nonce for a subject replaces the older one with its reports. Queries are
// flooded to every peer; reports go back upstream only (to every peer when
// the upstream has no session), so a report crosses about one path, not
// every link. Callers pass only members' ids, so memory is bounded by
// members x (members + 1) items.
//
// Thread-safety: none; Core holds it under its mutex.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/head_report.h"
#include "keiretsu/storage/store.h"

namespace keiretsu::net {

// One flooded item: a query (subject, nonce) or a signed report.
struct FloodItem {
  bool is_report = false;
  PublicKey subject;
  protocol::HeadNonce nonce{};
  Bytes statement;  // report: the 210 signed statement bytes
  crypto::Signature signature{};
};

FloodItem QueryItem(const PublicKey& subject, const protocol::HeadNonce& nonce);
// The report `reporter` gives on `subject`'s feed for query `nonce`: what
// `held` (nullptr: none of it) says, in the same feed states its Have gives.
protocol::HeadReport ReportOnFeed(const NetworkId& network, const PublicKey& reporter,
                                  const PublicKey& subject, const protocol::HeadNonce& nonce,
                                  const storage::FeedState* held);
FloodItem ReportItem(const protocol::HeadReport& report, Bytes statement,
                     const crypto::Signature& signature);

class HeadFlood {
 public:
  explicit HeadFlood(const PublicKey& self) : self_(self) {}

  // This run's own query (a fresh nonce); what to send every peer.
  FloodItem StartOwnQuery(const protocol::HeadNonce& nonce);
  const std::optional<protocol::HeadNonce>& own_nonce() const { return own_nonce_; }

  // A query for `subject` (a member) received from peer `from`. True when
  // it is new (a nonce not among the last kRecentNonces seen for `subject`,
  // and not about this node): `from` becomes its upstream; the caller
  // answers it (upstream) and forwards it to its other peers. A nonce seen
  // before is never taken up again, even when a newer one came since: two
  // queries of one subject (it restarted) would otherwise chase each other
  // round every cycle of the peer graph for ever, each node taking each one
  // up again after the other.
  bool OnQuery(const PublicKey& from, const PublicKey& subject, const protocol::HeadNonce& nonce);
  // How many of a subject's latest query nonces are remembered.
  static constexpr size_t kRecentNonces = 16;
  // The peer the latest query for `subject` came from; nullopt when none.
  std::optional<PublicKey> Upstream(const PublicKey& subject) const;
  // The latest query nonce seen for `subject`; nullopt when none.
  std::optional<protocol::HeadNonce> LatestNonce(const PublicKey& subject) const;
  // A report the caller verified against LatestNonce(report.subject). True
  // when it is new (its reporter had no report kept for that query): the
  // caller forwards it to its other peers.
  bool AddReport(const protocol::HeadReport& report, Bytes statement,
                 const crypto::Signature& signature);
  // What a new session with `peer` is sent first: this node's own query,
  // every latest query kept (but those `peer` asked or sent us), and the
  // reports kept for the queries `peer` asked or sent us.
  std::vector<FloodItem> Backlog(const PublicKey& peer) const;
  size_t size() const;

 private:
  struct Query {
    protocol::HeadNonce nonce{};
    PublicKey upstream;
    std::map<PublicKey, FloodItem> reports;  // by reporter
    std::deque<protocol::HeadNonce> seen;    // the latest kRecentNonces, newest last
  };
  const PublicKey self_;
  std::optional<protocol::HeadNonce> own_nonce_;
  std::map<PublicKey, Query> queries_;  // by subject (never self_)
};

}  // namespace keiretsu::net
