// Metrics: what the node's parts report for monitoring, through one narrow
// interface. The ledger, the replicator and the API server each take a
// `Metrics*` in their options and call it at a few points (one line each);
// node/ops implements it with Prometheus counters and histograms, so no
// other module sees a Prometheus header. Everything that can be read from
// state when scraped (pending entries, peers, free disk) is read then and
// has no method here.
//
// Thread-safety: implementations must be thread-safe and cheap: they are
// called concurrently from ledger commits, peer sessions' strands and API
// handler threads, and must never block on I/O.
#pragma once

#include <cstdint>
#include <string_view>

namespace keiretsu::node {

class Metrics {
 public:
  virtual ~Metrics() = default;

  // Ledger: `count` entries of one ingest (`own` false: peers, imports) or
  // one group of own appends (`own` true) had `outcome` (OutcomeName:
  // "applied", "duplicate", "pending", "fork-proven", "feed-ended",
  // "ignored", "rejected").
  virtual void CountEntries(bool own, std::string_view outcome, uint64_t count) = 0;
  // Ledger: one store commit took `seconds`; `synced`: the WAL was synced.
  virtual void ObserveCommit(double seconds, bool synced) = 0;
  // Ledger: one Append (an own write: queueing, signing, group commit)
  // returned after `seconds`; `ok` false when it failed.
  virtual void ObserveWrite(double seconds, bool ok) = 0;

  // Net: a peer connection ended before or during its handshake; `reason`
  // is a short label ("unauthenticated", "timeout", "too-many-handshakes").
  virtual void CountHandshakeFailure(std::string_view reason) = 0;

  // API: a call to `method` (e.g. "keiretsu.v1.Ledger/Claim") ended with
  // the gRPC status `code` (e.g. "OK", "INVALID_ARGUMENT").
  virtual void CountApiCall(std::string_view method, std::string_view code) = 0;
};

// A Metrics that records nothing: the default when none is given.
Metrics& NoMetrics();

}  // namespace keiretsu::node
