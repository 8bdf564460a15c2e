// Private: the ledger's governance view (node::GovernanceState, the epoch
// chain) as the API's protobuf messages: members, proposals and governance
// events (proto/keiretsu/v1/api.proto "Governance"). Pure functions over
// one snapshot; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/epoch_chain.h"
#include "keiretsu/v1/api.pb.h"

namespace keiretsu::api {

// One snapshot of the ledger's governance: the state and the epoch chain,
// with name lookups over every member of some epoch.
struct GovernanceSnapshot {
  node::GovernanceState state;
  std::vector<protocol::Epoch> epochs;  // epochs[0] is the genesis epoch

  static GovernanceSnapshot Of(const node::Ledger& ledger);
  // The member's name; a key's short hex when no member has that id.
  std::string NameOf(const PublicKey& id) const;
  void FillFirm(const PublicKey& id, keiretsu::v1::Firm* out) const;
  // The epoch whose hash is `hash`, if it is one of the chain.
  const protocol::Epoch* EpochOf(const Digest& hash) const;
  // The lowest round of the current epoch that has not failed here: one
  // above the highest round of a failed proposal of the current epoch, or 0.
  uint32_t OpenRound() const;
};

// "active" | "left" | "stopped" | "removed".
std::string_view MemberStatus(const node::MemberView& m);
void FillMember(const GovernanceSnapshot& g, const node::MemberView& m, keiretsu::v1::Member* out);
void FillProposal(const GovernanceSnapshot& g, const node::ProposalView& p,
                  keiretsu::v1::Proposal* out);

// The governance event of an effective entry (propose, vote, leave,
// rotate); false for other kinds.
bool FillEntryEvent(const GovernanceSnapshot& g, const protocol::SignedEntry& entry,
                    keiretsu::v1::GovernanceEvent* out);
// The event of epoch `e` (number >= 1), which a passing proposal made.
void FillEpochEvent(const GovernanceSnapshot& g, const protocol::Epoch& e,
                    keiretsu::v1::GovernanceEvent* out);

}  // namespace keiretsu::api
