// Governance methods (protocol v2, docs/PROTOCOL.md 19; docs/API.md
// "Governance"): Propose, Vote and Leave append one entry to this node's
// feed through the write path of service_write.cc (request ids, the
// writable check, abandoned calls); Rotate signs a rotate entry with the
// firm's pre-committed next key and adopts that key durably; ListMembers
// and ListProposals read the ledger's governance view.
//
// Bad input is refused before anything is signed, with the ledger's own
// checks as the last word (node/ledger.h "Governance writes"): malformed
// keys and digests INVALID_ARGUMENT, this firm not an active member
// PERMISSION_DENIED, a stale epoch FAILED_PRECONDITION, an admit of a
// member ALREADY_EXISTS, an unknown proposal NOT_FOUND.
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <shared_mutex>

#include "keiretsu/crypto/key_file.h"
#include "keiretsu/protocol/governance.h"
#include "node/api/src/governance_view.h"
#include "node/api/src/service.h"

namespace keiretsu::api {

namespace {

Result<PublicKey> ParseKey(const std::string& hex, std::string_view field) {
  auto k = PublicKey::FromHex(hex);
  if (!k) return InvalidArgument(std::string(field) + " must be a public key of 64 hex characters");
  return *k;
}

Result<Digest> ParseDigest(const std::string& hex, std::string_view field) {
  auto d = Digest::FromHex(hex);
  if (!d) return InvalidArgument(std::string(field) + " must be a digest of 64 hex characters");
  return *d;
}

}  // namespace

Status LedgerService::CheckActiveMember() const {
  if (ledger_.IsActiveMember(self())) return Status::Ok();
  const node::GovernanceState g = ledger_.Governance();
  for (const node::MemberView& m : g.members)
    if (m.id == self() && m.removed)
      return PermissionDenied(
          "this firm (" + m.name + ") was removed in epoch " + std::to_string(m.removed_in_epoch) +
          ": it is not a member of the current epoch " + std::to_string(g.epoch));
  return PermissionDenied("this firm (" + self().Short() +
                          ") is not a member of the current epoch " + std::to_string(g.epoch) +
                          " on this node");
}

bool LedgerService::FillGovernanceEvent(const protocol::SignedEntry& entry,
                                        v1::GovernanceEvent* out) const {
  switch (protocol::KindOf(entry.entry.body)) {
    case protocol::BodyKind::kPropose:
    case protocol::BodyKind::kVote:
    case protocol::BodyKind::kLeave:
    case protocol::BodyKind::kRotate:
      return FillEntryEvent(GovernanceSnapshot::Of(ledger_), entry, out);
    default: return false;
  }
}

grpc::Status LedgerService::Propose(grpc::ServerContext* ctx, const v1::ProposeRequest* req,
                                    v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kPropose);
  if (!who.ok()) return ToGrpc(who.status());
  const GovernanceSnapshot g = GovernanceSnapshot::Of(ledger_);
  protocol::Propose body;
  body.epoch_hash = g.state.epoch_hash;
  body.round = req->has_round() ? req->round() : g.OpenRound();
  body.memo = req->memo();
  std::vector<std::string> fields;  // the request as resolved, for its fingerprint
  switch (req->action_case()) {
    case v1::ProposeRequest::kAdmit: {
      const v1::AdmitAction& a = req->admit();
      if (a.name().empty()) return ToGrpc(InvalidArgument("admit.name is required"));
      auto key = ParseKey(a.inception_key(), "admit.inception_key");
      if (!key.ok()) return ToGrpc(key.status());
      auto next = ParseDigest(a.next_key_digest(), "admit.next_key_digest");
      if (!next.ok()) return ToGrpc(next.status());
      if (Status s = protocol::CheckKeyAndNext(*key, *next, "admit.inception_key"); !s.ok())
        return ToGrpc(InvalidArgument(s.message()));
      body.action = protocol::AdmitAction{a.name(), *key, *next};
      fields = {"admit", a.name(), key->Hex(), next->Hex()};
      break;
    }
    case v1::ProposeRequest::kRemove: {
      const v1::RemoveAction& r = req->remove();
      auto firm = Firm(r.firm(), "remove.firm");
      if (!firm.ok()) return ToGrpc(firm.status());
      uint64_t last_seq = 0;
      if (r.has_last_seq()) {
        last_seq = r.last_seq();
      } else {
        for (const node::MemberView& m : g.state.members)
          if (m.id == *firm) last_seq = m.left_seq;
        if (last_seq == 0) last_seq = ledger_.Feed(*firm).effective_seq();
      }
      body.action = protocol::RemoveAction{*firm, last_seq};
      fields = {"remove", firm->Hex(), std::to_string(last_seq)};
      break;
    }
    case v1::ProposeRequest::kSetThreshold:
      if (req->threshold() == 0)
        return ToGrpc(InvalidArgument("set_threshold needs threshold: the new k"));
      body.action = protocol::SetThresholdAction{};
      fields = {"set-threshold"};
      break;
    case v1::ProposeRequest::ACTION_NOT_SET:
      return ToGrpc(InvalidArgument("an action is required: admit, remove or set_threshold"));
  }
  if (req->threshold() > 1024)
    return ToGrpc(InvalidArgument("threshold " + std::to_string(req->threshold()) +
                                  " is above 1024, the most a proposal may name"));
  body.threshold =
      static_cast<uint16_t>(req->threshold() != 0 ? req->threshold() : g.state.threshold);
  // The epoch and round are part of what a request id stands for: a retry
  // after the epoch moved on is another request.
  WriteRequest w("Propose", req->request_id(),
                 {fields.size() > 0 ? fields[0] : "", fields.size() > 1 ? fields[1] : "",
                  fields.size() > 2 ? fields[2] : "", fields.size() > 3 ? fields[3] : "",
                  std::to_string(req->threshold()),
                  req->has_round() ? std::to_string(req->round()) : "", req->memo()});
  auto replayed = Replay(w, resp);
  if (!replayed.ok() || *replayed) return ToGrpc(replayed.status());
  if (Status s = CheckActiveMember(); !s.ok()) return ToGrpc(s);
  return Write(ctx, *who, w, std::move(body), resp);
}

