// Replicator: keeps this node's ledger in sync with its peers
// (docs/replication.md). It listens for peers and dials the configured ones
// at the same time; every link is a Noise session authenticated to a
// genesis member; over it each side states what it holds (Have) and streams
// the other what it lacks in flow-controlled batches; new entries are pushed
// as they are committed and relayed onward; a periodic Have heals anything
// missed.
//
// Restore rule (docs/PROTOCOL.md §13.2 "Restore rule"): when peers are
// configured (and require_peer_before_write is not turned off), Start()
// closes the ledger's write gate until a strict majority of the other
// members have each reported, in a session with this node, how far they
// hold this firm's own feed, and this node holds at least the highest of
// those reports. So a node restored from a backup never re-uses a seq it
// already published, and no minority of stale peers can open the gate.
//
// Dialling: configured peers are dialled and redialled with backoff. A
// member that connected inbound and announced its listener port (Have
// listen_port) is dialled back at its address and that port after its
// session ends, so it is not left waiting to get in through this node's
// listener.
//
// Threading: the Replicator owns an io_context run by `io_threads` threads
// (one strand per session) and one ingest thread, on which received records
// go through Ledger::Ingest (which verifies signatures on all cores). All
// public methods are thread-safe.
//
// Wiring (the daemon's job): the ledger's listener must call OnApplied with
// every commit, so new entries are pushed at once (without it they still
// flow, but only at the next anti-entropy round).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/net/limits.h"
#include "keiretsu/node/identity.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/node/metrics.h"

namespace keiretsu::net {

struct PeerConfig {
  PublicKey firm;       // a genesis member other than this node
  std::string address;  // "host:port" (IPv6 as "[::1]:7421") of its peer listener
};

struct ReplicatorOptions {
  // "host:port" to accept peers on; port 0 picks a free port (see port()).
  // Empty: do not listen (dial only).
  std::string listen;
  std::vector<PeerConfig> peers;
  // Keep the write gate closed until a peer reported this firm's own head
  // and it was reached. Default (nullopt): true when peers are configured.
  // Without a majority of the other members reachable the gate stays
  // closed; an operator who knows the data directory is current sets this
  // to false (keiretsud: peer.require_peer_before_write, docs/OPERATIONS.md
  // §4).
  std::optional<bool> require_peer_before_write;

  std::chrono::milliseconds anti_entropy_interval = kAntiEntropyInterval;
  std::chrono::milliseconds handshake_timeout = kHandshakeTimeout;
  std::chrono::milliseconds connect_timeout = kConnectTimeout;
  std::chrono::milliseconds idle_timeout = kIdleTimeout;
  std::chrono::milliseconds ping_interval = kPingInterval;
  std::chrono::milliseconds write_timeout = kWriteTimeout;
  std::chrono::milliseconds redial_min = kRedialMin;
  std::chrono::milliseconds redial_max = kRedialMax;
  std::chrono::milliseconds misbehaviour_backoff = kMisbehaviourBackoff;
  uint64_t invalid_threshold = kInvalidThreshold;
  unsigned io_threads = 2;
  // Seeds the redial jitter; 0: from the operating system.
  uint64_t random_seed = 0;
  // Where handshake failures are counted (node/metrics.h); not owned, must
  // outlive the Replicator. Null: nowhere.
  node::Metrics* metrics = nullptr;
};

// One peer firm as this node sees it: every configured peer, and any member
// that connected to us during this run.
struct PeerStatus {
  PublicKey firm;
  std::string name;  // genesis member name
  // Configured address, else the one learned for dialling back (remote
  // address and announced listener port), else the last remote endpoint.
  std::string address;
  bool configured = false;
  bool connected = false;
  bool outbound = false;           // the current session was dialled by us
  uint64_t last_seen_unix_ms = 0;  // last message received (0: never)
  uint64_t entries_sent = 0;       // records sent to it during this run
  uint64_t entries_received = 0;   // records from it that this ledger applied
  // Transport messages (any kind, after the handshake) sent to it during
  // this run, and their bytes on the wire (frames: header, ciphertext, tag).
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t invalid_received = 0;  // refused records and protocol violations
  // Entries it reported (last Have) that this node lacks; 0 before a Have.
  uint64_t behind = 0;
  // Entries this node holds that it had not reported holding at its last
  // Have (it is behind this node by as many); 0 before a Have.
  uint64_t peer_lacks = 0;
  bool have_received = false;         // a Have arrived in the current session
  bool synced = false;                // connected, Have received, behind == 0
  uint64_t banned_until_unix_ms = 0;  // misbehaviour backoff (0: none)
  std::string last_error;             // why the last session ended or failed
};

class Replicator {
 public:
  // Checks the options (addresses parse; peers are members of some epoch
  // this ledger knows, not this node, not listed twice). `ledger` and `key`
  // must outlive the Replicator; `key` must not be the key of a removed
  // member (a key the ledger does not know may be a firm admitted in an
  // epoch it has not learnt yet). Errors: kInvalidArgument.
  static Result<std::unique_ptr<Replicator>> Create(node::Ledger& ledger,
                                                    const crypto::SigningKey& key,
                                                    ReplicatorOptions options);
  // The same for a firm that may rotate its key (node/identity.h): its feed
  // is identity->firm(), and each handshake authenticates with the key in
  // force when it starts, so a rotation (the API's Rotate adopts the new
  // key into the shared identity) takes effect for new sessions without a
  // restart. Sessions already open stay open.
  static Result<std::unique_ptr<Replicator>> Create(node::Ledger& ledger,
                                                    std::shared_ptr<node::Identity> identity,
                                                    ReplicatorOptions options);
  ~Replicator();  // Stop()
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Binds the listener, closes the write gate (see above), starts the
  // threads and dials the peers. Errors: kUnavailable (cannot bind; the gate
  // is left as it was), kFailedPrecondition (already started or stopped). A
  // Replicator whose Start failed cannot be started again.
  Status Start();
  // Closes every session and the listener, joins the threads. In-flight
  // ingests finish first. Idempotent; the Replicator cannot be restarted.
  void Stop();

  // The port actually bound (0 before Start or without a listener).
  uint16_t port() const;

  // Adds a peer to dial (same checks as Create). Errors: kInvalidArgument.
  Status AddPeer(const PeerConfig& peer);

  // Feed with every committed batch of entries (the ledger's listener).
  // Cheap: marks the changed feeds on every session and returns.
  void OnApplied(const std::vector<node::AppliedEntry>& applied);

  std::vector<PeerStatus> Peers() const;
  // Empty when Append is allowed; else why not (the ledger's write gate).
  std::string WriteBlockReason() const;

  class Core;

 private:
  explicit Replicator(std::unique_ptr<Core> core);
  std::unique_ptr<Core> core_;
};

}  // namespace keiretsu::net
