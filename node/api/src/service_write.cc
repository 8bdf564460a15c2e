// Write methods (operator only): each appends one entry to this node's feed,
// signed with its key and synced before the reply. A request id makes a
// write idempotent (docs/API.md "Idempotent writes"); a call whose deadline
// passed or that was cancelled before its entry was signed writes nothing. Concurrent writes share
// synced batches (the ledger's group commit); only answers (Accept,
// Decline) are serialised, by answer_mu_, because they check state first. The ledger's rules check
// amounts, units and memos (protocol/src/rules.cc) before anything is
// signed; refused writes change nothing.
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <shared_mutex>

#include "keiretsu/crypto/hash.h"
#include "node/api/src/service.h"

namespace keiretsu::api {

namespace {
// The longest request id accepted, and its alphabet (UUIDs, ULIDs and
// "job-42:3" style keys fit).
constexpr size_t kMaxRequestIdLength = 128;

Status CheckRequestId(const std::string& id) {
  if (id.size() > kMaxRequestIdLength)
    return InvalidArgument("request_id is " + std::to_string(id.size()) +
                           " characters, more than " + std::to_string(kMaxRequestIdLength));
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != ':')
      return InvalidArgument("request_id " + Quoted(id) +
                             " may only hold A-Z a-z 0-9 . _ - : (1-128 characters)");
  return Status::Ok();
}
}  // namespace

LedgerService::WriteRequest::WriteRequest(std::string_view method, const std::string& id,
                                          std::initializer_list<std::string_view> fields)
    : request_id(id) {
  // What a request id stands for: the method and every field of the
  // request but the id, length-prefixed, with firms as resolved keys (a
  // name and the key of one firm are the same request).
  Bytes msg;
  ByteWriter w(&msg);
  w.Raw("keiretsu/api/request/v1");
  w.U32(static_cast<uint32_t>(method.size()));
  w.Raw(method);
  for (std::string_view f : fields) {
    w.U32(static_cast<uint32_t>(f.size()));
    w.Raw(f);
  }
  fingerprint = crypto::Blake2b256(msg);
}

Result<bool> LedgerService::Replay(const WriteRequest& req, v1::WriteResponse* resp) const {
  if (req.request_id.empty()) return false;
  KEIRETSU_RETURN_IF_ERROR(CheckRequestId(req.request_id));
  auto found = ledger_.FindRequest(req.request_id, req.fingerprint);
  if (!found.ok()) {
    if (found.status().code() == Code::kAlreadyExists)
      return AlreadyExists("request_id " + Quoted(req.request_id) + ": " +
                           found.status().message());
    return found.status();
  }
  if (!*found) return false;
  const protocol::SignedEntry& se = **found;
  FillEntryView(FirmNames::Of(ledger_), se, IsEffective(se.entry.author, se.entry.seq),
                resp->mutable_entry());
  resp->set_replayed(true);
  return true;
}

grpc::Status LedgerService::Write(grpc::ServerContext* ctx, const Principal& who,
                                  const WriteRequest& req, protocol::Body body,
                                  v1::WriteResponse* resp) {
  auto replayed = Replay(req, resp);
  if (!replayed.ok()) return ToGrpc(replayed.status());
  if (*replayed) {
    spdlog::info("api: {} retried request {}: answered with entry {}", who.label,
                 Quoted(req.request_id), resp->entry().id().substr(0, 8));
    return grpc::Status::OK;
  }
  if (peers_ != nullptr) {
    // A full disk (RESOURCE_EXHAUSTED) or the restore gate (UNAVAILABLE).
    Status writable = peers_->CheckWritable();
    if (!writable.ok()) return ToGrpc(writable);
  }
  // Checked under the ledger's lock right before the entry is signed: a
  // call whose client gave up writes nothing. The deadline is gRPC's, in
  // its own (system) clock.
  std::optional<grpc::StatusCode> abandoned;
  node::AppendOptions options;
  options.request_id = req.request_id;
  options.fingerprint = req.fingerprint;
  options.still_wanted = [ctx, &abandoned]() -> Status {
    if (ctx->deadline() <= std::chrono::system_clock::now())
      abandoned = grpc::StatusCode::DEADLINE_EXCEEDED;
    else if (ctx->IsCancelled())
      abandoned = grpc::StatusCode::CANCELLED;
    return abandoned ? Unavailable("abandoned") : Status::Ok();
  };
  // The key in force, held for the append (a Rotate waits for it).
  std::shared_lock key_lock(key_mu_);
  auto a = ledger_.Append(*key(), std::move(body), NowMs(), options);
  key_lock.unlock();
  if (abandoned) {
    spdlog::info(
        "api: {} write abandoned before it was signed: the call's {}", who.label,
        *abandoned == grpc::StatusCode::CANCELLED ? "client cancelled it" : "deadline passed");
    return grpc::Status(*abandoned, *abandoned == grpc::StatusCode::CANCELLED
                                        ? "the call was cancelled before its entry was written; "
                                          "nothing was written"
                                        : "the deadline passed before the entry was written; "
                                          "nothing was written");
  }
  if (!a.ok()) {
    // A node that cannot write (a full disk, the restore gate) logs that
    // once when it happens, not once per refused call.
    const Code c = a.status().code();
    const bool node_state = c == Code::kResourceExhausted || c == Code::kUnavailable;
    spdlog::log(node_state ? spdlog::level::debug : spdlog::level::info,
                "api: {} write refused: {}", who.label, a.status().ToString());
    if (a.status().code() == Code::kAlreadyExists)
      return ToGrpc(
          AlreadyExists("request_id " + Quoted(req.request_id) + ": " + a.status().message()));
    return ToGrpc(a.status());
  }
  const protocol::SignedEntry& se = a->entry;
  const protocol::Entry& e = se.entry;
  spdlog::debug("api: {} wrote {} {} seq {} counterparty {}{}", who.label,
                protocol::KindName(protocol::KindOf(e.body)), se.id.Short(), e.seq,
                NameOf(protocol::Counterparty(e.body)), a->replayed ? " (replayed)" : "");
  FillEntryView(FirmNames::Of(ledger_), se, /*effective=*/true, resp->mutable_entry());
  resp->set_replayed(a->replayed);
  return grpc::Status::OK;
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
  if (claim->debtor != self())
    return FailedPrecondition("claim " + id->Short() + " is addressed to " + NameOf(claim->debtor) +
                              ", not this firm (" + NameOf(self()) + ")");
  if (!IsEffective(se.entry.author, se.entry.seq))
    return FailedPrecondition("claim " + id->Short() + " no longer counts: the feed of " +
                              NameOf(se.entry.author) + " stopped at or before it");
  KEIRETSU_ASSIGN_OR_RETURN(auto answer, ledger_.FindAnswer(self(), *id));
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
  WriteRequest w("Claim", req->request_id(),
                 {debtor->Hex(), std::to_string(req->amount()), req->unit(), req->memo()});
  return Write(ctx, *who, w, protocol::Claim{*debtor, req->amount(), req->unit(), req->memo()},
               resp);
}