grpc::Status LedgerService::Vote(grpc::ServerContext* ctx, const v1::VoteRequest* req,
                                 v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kVote);
  if (!who.ok()) return ToGrpc(who.status());
  auto id = EntryId::FromHex(req->proposal_id());
  if (!id) return ToGrpc(InvalidArgument("proposal_id must be an entry id of 64 hex characters"));
  // A retry is answered before the proposal is checked: once the vote
  // passed it, its epoch is no longer the current one.
  WriteRequest w("Vote", req->request_id(), {id->Hex()});
  auto replayed = Replay(w, resp);
  if (!replayed.ok() || *replayed) return ToGrpc(replayed.status());
  if (Status s = CheckActiveMember(); !s.ok()) return ToGrpc(s);
  const GovernanceSnapshot g = GovernanceSnapshot::Of(ledger_);
  const node::ProposalView* p = nullptr;
  for (const node::ProposalView& x : g.state.proposals)
    if (x.info.id == *id) p = &x;
  if (p == nullptr)
    return ToGrpc(NotFound("no proposal " + id->Short() + " on this node (a propose entry of a " +
                           "member it has received)"));
  if (p->info.body.epoch_hash != g.state.epoch_hash) {
    const protocol::Epoch* e = g.EpochOf(p->info.body.epoch_hash);
    return ToGrpc(FailedPrecondition(
        "proposal " + id->Short() + " is stale: it is for " +
        (e != nullptr ? "epoch " + std::to_string(e->number) : "an epoch not in this chain") +
        ", the current epoch is " + std::to_string(g.state.epoch)));
  }
  if (p->info.state != protocol::ProposalState::kPending)
    return ToGrpc(FailedPrecondition("proposal " + id->Short() + " is " +
                                     std::string(protocol::ProposalStateName(p->info.state)) +
                                     (p->info.why.empty() ? "" : ": " + p->info.why) +
                                     "; only a pending proposal can be voted for"));
  return Write(ctx, *who, w,
               protocol::Vote{p->info.body.epoch_hash, p->info.body.round, p->info.id}, resp);
}

