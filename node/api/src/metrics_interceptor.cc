#include "node/api/src/metrics_interceptor.h"

#include <google/protobuf/descriptor.h>

#include <set>
#include <string>

namespace keiretsu::api {

namespace {

namespace gx = grpc::experimental;

std::string_view CodeLabel(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

// "/package.Service/Method" of every method served here, without the '/'.
std::set<std::string> ServedMethods() {
  std::set<std::string> out = {"grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch",
                               "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                               "grpc.reflection.v1.ServerReflection/ServerReflectionInfo"};
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("keiretsu.v1.Ledger");
  for (int i = 0; service != nullptr && i < service->method_count(); ++i)
    out.insert(service->full_name() + "/" + service->method(i)->name());
  return out;
}

class MetricsInterceptor final : public gx::Interceptor {
 public:
  MetricsInterceptor(node::Metrics& metrics, std::string_view method)
      : metrics_(metrics), method_(method) {}

  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::PRE_SEND_STATUS))
      metrics_.CountApiCall(method_, CodeLabel(methods->GetSendStatus().error_code()));
    methods->Proceed();
  }

 private:
  node::Metrics& metrics_;
  std::string_view method_;  // points into the factory's set
};

class Factory final : public gx::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(node::Metrics& metrics) : metrics_(metrics), served_(ServedMethods()) {}

  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo* info) override {
    std::string_view method = info->method() != nullptr ? info->method() : "";
    if (!method.empty() && method.front() == '/') method.remove_prefix(1);
    auto it = served_.find(std::string(method));
    return new MetricsInterceptor(metrics_, it != served_.end() ? std::string_view(*it) : kUnknown);
  }

 private:
  static constexpr std::string_view kUnknown = "unknown";
  node::Metrics& metrics_;
  const std::set<std::string> served_;
};

}  // namespace

std::unique_ptr<gx::ServerInterceptorFactoryInterface> MetricsInterceptorFactory(
    node::Metrics& metrics) {
  return std::make_unique<Factory>(metrics);
}

}  // namespace keiretsu::api
