#include "keiretsu/daemon/daemon.h"

#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "keiretsu/api/clearing_policy.h"
#include "keiretsu/common/text.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/storage/store.h"
#include "node/daemon/src/health.h"

#ifndef KEIRETSU_COMMIT
#define KEIRETSU_COMMIT "unknown"
#endif

namespace keiretsu::daemon {

namespace {

Result<std::string> ReadPem(const Config& c, std::string_view key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return c.Error(key, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The firm a token or peer names, by name (any case) or id: a founder, or
// with `ledger` a firm admitted since, as this node's ledger knows it.
Result<PublicKey> MemberNamed(const Config& c, const protocol::Genesis& g,
                              const node::Ledger* ledger, const std::string& where,
                              const std::string& firm) {
  auto key = g.ResolveFirm(firm);
  if (key.ok()) return *key;
  if (ledger != nullptr) {
    const auto id = PublicKey::FromHex(firm);
    for (const auto& [member, name] : *ledger->MemberNames())
      if ((id && member == *id) || EqualsIgnoringCase(name, firm)) return member;
  }
  return c.Error(where,
                 "unknown firm '" + firm + "': not a member of network " + g.network_name() +
                     (ledger != nullptr ? " (founders and the firms admitted since that "
                                          "this node's ledger holds)"
                                        : " (a new data directory knows the founders only)"));
}

Result<std::vector<api::TokenSpec>> Tokens(const Config& c, const protocol::Genesis& g,
                                           const node::Ledger* ledger) {
  std::vector<api::TokenSpec> out;
  for (const TokenConfig& t : c.api.tokens) {
    api::TokenSpec spec{t.token, t.role, std::nullopt, t.where};
    if (t.role == api::Role::kPartner) {
      KEIRETSU_ASSIGN_OR_RETURN(spec.firm, MemberNamed(c, g, ledger, t.where + ".firm", t.firm));
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Status CheckPeers(const Config& c, const protocol::Genesis& g, const node::Ledger* ledger,
                  const PublicKey& self) {
  std::set<PublicKey> seen;
  for (const PeerConfig& p : c.peer.peers) {
    KEIRETSU_ASSIGN_OR_RETURN(PublicKey k, MemberNamed(c, g, ledger, p.where + ".firm", p.firm));
    if (k == self) return c.Error(p.where + ".firm", "names this node's own firm");
    if (!seen.insert(k).second)
      return c.Error(p.where + ".firm", "names a firm listed as a peer before");
  }
  return Status::Ok();
}

Result<std::optional<api::TlsOptions>> Tls(const Config& c) {
  if (c.api.tls_cert.empty()) return std::optional<api::TlsOptions>();
  api::TlsOptions tls;
  KEIRETSU_ASSIGN_OR_RETURN(tls.cert_chain_pem, ReadPem(c, "api.tls_cert", c.api.tls_cert));
  KEIRETSU_ASSIGN_OR_RETURN(tls.private_key_pem, ReadPem(c, "api.tls_key", c.api.tls_key));
  if (!c.api.tls_client_ca.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(tls.client_ca_pem,
                              ReadPem(c, "api.tls_client_ca", c.api.tls_client_ca));
  }
  return std::optional<api::TlsOptions>(std::move(tls));
}

// GetStatus' view of the node: replication (when on) and whether it may
// write. The disk comes first: while it is below the reserve writes fail
// RESOURCE_EXHAUSTED whatever the restore gate says.
class NodeStatus : public api::PeerStatusSource {
 public:
  NodeStatus(const net::Replicator* r, storage::Store& store) : r_(r), store_(store) {}
  std::vector<api::PeerInfo> Peers() const override {
    std::vector<api::PeerInfo> out;
    if (r_ == nullptr) return out;
    for (const net::PeerStatus& p : r_->Peers())
      out.push_back(api::PeerInfo{p.firm, p.address, p.connected, p.last_seen_unix_ms,
                                  p.entries_sent, p.entries_received, p.behind,
                                  p.invalid_received});
    return out;
  }
  std::string WriteBlockReason() const override {
    Status disk = store_.Writable();
    if (!disk.ok()) return disk.message();
    return r_ != nullptr ? r_->WriteBlockReason() : std::string();
  }
  Status CheckWritable() const override {
    KEIRETSU_RETURN_IF_ERROR(store_.Writable());
    return api::PeerStatusSource::CheckWritable();
  }

 private:
  const net::Replicator* r_;  // null: replication off
  storage::Store& store_;
};

// One warning per stored proof: which firm's feed stopped, where, and why.
void LogStop(const protocol::Genesis& g, const storage::Evidence& e) {
  const protocol::Member* m = g.FindByKey(e.author);
  const std::string firm =
      (m != nullptr ? m->name : e.author.Short()) + " (" + e.author.Hex() + ")";
  std::string ids;
  for (const Bytes* rec : {&e.first, &e.second})
    if (!rec->empty())
      if (auto id = protocol::IdOfRecord(*rec)) ids += (ids.empty() ? "" : ", ") + id->Hex();
  if (e.kind == storage::StopReason::kFork)
    spdlog::warn(
        "fork proof stored: firm {} signed two entries at seq {} ({}); its feed stopped there "
        "and its entries from seq {} on count for nothing",
        firm, e.seq, ids, e.seq);
  else
    spdlog::warn(
        "invalid entry stored: firm {} seq {} ({}) breaks a rule: {}; its feed stopped there", firm,
        e.seq, ids, e.reason);
}

void LogDiskSpace(const Config& c) {
  auto space = storage::StatFilesystem(c.data_dir);
  const std::string reserve = c.storage.free_space_reserve_mib == 0
                                  ? std::string("none")
                                  : storage::FormatBytes(c.storage.free_space_reserve_mib << 20);
  if (space.ok())
    spdlog::info("data directory {}: {} free of {}, write reserve {}", c.data_dir,
                 storage::FormatBytes(space->available_bytes),
                 storage::FormatBytes(space->total_bytes), reserve);
}

Result<net::ReplicatorOptions> ReplicationOptions(const Config& c, const protocol::Genesis& g,
                                                  const node::Ledger& ledger) {
  net::ReplicatorOptions o;
  o.listen = c.peer.listen;
  for (const PeerConfig& p : c.peer.peers) {
    KEIRETSU_ASSIGN_OR_RETURN(PublicKey k, MemberNamed(c, g, &ledger, p.where + ".firm", p.firm));
    o.peers.push_back(net::PeerConfig{k, p.address});
  }
  o.require_peer_before_write = c.peer.require_peer_before_write;
  o.anti_entropy_interval = std::chrono::seconds(c.peer.anti_entropy_seconds);
  return o;
}

// The operations listener's token: the file's first line, which must be a
// token as the API's are (16+ printable characters) in a file only its
// owner can read.
Result<std::string> ReadOpsToken(const Config& c) {
  const std::string& path = c.ops.token_file;
  if (path.empty()) return std::string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return c.Error("ops.token_file", "cannot read " + path);
  if ((st.st_mode & 077) != 0)
    return c.Error("ops.token_file", path + " is readable by group or others (chmod 600 it)");
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) return c.Error("ops.token_file", "cannot read " + path);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < api::kMinTokenLength)
    return c.Error("ops.token_file", path + " must hold a token of at least " +
                                         std::to_string(api::kMinTokenLength) + " characters");
  for (char ch : token)
    if (ch <= ' ' || ch >= 0x7f)
      return c.Error("ops.token_file", path + ": the token must be printable ASCII, no spaces");
  return token;
}

// Starts the operations listener over the running daemon's parts.
Result<std::unique_ptr<ops::OpsServer>> StartOps(const Config& c, const std::string& version,
                                                 node::Ledger& ledger,
                                                 const net::Replicator* replicator,
                                                 const PublicKey& self,
                                                 const ops::MetricsRegistry& metrics) {
  ops::OpsOptions o;
  o.listen = c.ops.listen;
  KEIRETSU_ASSIGN_OR_RETURN(o.token, ReadOpsToken(c));
  o.max_connections = static_cast<size_t>(c.ops.max_connections);
  o.timeout = std::chrono::seconds(c.ops.timeout_seconds);
  o.max_url_bytes = static_cast<size_t>(c.ops.max_url_bytes);
  o.status_refresh = std::chrono::seconds(c.ops.status_refresh_seconds);
  ops::SnapshotSources src{&ledger, replicator, self, c.data_dir, version, KEIRETSU_COMMIT};
  auto server = ops::OpsServer::Start(std::move(o), std::move(src), metrics);
  if (!server.ok())
    return Status(server.status().code(), "operations listener ([ops] listen = " + c.ops.listen +
                                              "): " + server.status().message());
  return server;
}

// The key this node signs with, after finishing an interrupted rotation
// (docs/API.md "Rotation"): a staged `<key_file>.next` whose key the ledger
// holds in force for `firm` is the firm's key now (its rotate entry was
// committed; the rename that follows did not happen), so it replaces the
// key file; any other staged key belongs to a rotation that was never
// committed, and is removed. Then the key must be the one in force for
// `firm`: refused when it belongs to another firm or when `firm` retired
// it. A key the ledger does not know yet (a fresh or restored data
// directory behind the firm's rotation) is accepted: peers authenticate it
// against what they hold, and writes wait for the firm's head.
Result<crypto::SigningKey> KeyInForce(const Config& config, const node::Ledger& ledger,
                                      const PublicKey& firm, crypto::SigningKey key) {
  const std::string staged_path = crypto::StagedKeyPath(config.key_file);
  auto staged = crypto::ReadKeyFile(staged_path);
  if (staged.ok()) {
    if (ledger.FirmOfKey(staged->public_key()) == firm) {
      KEIRETSU_RETURN_IF_ERROR(crypto::PromoteStagedKeyFile(config.key_file));
      spdlog::warn(
          "key file {}: finished an interrupted rotation: the firm's key is now {} (from {})",
          config.key_file, staged->public_key().Hex(), staged_path);
      key = std::move(staged).value();
    } else {
      KEIRETSU_RETURN_IF_ERROR(crypto::DiscardStagedKeyFile(config.key_file));
      spdlog::warn("key file {}: removed {}, the key of a rotation that was never committed",
                   config.key_file, staged_path);
    }
  } else if (staged.status().code() != Code::kNotFound) {
    return Status(staged.status().code(),
                  "staged key of an interrupted rotation: " + staged.status().message());
  }
  const PublicKey pk = key.public_key();
  if (auto owner = ledger.FirmOfKey(pk); owner && *owner != firm)
    return FailedPrecondition("key file " + config.key_file + " holds the key in force of firm " +
                              owner->Hex() + ", not of this firm " + firm.Hex() + " (firm_id in " +
                              config.file + ")");
  const std::vector<protocol::KeySpan> chain = ledger.KeyChain(firm);
  for (size_t i = 0; i + 1 < chain.size(); ++i)
    if (chain[i].key == pk)
      return FailedPrecondition("key file " + config.key_file + " holds key " + pk.Hex() +
                                ", which this firm retired at seq " +
                                std::to_string(chain[i + 1].from_seq) + "; its key in force is " +
                                chain.back().key.Hex());
  if (!chain.empty() && chain.back().key != pk)
    spdlog::warn(
        "key file {} holds key {}, which this node does not know as the firm's key yet "
        "(its ledger knows {}); writes wait until it learns the rotation from its peers",
        config.key_file, pk.Hex(), chain.back().key.Hex());
  return key;
}

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::Start(const Config& config, const std::string& version,
                                              DaemonHooks hooks) {
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis genesis,
                            protocol::Genesis::LoadTomlFile(config.genesis_file));
  spdlog::info("network {} ({})", genesis.network_name(), genesis.network_id().Hex());
  KEIRETSU_ASSIGN_OR_RETURN(crypto::SigningKey key, crypto::ReadKeyFile(config.key_file));
  // The firm's id: the config's firm_id, else the key's public key (a firm
  // that never rotated), else the firm the ledger holds that key in force
  // for (a rotated firm without firm_id: resolved once the ledger is open).
  // A firm_id the genesis does not list is a firm admitted since.
  PublicKey self = config.firm_id.empty() ? key.public_key() : *PublicKey::FromHex(config.firm_id);
  const protocol::Member* me = genesis.FindByKey(self);
  const bool resolve_by_key = me == nullptr && config.firm_id.empty();
  if (!resolve_by_key)
    spdlog::info("firm {} ({})", me != nullptr ? me->name : "admitted since the genesis",
                 self.Hex());

  api::ApiServerOptions opts;
  opts.listen = config.api.listen;
  opts.max_message_bytes = config.api.max_message_bytes;
  opts.max_connection_idle = std::chrono::seconds(config.api.idle_timeout_seconds);
  opts.max_connection_age = std::chrono::seconds(config.api.max_connection_age_seconds);
  opts.max_connection_age_grace = std::chrono::seconds(config.api.max_connection_age_grace_seconds);
  opts.max_connections = static_cast<size_t>(config.api.max_connections);
  opts.max_connections_per_source = static_cast<size_t>(config.api.max_connections_per_source);
  opts.version = version;
  opts.key_file = config.key_file;  // Rotate keeps the new key there
  // Tokens and peers name founders or firms admitted since. A new data
  // directory knows the founders only: check now, before anything is
  // created; an existing one is checked against its ledger once open.
  const bool fresh = !std::filesystem::exists(config.data_dir);
  if (fresh) {
    KEIRETSU_RETURN_IF_ERROR(Tokens(config, genesis, nullptr).status());
    KEIRETSU_RETURN_IF_ERROR(CheckPeers(config, genesis, nullptr, self));
  }
  KEIRETSU_ASSIGN_OR_RETURN(opts.tls, Tls(config));

  if (config.ops.enabled) KEIRETSU_RETURN_IF_ERROR(ReadOpsToken(config).status());
  auto metrics = config.ops.enabled
                     ? std::make_unique<ops::MetricsRegistry>(version, KEIRETSU_COMMIT)
                     : nullptr;
  opts.metrics = metrics.get();

  // Last: the store takes the data directory's lock.
  storage::StoreOptions so;
  so.path = config.data_dir;
  so.network = genesis.network_id();
  so.reserve_bytes = config.storage.free_space_reserve_mib << 20;
  KEIRETSU_ASSIGN_OR_RETURN(auto store, storage::Store::Open(so));
  LogDiskSpace(config);
  node::LedgerOptions lo;
  lo.metrics = metrics.get();
  KEIRETSU_ASSIGN_OR_RETURN(auto ledger, node::Ledger::Open(genesis, std::move(store), lo));
  spdlog::info("data directory {}: {} feeds, state digest {}", config.data_dir,
               ledger->Feeds().size(), ledger->StateDigest().Hex());
  KEIRETSU_ASSIGN_OR_RETURN(opts.tokens, Tokens(config, genesis, ledger.get()));
  if (resolve_by_key) {
    std::optional<PublicKey> owner = ledger->FirmOfKey(key.public_key());
    if (!owner)
      return FailedPrecondition("key file " + config.key_file + " holds public key " +
                                key.public_key().Hex() + ", which genesis file " +
                                config.genesis_file +
                                " does not list as a member, nor this node's ledger as a firm's "
                                "key in force (a firm admitted since, or one that rotated its "
                                "key, names its id in firm_id)");
    self = *owner;
    const protocol::Member* listed = genesis.FindByKey(self);
    spdlog::info("firm {} ({}), whose key in force the key file holds",
                 listed != nullptr ? listed->name : "admitted since the genesis", self.Hex());
  }
  KEIRETSU_RETURN_IF_ERROR(CheckPeers(config, genesis, ledger.get(), self));
  KEIRETSU_ASSIGN_OR_RETURN(key, KeyInForce(config, *ledger, self, std::move(key)));

  std::unique_ptr<Daemon> d(new Daemon());
  d->metrics_ = std::move(metrics);
  d->identity_ = std::make_shared<node::Identity>(
      self, std::make_shared<const crypto::SigningKey>(std::move(key)));
  d->ledger_ = std::move(ledger);
  d->hub_ = std::make_shared<api::WatchHub>();
  // Before anything can write: every commit wakes the Watch streams. The
  // replication module will hang off this listener too.
  KEIRETSU_ASSIGN_OR_RETURN(auto rep_opts, ReplicationOptions(config, genesis, *d->ledger_));
  rep_opts.metrics = d->metrics_.get();
  const bool replicate = !rep_opts.listen.empty() || !rep_opts.peers.empty();
  if (replicate) {
    KEIRETSU_ASSIGN_OR_RETURN(
        d->replicator_, net::Replicator::Create(*d->ledger_, d->identity_, std::move(rep_opts)));
  }
  d->peer_status_ = std::make_unique<NodeStatus>(d->replicator_.get(), d->ledger_->store());
  // Every commit wakes the Watch streams and tells replication what to push.
  d->ledger_->SetListener(
      [hub = d->hub_, rep = d->replicator_.get()](const std::vector<node::AppliedEntry>& applied) {
        hub->OnApplied(applied);
        if (rep != nullptr) rep->OnApplied(applied);
      });
  // Every stored proof that a feed stopped is logged and sent to Watch
  // streams (docs/OPERATIONS.md §6, docs/API.md "Watch").
  d->ledger_->SetStopListener([hub = d->hub_, &genesis = d->ledger_->genesis()](
                                  const std::vector<storage::Evidence>& stopped) {
    for (const storage::Evidence& e : stopped) LogStop(genesis, e);
    hub->OnStopped(stopped);
  });
  if (replicate) {
    // Before the API: Start closes the write gate until this firm's head is
    // learned, so no API write can slip in ahead of it.
    KEIRETSU_RETURN_IF_ERROR(d->replicator_->Start());
    spdlog::info("replication: peer listener {} (port {}), {} peer(s) configured{}",
                 config.peer.listen.empty() ? "off" : config.peer.listen, d->replicator_->port(),
                 config.peer.peers.size(),
                 d->replicator_->WriteBlockReason().empty()
                     ? ""
                     : "; writes paused until this firm's head is learned from a peer");
    for (const PeerConfig& p : config.peer.peers) spdlog::info("peer {} at {}", p.firm, p.address);
  } else {
    spdlog::info("replication off: no [peer] listen address and no peers");
  }

  size_t roles[3] = {0, 0, 0};
  for (const api::TokenSpec& t : opts.tokens) ++roles[static_cast<int>(t.role)];
  const char* tls_mode = !opts.tls ? "off" : opts.tls->client_ca_pem.empty() ? "on" : "mutual";
  KEIRETSU_ASSIGN_OR_RETURN(d->api_, api::ApiServer::Start(*d->ledger_, d->identity_, d->hub_,
                                                           d->peer_status_.get(), std::move(opts)));
  d->api_address_ = d->api_->address();
  spdlog::info("api listening on {} (tls {}; tokens: {} operator, {} auditor, {} partner)",
               d->api_->address(), tls_mode, roles[0], roles[1], roles[2]);
  if (config.ops.enabled) {
    KEIRETSU_ASSIGN_OR_RETURN(
        d->ops_, StartOps(config, version, *d->ledger_, d->replicator_.get(), self, *d->metrics_));
    d->ops_address_ = d->ops_->address();
    spdlog::info("operations listener on {} (/status, /metrics; token {})", d->ops_address_,
                 config.ops.token_file.empty() ? "off" : "required");
  }
  d->StartHealthChecks(config, std::move(hooks));
  return d;
}

void Daemon::StartHealthChecks(const Config& config, DaemonHooks hooks) {
  // The disk: every second, measure free space and recover (reopen a store
  // opened read-only, or one that failed a commit); log only changes.
  auto log = std::make_shared<WritabilityLog>();
  log->Observe(ledger_->store().Writable());
  disk_watch_ = std::make_unique<Periodic>(std::chrono::seconds(1), [log, ledger = ledger_.get()] {
    log->Observe(ledger->RefreshStorage());
  });
  // Clearing: the auto-accept policy, every second (docs/API.md "Clearing").
  if (config.clearing.auto_accept) {
    const api::AutoAcceptPolicy policy{
        true, static_cast<uint64_t>(config.clearing.max_expiry_hours) * 3'600'000};
    clearing_watch_ = std::make_unique<Periodic>(
        std::chrono::seconds(1), [policy, ledger = ledger_.get(), identity = identity_] {
          const uint64_t now =
              static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
          auto n = api::RunAutoAccept(*ledger, *identity, now, policy);
          if (!n.ok()) spdlog::warn("clearing: auto-accept: {}", n.status().ToString());
        });
    spdlog::info("clearing: auto-accept on (proposals expiring within {} h)",
                 config.clearing.max_expiry_hours);
  }

  std::chrono::milliseconds every = std::chrono::seconds(config.api.self_check_seconds);
  if (hooks.self_check_interval.count() > 0 &&
      (every.count() == 0 || hooks.self_check_interval < every))
    every = hooks.self_check_interval;
  if (every.count() == 0) {
    spdlog::warn("api self-check off (api.self_check_seconds = 0)");
    return;
  }
  Status probe = api_->SelfCheck(std::chrono::seconds(5));
  if (probe.code() == Code::kFailedPrecondition) {
    spdlog::warn("api self-check off: {}", probe.message());
    if (hooks.api_alive) {
      api_watch_ = std::make_unique<Periodic>(every, hooks.api_alive);
    }
    return;
  }
  const auto timeout = std::clamp<std::chrono::milliseconds>(every / 2, std::chrono::seconds(1),
                                                             std::chrono::seconds(5));
  auto watch = std::make_shared<ApiWatch>(kApiSelfCheckFailures, std::move(hooks.api_alive),
                                          std::move(hooks.api_dead));
  watch->Observe(probe);
  spdlog::info("api self-check every {} ms (a health check over a new loopback connection)",
               every.count());
  api_watch_ = std::make_unique<Periodic>(
      every, [watch, api = api_.get(), timeout] { watch->Observe(api->SelfCheck(timeout)); });
}

Daemon::~Daemon() {
  Stop(std::chrono::milliseconds(0));
}

void Daemon::Stop(std::chrono::milliseconds grace) {
  if (ops_) ops_->SetDraining();  // health checks see the node go
  api_watch_.reset();             // before the API goes: a stopping API is not a dead one
  clearing_watch_.reset();
  disk_watch_.reset();
  if (api_) {
    api_->Shutdown(grace);
    api_.reset();
  }
  if (replicator_) {
    replicator_->Stop();  // joins its threads; no more ingests after this
    replicator_.reset();
    peer_status_.reset();
    spdlog::info("replication stopped");
  }
  if (ops_) {
    ops_->Stop();  // it reads the ledger: stopped before it closes
    ops_.reset();
  }
  if (ledger_) {
    ledger_.reset();  // closes RocksDB: flushes and releases the lock
    spdlog::info("ledger closed");
  }
}

}  // namespace keiretsu::daemon
