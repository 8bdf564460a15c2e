// Write methods (operator only): each appends one entry to this node's feed,
// signed with its key and synced before the reply. A request id makes a
// write idempotent (docs/API.md "Idempotent writes"); a call whose deadline
// passed or that was cancelled before its entry was signed writes nothing.
// The partner writes are served over gRPC's callback API: they queue their
// entry with the ledger (AppendAsync) and the call completes when its
// group commit did, holding no thread meanwhile. Concurrent writes share
// synced batches (the ledger's group commit); only answers to one claim
// (Accept, Decline) run one after the other, because they check state
// first. The ledger's rules check amounts, units and memos
// (protocol/src/rules.cc) before anything is signed; refused writes change
// nothing.
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <future>

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

Status LedgerService::CheckWritable() const {
  // A full disk (RESOURCE_EXHAUSTED) or the restore gate (UNAVAILABLE).
  return peers_ == nullptr ? Status::Ok() : peers_->CheckWritable();
}

node::AppendOptions LedgerService::AppendOptionsFor(grpc::ServerContextBase* ctx,
                                                    const WriteRequest& req,
                                                    std::shared_ptr<std::atomic<int>> abandoned) {
  node::AppendOptions options;
  options.request_id = req.request_id;
  options.fingerprint = req.fingerprint;
  // Checked under the ledger's lock right before the entry is signed: a
  // call whose client gave up writes nothing. The deadline is gRPC's, in
  // its own (system) clock.
  options.still_wanted = [ctx, abandoned]() -> Status {
    if (ctx->deadline() <= std::chrono::system_clock::now())
      abandoned->store(static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
    else if (ctx->IsCancelled())
      abandoned->store(static_cast<int>(grpc::StatusCode::CANCELLED));
    return abandoned->load() >= 0 ? Unavailable("abandoned") : Status::Ok();
  };
  return options;
}

grpc::Status LedgerService::WriteOutcome(const std::string& label, const std::string& request_id,
                                         int abandoned, const Result<node::Appended>& a,
                                         v1::WriteResponse* resp) const {
  if (abandoned >= 0) {
    const auto code = static_cast<grpc::StatusCode>(abandoned);
    spdlog::info("api: {} write abandoned before it was signed: the call's {}", label,
                 code == grpc::StatusCode::CANCELLED ? "client cancelled it" : "deadline passed");
    return grpc::Status(code, code == grpc::StatusCode::CANCELLED
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
                "api: {} write refused: {}", label, a.status().ToString());
    if (c == Code::kAlreadyExists)
      return ToGrpc(
          AlreadyExists("request_id " + Quoted(request_id) + ": " + a.status().message()));
    return ToGrpc(a.status());
  }
  const protocol::SignedEntry& se = a->entry;
  const protocol::Entry& e = se.entry;
  spdlog::debug("api: {} wrote {} {} seq {} counterparty {}{}", label,
                protocol::KindName(protocol::KindOf(e.body)), se.id.Short(), e.seq,
                NameOf(protocol::Counterparty(e.body)), a->replayed ? " (replayed)" : "");
  FillEntryView(FirmNames::Of(ledger_), se, /*effective=*/true, resp->mutable_entry());
  resp->set_replayed(a->replayed);
  return grpc::Status::OK;
}

void LedgerService::WriteAsync(grpc::ServerContextBase* ctx, const Principal& who,
                               const WriteRequest& req, protocol::Body body,
                               v1::WriteResponse* resp, Done done) {
  auto replayed = Replay(req, resp);
  if (!replayed.ok()) return done(ToGrpc(replayed.status()));
  if (*replayed) {
    spdlog::info("api: {} retried request {}: answered with entry {}", who.label,
                 Quoted(req.request_id), resp->entry().id().substr(0, 8));
    return done(grpc::Status::OK);
  }
  if (Status writable = CheckWritable(); !writable.ok()) return done(ToGrpc(writable));
  auto abandoned = std::make_shared<std::atomic<int>>(-1);
  node::AppendOptions options = AppendOptionsFor(ctx, req, abandoned);
  WithKeyHold([this, label = who.label, request_id = req.request_id, body = std::move(body),
               options = std::move(options), abandoned, resp,
               done = std::move(done)](KeyHold hold) mutable {
    // The key in force, held until the commit (a Rotate waits for it).
    ledger_.AppendAsync(
        key(), std::move(body), NowMs(), std::move(options),
        [this, label = std::move(label), request_id = std::move(request_id), abandoned, resp,
         hold = std::move(hold), done = std::move(done)](Result<node::Appended> a) mutable {
          hold.reset();
          done(WriteOutcome(label, request_id, abandoned->load(), a, resp));
        });
  });
}

grpc::Status LedgerService::Write(grpc::ServerContextBase* ctx, const Principal& who,
                                  const WriteRequest& req, protocol::Body body,
                                  v1::WriteResponse* resp) {
  std::promise<grpc::Status> outcome;
  std::future<grpc::Status> ready = outcome.get_future();
  WriteAsync(ctx, who, req, std::move(body), resp,
             [&outcome](grpc::Status s) { outcome.set_value(std::move(s)); });
  return ready.get();
}

void LedgerService::WithKeyHold(std::function<void(KeyHold)> work) {
  auto hold = [this] {
    return KeyHold(nullptr, [this](void*) {
      std::lock_guard lock(key_mu_);
      if (--key_holds_ == 0) key_released_.notify_all();
    });
  };
  {
    std::lock_guard lock(key_mu_);
    if (rotating_) {
      after_rotation_.push_back(
          [this, work = std::move(work)]() mutable { WithKeyHold(std::move(work)); });
      return;
    }
    ++key_holds_;
  }
  work(hold());
}

std::shared_ptr<void> LedgerService::BeginRotation() {
  std::unique_lock lock(key_mu_);
  key_released_.wait(lock, [this] { return !rotating_; });  // one rotation at a time
  rotating_ = true;
  key_released_.wait(lock, [this] { return key_holds_ == 0; });
  return std::shared_ptr<void>(nullptr, [this](void*) {
    std::vector<std::function<void()>> waiting;
    {
      std::lock_guard unlock_writes(key_mu_);
      rotating_ = false;
      waiting.swap(after_rotation_);
      key_released_.notify_all();
    }
    for (auto& w : waiting) w();
  });
}

void LedgerService::InClaimOrder(const std::string& claim_key, std::function<void(Next)> work) {
  auto next = [this, claim_key] {
    std::function<void()> waiting;
    {
      std::lock_guard lock(answer_mu_);
      auto it = answers_.find(claim_key);
      if (it->second.empty()) {
        answers_.erase(it);
        return;
      }
      waiting = std::move(it->second.front());
      it->second.pop_front();
    }
    waiting();
  };
  {
    std::lock_guard lock(answer_mu_);
    auto [it, first] = answers_.try_emplace(claim_key);
    if (!first) {
      it->second.push_back([work = std::move(work), next]() mutable { work(next); });
      return;
    }
  }
  work(next);
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

namespace {
// The key answers to one claim are ordered by: its id, whatever the case of
// the hex (a malformed id is refused anyway).
std::string ClaimKey(const std::string& claim_id) {
  auto id = EntryId::FromHex(claim_id);
  return id ? id->Hex() : claim_id;
}
}  // namespace

void LedgerService::Claim(grpc::ServerContextBase* ctx, const v1::ClaimRequest& req,
                          v1::WriteResponse* resp, Done done) {
  auto who = Authorize(ctx, Method::kClaim);
  if (!who.ok()) return done(ToGrpc(who.status()));
  auto debtor = Firm(req.debtor(), "debtor");
  if (!debtor.ok()) return done(ToGrpc(debtor.status()));
  WriteRequest w("Claim", req.request_id(),
                 {debtor->Hex(), std::to_string(req.amount()), req.unit(), req.memo()});
  WriteAsync(ctx, *who, w, protocol::Claim{*debtor, req.amount(), req.unit(), req.memo()}, resp,
             std::move(done));
}

void LedgerService::AnswerClaim(grpc::ServerContextBase* ctx, const Principal& who,
                                const std::string& claim_hex, WriteRequest req,
                                std::function<protocol::Body(const protocol::SignedEntry&)> answer,
                                v1::WriteResponse* resp, Done done) {
  // From the check to the commit, no other answer of this claim: the answer
  // index only sees committed entries, so two concurrent accepts must not
  // both pass the check.
  InClaimOrder(ClaimKey(claim_hex),
               [this, ctx, who, claim_hex, req = std::move(req), answer = std::move(answer), resp,
                done = std::move(done)](Next next) mutable {
                 auto finish = [next, done = std::move(done)](grpc::Status s) {
                   done(std::move(s));
                   next();
                 };
                 // A retry is answered before the claim is checked: once
                 // answered, the claim is no longer answerable.
                 auto replayed = Replay(req, resp);
                 if (!replayed.ok() || *replayed) return finish(ToGrpc(replayed.status()));
                 auto claim = AnswerableClaim(claim_hex);
                 if (!claim.ok()) return finish(ToGrpc(claim.status()));
                 WriteAsync(ctx, who, req, answer(*claim), resp, std::move(finish));
               });
}

void LedgerService::Accept(grpc::ServerContextBase* ctx, const v1::AcceptRequest& req,
                           v1::WriteResponse* resp, Done done) {
  auto who = Authorize(ctx, Method::kAccept);
  if (!who.ok()) return done(ToGrpc(who.status()));
  AnswerClaim(
      ctx, *who, req.claim_id(),
      WriteRequest("Accept", req.request_id(), {req.claim_id(), req.memo()}),
      [memo = req.memo()](const protocol::SignedEntry& claim) -> protocol::Body {
        // The accept copies the claim's terms so its effect is self-contained.
        const auto& c = std::get<protocol::Claim>(claim.entry.body);
        return protocol::Accept{claim.id, claim.entry.author, c.amount, c.unit, memo};
      },
      resp, std::move(done));
}

void LedgerService::Decline(grpc::ServerContextBase* ctx, const v1::DeclineRequest& req,
                            v1::WriteResponse* resp, Done done) {
  auto who = Authorize(ctx, Method::kDecline);
  if (!who.ok()) return done(ToGrpc(who.status()));
  AnswerClaim(
      ctx, *who, req.claim_id(),
      WriteRequest("Decline", req.request_id(), {req.claim_id(), req.reason()}),
      [reason = req.reason()](const protocol::SignedEntry& claim) -> protocol::Body {
        return protocol::Decline{claim.id, claim.entry.author, reason};
      },
      resp, std::move(done));
}

void LedgerService::RecordObligation(grpc::ServerContextBase* ctx,
                                     const v1::RecordObligationRequest& req,
                                     v1::WriteResponse* resp, Done done) {
  auto who = Authorize(ctx, Method::kRecordObligation);
  if (!who.ok()) return done(ToGrpc(who.status()));
  auto creditor = Firm(req.creditor(), "creditor");
  if (!creditor.ok()) return done(ToGrpc(creditor.status()));
  WriteRequest w("RecordObligation", req.request_id(),
                 {creditor->Hex(), std::to_string(req.amount()), req.unit(), req.memo()});
  WriteAsync(ctx, *who, w, protocol::Obligation{*creditor, req.amount(), req.unit(), req.memo()},
             resp, std::move(done));
}

void LedgerService::RecordRelease(grpc::ServerContextBase* ctx, const v1::RecordReleaseRequest& req,
                                  v1::WriteResponse* resp, Done done) {
  auto who = Authorize(ctx, Method::kRecordRelease);
  if (!who.ok()) return done(ToGrpc(who.status()));
  auto debtor = Firm(req.debtor(), "debtor");
  if (!debtor.ok()) return done(ToGrpc(debtor.status()));
  WriteRequest w("RecordRelease", req.request_id(),
                 {debtor->Hex(), std::to_string(req.amount()), req.unit(), req.memo()});
  WriteAsync(ctx, *who, w, protocol::Release{*debtor, req.amount(), req.unit(), req.memo()}, resp,
             std::move(done));
}

Result<std::pair<LedgerService::WriteRequest, protocol::Body>> LedgerService::BatchItemWrite(
    const v1::BatchItem& item) const {
  using Out = std::pair<WriteRequest, protocol::Body>;
  switch (item.write_case()) {
    case v1::BatchItem::kClaim: {
      const v1::ClaimRequest& r = item.claim();
      KEIRETSU_ASSIGN_OR_RETURN(PublicKey debtor, Firm(r.debtor(), "claim.debtor"));
      WriteRequest w("Claim", r.request_id(),
                     {debtor.Hex(), std::to_string(r.amount()), r.unit(), r.memo()});
      return Out{w, protocol::Claim{debtor, r.amount(), r.unit(), r.memo()}};
    }
    case v1::BatchItem::kObligation: {
      const v1::RecordObligationRequest& r = item.obligation();
      KEIRETSU_ASSIGN_OR_RETURN(PublicKey creditor, Firm(r.creditor(), "obligation.creditor"));
      WriteRequest w("RecordObligation", r.request_id(),
                     {creditor.Hex(), std::to_string(r.amount()), r.unit(), r.memo()});
      return Out{w, protocol::Obligation{creditor, r.amount(), r.unit(), r.memo()}};
    }
    case v1::BatchItem::kRelease: {
      const v1::RecordReleaseRequest& r = item.release();
      KEIRETSU_ASSIGN_OR_RETURN(PublicKey debtor, Firm(r.debtor(), "release.debtor"));
      WriteRequest w("RecordRelease", r.request_id(),
                     {debtor.Hex(), std::to_string(r.amount()), r.unit(), r.memo()});
      return Out{w, protocol::Release{debtor, r.amount(), r.unit(), r.memo()}};
    }
    case v1::BatchItem::WRITE_NOT_SET: break;
  }
  return InvalidArgument("the item holds no write: set one of claim, obligation, release");
}

void LedgerService::WriteBatch(grpc::ServerContextBase* ctx, const v1::WriteBatchRequest& req,
                               v1::WriteBatchResponse* resp, Done done) {
  auto who = Authorize(ctx, Method::kWriteBatch);
  if (!who.ok()) return done(ToGrpc(who.status()));
  const size_t n = static_cast<size_t>(req.items_size());
  if (n == 0) return done(ToGrpc(InvalidArgument("the batch holds no items")));
  if (n > kMaxBatchItems)
    return done(ToGrpc(InvalidArgument("the batch holds " + std::to_string(n) +
                                       " items, more than " + std::to_string(kMaxBatchItems) +
                                       " (the most one WriteBatch takes): split it")));
  if (Status writable = CheckWritable(); !writable.ok()) return done(ToGrpc(writable));
  auto fail = [](v1::BatchResult* r, size_t i, const grpc::Status& s) {
    r->set_code(static_cast<uint32_t>(s.error_code()));
    r->set_message("item " + std::to_string(i) + ": " + s.error_message());
  };
  // Each item decided as its own call would be; those that pass go to the
  // ledger together, in order.
  auto abandoned = std::make_shared<std::atomic<int>>(-1);
  std::vector<node::AppendRequest> writes;
  std::vector<size_t> index;  // of each write's item
  std::vector<std::string> request_ids;
  resp->mutable_results()->Reserve(static_cast<int>(n));
  for (size_t i = 0; i < n; ++i) {
    v1::BatchResult* r = resp->add_results();
    auto w = BatchItemWrite(req.items(static_cast<int>(i)));
    if (w.ok() && !w->first.request_id.empty())
      if (Status id = CheckRequestId(w->first.request_id); !id.ok()) w = id;
    if (!w.ok()) {
      fail(r, i, ToGrpc(w.status()));
      continue;
    }
    writes.push_back({std::move(w->second), AppendOptionsFor(ctx, w->first, abandoned)});
    index.push_back(i);
    request_ids.push_back(w->first.request_id);
  }
  if (writes.empty()) return done(grpc::Status::OK);
  WithKeyHold([this, writes = std::move(writes), index = std::move(index),
               request_ids = std::move(request_ids), abandoned, resp, label = who->label, fail,
               done = std::move(done)](KeyHold hold) mutable {
    ledger_.AppendBatchAsync(
        key(), std::move(writes), NowMs(),
        [this, index = std::move(index), request_ids = std::move(request_ids), abandoned, resp,
         label = std::move(label), fail, hold = std::move(hold),
         done = std::move(done)](std::vector<Result<node::Appended>> results) mutable {
          hold.reset();
          size_t written = 0;
          for (size_t k = 0; k < results.size(); ++k) {
            v1::BatchResult* r = resp->mutable_results(static_cast<int>(index[k]));
            v1::WriteResponse one;
            // An item written before the call was given up is written.
            const int gave_up = results[k].ok() ? -1 : abandoned->load();
            grpc::Status s = WriteOutcome(label, request_ids[k], gave_up, results[k], &one);
            if (!s.ok()) {
              fail(r, index[k], s);
              continue;
            }
            ++written;
            r->mutable_entry()->Swap(one.mutable_entry());
            r->set_replayed(one.replayed());
          }
          const int gave_up = abandoned->load();
          if (gave_up >= 0)
            return done(grpc::Status(
                static_cast<grpc::StatusCode>(gave_up),
                "the call's " +
                    std::string(gave_up == static_cast<int>(grpc::StatusCode::CANCELLED)
                                    ? "client cancelled it"
                                    : "deadline passed") +
                    " before every item was written: " + std::to_string(written) +
                    " were; a retry with the same request ids returns them"));
          done(grpc::Status::OK);
        });
  });
}

}  // namespace keiretsu::api
