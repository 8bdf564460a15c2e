// Daemon: keiretsud's wiring. Loads what the config names (genesis, key,
// TLS material), opens the data directory and the ledger, and serves the
// API; stops it all gracefully. main.cc adds the command line, logging and
// signals around it.
//
// Start refuses, with one line saying what is wrong and nothing left
// running, when: the genesis cannot be read; the key file is missing,
// unreadable or readable by group/others; neither the genesis nor the
// ledger knows the key's firm (without firm_id), or the key is not the one
// in force for the firm (another firm's, or one the firm retired); a token
// or peer names a firm that is not a member (or a peer names this firm);
// the TLS files cannot be read; the data directory is locked by another
// process or belongs to another network; the API address cannot be bound.
//
// Key rotation (docs/API.md "Rotation"): the firm's identity (its id and
// the key in force) is shared by the API and the replicator; a Rotate call
// switches it in process. At start a rotation interrupted before the key
// file was renamed is finished from `<key_file>.next`.
//
// The operations listener (node/ops: metrics, status page), when the config
// has an [ops] table, runs on its own threads; failing to bind its address
// or to read its token file refuses the start like the API's address does.
//
// Replication (node/net) runs beside the API: peers from [peer], the
// ledger listener fanned out to Watch streams and to the replicator, whose
// write gate keeps API writes closed until this firm's head is known.
//
// Thread-safety: Start and Stop are called from one thread (main); the
// running daemon's work happens on the API server's threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "keiretsu/api/server.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/daemon/config.h"
#include "keiretsu/net/replicator.h"
#include "keiretsu/node/identity.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/ops/metrics_registry.h"
#include "keiretsu/ops/ops_server.h"

namespace keiretsu::daemon {

class Periodic;

// How many API self-checks in a row may fail before the daemon gives up.
inline constexpr int kApiSelfCheckFailures = 3;

// What the process around the daemon is told (keiretsud: systemd).
struct DaemonHooks {
  // After each API self-check that passed (sd_notify WATCHDOG=1).
  std::function<void()> api_alive;
  // Once, when kApiSelfCheckFailures self-checks in a row failed: the API
  // no longer answers new clients (keiretsud exits non-zero).
  std::function<void(const Status&)> api_dead;
  // Self-check interval when shorter than the config's (systemd's
  // WatchdogSec / 3); zero: the config's.
  std::chrono::milliseconds self_check_interval{0};
};

class Daemon {
 public:
  // Opens everything and starts serving. `version` is reported by
  // GetStatus. Logs (spdlog) what it opens; never a secret. On a disk below
  // the free-space reserve it still starts, read-only (docs/OPERATIONS.md
  // "A full disk"), and every second checks whether writes may resume.
  static Result<std::unique_ptr<Daemon>> Start(const Config& config, const std::string& version,
                                               DaemonHooks hooks = {});
  ~Daemon();  // Stop(0) if not done
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // The API's bound address (host:port; the real port when the config
  // asked for port 0).
  const std::string& api_address() const { return api_address_; }
  // The operations listener's bound address; empty when it is off.
  const std::string& ops_address() const { return ops_address_; }
  // This node's firm (its id) and the key it signs with now (a Rotate
  // through the API switches it).
  const PublicKey& firm() const { return identity_->firm(); }
  const node::Identity& identity() const { return *identity_; }
  // REQUIRES: not stopped.
  const protocol::Genesis& genesis() const { return ledger_->genesis(); }
  node::Ledger& ledger() { return *ledger_; }

  // Stops the health checks, stops accepting API calls, lets in-flight
  // calls finish for up to `grace`, then closes the ledger (RocksDB flushed
  // and unlocked). Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  Daemon() = default;
  void StartHealthChecks(const Config& config, DaemonHooks hooks);
  std::unique_ptr<Periodic> disk_watch_;  // store Refresh, every second
  std::unique_ptr<Periodic> api_watch_;   // API self-check
  // Outlives everything that reports to it (ledger, replicator, API).
  std::unique_ptr<ops::MetricsRegistry> metrics_;
  std::shared_ptr<node::Identity> identity_;
  std::unique_ptr<node::Ledger> ledger_;
  std::shared_ptr<api::WatchHub> hub_;
  std::unique_ptr<net::Replicator> replicator_;
  std::unique_ptr<api::PeerStatusSource> peer_status_;
  std::unique_ptr<api::ApiServer> api_;
  std::string api_address_;
  std::unique_ptr<ops::OpsServer> ops_;
  std::string ops_address_;
};

}  // namespace keiretsu::daemon
