// The service's shared helpers: authorization, firm arguments, entry views.
#include "node/api/src/service.h"

#include <cctype>
#include <chrono>

#include "keiretsu/common/text.h"
#include "keiretsu/protocol/checkpoint.h"

namespace keiretsu::api {

LedgerService::LedgerService(node::Ledger& ledger, std::shared_ptr<node::Identity> identity,
                             std::shared_ptr<WatchHub> hub, const PeerStatusSource* peers,
                             AccessPolicy policy, const ApiServerOptions& options)
    : ledger_(ledger),
      identity_(std::move(identity)),
      hub_(std::move(hub)),
      peers_(peers),
      policy_(std::move(policy)),
      options_(options),
      watch_shares_(options) {
  InstallStrictHandlers();
}

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
    // A firm admitted since the genesis: by its id or its name (any case).
    const auto id = PublicKey::FromHex(value);
    for (const node::MemberView& m : ledger_.Governance().members)
      if ((id && m.id == *id) || EqualsIgnoringCase(m.name, value)) return m.id;
    // The value is caller-supplied: echoed escaped, bounded, on one line.
    return NotFound("unknown firm " + Quoted(value) + ": not a member of network " +
                    ledger_.genesis().network_name());
  }
  return *key;
}

Result<PublicKey> LedgerService::FirmOrSelf(const std::string& value,
                                            std::string_view field) const {
  if (value.empty()) return self();
  return Firm(value, field);
}

bool LedgerService::IsEffective(const PublicKey& author, uint64_t seq) const {
  return ledger_.Feed(author).effective_seq() >= seq;
}

Status LedgerService::ToView(ByteView record, v1::EntryView* view) const {
  KEIRETSU_ASSIGN_OR_RETURN(auto se, DecodeStored(record, ledger_.genesis()));
  FillEntryView(FirmNames::Of(ledger_), se, IsEffective(se.entry.author, se.entry.seq), view);
  return Status::Ok();
}

uint64_t LedgerService::NowMs() const {
  if (options_.now_unix_ms) return options_.now_unix_ms();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Result<v1::Checkpoint> LedgerService::SignCheckpoint(const node::StateSnapshot& snapshot,
                                                     uint64_t time_ms) const {
  // Version 1 or 2 as the ledger's governance state requires (PROTOCOL.md 15).
  auto cp =
      protocol::MakeCheckpoint(snapshot.heads, ledger_.genesis(), snapshot.scope, *key(), time_ms);
  if (!cp.ok()) {
    // Neither failure is the caller's doing: a key that is not a member is
    // a misconfigured node, refused feed states a bug or damaged storage.
    if (cp.status().code() == Code::kPermissionDenied)
      return FailedPrecondition("this node cannot sign a checkpoint: " + cp.status().message());
    return Internal("cannot sign a checkpoint of this node's feeds: " + cp.status().message());
  }
  v1::Checkpoint out;
  out.set_statement(cp->statement.data(), cp->statement.size());
  out.set_signer(cp->signer.bytes.data(), cp->signer.bytes.size());
  out.set_signature(cp->signature.data(), cp->signature.size());
  return out;
}

grpc::Status LedgerService::GetCheckpoint(grpc::ServerContext* ctx,
                                          const v1::GetCheckpointRequest* /*req*/,
                                          v1::Checkpoint* resp) {
  auto who = Authorize(ctx, Method::kGetCheckpoint);
  if (!who.ok()) return ToGrpc(who.status());
  auto cp = SignCheckpoint(ledger_.DigestSnapshot(), NowMs());
  if (!cp.ok()) return ToGrpc(cp.status());
  *resp = std::move(cp).value();
  return grpc::Status::OK;
}

}  // namespace keiretsu::api
