// Consent-based clearing (docs/PROTOCOL.md 20; docs/API.md "Clearing"):
// FindClearing runs the solver (clearing/solver.h) on this node's current
// balances; ProposeClearing signs a clearing proposal on the participants'
// current feed heads after the checks of clearing/checks.h; ListClearings
// reads the ledger's decision of every proposal (protocol::DecideClearing);
// VoteClearing accepts or rejects, refusing an accept that, with the
// proposals this firm already accepted and still pending, would set off
// more than is owed on some pair (clearing::JointlyWithinOwed).
//
// Bad input is refused before anything is signed: malformed input
// INVALID_ARGUMENT, a set-off the current balances do not allow or a
// proposal that cannot be voted on FAILED_PRECONDITION, an unknown
// proposal NOT_FOUND, this firm not an active member PERMISSION_DENIED.
#include <algorithm>
#include <map>

#include "keiretsu/api/clearing_policy.h"
#include "keiretsu/clearing/checks.h"
#include "keiretsu/clearing/solver.h"
#include "keiretsu/protocol/kinds.h"
#include "node/api/src/governance_view.h"
#include "node/api/src/service.h"

namespace keiretsu::api {

namespace {

constexpr uint64_t kDefaultExpiryMs = 24ull * 3600 * 1000;
constexpr uint64_t kMaxExpiryMs = 30 * kDefaultExpiryMs;

std::string Text(clearing::Amount a) {
  return clearing::AmountText(a);
}

// Why `firm` cannot vote on a clearing proposal now, or "" when it can. A
// firm that was removed, has left or whose feed stopped never writes a vote
// that counts, so a set-off through it could only expire (PROTOCOL.md 20).
std::string WhyCannotVote(const node::GovernanceState& g, const PublicKey& firm) {
  for (const node::MemberView& m : g.members) {
    if (m.id != firm) continue;
    const std::string who = m.name.empty() ? firm.Short() : m.name;
    if (m.removed) return who + " was removed in epoch " + std::to_string(m.removed_in_epoch);
    if (m.left_seq != 0)
      return who + " has left (its leave entry is seq " + std::to_string(m.left_seq) + ")";
    if (m.stop_seq != 0)
      return who + "'s feed stopped at seq " + std::to_string(m.stop_seq) +
             " (a fork or an invalid entry)";
    return "";
  }
  return firm.Short() + " is no member of the current epoch on this node";
}

// Every unit's obligation graph on this node's current balances, without
// the debts of firms that cannot vote (WhyCannotVote): nothing through them
// can be cleared.
Result<std::map<std::string, clearing::ObligationGraph>> OwedGraphsOf(const node::Ledger& ledger) {
  auto rows = ledger.ListAllBalances();
  if (!rows.ok()) return rows.status();
  const node::GovernanceState g = ledger.Governance();
  std::map<PublicKey, bool> can_vote;
  auto votes = [&](const PublicKey& firm) {
    auto [it, added] = can_vote.try_emplace(firm, false);
    if (added) it->second = WhyCannotVote(g, firm).empty();
    return it->second;
  };
  std::erase_if(*rows, [&](const storage::BalanceRow& r) {
    return !votes(r.firm) || !votes(r.counterparty);
  });
  return OwedGraphs(*rows);
}

clearing::ObligationGraph GraphOf(const std::map<std::string, clearing::ObligationGraph>& graphs,
                                  const std::string& unit) {
  auto it = graphs.find(unit);
  return it == graphs.end() ? clearing::ObligationGraph{unit, {}} : it->second;
}

// The set-off a proposal body stands for.
clearing::SetOff SetOffOf(const protocol::ClearingPropose& p) {
  clearing::SetOff s{p.unit, {}};
  for (const protocol::ClearingLeg& l : p.legs)
    s.legs.push_back(
        {p.participants.at(l.debtor).firm, p.participants.at(l.creditor).firm, l.amount});
  return s;
}

std::string_view StanceName(protocol::ClearingStance s) {
  switch (s) {
    case protocol::ClearingStance::kUndecided: return "undecided";
    case protocol::ClearingStance::kAccepted: return "accepted";
    case protocol::ClearingStance::kRejected: return "rejected";
    case protocol::ClearingStance::kLapsed: return "lapsed";
  }
  return "unknown";
}

std::optional<size_t> ParticipantIndex(const protocol::ClearingPropose& p, const PublicKey& firm) {
  for (size_t i = 0; i < p.participants.size(); ++i)
    if (p.participants[i].firm == firm) return i;
  return std::nullopt;
}

}  // namespace

bool LedgerService::FillClearingEvent(const protocol::SignedEntry& entry,
                                      v1::ClearingEvent* out) const {
  EntryId proposal;
  if (std::holds_alternative<protocol::ClearingPropose>(entry.entry.body)) {
    out->set_type("proposal");
    proposal = entry.id;
  } else if (const auto* v = std::get_if<protocol::ClearingVote>(&entry.entry.body)) {
    out->set_type("vote");
    out->set_accept(v->decision == protocol::ClearingDecision::kAccept);
    proposal = v->proposal_id;
  } else {
    return false;
  }
  GovernanceSnapshot::Of(ledger_).FillFirm(entry.entry.author, out->mutable_firm());
  out->set_proposal_id(proposal.Hex());
  if (auto decided = ledger_.Clearing(); decided.ok())
    if (auto it = decided->proposals.find(proposal); it != decided->proposals.end()) {
      out->set_unit(it->second.body.unit);
      out->set_state(std::string(protocol::ClearingStateName(it->second.state)));
    }
  return true;
}

std::map<EntryId, protocol::ClearingState> LedgerService::ClearingStates() const {
  std::map<EntryId, protocol::ClearingState> out;
  if (auto decided = ledger_.Clearing(); decided.ok())
    for (const auto& [id, o] : decided->proposals) out.emplace(id, o.state);
  return out;
}

grpc::Status LedgerService::SendClearingOutcomes(uint64_t cursor, const Principal& who,
                                                 std::map<EntryId, protocol::ClearingState>& seen,
                                                 const Sink<v1::WatchEvent>& write) {
  // An entry committed since the log was read may be what changed an
  // outcome: it is sent first, and the outcome on the next pass.
  if (ledger_.LastCursor() > cursor) return grpc::Status::OK;
  auto decided = ledger_.Clearing();
  if (!decided.ok()) return ToGrpc(decided.status());
  std::map<EntryId, protocol::ClearingState> now;
  for (const auto& [id, o] : decided->proposals) {
    now.emplace(id, o.state);
    auto was = seen.find(id);
    const bool changed =
        was == seen.end() ? o.state != protocol::ClearingState::kPending : was->second != o.state;
    if (!changed) continue;
    bool visible = !who.is_partner();
    for (const protocol::ClearingHead& p : o.body.participants)
      visible = visible || who.MaySee(p.firm, p.firm);
    if (!visible) continue;
    v1::WatchEvent ev;
    ev.set_cursor(std::to_string(cursor));  // resuming from it skips and repeats nothing
    v1::ClearingEvent* c = ev.mutable_clearing();
    c->set_type("outcome");
    GovernanceSnapshot::Of(ledger_).FillFirm(o.proposer, c->mutable_firm());
    c->set_proposal_id(id.Hex());
    c->set_unit(o.body.unit);
    c->set_state(std::string(protocol::ClearingStateName(o.state)));
    if (!write(ev)) return grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled");
  }
  seen = std::move(now);
  return grpc::Status::OK;
}

grpc::Status LedgerService::FindClearing(grpc::ServerContext* ctx,
                                         const v1::FindClearingRequest* req,
                                         v1::FindClearingResponse* resp) {
  auto who = Authorize(ctx, Method::kFindClearing);
  if (!who.ok()) return ToGrpc(who.status());
  auto graphs = OwedGraphsOf(ledger_);
  if (!graphs.ok()) return ToGrpc(graphs.status());
  const GovernanceSnapshot g = GovernanceSnapshot::Of(ledger_);
  for (const auto& [unit, graph] : *graphs) {
    if (!req->unit().empty() && unit != req->unit()) continue;
    auto solved = clearing::Solve(graph);
    if (!solved.ok()) return ToGrpc(solved.status());
    v1::UnitClearing* u = resp->add_units();
    u->set_unit(unit);
    u->set_total_owed(Text(solved->total_owed));
    u->set_cleared(Text(solved->cleared));
    const double owed = static_cast<double>(solved->total_owed);
    u->set_cleared_share(owed > 0 ? static_cast<double>(solved->cleared) / owed : 0);
    uint32_t index = 0;
    for (const clearing::Proposal& p : solved->proposals) {
      v1::FoundClearing* f = u->add_proposals();
      f->set_index(++index);
      for (const PublicKey& firm : p.firms) g.FillFirm(firm, f->add_firms());
      for (const clearing::Leg& l : p.legs) {
        v1::ClearingLegView* lv = f->add_legs();
        g.FillFirm(l.debtor, lv->mutable_debtor());
        g.FillFirm(l.creditor, lv->mutable_creditor());
        lv->set_amount(Text(l.amount));
      }
      f->set_total(Text(p.total));
      f->set_share_of_owed(owed > 0 ? static_cast<double>(p.total) / owed : 0);
    }
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::ProposeClearing(grpc::ServerContext* ctx,
                                            const v1::ProposeClearingRequest* req,
                                            v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kProposeClearing);
  if (!who.ok()) return ToGrpc(who.status());
  const std::string& unit = req->unit();
  if (unit.empty()) return ToGrpc(InvalidArgument("unit is required"));
  if (req->found() != 0 && req->legs_size() > 0)
    return ToGrpc(InvalidArgument("give either found (a FindClearing proposal) or legs, not both"));
  if (req->found() == 0 && req->legs_size() == 0)
    return ToGrpc(
        InvalidArgument("a set-off needs legs, or found: the index of a FindClearing proposal"));
  if (req->expires_in_ms() > kMaxExpiryMs)
    return ToGrpc(InvalidArgument("expires_in_ms " + std::to_string(req->expires_in_ms()) +
                                  " is above 30 days (" + std::to_string(kMaxExpiryMs) + ")"));
  const uint64_t expires_in = req->expires_in_ms() != 0 ? req->expires_in_ms() : kDefaultExpiryMs;

  // The request's fingerprint covers what the caller asked for: the found
  // index (not the legs it resolves to now, which change as entries
  // arrive, so a retry is still recognised), or the legs by key.
  clearing::SetOff set_off{unit, {}};
  std::string asked;
  if (req->found() != 0) {
    asked = "found:" + std::to_string(req->found());
  } else {
    for (int i = 0; i < req->legs_size(); ++i) {
      const v1::ClearingLegRequest& l = req->legs(i);
      const std::string at = "legs[" + std::to_string(i) + "]";
      auto debtor = Firm(l.debtor(), at + ".debtor");
      if (!debtor.ok()) return ToGrpc(debtor.status());
      auto creditor = Firm(l.creditor(), at + ".creditor");
      if (!creditor.ok()) return ToGrpc(creditor.status());
      set_off.legs.push_back({*debtor, *creditor, l.amount()});
      asked += debtor->Hex() + ">" + creditor->Hex() + ":" + Text(l.amount()) + ";";
    }
  }
  WriteRequest w("ProposeClearing", req->request_id(),
                 {unit, asked, std::to_string(req->expires_in_ms())});
  auto replayed = Replay(w, resp);
  if (!replayed.ok() || *replayed) return ToGrpc(replayed.status());

  auto graphs = OwedGraphsOf(ledger_);
  if (!graphs.ok()) return ToGrpc(graphs.status());
  const clearing::ObligationGraph owed = GraphOf(*graphs, unit);
  if (req->found() != 0) {
    auto solved = clearing::Solve(owed);
    if (!solved.ok()) return ToGrpc(solved.status());
    if (req->found() > solved->proposals.size())
      return ToGrpc(FailedPrecondition("found " + std::to_string(req->found()) +
                                       ": FindClearing finds " +
                                       std::to_string(solved->proposals.size()) + " proposals in " +
                                       unit + " on this node now"));
    set_off.legs = solved->proposals[req->found() - 1].legs;
  }
  if (Status s = CheckActiveMember(); !s.ok()) return ToGrpc(s);

  if (Status s = clearing::IsCirculation(set_off.legs); !s.ok()) return ToGrpc(s);
  {
    const node::GovernanceState g = ledger_.Governance();
    for (const clearing::Leg& l : set_off.legs)
      for (const PublicKey& f : {l.debtor, l.creditor})
        if (std::string why = WhyCannotVote(g, f); !why.empty())
          return ToGrpc(FailedPrecondition(
              why + ": it cannot vote, so a set-off naming it could never commit"));
  }
  const bool takes_part = std::any_of(set_off.legs.begin(), set_off.legs.end(), [&](const auto& l) {
    return l.debtor == self() || l.creditor == self();
  });
  if (!takes_part)
    return ToGrpc(FailedPrecondition("this firm (" + self().Short() +
                                     ") is on no leg: a clearing proposal's author must be one "
                                     "of its participants"));
  if (Status s = clearing::LegsWithinOwed(set_off, owed); !s.ok()) return ToGrpc(s);

  // The body: participants ascending by key with their current heads, legs
  // ascending by (debtor, creditor) index (PROTOCOL.md 20.2).
  std::vector<PublicKey> firms;
  for (const clearing::Leg& l : set_off.legs) firms.insert(firms.end(), {l.debtor, l.creditor});
  std::sort(firms.begin(), firms.end());
  firms.erase(std::unique(firms.begin(), firms.end()), firms.end());
  if (firms.size() > 255)
    return ToGrpc(InvalidArgument(std::to_string(firms.size()) +
                                  " participants: a clearing proposal names at most 255"));
  protocol::ClearingPropose body{unit, NowMs() + expires_in, {}, {}};
  for (const PublicKey& f : firms) {
    const node::FeedState st = ledger_.Feed(f);
    body.participants.push_back({f, st.effective_seq(), st.effective_id});
  }
  auto index = [&](const PublicKey& f) {
    return static_cast<uint8_t>(std::lower_bound(firms.begin(), firms.end(), f) - firms.begin());
  };
  for (const clearing::Leg& l : set_off.legs)
    body.legs.push_back({index(l.debtor), index(l.creditor), static_cast<uint64_t>(l.amount)});
  std::sort(body.legs.begin(), body.legs.end(), [](const auto& a, const auto& b) {
    return std::pair(a.debtor, a.creditor) < std::pair(b.debtor, b.creditor);
  });
  if (Status s = protocol::KindOps<protocol::ClearingPropose>::CheckBody(body, self()); !s.ok())
    return ToGrpc(InvalidArgument(s.message()));
  return Write(ctx, *who, w, std::move(body), resp);
}

grpc::Status LedgerService::ListClearings(grpc::ServerContext* ctx,
                                          const v1::ListClearingsRequest* req,
                                          v1::ListClearingsResponse* resp) {
  auto who = Authorize(ctx, Method::kListClearings);
  if (!who.ok()) return ToGrpc(who.status());
  const std::string& want = req->state();
  if (!want.empty() && want != "pending" && want != "committed" && want != "rejected" &&
      want != "expired" && want != "void")
    return ToGrpc(InvalidArgument("state " + Quoted(want) +
                                  " is none of pending, committed, rejected, expired, void (or "
                                  "empty: all)"));
  auto decided = ledger_.Clearing();
  if (!decided.ok()) return ToGrpc(decided.status());
  const GovernanceSnapshot g = GovernanceSnapshot::Of(ledger_);
  std::vector<const protocol::ClearingOutcome*> order;
  for (const auto& [id, o] : decided->proposals)
    if (want.empty() || protocol::ClearingStateName(o.state) == want) order.push_back(&o);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return std::tie(a->proposer, a->seq) < std::tie(b->proposer, b->seq);
  });
  for (const protocol::ClearingOutcome* o : order) {
    v1::ClearingView* v = resp->add_clearings();
    v->set_id(o->proposal.Hex());
    g.FillFirm(o->proposer, v->mutable_proposer());
    v->set_seq(o->seq);
    v->set_unit(o->body.unit);
    v->set_expiry_unix_ms(o->body.expiry_ms);
    v->set_state(std::string(protocol::ClearingStateName(o->state)));
    clearing::Amount total = 0;
    for (const protocol::ClearingLeg& l : o->body.legs) {
      v1::ClearingLegView* lv = v->add_legs();
      g.FillFirm(o->body.participants.at(l.debtor).firm, lv->mutable_debtor());
      g.FillFirm(o->body.participants.at(l.creditor).firm, lv->mutable_creditor());
      lv->set_amount(std::to_string(l.amount));
      total += l.amount;
    }
    v->set_total(Text(total));
    for (size_t i = 0; i < o->body.participants.size(); ++i) {
      const PublicKey& firm = o->body.participants[i].firm;
      const protocol::ClearingStance st =
          i < o->stances.size() ? o->stances[i] : protocol::ClearingStance::kUndecided;
      v1::ClearingVoteView* vv = v->add_votes();
      g.FillFirm(firm, vv->mutable_firm());
      vv->set_stance(std::string(StanceName(st)));
      if (st == protocol::ClearingStance::kUndecided) g.FillFirm(firm, v->add_not_voted());
    }
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::VoteClearing(grpc::ServerContext* ctx,
                                         const v1::VoteClearingRequest* req,
                                         v1::WriteResponse* resp) {
  auto who = Authorize(ctx, Method::kVoteClearing);
  if (!who.ok()) return ToGrpc(who.status());
  auto id = EntryId::FromHex(req->proposal_id());
  if (!id) return ToGrpc(InvalidArgument("proposal_id must be an entry id of 64 hex characters"));
  WriteRequest w("VoteClearing", req->request_id(),
                 {id->Hex(), req->accept() ? "accept" : "reject"});
  auto replayed = Replay(w, resp);
  if (!replayed.ok() || *replayed) return ToGrpc(replayed.status());
  if (Status s = CheckActiveMember(); !s.ok()) return ToGrpc(s);
  // From the reads below to the append: no other accept of this firm in
  // between (another call, the auto-accept policy).
  std::lock_guard vote_lock(ClearingVoteMutex());
  auto decided = ledger_.Clearing();
  if (!decided.ok()) return ToGrpc(decided.status());
  auto it = decided->proposals.find(*id);
  if (it == decided->proposals.end())
    return ToGrpc(NotFound("no clearing proposal " + id->Short() +
                           " on this node (a clearing-propose entry that counts)"));
  const protocol::ClearingOutcome& o = it->second;
  const auto me = ParticipantIndex(o.body, self());
  if (!me)
    return ToGrpc(FailedPrecondition("this firm (" + self().Short() +
                                     ") is no participant of clearing proposal " + id->Short() +
                                     ": its vote would count for nothing"));
  if (o.state != protocol::ClearingState::kPending)
    return ToGrpc(FailedPrecondition("clearing proposal " + id->Short() + " is " +
                                     std::string(protocol::ClearingStateName(o.state)) +
                                     "; only a pending proposal can be voted on"));
  if (*me < o.stances.size() && o.stances[*me] != protocol::ClearingStance::kUndecided)
    return ToGrpc(FailedPrecondition("this firm already " +
                                     std::string(StanceName(o.stances[*me])) + " proposal " +
                                     id->Short() + "; only its first vote counts"));
  const uint64_t now = NowMs();
  if (req->accept() && now > o.body.expiry_ms)
    return ToGrpc(FailedPrecondition("clearing proposal " + id->Short() + " expired at " +
                                     std::to_string(o.body.expiry_ms) +
                                     " ms: an accept dated after it counts for nothing"));
  if (req->accept()) {
    // With every proposal this firm accepted that is still pending, in the
    // same unit, the set-offs must stay within what is owed now.
    std::vector<clearing::SetOff> accepted;
    for (const auto& [other_id, other] : decided->proposals) {
      if (other_id == *id || other.state != protocol::ClearingState::kPending ||
          other.body.unit != o.body.unit)
        continue;
      const auto i = ParticipantIndex(other.body, self());
      if (i && *i < other.stances.size() &&
          other.stances[*i] == protocol::ClearingStance::kAccepted)
        accepted.push_back(SetOffOf(other.body));
    }
    auto graphs = OwedGraphsOf(ledger_);
    if (!graphs.ok()) return ToGrpc(graphs.status());
    if (Status s =
            clearing::JointlyWithinOwed(SetOffOf(o.body), accepted, GraphOf(*graphs, o.body.unit));
        !s.ok())
      return ToGrpc(FailedPrecondition(
          "accepting clearing proposal " + id->Short() + " would set off more than is owed" +
          (accepted.empty() ? std::string()
                            : " together with the " + std::to_string(accepted.size()) +
                                  " pending proposals this firm accepted") +
          ": " + s.message()));
  }
  return Write(ctx, *who, w,
               protocol::ClearingVote{*id, req->accept() ? protocol::ClearingDecision::kAccept
                                                         : protocol::ClearingDecision::kReject},
               resp);
}

}  // namespace keiretsu::api
