// Kind 11, clearing vote (author: a participant of the proposal it names):
// accept or reject; only a participant's first vote for a proposal counts
// (docs/PROTOCOL.md 20.2, 20.4). Behaviour: protocol/src/kinds/clearing_vote.cc.
#pragma once

#include <cstdint>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

enum class ClearingDecision : uint8_t { kAccept = 1, kReject = 2 };

struct ClearingVote {
  EntryId proposal_id;
  ClearingDecision decision = ClearingDecision::kAccept;
  friend bool operator==(const ClearingVote&, const ClearingVote&) = default;
};

}  // namespace keiretsu::protocol
