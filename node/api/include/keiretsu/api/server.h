// ApiServer: the gRPC service keiretsu.v1.Ledger (proto/keiretsu/v1/api.proto)
// over a node::Ledger, with bearer-token access control (access.h),
// optional TLS or mutual TLS, and gRPC server reflection.
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
//                        share used up (ApiServerOptions::max_watchers...)
//   ALREADY_EXISTS       a write's request_id was used for other content
//   DEADLINE_EXCEEDED / CANCELLED  a write abandoned before it was signed
//   UNAVAILABLE          writes while the node is not writable (see
//                        PeerStatusSource::WriteBlockReason)
//   UNIMPLEMENTED        checkpoints (they arrive with the audit work)
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
#include "keiretsu/node/ledger.h"

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
  // ("learning this firm's own head from peers").
  virtual std::string WriteBlockReason() const = 0;
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
  size_t max_watchers_per_token = 8;
  size_t max_partner_watchers = 12;
  size_t operator_reserved_watchers = 8;
  // Reported by GetStatus.
  std::string version;
  // Clock for entry and export timestamps (unix ms); called from handler
  // threads concurrently, so it must be thread-safe. Default: the system
  // clock.
  std::function<uint64_t()> now_unix_ms;
};

// Page sizes of ListEntries: the default, and the most one page returns
// (larger limits are clamped to it).
inline constexpr uint32_t kDefaultPageSize = 100;
inline constexpr uint32_t kMaxPageSize = 1000;

class ApiServer {
 public:
  // Starts serving `ledger`; writes are signed with `key`. `ledger`, `key`,
  // `peers` (may be null: no peers, always writable) must outlive the
  // server; `hub` must receive the ledger's commits (watch_hub.h).
  // Errors: kInvalidArgument (bad tokens or TLS material), kUnavailable
  // (cannot listen on the address, e.g. in use).
  static Result<std::unique_ptr<ApiServer>> Start(node::Ledger& ledger,
                                                  const crypto::SigningKey& key,
                                                  std::shared_ptr<WatchHub> hub,
                                                  const PeerStatusSource* peers,
                                                  ApiServerOptions options);
  ~ApiServer();  // Shutdown(0) if not done
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The address actually bound: the configured host with the real port.
  const std::string& address() const;
  int port() const;

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
