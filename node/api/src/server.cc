// ApiServer: builds the gRPC server (credentials, limits, reflection) around
// LedgerService and stops it gracefully.
#include "keiretsu/api/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <mutex>

#include "node/api/src/metrics_interceptor.h"
#include "node/api/src/service.h"

namespace keiretsu::api {

struct ApiServer::Impl {
  std::shared_ptr<WatchHub> hub;
  std::unique_ptr<LedgerService> service;
  std::unique_ptr<grpc::Server> server;
  std::string address;
  int port = 0;
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
  impl->service =
      std::make_unique<LedgerService>(ledger, key, hub, peers, std::move(policy), options);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, creds, &impl->port);
  builder.RegisterService(impl->service.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  // gRPC sets SO_REUSEPORT by default: a second node on the same address
  // would then start and share the port. Binding must fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  grpc::ResourceQuota quota("keiretsu-api");
  quota.SetMaxThreads(static_cast<int>(options.max_watchers) + kSpareThreads);
  builder.SetResourceQuota(quota);
  if (options.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
    counters.push_back(MetricsInterceptorFactory(*options.metrics));
    builder.experimental().SetInterceptorCreators(std::move(counters));
  }
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0)
    return Unavailable("cannot listen on " + options.listen +
                       " (address in use, or not an address of this host?)");
  if (auto* health = impl->server->GetHealthCheckService())
    health->SetServingStatus(v1::Ledger::service_full_name(), true);
  impl->address = HostOf(options.listen) + ":" + std::to_string(impl->port);
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
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
}

}  // namespace keiretsu::api
