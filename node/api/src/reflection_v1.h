// grpc.reflection.v1.ServerReflection: server reflection, version 1.
//
// Debian 12's gRPC 1.51 serves only grpc.reflection.v1alpha (its plugin);
// current clients (grpcurl, grpcio-reflection, Postman) ask for v1 first.
// This service answers v1 from the same source the v1alpha plugin uses: the
// generated descriptor pool, so every service, message and file compiled
// into keiretsud (api.proto, ledger.proto, health.proto, this file) can be
// resolved. No token is needed: the schema is public.
//
// Thread-safety: one instance serves any number of concurrent streams; it
// holds only the immutable list of service names.
#pragma once

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace keiretsu::api {

class ReflectionV1 final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // `services`: the full names list_services reports, in that order.
  explicit ReflectionV1(std::vector<std::string> services);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  std::vector<std::string> services_;
};

}  // namespace keiretsu::api
