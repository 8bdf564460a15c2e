// ApiServer: the gRPC service keiretsu.v1.Ledger (proto/keiretsu/v1/api.proto)
// over a node::Ledger, with bearer-token access control (access.h),
// optional TLS or mutual TLS, and gRPC server reflection. The public TCP
// listener is keiretsud's own, which caps connections and relays each to
// the gRPC server on a private unix socket (node/api/src/connection_gate.h).
//
// Errors reach callers as gRPC status codes with one-line messages:
//   INVALID_ARGUMENT     malformed input (empty firm, bad hex id, zero or too
//                        large amount, bad unit, oversized memo, bad page
//                        token or cursor)
//   NOT_FOUND            unknown firm ("unknown firm 'kobe'"), unknown entry
//   FAILED_PRECONDITION  a request the ledger's state refuses (accepting a
//                        claim addressed to another firm or already answered,
//                        an import from another network, own feed stopped)
//   UNAUTHENTICATED / PERMISSION_DENIED   see access.h
//   RESOURCE_EXHAUSTED   message larger than max_message_bytes, a Watch
//                        share used up (ApiServerOptions::max_watchers...);
//                        writes while the disk holding the data
//                        directory is below its free-space reserve (the
//                        message names the path and the free space)
//   ALREADY_EXISTS       a write's request_id was used for other content;
//                        an admit of a firm or name that is or was a member
//   Governance (Propose, Vote, Leave, Rotate): docs/API.md "Governance".
//   UNAVAILABLE          writes while the node is not writable (see
//                        PeerStatusSource::WriteBlockReason)
//   DEADLINE_EXCEEDED / CANCELLED   a write whose deadline passed or whose
//                        client cancelled before its entry was signed:
//                        nothing was written. (Past that point the entry is
//                        committed whatever the client sees; a retry with
//                        the same request_id returns it.)
//   DATA_LOSS / INTERNAL storage corruption / I/O failure or a bug
// Refused input changes nothing in the ledger.
//
// Server reflection (grpc.reflection.v1 and v1alpha) is served without a token:
// it describes the schema, which is public (api.proto), and lets generic
// clients (grpcurl, Python reflection) discover the service.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keiretsu/api/access.h"
#include "keiretsu/api/watch_hub.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/node/identity.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/node/metrics.h"

