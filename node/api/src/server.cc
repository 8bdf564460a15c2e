// ApiServer: builds the gRPC server (credentials, limits, reflection) around
// LedgerService and stops it gracefully.
#include "keiretsu/api/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "grpc/health/v1/health.grpc.pb.h"
#include "node/api/src/connection_gate.h"
#include "node/api/src/metrics_interceptor.h"
#include "node/api/src/reflection_v1.h"
#include "node/api/src/service.h"

namespace keiretsu::api {

struct ApiServer::Impl {
  std::shared_ptr<WatchHub> hub;
  std::unique_ptr<LedgerService> service;
  std::unique_ptr<ReflectionV1> reflection_v1;
  std::unique_ptr<grpc::Server> server;
  std::string address;
  int port = 0;
  std::optional<TlsOptions> tls;  // for SelfCheck's credentials
  // The public listener (connection_gate.h) and the private one behind it:
  // gRPC listens on backend_path only, in private_dir (mode 0700).
  std::unique_ptr<ConnectionGate> gate;
  std::string private_dir;
  std::string backend_path;
  std::mutex mu;
  bool stopped = false;  // GUARDED_BY(mu)
};

namespace {
// Handler threads beyond the Watch streams, for unary calls and exports.
constexpr int kSpareThreads = 32;

Result<std::shared_ptr<grpc::ServerCredentials>> Credentials(const std::optional<TlsOptions>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  // gRPC only parses PEM at handshake time; catch the obvious mistakes
  // (a path instead of contents, an empty file) here, with a clear message.
  auto looks_pem = [](const std::string& s) { return s.find("-----BEGIN ") != std::string::npos; };
  if (!looks_pem(tls->cert_chain_pem)) return InvalidArgument("TLS certificate is not PEM");
  if (!looks_pem(tls->private_key_pem)) return InvalidArgument("TLS private key is not PEM");
  if (!tls->client_ca_pem.empty() && !looks_pem(tls->client_ca_pem))
    return InvalidArgument("TLS client CA is not PEM");
  grpc::SslServerCredentialsOptions opts(
      tls->client_ca_pem.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                 : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = tls->client_ca_pem;
  opts.pem_key_cert_pairs.push_back({tls->private_key_pem, tls->cert_chain_pem});
  return grpc::SslServerCredentials(opts);
}

int Ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<int64_t>(d.count(), 1, INT_MAX));
}

void SetConnectionArgs(const ApiServerOptions& o, grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, Ms(o.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, Ms(o.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, Ms(o.max_connection_age_grace));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, Ms(o.handshake_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Ms(o.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Ms(o.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             Ms(o.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
}

// TLS without verifying the certificate: the point is whether this very
// process accepts and answers, not who it is (a loopback call to itself).
std::shared_ptr<grpc::ChannelCredentials> SelfTls() {
  grpc::experimental::TlsChannelCredentialsOptions o;
  o.set_verify_server_certs(false);
  o.set_check_call_host(false);
  o.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  return grpc::experimental::TlsCredentials(o);
}

// A fresh directory only this user may enter, for the gRPC server's unix
// socket ($TMPDIR when its path is short enough for a socket, else /tmp).
Result<std::string> MakePrivateDir() {
  std::string base = "/tmp";
  if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0' && std::strlen(t) < 64)
    base = t;
  std::string tmpl = base + "/keiretsu-api-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    return Unavailable("cannot create a private directory under " + base +
                       " for the API's socket: " + std::strerror(errno));
  return tmpl;
}

void RemovePrivateDir(const std::string& dir, const std::string& socket) {
  if (dir.empty()) return;
  ::unlink(socket.c_str());
  ::rmdir(dir.c_str());
}

// The connection caps, lowered to what the descriptor limit allows: each
// admitted connection holds three descriptors (the client's socket, the
// gate's to gRPC, gRPC's end of it), and kReservedDescriptors stay for the
// store, the peers and the rest.
constexpr size_t kReservedDescriptors = 128;
size_t AffordableConnections(size_t wanted) {
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return wanted;
  const size_t soft = static_cast<size_t>(lim.rlim_cur);
  const size_t affordable =
      soft > kReservedDescriptors + 24 ? (soft - kReservedDescriptors) / 3 : 8;
  return std::min(wanted, affordable);
}

std::string HostOf(const std::string& listen) {
  size_t colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}
}  // namespace

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() {
  Shutdown(std::chrono::milliseconds(0));
}

const std::string& ApiServer::address() const {
  return impl_->address;
}
int ApiServer::port() const {
  return impl_->port;
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(node::Ledger& ledger,
                                                    const crypto::SigningKey& key,
                                                    std::shared_ptr<WatchHub> hub,
                                                    const PeerStatusSource* peers,
                                                    ApiServerOptions options) {
  // Not owned: the caller keeps `key` alive for the server's lifetime.
  auto identity = std::make_shared<node::Identity>(
      key.public_key(), std::shared_ptr<const crypto::SigningKey>(&key, [](auto*) {}));
  return Start(ledger, std::move(identity), std::move(hub), peers, std::move(options));
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(node::Ledger& ledger,
                                                    std::shared_ptr<node::Identity> identity,
                                                    std::shared_ptr<WatchHub> hub,
                                                    const PeerStatusSource* peers,
                                                    ApiServerOptions options) {
  if (identity == nullptr) return InvalidArgument("ApiServer needs this node's identity");
  if (hub == nullptr) return InvalidArgument("ApiServer needs a WatchHub");
  if (options.max_message_bytes == 0 || options.max_message_bytes > INT_MAX)
    return InvalidArgument("max_message_bytes must be between 1 and " + std::to_string(INT_MAX));
  KEIRETSU_ASSIGN_OR_RETURN(AccessPolicy policy, AccessPolicy::Create(options.tokens));
  if (policy.size() == 0) spdlog::warn("api: no tokens configured: every call will be refused");
  KEIRETSU_ASSIGN_OR_RETURN(auto creds, Credentials(options.tls));

  // Registers reflection and the standard health service
  // (grpc.health.v1.Health, no token needed) with every ServerBuilder
  // created from now on.
  static std::once_flag plugins_once;
  std::call_once(plugins_once, [] {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::EnableDefaultHealthCheckService(true);
  });

  auto impl = std::make_unique<Impl>();
  impl->hub = hub;
  impl->service = std::make_unique<LedgerService>(ledger, std::move(identity), hub, peers,
                                                  std::move(policy), options);
  if (options.max_connections == 0 || options.max_connections_per_source == 0)
    return InvalidArgument("max_connections and max_connections_per_source must be at least 1");
  KEIRETSU_ASSIGN_OR_RETURN(impl->private_dir, MakePrivateDir());
  impl->backend_path = impl->private_dir + "/grpc.sock";
  struct DirCleanup {
    Impl* impl;
    ~DirCleanup() {
      if (impl != nullptr) RemovePrivateDir(impl->private_dir, impl->backend_path);
    }
  } cleanup{impl.get()};
  grpc::ServerBuilder builder;
  int unix_port = 0;
  builder.AddListeningPort("unix:" + impl->backend_path, creds, &unix_port);
  builder.RegisterService(impl->service.get());
  // Reflection v1 beside the plugin's v1alpha. The health service's
  // descriptor is named here so that its generated file is linked in and
  // both reflection versions can resolve grpc.health.v1.Health.
  impl->reflection_v1 = std::make_unique<ReflectionV1>(std::vector<std::string>{
      v1::Ledger::service_full_name(), grpc::health::v1::Health::service_full_name(),
      grpc::reflection::v1::ServerReflection::service_full_name(),
      "grpc.reflection.v1alpha.ServerReflection"});
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  builder.RegisterService(impl->reflection_v1.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  // gRPC sets SO_REUSEPORT by default: a second node on the same address
  // would then start and share the port. Binding must fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  SetConnectionArgs(options, builder);
  grpc::ResourceQuota quota("keiretsu-api");
  quota.SetMaxThreads(static_cast<int>(options.max_watchers) + kSpareThreads);
  builder.SetResourceQuota(quota);
  if (options.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
    counters.push_back(MetricsInterceptorFactory(*options.metrics));
    builder.experimental().SetInterceptorCreators(std::move(counters));
  }
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || unix_port == 0)
    return Unavailable("cannot start the gRPC server on " + impl->backend_path);
  ConnectionGateOptions gate;
  gate.listen = options.listen;
  gate.backend_unix_path = impl->backend_path;
  gate.max_connections = AffordableConnections(options.max_connections);
  gate.max_per_source = std::min(options.max_connections_per_source, gate.max_connections);
  if (gate.max_connections < options.max_connections)
    spdlog::warn(
        "api: at most {} connections at once, not {}: the open-files limit allows no "
        "more (raise LimitNOFILE)",
        gate.max_connections, options.max_connections);
  auto started = ConnectionGate::Start(gate);
  if (!started.ok()) {
    impl->server->Shutdown(std::chrono::system_clock::now());
    impl->server->Wait();
    return started.status();
  }
  impl->gate = std::move(started).value();
  impl->port = impl->gate->port();
  spdlog::info("api: at most {} connections at once, {} from one address", gate.max_connections,
               gate.max_per_source);
  cleanup.impl = nullptr;  // the server owns the directory now
  if (auto* health = impl->server->GetHealthCheckService())
    health->SetServingStatus(v1::Ledger::service_full_name(), true);
  impl->address = HostOf(options.listen) + ":" + std::to_string(impl->port);
  impl->tls = options.tls;
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

Status ApiServer::SelfCheck(std::chrono::milliseconds timeout) const {
  const std::optional<TlsOptions>& tls = impl_->tls;
  if (tls && !tls->client_ca_pem.empty())
    return FailedPrecondition(
        "mutual TLS: this process holds no client certificate to call its API with");
  grpc::ChannelArguments args;
  // A connection of its own, never one shared with an earlier check: a
  // listener that stopped accepting must fail the check.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("keiretsu.self_check", 1);
  // The front door first: its thread must turn. Then gRPC itself, over
  // its own socket, so a full gate (a flood at the caps) is not mistaken
  // for a dead API.
  if (!impl_->gate->Responsive(timeout))
    return Unavailable("the API's listener at " + address() + " did not respond within " +
                       std::to_string(timeout.count()) + " ms");
  auto channel = grpc::CreateCustomChannel(
      "unix:" + impl_->backend_path, tls ? SelfTls() : grpc::InsecureChannelCredentials(), args);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok())
    return Unavailable("the API at " + address() +
                       " did not answer a health check: " + s.error_message());
  if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING)
    return Unavailable("the API at " + address() + " is not serving");
  return Status::Ok();
}

void ApiServer::Shutdown(std::chrono::milliseconds grace) {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Health checks answer NOT_SERVING while the node drains.
  if (auto* health = impl_->server->GetHealthCheckService()) health->SetServingStatus(false);
  // Watch streams would otherwise run until the deadline cancels them.
  impl_->hub->Close();
  impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
  impl_->server->Wait();
  impl_->gate->Stop();
  RemovePrivateDir(impl_->private_dir, impl_->backend_path);
}

size_t ApiServer::open_connections() const {
  return impl_->gate->open_connections();
}
uint64_t ApiServer::refused_connections() const {
  return impl_->gate->refused_connections();
}

}  // namespace keiretsu::api
