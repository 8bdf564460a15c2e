// Private: a gRPC server interceptor that counts every call by method and
// status code in a node::Metrics (API calls metric, docs/OPERATIONS.md).
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "keiretsu/node/metrics.h"

namespace keiretsu::api {

// Counts each call's final status. Methods this server does not serve are
// counted as "unknown", so a client cannot grow the set of label values.
// `metrics` must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MetricsInterceptorFactory(
    node::Metrics& metrics);

}  // namespace keiretsu::api
