// Server reflection v1 over the generated descriptor pool (reflection_v1.h).
#include "node/api/src/reflection_v1.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>
#include <utility>

namespace keiretsu::api {
namespace {

namespace pb = google::protobuf;
using grpc::reflection::v1::ServerReflectionRequest;
using grpc::reflection::v1::ServerReflectionResponse;

void NotFound(ServerReflectionResponse& out, const std::string& what) {
  auto* e = out.mutable_error_response();
  e->set_error_code(static_cast<int32_t>(grpc::StatusCode::NOT_FOUND));
  e->set_error_message(what);
}

// `file` and, depth first, every file it imports, each once: what a client
// needs to build the descriptors without asking again.
void AddFileAndDeps(const pb::FileDescriptor* file, std::set<std::string>& seen,
                    ServerReflectionResponse& out) {
  if (!seen.insert(file->name()).second) return;
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  out.mutable_file_descriptor_response()->add_file_descriptor_proto(proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) AddFileAndDeps(file->dependency(i), seen, out);
}

void Answer(const ServerReflectionRequest& req, const std::vector<std::string>& services,
            ServerReflectionResponse& out) {
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  std::set<std::string> seen;
  switch (req.message_request_case()) {
    case ServerReflectionRequest::kListServices:
      for (const std::string& name : services)
        out.mutable_list_services_response()->add_service()->set_name(name);
      return;
    case ServerReflectionRequest::kFileByFilename:
      if (const auto* f = pool->FindFileByName(req.file_by_filename())) {
        AddFileAndDeps(f, seen, out);
      } else {
        NotFound(out, "no file named '" + req.file_by_filename() + "'");
      }
      return;
    case ServerReflectionRequest::kFileContainingSymbol:
      if (const auto* f = pool->FindFileContainingSymbol(req.file_containing_symbol())) {
        AddFileAndDeps(f, seen, out);
      } else {
        NotFound(out, "no symbol named '" + req.file_containing_symbol() + "'");
      }
      return;
    case ServerReflectionRequest::kFileContainingExtension: {
      const auto& ext = req.file_containing_extension();
      const auto* type = pool->FindMessageTypeByName(ext.containing_type());
      const auto* field =
          type == nullptr ? nullptr : pool->FindExtensionByNumber(type, ext.extension_number());
      if (field != nullptr) {
        AddFileAndDeps(field->file(), seen, out);
      } else {
        NotFound(out, "no extension " + std::to_string(ext.extension_number()) + " of '" +
                          ext.containing_type() + "'");
      }
      return;
    }
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* type = pool->FindMessageTypeByName(req.all_extension_numbers_of_type());
      if (type == nullptr) {
        NotFound(out, "no message type named '" + req.all_extension_numbers_of_type() + "'");
        return;
      }
      std::vector<const pb::FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* numbers = out.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const auto* e : extensions) numbers->add_extension_number(e->number());
      return;
    }
    case ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET: break;
  }
  auto* e = out.mutable_error_response();
  e->set_error_code(static_cast<int32_t>(grpc::StatusCode::UNIMPLEMENTED));
  e->set_error_message(
      "the request names no question (set one of file_by_filename, "
      "file_containing_symbol, file_containing_extension, "
      "all_extension_numbers_of_type, list_services)");
}

}  // namespace

ReflectionV1::ReflectionV1(std::vector<std::string> services) : services_(std::move(services)) {}

grpc::Status ReflectionV1::ServerReflectionInfo(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  ServerReflectionRequest req;
  while (!context->IsCancelled() && stream->Read(&req)) {
    ServerReflectionResponse out;
    out.set_valid_host(req.host());
    *out.mutable_original_request() = req;
    Answer(req, services_, out);
    if (!stream->Write(out)) break;
  }
  return grpc::Status::OK;
}

}  // namespace keiretsu::api
