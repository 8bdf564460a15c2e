// The CLI's connection to a node: where it is, how to authenticate, and the
// translation of gRPC errors into the one-line Status the CLI prints.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli.h"
#include "keiretsu/common/status.h"
#include "keiretsu/v1/api.grpc.pb.h"

namespace keiretsu::cli {

inline constexpr const char* kDefaultNode = "127.0.0.1:7701";

// What a client needs from a keiretsud config (the rest is the daemon's).
struct NodeConfigView {
  std::string listen;          // [api] listen, as written
  std::string operator_token;  // first [[api.tokens]] with role "operator"; may be empty
  std::string tls_cert;        // [api] tls_cert; may be empty
};
// Reads `path`. Errors: kNotFound (no file), kInvalidArgument (not TOML, or
// no [api] listen).
Result<NodeConfigView> ReadNodeConfig(const std::string& path);

// A listen address turned into one a client can dial: a wildcard host
// (0.0.0.0, [::], empty) becomes the loopback address of its family.
std::string DialAddress(const std::string& listen);

// The resolved endpoint. Precedence, for each of address and token:
// flag, then --config, then environment (KEIRETSU_NODE, KEIRETSU_TOKEN),
// then the default address (no token).
struct Endpoint {
  std::string address;
  std::string token;
  bool tls = false;
  std::string tls_ca_file;    // PEM roots; empty: the system's
  std::string tls_cert_file;  // client certificate (mutual TLS)
  std::string tls_key_file;
  std::string tls_server_name;
};
using EnvLookup = std::function<std::optional<std::string>(const char*)>;
// Errors: those of ReadNodeConfig; kInvalidArgument for a malformed address
// or --tls-cert without --tls-key.
Result<Endpoint> ResolveEndpoint(const NodeFlags& flags, const EnvLookup& env);

// A gRPC status as the CLI reports it: the node's message kept, the code
// mapped (DEADLINE_EXCEEDED and CANCELLED to kUnavailable, OUT_OF_RANGE to
// kInvalidArgument, ...), a hint added where the fix is on the caller's side
// (no token, unreachable node).
Status FromGrpc(const grpc::Status& status, const Endpoint& endpoint);

// One channel to one node. Not thread-safe (the CLI is single-threaded).
class Client {
 public:
  // Resolves the endpoint and builds the channel. Connecting is lazy: an
  // unreachable node shows up as kUnavailable on the first call.
  static Result<std::unique_ptr<Client>> Connect(const NodeFlags& flags);

  keiretsu::v1::Ledger::Stub& stub() { return *stub_; }
  const Endpoint& endpoint() const { return endpoint_; }

  // Adds the bearer token to `ctx` and, when `deadline`, the unary timeout.
  void Prepare(grpc::ClientContext* ctx, bool deadline = true) const;

  // One unary call with a prepared context, its error translated.
  template <typename Req, typename Resp>
  Status Call(grpc::Status (keiretsu::v1::Ledger::Stub::*method)(grpc::ClientContext*, const Req&,
                                                                 Resp*),
              const Req& request, Resp* response) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    return FromGrpc(((*stub_).*method)(&ctx, request, response), endpoint_);
  }

 private:
  Client(Endpoint endpoint, double timeout_s, std::shared_ptr<grpc::Channel> channel);
  Endpoint endpoint_;
  double timeout_s_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<keiretsu::v1::Ledger::Stub> stub_;
};

// ctx.node's endpoint and a channel to it, or the error.
Result<std::unique_ptr<Client>> ConnectFromContext(const Context& ctx);

}  // namespace keiretsu::cli
