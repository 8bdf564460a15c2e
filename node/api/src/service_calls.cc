// Strict request parsing for every method of the service.
//
// gRPC's generated handlers parse a request before our code runs; when the
// bytes do not parse (malformed protobuf, a proto3 string that is not
// UTF-8) the call fails INTERNAL with an empty message, and a client
// stream's Read() reports such a chunk as the end of the stream, so Import
// would silently drop the rest. Each method is therefore re-registered
// (grpc::Service::MarkMethodStreamed) with a handler that receives raw
// bytes and parses them with proto::ParseStrict, which names the field
// that is wrong. On the wire nothing changes: a unary or server-streaming
// call is a stream with one request message. The partner writes are
// registered the same way as raw callback methods (MarkMethodRawCallback):
// their handler parses the bytes strictly and completes the call when the
// write's commit did, from whichever thread that is; GetBalance is one too
// (InlineUnary), answered at once, so that it costs what an empty call
// costs plus its store read.
#include <google/protobuf/descriptor.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/server_callback.h>

#include "keiretsu/proto/strict_parse.h"
#include "node/api/src/service.h"

namespace keiretsu::api {

namespace {

using RawStream = LedgerService::RawStream;
using RawHandler =
    grpc::internal::BidiStreamingHandler<LedgerService, grpc::ByteBuffer, grpc::ByteBuffer>;

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Reads the next message of `stream` into `msg`. Ok(false) at the end of
// the stream; kInvalidArgument when the message does not parse.
Result<bool> ReadStrict(RawStream* stream, google::protobuf::Message* msg) {
  grpc::ByteBuffer buffer;
  if (!stream->Read(&buffer)) return false;
  KEIRETSU_RETURN_IF_ERROR(proto::ParseStrict(Flatten(buffer), msg));
  return true;
}

// The one request of a unary or server-streaming call.
grpc::Status ReadRequest(RawStream* stream, google::protobuf::Message* msg) {
  auto got = ReadStrict(stream, msg);
  if (!got.ok()) return ToGrpc(Status(got.status().code(), "request " + got.status().message()));
  if (!*got) return ToGrpc(InvalidArgument("the call carried no request message"));
  grpc::ByteBuffer extra;
  if (stream->Read(&extra))
    return ToGrpc(InvalidArgument("the call carried more than one request message"));
  return grpc::Status::OK;
}

bool WriteMessage(RawStream* stream, const google::protobuf::Message& msg) {
  grpc::ByteBuffer buffer;
  bool own = false;
  if (!grpc::SerializationTraits<google::protobuf::Message>::Serialize(msg, &buffer, &own).ok())
    return false;
  return stream->Write(buffer);
}

int IndexOf(std::string_view method) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      std::string(v1::Ledger::service_full_name()));
  const auto* m = service == nullptr ? nullptr : service->FindMethodByName(std::string(method));
  // The generated Service registers methods in declaration order, which is
  // the descriptor's index; a missing method is a build that mixes protos.
  if (m == nullptr) std::abort();
  return m->index();
}

template <class Req, class Resp>
using UnaryMethod = grpc::Status (LedgerService::*)(grpc::ServerContext*, const Req*, Resp*);

template <class Req, class Resp>
RawHandler* Unary(LedgerService* service, UnaryMethod<Req, Resp> method) {
  return new RawHandler(
      [method](LedgerService* self, grpc::ServerContext* ctx, RawStream* stream) {
        Req req;
        if (grpc::Status s = ReadRequest(stream, &req); !s.ok()) return s;
        Resp resp;
        grpc::Status s = (self->*method)(ctx, &req, &resp);
        if (s.ok() && !WriteMessage(stream, resp))
          return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
        return s;
      },
      service);
}

template <class Req, class Resp>
using AsyncMethod = void (LedgerService::*)(grpc::ServerContextBase*, const Req&, Resp*,
                                            LedgerService::Done);

// A unary callback method over raw bytes: parses the request strictly, runs
// `method`, and finishes the call (serialising the response) when it calls
// its `done`. The request and response live until then.
template <class Req, class Resp>
grpc::internal::MethodHandler* AsyncUnary(LedgerService* service, AsyncMethod<Req, Resp> method) {
  return new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
      [service, method](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                        grpc::ByteBuffer* response) -> grpc::ServerUnaryReactor* {
        grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
        struct Call {
          Req req;
          Resp resp;
        };
        auto call = std::make_shared<Call>();
        if (Status s = proto::ParseStrict(Flatten(*request), &call->req); !s.ok()) {
          reactor->Finish(ToGrpc(Status(s.code(), "request " + s.message())));
          return reactor;
        }
        (service->*method)(ctx, call->req, &call->resp, [reactor, call, response](grpc::Status s) {
          bool own = false;
          if (s.ok() && !grpc::SerializationTraits<google::protobuf::Message>::Serialize(
                             call->resp, response, &own)
                             .ok())
            s = grpc::Status(grpc::StatusCode::INTERNAL, "the response could not be serialised");
          reactor->Finish(s);
        });
        return reactor;
      });
}

template <class Req, class Resp>
using ReadMethod = grpc::Status (LedgerService::*)(grpc::ServerContextBase*, const Req&, Resp*);