grpc::Status LedgerService::Accept(grpc::ServerContext* ctx, const v1::AcceptRequest* req,
                                   v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kAccept);
  if (!who.ok()) return ToGrpc(who.status());
  // Held across check and append: the answer index only sees committed
  // entries, so two concurrent accepts must not both pass the check.
  std::lock_guard lock(answer_mu_);
  // A retry is answered before the claim is checked: once answered, the
  // claim is no longer answerable.
  WriteRequest w("Accept", req->request_id(), {req->claim_id(), req->memo()});
  auto replayed = Replay(w, resp);
  if (!replayed.ok() || *replayed) return ToGrpc(replayed.status());
  auto claim = AnswerableClaim(req->claim_id());
  if (!claim.ok()) return ToGrpc(claim.status());
  const auto& c = std::get<protocol::Claim>(claim->entry.body);
  // The accept copies the claim's terms so its effect is self-contained.
  return Write(ctx, *who, w,
               protocol::Accept{claim->id, claim->entry.author, c.amount, c.unit, req->memo()},
               resp);
}

grpc::Status LedgerService::Decline(grpc::ServerContext* ctx, const v1::DeclineRequest* req,
                                    v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kDecline);
  if (!who.ok()) return ToGrpc(who.status());
  std::lock_guard lock(answer_mu_);
  WriteRequest w("Decline", req->request_id(), {req->claim_id(), req->reason()});
  auto replayed = Replay(w, resp);
  if (!replayed.ok() || *replayed) return ToGrpc(replayed.status());
  auto claim = AnswerableClaim(req->claim_id());
  if (!claim.ok()) return ToGrpc(claim.status());
  return Write(ctx, *who, w, protocol::Decline{claim->id, claim->entry.author, req->reason()},
               resp);
}

grpc::Status LedgerService::RecordObligation(grpc::ServerContext* ctx,
                                             const v1::RecordObligationRequest* req,
                                             v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kRecordObligation);
  if (!who.ok()) return ToGrpc(who.status());
  auto creditor = Firm(req->creditor(), "creditor");
  if (!creditor.ok()) return ToGrpc(creditor.status());
  WriteRequest w("RecordObligation", req->request_id(),
                 {creditor->Hex(), std::to_string(req->amount()), req->unit(), req->memo()});
  return Write(ctx, *who, w,
               protocol::Obligation{*creditor, req->amount(), req->unit(), req->memo()}, resp);
}

grpc::Status LedgerService::RecordRelease(grpc::ServerContext* ctx,
                                          const v1::RecordReleaseRequest* req,
                                          v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kRecordRelease);
  if (!who.ok()) return ToGrpc(who.status());
  auto debtor = Firm(req->debtor(), "debtor");
  if (!debtor.ok()) return ToGrpc(debtor.status());
  WriteRequest w("RecordRelease", req->request_id(),
                 {debtor->Hex(), std::to_string(req->amount()), req->unit(), req->memo()});
  return Write(ctx, *who, w, protocol::Release{*debtor, req->amount(), req->unit(), req->memo()},
               resp);
}

}  // namespace keiretsu::api
