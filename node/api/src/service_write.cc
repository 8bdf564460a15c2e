// Write methods (operator only): each appends one entry to this node's feed,
// signed with its key and synced before the reply. Concurrent writes share
// synced batches (the ledger's group commit); only answers (Accept,
// Decline) are serialised, by answer_mu_, because they check state first. The ledger's rules check
// amounts, units and memos (protocol/src/rules.cc) before anything is
// signed; refused writes change nothing.
#include <spdlog/spdlog.h>

#include "node/api/src/service.h"

namespace keiretsu::api {

Status LedgerService::Write(const Principal& who, protocol::Body body, v1::WriteResponse* resp) {
  if (peers_ != nullptr) KEIRETSU_RETURN_IF_ERROR(peers_->CheckWritable());
  uint64_t now = NowMs();
  auto se = ledger_.Append(key_, std::move(body), now);
  if (!se.ok()) {
    // A node that cannot write (a full disk, the restore gate) logs that
    // once when it happens, not once per refused call.
    const Code c = se.status().code();
    const bool node_state = c == Code::kResourceExhausted || c == Code::kUnavailable;
    spdlog::log(node_state ? spdlog::level::debug : spdlog::level::info,
                "api: {} write refused: {}", who.label, se.status().ToString());
    return se.status();
  }
  const protocol::Entry& e = se->entry;
  spdlog::debug("api: {} wrote {} {} seq {} counterparty {}", who.label,
                protocol::KindName(protocol::KindOf(e.body)), se->id.Short(), e.seq,
                NameOf(protocol::Counterparty(e.body)));
  FillEntryView(ledger_.genesis(), *se, /*effective=*/true, resp->mutable_entry());
  return Status::Ok();
}

Result<protocol::SignedEntry> LedgerService::AnswerableClaim(const std::string& claim_hex) const {
  auto id = EntryId::FromHex(claim_hex);
  if (!id) return InvalidArgument("claim_id must be an entry id of 64 hex characters");
  KEIRETSU_ASSIGN_OR_RETURN(auto rec, ledger_.GetEntry(*id));
  if (!rec) return NotFound("no claim " + id->Short() + " on this node");
  KEIRETSU_ASSIGN_OR_RETURN(auto se, DecodeStored(*rec, ledger_.genesis()));
  const auto* claim = std::get_if<protocol::Claim>(&se.entry.body);
  if (claim == nullptr) {
    std::string kind(protocol::KindName(protocol::KindOf(se.entry.body)));
    const char* article = kind.front() == 'a' || kind.front() == 'o' ? "an " : "a ";
    return InvalidArgument("entry " + id->Short() + " is " + article + kind + ", not a claim");
  }
  const PublicKey& self = key_.public_key();
  if (claim->debtor != self)
    return FailedPrecondition("claim " + id->Short() + " is addressed to " + NameOf(claim->debtor) +
                              ", not this firm (" + NameOf(self) + ")");
  if (!IsEffective(se.entry.author, se.entry.seq))
    return FailedPrecondition("claim " + id->Short() + " no longer counts: the feed of " +
                              NameOf(se.entry.author) + " stopped at or before it");
  KEIRETSU_ASSIGN_OR_RETURN(auto answer, ledger_.FindAnswer(self, *id));
  if (answer)
    return FailedPrecondition("claim " + id->Short() + " was already answered by entry " +
                              answer->Short());
  return se;
}

grpc::Status LedgerService::Claim(grpc::ServerContext* ctx, const v1::ClaimRequest* req,
                                  v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kClaim);
  if (!who.ok()) return ToGrpc(who.status());
  auto debtor = Firm(req->debtor(), "debtor");
  if (!debtor.ok()) return ToGrpc(debtor.status());
  return ToGrpc(
      Write(*who, protocol::Claim{*debtor, req->amount(), req->unit(), req->memo()}, resp));
}

grpc::Status LedgerService::Accept(grpc::ServerContext* ctx, const v1::AcceptRequest* req,
                                   v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kAccept);
  if (!who.ok()) return ToGrpc(who.status());
  // Held across check and append: the answer index only sees committed
  // entries, so two concurrent accepts must not both pass the check.
  std::lock_guard lock(answer_mu_);
  auto claim = AnswerableClaim(req->claim_id());
  if (!claim.ok()) return ToGrpc(claim.status());
  const auto& c = std::get<protocol::Claim>(claim->entry.body);
  // The accept copies the claim's terms so its effect is self-contained.
  return ToGrpc(Write(
      *who, protocol::Accept{claim->id, claim->entry.author, c.amount, c.unit, req->memo()}, resp));
}

grpc::Status LedgerService::Decline(grpc::ServerContext* ctx, const v1::DeclineRequest* req,
                                    v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kDecline);
  if (!who.ok()) return ToGrpc(who.status());
  std::lock_guard lock(answer_mu_);
  auto claim = AnswerableClaim(req->claim_id());
  if (!claim.ok()) return ToGrpc(claim.status());
  return ToGrpc(
      Write(*who, protocol::Decline{claim->id, claim->entry.author, req->reason()}, resp));
}

grpc::Status LedgerService::RecordObligation(grpc::ServerContext* ctx,
                                             const v1::RecordObligationRequest* req,
                                             v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kRecordObligation);
  if (!who.ok()) return ToGrpc(who.status());
  auto creditor = Firm(req->creditor(), "creditor");
  if (!creditor.ok()) return ToGrpc(creditor.status());
  return ToGrpc(
      Write(*who, protocol::Obligation{*creditor, req->amount(), req->unit(), req->memo()}, resp));
}

grpc::Status LedgerService::RecordRelease(grpc::ServerContext* ctx,
                                          const v1::RecordReleaseRequest* req,
                                          v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kRecordRelease);
  if (!who.ok()) return ToGrpc(who.status());
  auto debtor = Firm(req->debtor(), "debtor");
  if (!debtor.ok()) return ToGrpc(debtor.status());
  return ToGrpc(
      Write(*who, protocol::Release{*debtor, req->amount(), req->unit(), req->memo()}, resp));
}

}  // namespace keiretsu::api