grpc::Status LedgerService::Leave(grpc::ServerContext* ctx, const v1::LeaveRequest* req,
                                  v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kLeave);
  if (!who.ok()) return ToGrpc(who.status());
  WriteRequest w("Leave", req->request_id(), {req->memo()});
  auto replayed = Replay(w, resp);
  if (!replayed.ok() || *replayed) return ToGrpc(replayed.status());
  if (Status s = CheckActiveMember(); !s.ok()) return ToGrpc(s);
  return Write(ctx, *who, w, protocol::Leave{req->memo()}, resp);
}

grpc::Status LedgerService::Rotate(grpc::ServerContext* ctx, const v1::RotateRequest* req,
                                   v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kRotate);
  if (!who.ok()) return ToGrpc(who.status());
  auto next = crypto::SigningKeyFromSeedHex(req->next_secret_key());
  {
    // The secret now lives in secure memory (or was refused): wipe the
    // request's copy. gRPC allocated the message mutable; only this handler
    // reads it.
    std::string* secret = const_cast<v1::RotateRequest*>(req)->mutable_next_secret_key();
    sodium_memzero(secret->data(), secret->size());
  }
  if (!next.ok()) return ToGrpc(InvalidArgument("next_secret_key: " + next.status().message()));
  auto after = ParseDigest(req->next_key_digest(), "next_key_digest");
  if (!after.ok()) return ToGrpc(after.status());
  const PublicKey new_key = next->public_key();
  // No write signs while the key changes.
  std::unique_lock key_lock(key_mu_);
  // A retry of a rotation that took effect: the chain already ends with it.
  const std::vector<protocol::KeySpan> chain = ledger_.KeyChain(self());
  if (chain.size() > 1 && chain.back().key == new_key && chain.back().next_key_digest == *after &&
      key()->public_key() == new_key) {
    const std::vector<Bytes> rotations = ledger_.RotationRecords(self());
    if (!rotations.empty()) {
      auto se = DecodeStored(rotations.back(), ledger_.genesis());
      if (!se.ok()) return ToGrpc(se.status());
      FillEntryView(FirmNames::Of(ledger_), *se, IsEffective(self(), se->entry.seq),
                    resp->mutable_entry());
      resp->set_replayed(true);
      return grpc::Status::OK;
    }
  }
  if (options_.key_file.empty())
    return ToGrpc(FailedPrecondition(
        "this node has no key file to keep a new key in; Rotate needs keiretsud's key_file"));
  if (chain.empty())
    return ToGrpc(
        PermissionDenied("this firm (" + self().Short() +
                         ") is not a member as far as this node knows: it cannot rotate"));
  // Checked here as well as by the ledger, so a wrong key is refused before
  // its secret touches the disk.
  const protocol::KeySpan& now = chain.back();
  if (now.next_key_digest.IsZero())
    return ToGrpc(FailedPrecondition("this firm's key committed to no next key: it cannot rotate"));
  if (protocol::NextKeyDigest(new_key) != now.next_key_digest)
    return ToGrpc(PermissionDenied("next_secret_key is not the key this firm's current key " +
                                   now.key.Short() + " committed to (next-key digest " +
                                   now.next_key_digest.Short() + ")"));
  if (peers_ != nullptr) {
    Status writable = peers_->CheckWritable();
    if (!writable.ok()) return ToGrpc(writable);
  }
  // 1. Keep the new key beside the old one, so a crash after the rotate
  // entry is committed cannot lose it (keiretsud promotes it at start).
  if (Status s = crypto::StageKeyFile(options_.key_file, *next); !s.ok()) {
    spdlog::error("api: {} Rotate: cannot stage the new key: {}", who->label, s.ToString());
    return ToGrpc(s);
  }
  // 2. The rotate entry, signed with the new key, committed synced.
  auto se = ledger_.AppendRotation(self(), *next, *after, NowMs());
  if (!se.ok()) {
    const Code code = se.status().code();
    if (code == Code::kIOError || code == Code::kCorruption || code == Code::kInternal) {
      // The commit failed: whether the rotate entry reached the disk is
      // unknown. Keep the staged key: keiretsud settles it at its next start
      // (promotes it if the rotation is stored, drops it if not).
      spdlog::error(
          "api: {} Rotate: the commit failed, outcome unknown; the new key stays "
          "staged in {}: {}",
          who->label, crypto::StagedKeyPath(options_.key_file), se.status().ToString());
      return ToGrpc(Unavailable(
          "the rotation's commit failed (" + se.status().message() +
          "): whether it took effect is unknown; the new key is kept staged beside the key "
          "file and keiretsud settles it when it next starts: restart keiretsud, then check "
          "`keiretsu members`"));
    }
    if (Status d = crypto::DiscardStagedKeyFile(options_.key_file); !d.ok())
      spdlog::error("api: Rotate: {}", d.ToString());
    spdlog::info("api: {} Rotate refused: {}", who->label, se.status().ToString());
    return ToGrpc(se.status());
  }
  // 3. The new key becomes the key file's, and this process signs with it.
  auto shared = std::make_shared<const crypto::SigningKey>(std::move(next).value());
  identity_->Adopt(shared);
  if (Status s = crypto::PromoteStagedKeyFile(options_.key_file); !s.ok()) {
    // The rotation is committed and the new key is staged: the next start
    // promotes it. This process already signs with it.
    spdlog::error(
        "api: Rotate: the rotation is committed but the key file was not replaced ({}); "
        "keiretsud adopts {} at its next start",
        s.ToString(), crypto::StagedKeyPath(options_.key_file));
  }
  spdlog::warn("api: {} rotated this firm's key to {} at seq {}", who->label, new_key.Short(),
               se->entry.seq);
  FillEntryView(FirmNames::Of(ledger_), *se, /*effective=*/true, resp->mutable_entry());
  return grpc::Status::OK;
}

