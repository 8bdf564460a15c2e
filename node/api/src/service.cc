// The service's shared helpers: authorization, firm arguments, entry views.
#include "node/api/src/service.h"

namespace keiretsu::api {

LedgerService::LedgerService(node::Ledger& ledger, const crypto::SigningKey& key,
                             std::shared_ptr<WatchHub> hub, const PeerStatusSource* peers,
                             AccessPolicy policy, const ApiServerOptions& options)
    : ledger_(ledger),
      key_(key),
      hub_(std::move(hub)),
      peers_(peers),
      policy_(std::move(policy)),
      options_(options) {}

Result<Principal> LedgerService::Authorize(grpc::ServerContext* ctx, Method method) const {
  std::optional<std::string_view> header;
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it != md.end()) header = std::string_view(it->second.data(), it->second.size());
  return policy_.Check(header, method);
}

Result<PublicKey> LedgerService::Firm(const std::string& value, std::string_view field) const {
  if (value.empty())
    return InvalidArgument(std::string(field) + " is required (a firm name or 64-hex public key)");
  auto key = ledger_.genesis().ResolveFirm(value);
  if (!key.ok()) {
    // Bound the echo: the value is caller-supplied.
    std::string shown = value.size() > 64 ? value.substr(0, 64) + "..." : value;
    return NotFound("unknown firm '" + shown + "': not a member of network " +
                    ledger_.genesis().network_name());
  }
  return *key;
}

Result<PublicKey> LedgerService::FirmOrSelf(const std::string& value,
                                            std::string_view field) const {
  if (value.empty()) return key_.public_key();
  return Firm(value, field);
}

bool LedgerService::IsEffective(const PublicKey& author, uint64_t seq) const {
  return ledger_.Feed(author).effective_seq() >= seq;
}

Status LedgerService::ToView(ByteView record, v1::EntryView* view) const {
  KEIRETSU_ASSIGN_OR_RETURN(auto se, DecodeStored(record, ledger_.genesis()));
  FillEntryView(ledger_.genesis(), se, IsEffective(se.entry.author, se.entry.seq), view);
  return Status::Ok();
}

grpc::Status LedgerService::GetCheckpoint(grpc::ServerContext* ctx,
                                          const v1::GetCheckpointRequest* /*req*/,
                                          v1::Checkpoint* /*resp*/) {
  auto who = Authorize(ctx, Method::kGetCheckpoint);
  if (!who.ok()) return ToGrpc(who.status());
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "checkpoints arrive with the audit work; this node cannot sign one yet");
}

}  // namespace keiretsu::api