namespace keiretsu::api {

// One peer as the replication module sees it (GetStatus.peers).
struct PeerInfo {
  PublicKey firm;
  std::string address;
  bool connected = false;
  uint64_t last_seen_unix_ms = 0;
  uint64_t entries_sent = 0;
  uint64_t entries_received = 0;
  uint64_t behind = 0;
  uint64_t invalid_received = 0;
};

// What the API needs from replication: peer status for GetStatus, and
// whether this node may write yet (a restored node must learn its own head
// from its peers before it writes, or it could fork its own feed).
// Implementations must be thread-safe: API threads call them concurrently.
class PeerStatusSource {
 public:
  virtual ~PeerStatusSource() = default;
  virtual std::vector<PeerInfo> Peers() const = 0;
  // Empty when this node may write; otherwise why not, for people
  // ("learning this firm's own head from peers", "disk space low: ...").
  // GetStatus reports it as writable / write_block_reason.
  virtual std::string WriteBlockReason() const = 0;
  // OK when a write may go ahead; otherwise the error the write fails
  // with. Default: kUnavailable with WriteBlockReason(). keiretsud's
  // answers kResourceExhausted while the disk is below its reserve.
  virtual Status CheckWritable() const {
    std::string blocked = WriteBlockReason();
    return blocked.empty() ? Status::Ok() : Unavailable("this node cannot write yet: " + blocked);
  }
};

// PEM contents (not paths) of the server's TLS material.
struct TlsOptions {
  std::string cert_chain_pem;
  std::string private_key_pem;
  // When set, clients must present a certificate signed by this CA
  // (mutual TLS); tokens are still required on top.
  std::string client_ca_pem;
};

struct ApiServerOptions {
  // host:port; port 0 picks a free port (see ApiServer::address()).
  std::string listen = "127.0.0.1:0";
  // Largest request message accepted; larger ones fail RESOURCE_EXHAUSTED.
  size_t max_message_bytes = 4 << 20;
  std::optional<TlsOptions> tls;  // nullopt: plaintext
  std::vector<TokenSpec> tokens;
  // Concurrent Watch streams; each holds one server thread. Shares, each
  // refused with RESOURCE_EXHAUSTED when used up (docs/API.md "Limits"):
  // all streams; one token's; all partner tokens' together; and a reserve
  // of max_watchers that only operator tokens may use, so no other role
  // can lock the operator out.
  size_t max_watchers = 32;
  // Connections (gRPC channel arguments). One with no call in progress for
  // max_connection_idle is closed; one older than max_connection_age is
  // told to reconnect (GOAWAY) and its calls get max_connection_age_grace
  // to finish. One that has not completed its HTTP/2 (and TLS) handshake
  // within handshake_timeout is closed. The server pings a connection
  // silent for keepalive_time and closes it when no answer comes within
  // keepalive_timeout. A client may ping at most every min_client_ping_-
  // interval without a call in progress; more often, twice, ends the
  // connection. So idle or abandoned connections cannot pile up.
  std::chrono::milliseconds max_connection_idle{300'000};
  std::chrono::milliseconds max_connection_age{3'600'000};
  std::chrono::milliseconds max_connection_age_grace{300'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds keepalive_time{60'000};
  std::chrono::milliseconds keepalive_timeout{20'000};
  std::chrono::milliseconds min_client_ping_interval{10'000};
  // Open connections at once, in all and from one IP address; more are
  // closed as they arrive (connection_gate.h). Lowered at start to what the
  // open-files limit allows (three descriptors per connection).
  size_t max_connections = 1024;
  size_t max_connections_per_source = 256;
  size_t max_watchers_per_token = 8;
  size_t max_partner_watchers = 12;
  size_t operator_reserved_watchers = 8;
  // Reported by GetStatus.
  std::string version;
  // Clock for entry and export timestamps (unix ms); called from handler
  // threads concurrently, so it must be thread-safe. Default: the system
  // clock.
  std::function<uint64_t()> now_unix_ms;
  // Where every call is counted by method and status code (node/metrics.h);
  // not owned, must outlive the server. Null: nowhere.
  node::Metrics* metrics = nullptr;
  // The firm's key file (crypto/key_file.h), where Rotate keeps the new key:
  // staged as `<key_file>.next` before the rotate entry is written, renamed
  // over the key file after (docs/API.md "Rotation"). Empty: Rotate is
  // refused with FAILED_PRECONDITION.
  std::string key_file;
};

// Page sizes of ListEntries: the default, and the most one page returns
// (larger limits are clamped to it).
inline constexpr uint32_t kDefaultPageSize = 100;
inline constexpr uint32_t kMaxPageSize = 1000;
// The most items one WriteBatch takes; more are refused (INVALID_ARGUMENT).
inline constexpr size_t kMaxBatchItems = 1000;

class ApiServer {
 public:
  // Starts serving `ledger`; writes are signed with `key`, for the firm the
  // ledger holds it in force for (else the firm whose id is `key`'s).
  // `ledger`, `key`, `peers` (may be null: no peers, always writable) must
  // outlive the server; `hub` must receive the ledger's commits
  // (watch_hub.h).
  // Errors: kInvalidArgument (bad tokens or TLS material), kUnavailable
  // (cannot listen on the address, e.g. in use).
  static Result<std::unique_ptr<ApiServer>> Start(node::Ledger& ledger,
                                                  const crypto::SigningKey& key,
                                                  std::shared_ptr<WatchHub> hub,
                                                  const PeerStatusSource* peers,
                                                  ApiServerOptions options);
  // The same for a firm that may rotate its key: writes are signed with
  // identity->key() at the time of each write, and Rotate adopts the new
  // key into `identity` (which the replicator shares, so its handshakes
  // follow).
  static Result<std::unique_ptr<ApiServer>> Start(node::Ledger& ledger,
                                                  std::shared_ptr<node::Identity> identity,
                                                  std::shared_ptr<WatchHub> hub,
                                                  const PeerStatusSource* peers,
                                                  ApiServerOptions options);
  ~ApiServer();  // Shutdown(0) if not done
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The address actually bound: the configured host with the real port.
  const std::string& address() const;
  int port() const;

  // Checks that the API still turns, within `timeout`: the listener's
  // thread runs posted work, and gRPC answers one standard health check
  // (grpc.health.v1.Health/Check, no token) over a fresh connection to its
  // private socket. A gRPC listener that stopped accepting (gRPC 1.51 stops
  // for good when accept4 fails with EMFILE) fails it while established
  // connections still work; a listener full at its caps does not.
  // Errors: kUnavailable (no answer, or not SERVING), kFailedPrecondition
  // (mutual TLS: this process holds no client certificate to call with).
  // Thread-safety: any thread.
  Status SelfCheck(std::chrono::milliseconds timeout) const;

  // Connections open through the listener now, and refused at a cap since
  // the start. Thread-safety: any thread.
  size_t open_connections() const;
  uint64_t refused_connections() const;

  // Graceful stop: ends Watch streams, stops accepting calls, lets
  // in-flight calls finish for up to `grace`, then cancels the rest.
  // Returns when no handler runs any more. Idempotent. Thread-safe.
  void Shutdown(std::chrono::milliseconds grace);

  struct Impl;

 private:
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keiretsu::api