grpc::Status LedgerService::ListMembers(grpc::ServerContext* ctx,
                                        const v1::ListMembersRequest* /*req*/,
                                        v1::ListMembersResponse* resp) {
  auto who = Authorize(ctx, Method::kListMembers);
  if (!who.ok()) return ToGrpc(who.status());
  const GovernanceSnapshot g = GovernanceSnapshot::Of(ledger_);
  resp->set_epoch(g.state.epoch);
  resp->set_epoch_hash(g.state.epoch_hash.Hex());
  resp->set_threshold(g.state.threshold);
  uint32_t active = 0;
  for (const node::MemberView& m : g.state.members) {
    if (!m.removed) ++active;
    FillMember(g, m, resp->add_members());
  }
  resp->set_active(active);
  return grpc::Status::OK;
}

grpc::Status LedgerService::ListProposals(grpc::ServerContext* ctx,
                                          const v1::ListProposalsRequest* req,
                                          v1::ListProposalsResponse* resp) {
  auto who = Authorize(ctx, Method::kListProposals);
  if (!who.ok()) return ToGrpc(who.status());
  const std::string& want = req->state();
  if (!want.empty() && want != "pending" && want != "passed" && want != "failed" && want != "void")
    return ToGrpc(InvalidArgument("state " + Quoted(want) +
                                  " is none of pending, passed, failed, void (or empty: all)"));
  const GovernanceSnapshot g = GovernanceSnapshot::Of(ledger_);
  resp->set_epoch(g.state.epoch);
  resp->set_epoch_hash(g.state.epoch_hash.Hex());
  for (const node::ProposalView& p : g.state.proposals)
    if (want.empty() || protocol::ProposalStateName(p.info.state) == want)
      FillProposal(g, p, resp->add_proposals());
  return grpc::Status::OK;
}

}  // namespace keiretsu::api