// A unary read that answers on the thread that runs it (no wait on a commit
// or a peer), as a raw callback method: the request comes with the call and
// the response leaves with the status in one batch, as gRPC's own health
// check is served. Served through Unary above (a synchronous stream), the
// same call took a Read, a second Read for the end of the stream, a Write
// and a Finish, each a completion-queue round trip to a pool thread
// (docs/PERFORMANCE.md, "GetBalance").
template <class Req, class Resp>
grpc::internal::MethodHandler* InlineUnary(LedgerService* service, ReadMethod<Req, Resp> method) {
  return new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
      [service, method](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                        grpc::ByteBuffer* response) -> grpc::ServerUnaryReactor* {
        grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
        Req req;
        if (Status s = proto::ParseStrict(Flatten(*request), &req); !s.ok()) {
          reactor->Finish(ToGrpc(Status(s.code(), "request " + s.message())));
          return reactor;
        }
        Resp resp;
        grpc::Status s = (service->*method)(ctx, req, &resp);
        bool own = false;
        if (s.ok() &&
            !grpc::SerializationTraits<google::protobuf::Message>::Serialize(resp, response, &own)
                 .ok())
          s = grpc::Status(grpc::StatusCode::INTERNAL, "the response could not be serialised");
        reactor->Finish(s);
        return reactor;
      });
}

}  // namespace

void LedgerService::InstallStrictHandlers() {
  MarkMethodStreamed(IndexOf("GetStatus"), Unary(this, &LedgerService::GetStatus));
  MarkMethodRawCallback(IndexOf("GetBalance"), InlineUnary(this, &LedgerService::BalanceOf));
  MarkMethodStreamed(IndexOf("ListBalances"), Unary(this, &LedgerService::ListBalances));
  MarkMethodRawCallback(IndexOf("Claim"), AsyncUnary(this, &LedgerService::Claim));
  MarkMethodRawCallback(IndexOf("Accept"), AsyncUnary(this, &LedgerService::Accept));
  MarkMethodRawCallback(IndexOf("Decline"), AsyncUnary(this, &LedgerService::Decline));
  MarkMethodRawCallback(IndexOf("RecordObligation"),
                        AsyncUnary(this, &LedgerService::RecordObligation));
  MarkMethodRawCallback(IndexOf("RecordRelease"), AsyncUnary(this, &LedgerService::RecordRelease));
  MarkMethodRawCallback(IndexOf("WriteBatch"), AsyncUnary(this, &LedgerService::WriteBatch));
  MarkMethodStreamed(IndexOf("ListPendingClaims"), Unary(this, &LedgerService::ListPendingClaims));
  MarkMethodStreamed(IndexOf("ListEntries"), Unary(this, &LedgerService::ListEntries));
  MarkMethodStreamed(IndexOf("GetEntry"), Unary(this, &LedgerService::GetEntry));
  MarkMethodStreamed(IndexOf("GetCheckpoint"), Unary(this, &LedgerService::GetCheckpoint));
  MarkMethodStreamed(IndexOf("Propose"), Unary(this, &LedgerService::Propose));
  MarkMethodStreamed(IndexOf("Vote"), Unary(this, &LedgerService::Vote));
  MarkMethodStreamed(IndexOf("Leave"), Unary(this, &LedgerService::Leave));
  MarkMethodStreamed(IndexOf("Rotate"), Unary(this, &LedgerService::Rotate));
  MarkMethodStreamed(IndexOf("ListMembers"), Unary(this, &LedgerService::ListMembers));
  MarkMethodStreamed(IndexOf("ListProposals"), Unary(this, &LedgerService::ListProposals));
  MarkMethodStreamed(IndexOf("FindClearing"), Unary(this, &LedgerService::FindClearing));
  MarkMethodStreamed(IndexOf("ProposeClearing"), Unary(this, &LedgerService::ProposeClearing));
  MarkMethodStreamed(IndexOf("ListClearings"), Unary(this, &LedgerService::ListClearings));
  MarkMethodStreamed(IndexOf("VoteClearing"), Unary(this, &LedgerService::VoteClearing));
  MarkMethodStreamed(IndexOf("Watch"), new RawHandler(&LedgerService::RawWatch, this));
  MarkMethodStreamed(IndexOf("Export"), new RawHandler(&LedgerService::RawExport, this));
  MarkMethodStreamed(IndexOf("Import"), new RawHandler(&LedgerService::RawImport, this));
}

grpc::Status LedgerService::RawWatch(grpc::ServerContext* ctx, RawStream* stream) {
  v1::WatchRequest req;
  if (grpc::Status s = ReadRequest(stream, &req); !s.ok()) return s;
  return DoWatch(
      ctx, req, [stream] { stream->SendInitialMetadata(); },
      [stream](const v1::WatchEvent& ev) { return WriteMessage(stream, ev); });
}

grpc::Status LedgerService::RawExport(grpc::ServerContext* ctx, RawStream* stream) {
  v1::ExportRequest req;
  if (grpc::Status s = ReadRequest(stream, &req); !s.ok()) return s;
  return DoExport(ctx, req, [stream](const v1::ExportChunk& c) { return WriteMessage(stream, c); });
}

grpc::Status LedgerService::RawImport(grpc::ServerContext* ctx, RawStream* stream) {
  v1::ImportResponse resp;
  grpc::Status s = DoImport(
      ctx, [stream](v1::ExportChunk* c) { return ReadStrict(stream, c); }, &resp);
  if (s.ok() && !WriteMessage(stream, resp))
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
  return s;
}

}  // namespace keiretsu::api
