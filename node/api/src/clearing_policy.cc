// The auto-accept policy (keiretsu/api/clearing_policy.h).
#include "keiretsu/api/clearing_policy.h"

#include <spdlog/spdlog.h>

#include "keiretsu/clearing/checks.h"

namespace keiretsu::api {

namespace {

clearing::SetOff SetOffOf(const protocol::ClearingPropose& p) {
  clearing::SetOff s{p.unit, {}};
  for (const protocol::ClearingLeg& l : p.legs)
    s.legs.push_back(
        {p.participants.at(l.debtor).firm, p.participants.at(l.creditor).firm, l.amount});
  return s;
}

// `self`'s stance on `o`; nullopt when it is no participant.
std::optional<protocol::ClearingStance> StanceOf(const protocol::ClearingOutcome& o,
                                                 const PublicKey& self) {
  for (size_t i = 0; i < o.body.participants.size(); ++i)
    if (o.body.participants[i].firm == self)
      return i < o.stances.size() ? o.stances[i] : protocol::ClearingStance::kUndecided;
  return std::nullopt;
}

}  // namespace

std::map<std::string, clearing::ObligationGraph> OwedGraphs(
    const std::vector<storage::BalanceRow>& balances) {
  std::map<std::string, clearing::ObligationGraph> out;
  for (const auto& r : balances) {
    if (r.net <= 0) continue;
    clearing::ObligationGraph& g = out[r.unit];
    g.unit = r.unit;
    g.obligations.push_back({r.counterparty, r.firm, r.net});
  }
  return out;
}

std::vector<EntryId> ProposalsToAutoAccept(
    const protocol::ClearingResult& decided, const PublicKey& self,
    const std::map<std::string, clearing::ObligationGraph>& owed, uint64_t now_ms,
    const AutoAcceptPolicy& policy) {
  std::map<std::string, std::vector<clearing::SetOff>> accepted;  // by unit
  for (const auto& [id, o] : decided.proposals)
    if (o.state == protocol::ClearingState::kPending &&
        StanceOf(o, self) == protocol::ClearingStance::kAccepted)
      accepted[o.body.unit].push_back(SetOffOf(o.body));
  std::vector<EntryId> out;
  for (const auto& [id, o] : decided.proposals) {
    if (o.state != protocol::ClearingState::kPending ||
        StanceOf(o, self) != protocol::ClearingStance::kUndecided)
      continue;
    if (o.body.expiry_ms <= now_ms || o.body.expiry_ms - now_ms > policy.max_expiry_ms) continue;
    auto g = owed.find(o.body.unit);
    const clearing::ObligationGraph graph =
        g == owed.end() ? clearing::ObligationGraph{o.body.unit, {}} : g->second;
    clearing::SetOff candidate = SetOffOf(o.body);
    if (!clearing::JointlyWithinOwed(candidate, accepted[o.body.unit], graph).ok()) continue;
    accepted[o.body.unit].push_back(std::move(candidate));
    out.push_back(id);
  }
  return out;
}

std::mutex& ClearingVoteMutex() {
  static std::mutex mu;
  return mu;
}

Result<size_t> RunAutoAccept(node::Ledger& ledger, const node::Identity& identity, uint64_t now_ms,
                             const AutoAcceptPolicy& policy) {
  if (!policy.enabled) return size_t{0};
  std::lock_guard vote_lock(ClearingVoteMutex());
  KEIRETSU_ASSIGN_OR_RETURN(protocol::ClearingResult decided, ledger.Clearing());
  if (decided.proposals.empty()) return size_t{0};
  KEIRETSU_ASSIGN_OR_RETURN(auto rows, ledger.ListAllBalances());
  const std::vector<EntryId> ids =
      ProposalsToAutoAccept(decided, identity.firm(), OwedGraphs(rows), now_ms, policy);
  size_t n = 0;
  for (const EntryId& id : ids) {
    auto se = ledger.Append(
        *identity.key(), protocol::ClearingVote{id, protocol::ClearingDecision::kAccept}, now_ms);
    if (!se.ok()) return se.status();
    spdlog::info("clearing: auto-accepted proposal {} (within what is owed, expires in time)",
                 id.Short());
    ++n;
  }
  return n;
}

}  // namespace keiretsu::api
