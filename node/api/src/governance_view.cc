#include "node/api/src/governance_view.h"

#include <set>
#include <variant>

#include "keiretsu/common/overloaded.h"

namespace keiretsu::api {

namespace v1 = ::keiretsu::v1;

GovernanceSnapshot GovernanceSnapshot::Of(const node::Ledger& ledger) {
  return {ledger.Governance(), ledger.Epochs()};
}

std::string GovernanceSnapshot::NameOf(const PublicKey& id) const {
  for (const node::MemberView& m : state.members)
    if (m.id == id) return m.name;
  return id.Short();
}

void GovernanceSnapshot::FillFirm(const PublicKey& id, v1::Firm* out) const {
  out->set_public_key(id.Hex());
  for (const node::MemberView& m : state.members)
    if (m.id == id) out->set_name(m.name);
}

const protocol::Epoch* GovernanceSnapshot::EpochOf(const Digest& hash) const {
  for (const protocol::Epoch& e : epochs)
    if (e.hash == hash) return &e;
  return nullptr;
}

uint32_t GovernanceSnapshot::OpenRound() const {
  uint32_t round = 0;
  for (const node::ProposalView& p : state.proposals)
    if (p.info.body.epoch_hash == state.epoch_hash &&
        p.info.state == protocol::ProposalState::kFailed && p.info.body.round >= round)
      round = p.info.body.round + 1;
  return round;
}

std::string_view MemberStatus(const node::MemberView& m) {
  if (m.removed) return "removed";
  if (m.left_seq != 0) return "left";
  if (m.stop_seq != 0) return "stopped";
  return "active";
}

void FillMember(const GovernanceSnapshot& g, const node::MemberView& m, v1::Member* out) {
  g.FillFirm(m.id, out->mutable_firm());
  out->set_status(std::string(MemberStatus(m)));
  out->set_since_epoch(m.since_epoch);
  out->set_removed_in_epoch(m.removed_in_epoch);
  out->set_last_seq(m.last_seq);
  out->set_left_seq(m.left_seq);
  out->set_stop_seq(m.stop_seq);
  out->set_current_key(m.current_key.Hex());
  out->set_key_since_seq(m.key_since_seq);
  out->set_next_key_digest(m.next_key_digest.Hex());
}

namespace {
void FillAction(const GovernanceSnapshot& g, const protocol::ProposalAction& action,
                v1::AdmitAction* admit, v1::RemoveAction* remove, v1::Firm* subject) {
  std::visit(Overloaded{
                 [&](const protocol::AdmitAction& a) {
                   if (admit != nullptr) {
                     admit->set_name(a.name);
                     admit->set_inception_key(a.inception_key.Hex());
                     admit->set_next_key_digest(a.next_key_digest.Hex());
                   }
                   if (subject != nullptr) {
                     subject->set_public_key(a.inception_key.Hex());
                     subject->set_name(a.name);
                   }
                 },
                 [&](const protocol::RemoveAction& r) {
                   if (remove != nullptr) {
                     remove->set_firm(r.member.Hex());
                     remove->set_last_seq(r.last_seq);
                   }
                   if (subject != nullptr) g.FillFirm(r.member, subject);
                 },
                 [&](const protocol::SetThresholdAction&) {},
             },
             action);
}

std::string ActionOf(const protocol::ProposalAction& action) {
  return std::string(protocol::ActionName(protocol::TagOf(action)));
}
}  // namespace

void FillProposal(const GovernanceSnapshot& g, const node::ProposalView& p, v1::Proposal* out) {
  const protocol::ProposalInfo& info = p.info;
  out->set_id(info.id.Hex());
  g.FillFirm(info.author, out->mutable_author());
  out->set_seq(info.seq);
  const protocol::Epoch* e = g.EpochOf(info.body.epoch_hash);
  out->set_epoch_known(e != nullptr);
  if (e != nullptr) out->set_epoch(e->number);
  out->set_epoch_hash(info.body.epoch_hash.Hex());
  out->set_round(info.body.round);
  out->set_action(ActionOf(info.body.action));
  FillAction(g, info.body.action,
             std::holds_alternative<protocol::AdmitAction>(info.body.action) ? out->mutable_admit()
                                                                             : nullptr,
             std::holds_alternative<protocol::RemoveAction>(info.body.action)
                 ? out->mutable_remove()
                 : nullptr,
             nullptr);
  out->set_threshold(info.body.threshold);
  out->set_memo(info.body.memo);
  out->set_state(std::string(protocol::ProposalStateName(info.state)));
  out->set_why(info.why);
  out->set_votes(static_cast<uint32_t>(p.voters.size()));
  for (const PublicKey& v : p.voters) g.FillFirm(v, out->add_voters());
  if (e == nullptr) return;
  // Who has a ballot in this (epoch, round) for a proposal held here.
  std::set<PublicKey> balloted;
  for (const node::ProposalView& other : g.state.proposals)
    if (other.info.body.epoch_hash == info.body.epoch_hash &&
        other.info.body.round == info.body.round)
      balloted.insert(other.voters.begin(), other.voters.end());
  for (const protocol::EpochMember& m : e->members)
    if (!m.removed && !balloted.contains(m.id)) g.FillFirm(m.id, out->add_not_voted());
}

bool FillEntryEvent(const GovernanceSnapshot& g, const protocol::SignedEntry& se,
                    v1::GovernanceEvent* out) {
  const protocol::Entry& e = se.entry;
  auto epoch = [&](const Digest& hash) {
    const protocol::Epoch* ep = g.EpochOf(hash);
    out->set_epoch_known(ep != nullptr);
    if (ep != nullptr) out->set_epoch(ep->number);
    out->set_epoch_hash(hash.Hex());
  };
  return std::visit(Overloaded{
                        [&](const protocol::Propose& p) {
                          out->set_type("proposal");
                          out->set_proposal_id(se.id.Hex());
                          epoch(p.epoch_hash);
                          out->set_round(p.round);
                          out->set_action(ActionOf(p.action));
                          FillAction(g, p.action, nullptr, nullptr,
                                     std::holds_alternative<protocol::SetThresholdAction>(p.action)
                                         ? nullptr
                                         : out->mutable_subject());
                          out->set_threshold(p.threshold);
                          g.FillFirm(e.author, out->mutable_firm());
                          return true;
                        },
                        [&](const protocol::Vote& v) {
                          out->set_type("vote");
                          out->set_proposal_id(v.proposal_id.Hex());
                          epoch(v.epoch_hash);
                          out->set_round(v.round);
                          g.FillFirm(e.author, out->mutable_firm());
                          return true;
                        },
                        [&](const protocol::Leave&) {
                          out->set_type("leave");
                          g.FillFirm(e.author, out->mutable_firm());
                          return true;
                        },
                        [&](const protocol::Rotate& r) {
                          out->set_type("rotation");
                          out->set_new_key(r.new_key.Hex());
                          out->set_key_since_seq(e.seq);
                          g.FillFirm(e.author, out->mutable_firm());
                          return true;
                        },
                        [&](const auto&) { return false; },
                    },
                    e.body);
}

void FillEpochEvent(const GovernanceSnapshot& g, const protocol::Epoch& e,
                    v1::GovernanceEvent* out) {
  out->set_type("epoch");
  out->set_epoch(e.number);
  out->set_epoch_known(true);
  out->set_epoch_hash(e.hash.Hex());
  out->set_threshold(e.threshold);
  out->set_proposal_id(e.passed.Hex());
  for (const node::ProposalView& p : g.state.proposals) {
    if (p.info.id != e.passed) continue;
    out->set_round(p.info.body.round);
    out->set_action(ActionOf(p.info.body.action));
    if (!std::holds_alternative<protocol::SetThresholdAction>(p.info.body.action))
      FillAction(g, p.info.body.action, nullptr, nullptr, out->mutable_subject());
  }
}

}  // namespace keiretsu::api
