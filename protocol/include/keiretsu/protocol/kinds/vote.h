// Kind 7, vote (author: a member): a yes for `proposal_id` in (epoch,
// round); a member's first vote per (epoch, round) is its ballot
// (docs/PROTOCOL.md 19.3, 19.8). Behaviour: protocol/src/kinds/vote.cc.
#pragma once

#include <cstdint>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

struct Vote {
  Digest epoch_hash;
  uint32_t round = 0;
  EntryId proposal_id;
};

}  // namespace keiretsu::protocol
