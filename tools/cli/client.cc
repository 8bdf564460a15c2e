#include "client.h"

#include <toml++/toml.h>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "args.h"

namespace keiretsu::cli {
namespace {

Result<std::string> ReadTextFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + what + " " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IOError("cannot read " + what + " " + path);
  return ss.str();
}

// One line, for messages that come from elsewhere (gRPC, the node).
std::string Flatten(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

Result<NodeConfigView> ReadNodeConfig(const std::string& path) {
  KEIRETSU_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, "config"));
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("config " + path +
                           " is not valid TOML: " + std::string(e.description()) + " (line " +
                           std::to_string(e.source().begin.line) + ")");
  }
  NodeConfigView view;
  auto listen = doc["api"]["listen"].value<std::string>();
  if (!listen || listen->empty())
    return InvalidArgument("config " + path + " has no [api] listen address");
  view.listen = *listen;
  if (const toml::array* tokens = doc["api"]["tokens"].as_array()) {
    for (const toml::node& n : *tokens) {
      const toml::table* t = n.as_table();
      if (t == nullptr) continue;
      if ((*t)["role"].value_or<std::string>("") != "operator") continue;
      view.operator_token = (*t)["token"].value_or<std::string>("");
      if (!view.operator_token.empty()) break;
    }
  }
  view.tls_cert = doc["api"]["tls_cert"].value_or<std::string>("");
  return view;
}

std::string DialAddress(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return listen;
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host.empty() || host == "0.0.0.0" || host == "*") return "127.0.0.1:" + port;
  if (host == "[::]" || host == "[::0]") return "[::1]:" + port;
  return listen;
}

Result<Endpoint> ResolveEndpoint(const NodeFlags& flags, const EnvLookup& env) {
  Endpoint e;
  std::optional<NodeConfigView> config;
  if (!flags.config.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(NodeConfigView v, ReadNodeConfig(flags.config));
    config = std::move(v);
  }
  if (!flags.node.empty()) {
    e.address = flags.node;
  } else if (config) {
    e.address = DialAddress(config->listen);
  } else if (auto v = env("KEIRETSU_NODE"); v && !v->empty()) {
    e.address = *v;
  } else {
    e.address = kDefaultNode;
  }
  KEIRETSU_RETURN_IF_ERROR(CheckHostPort(e.address, "node address"));

  if (!flags.token.empty()) {
    e.token = flags.token;
  } else if (config && !config->operator_token.empty()) {
    e.token = config->operator_token;
  } else if (auto v = env("KEIRETSU_TOKEN"); v) {
    e.token = *v;
  }

  e.tls_ca_file = flags.tls_ca;
  e.tls_cert_file = flags.tls_cert;
  e.tls_key_file = flags.tls_key;
  e.tls_server_name = flags.tls_server_name;
  if (e.tls_cert_file.empty() != e.tls_key_file.empty())
    return InvalidArgument("--tls-cert and --tls-key go together (mutual TLS needs both)");
  // A node whose config names a certificate serves TLS; that certificate is
  // the trust root to use when none is given (the usual self-signed setup).
  if (e.tls_ca_file.empty() && config && !config->tls_cert.empty())
    e.tls_ca_file = config->tls_cert;
  e.tls = !e.tls_ca_file.empty() || !e.tls_cert_file.empty();
  return e;
}

Status FromGrpc(const grpc::Status& status, const Endpoint& endpoint) {
  std::string msg = Flatten(status.error_message());
  switch (status.error_code()) {
    case grpc::StatusCode::OK: return Status::Ok();
    case grpc::StatusCode::INVALID_ARGUMENT: return InvalidArgument(msg);
    case grpc::StatusCode::OUT_OF_RANGE: return InvalidArgument(msg + " (out of range)");
    case grpc::StatusCode::FAILED_PRECONDITION: return FailedPrecondition(msg);
    case grpc::StatusCode::ALREADY_EXISTS: return AlreadyExists(msg);
    case grpc::StatusCode::NOT_FOUND: return NotFound(msg);
    case grpc::StatusCode::PERMISSION_DENIED: return PermissionDenied(msg);
    case grpc::StatusCode::UNAUTHENTICATED:
      if (endpoint.token.empty())
        msg += "; no token given (use --token, KEIRETSU_TOKEN or --config)";
      return Unauthenticated(msg);
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return ResourceExhausted(msg);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Unavailable("node " + endpoint.address + " did not answer in time (deadline exceeded" +
                         (msg.empty() ? "" : ": " + msg) + ")");
    case grpc::StatusCode::UNAVAILABLE:
      return Unavailable("node " + endpoint.address + " unavailable: " + msg);
    case grpc::StatusCode::CANCELLED: return Unavailable("call cancelled: " + msg);
    case grpc::StatusCode::ABORTED: return Unavailable("aborted, try again: " + msg);
    case grpc::StatusCode::UNIMPLEMENTED:
      return Internal("node " + endpoint.address + " does not implement this call: " + msg);
    case grpc::StatusCode::DATA_LOSS: return Corruption(msg);
    default: return Internal(msg.empty() ? "unknown error from node" : msg);
  }
}

Client::Client(Endpoint endpoint, double timeout_s, std::shared_ptr<grpc::Channel> channel)
    : endpoint_(std::move(endpoint)),
      timeout_s_(timeout_s),
      channel_(std::move(channel)),
      stub_(keiretsu::v1::Ledger::NewStub(channel_)) {}

Result<std::unique_ptr<Client>> Client::Connect(const NodeFlags& flags) {
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  KEIRETSU_ASSIGN_OR_RETURN(Endpoint e, ResolveEndpoint(flags, env));
  if (!(flags.timeout_s > 0)) return InvalidArgument("--timeout must be positive");

  std::shared_ptr<grpc::ChannelCredentials> creds;
  grpc::ChannelArguments args;
  // Pages of entries and exports are well under this; the node enforces
  // its own limit on what it accepts.
  args.SetMaxReceiveMessageSize(64 << 20);
  if (e.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!e.tls_ca_file.empty()) {
      KEIRETSU_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadTextFile(e.tls_ca_file, "TLS CA file"));
    }
    if (!e.tls_cert_file.empty()) {
      KEIRETSU_ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                                ReadTextFile(e.tls_cert_file, "TLS certificate"));
      KEIRETSU_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadTextFile(e.tls_key_file, "TLS key"));
    }
    creds = grpc::SslCredentials(ssl);
    if (!e.tls_server_name.empty()) args.SetSslTargetNameOverride(e.tls_server_name);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  auto channel = grpc::CreateCustomChannel(e.address, creds, args);
  return std::unique_ptr<Client>(new Client(std::move(e), flags.timeout_s, std::move(channel)));
}

void Client::Prepare(grpc::ClientContext* ctx, bool deadline) const {
  if (!endpoint_.token.empty()) ctx->AddMetadata("authorization", "Bearer " + endpoint_.token);
  if (deadline) {
    auto ms = std::chrono::milliseconds(static_cast<int64_t>(timeout_s_ * 1000));
    ctx->set_deadline(std::chrono::system_clock::now() + ms);
  }
}

Result<std::unique_ptr<Client>> ConnectFromContext(const Context& ctx) {
  return Client::Connect(ctx.node);
}

}  // namespace keiretsu::cli
