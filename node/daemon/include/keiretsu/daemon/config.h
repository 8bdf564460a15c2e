// keiretsud's configuration file (TOML; every option is documented in
// deploy/keiretsud.example.toml).
//
// Parsing checks the file on its own: TOML syntax, that every key is known
// and has the right type, value ranges and forms (addresses, log level,
// roles, token length). What needs the genesis (are the firms named by
// tokens and peers members?) is checked by Daemon::Start.
//
// Every error is one line naming the file, the line when known, the key
// and the problem, never a token's value:
//   /etc/keiretsu/keiretsud.toml:14: api.tokens[1].role: must be one of operator, auditor, partner
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keiretsu/api/access.h"
#include "keiretsu/common/status.h"

namespace keiretsu::daemon {

// Defaults of the optional settings.
inline constexpr std::string_view kDefaultApiListen = "127.0.0.1:7701";
inline constexpr size_t kDefaultMaxMessageBytes = 4 << 20;
inline constexpr size_t kMinMaxMessageBytes = 64 << 10;  // an export chunk must fit
inline constexpr size_t kMaxMaxMessageBytes = 64 << 20;
inline constexpr uint64_t kDefaultFreeSpaceReserveMib = 256;
// API connections: closed after this long without a call in progress, and
// told to reconnect (GOAWAY) after this age; calls still running then get
// the grace period to finish.
inline constexpr int kDefaultApiIdleTimeoutSeconds = 300;
inline constexpr int kDefaultApiMaxConnectionAgeSeconds = 3600;
inline constexpr int kDefaultApiMaxConnectionAgeGraceSeconds = 300;
// The daemon calls its own API (health check over loopback) this often;
// after kApiSelfCheckFailures failures in a row it exits non-zero.
inline constexpr int kDefaultApiSelfCheckSeconds = 10;
inline constexpr int kDefaultApiMaxConnections = 1024;
inline constexpr int kDefaultApiMaxConnectionsPerSource = 256;
inline constexpr std::string_view kDefaultOpsListen = "127.0.0.1:7702";

struct TokenConfig {
  std::string token;  // secret: never logged
  api::Role role = api::Role::kOperator;
  std::string firm;   // partners: a member's name or public key hex
  std::string where;  // "api.tokens[2]", for messages
};

struct PeerConfig {
  std::string firm;     // a member's name or public key hex
  std::string address;  // host:port of its peer listener
  std::string where;    // "peer.peers[0]"
};

struct Config {
  std::string file;  // the file read, for messages
  // Paths; relative ones in the file are resolved against the directory
  // holding the config file, so a firm's directory can move as a whole.
  std::string data_dir;
  std::string key_file;
  std::string genesis_file;
  // The firm this node is (64 hex: its id, the inception key). Optional:
  // empty means the key file's public key when the genesis lists it (the
  // firm's id until it first rotates its key, docs/API.md "Rotation"),
  // else the firm the ledger holds that key in force for. A fresh data
  // directory does not know a rotation yet: a rotated firm names itself.
  std::string firm_id;

  std::string log_level = "info";  // trace, debug, info, warn, error, critical, off

  struct Api {
    std::string listen{kDefaultApiListen};
    size_t max_message_bytes = kDefaultMaxMessageBytes;
    std::string tls_cert;       // path; TLS when set (with tls_key)
    std::string tls_key;        // path
    std::string tls_client_ca;  // path; mutual TLS when set
    std::vector<TokenConfig> tokens;
    int idle_timeout_seconds = kDefaultApiIdleTimeoutSeconds;
    int max_connection_age_seconds = kDefaultApiMaxConnectionAgeSeconds;
    int max_connection_age_grace_seconds = kDefaultApiMaxConnectionAgeGraceSeconds;
    int self_check_seconds = kDefaultApiSelfCheckSeconds;  // 0: no self-check
    // Open API connections at once, in all and from one IP address.
    int max_connections = kDefaultApiMaxConnections;
    int max_connections_per_source = kDefaultApiMaxConnectionsPerSource;
  } api;

  struct Storage {
    // Writes are refused while the data directory's filesystem has less
    // free space than this (docs/OPERATIONS.md "A full disk"). 0: none.
    uint64_t free_space_reserve_mib = kDefaultFreeSpaceReserveMib;
  } storage;

  struct Peer {
    std::string listen;  // host:port; empty: no peer listener
    std::vector<PeerConfig> peers;
    // Close API writes at start until this node has learned its own feed's
    // head from a peer (so a restored backup never re-uses a seq). Default:
    // true when peers are configured. false only for a node you know is
    // current and must write while no peer is reachable.
    std::optional<bool> require_peer_before_write;
    // Seconds between anti-entropy rounds (full Have exchange). Default 5.
    int anti_entropy_seconds = 5;
  } peer;

  // The operations listener (metrics, status page): off unless the file
  // has an [ops] table (deploy/keiretsud.example.toml, docs/OPERATIONS.md).
  struct Ops {
    bool enabled = false;
    std::string listen{kDefaultOpsListen};
    std::string token_file;  // path; empty: no token required
    int max_connections = 32;
    int timeout_seconds = 10;
    int max_url_bytes = 2048;
    int status_refresh_seconds = 5;
  } ops;

  // "<file>: <key>: <problem>", the form of every config error.
  Status Error(std::string_view key, std::string_view problem) const;
};

// Parses `text` as the contents of the config file `file`; relative paths
// are resolved against `base_dir`. Errors: kInvalidArgument (one line).
Result<Config> ParseConfig(std::string_view text, const std::string& file,
                           const std::string& base_dir);

// Reads and parses the file at `path` (relative paths inside it resolve
// against its directory). Errors: kNotFound / kIOError (unreadable),
// kInvalidArgument.
Result<Config> LoadConfig(const std::string& path);

// True for "host:port" with a non-empty host (a name, an IPv4 address or a
// bracketed IPv6 address) and a port 0-65535.
bool IsHostPort(std::string_view address);

}  // namespace keiretsu::daemon
