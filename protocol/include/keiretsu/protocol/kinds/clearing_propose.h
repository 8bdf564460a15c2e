// Kind 10, clearing proposal (author: one of its participants): a set-off
// in one unit — legs debtor -> creditor -> amount forming a circulation —
// with the feed head of every participant it was computed on and an expiry
// in author time (docs/PROTOCOL.md 20.2). Behaviour:
// protocol/src/kinds/clearing_propose.cc; outcome: clearing_outcome.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

// One participant of a proposal and the head of its feed the legs were
// computed on: entries 1..head_seq, the last with id head_id (seq 0 and a
// zero id: an empty feed).
struct ClearingHead {
  PublicKey firm;
  uint64_t head_seq = 0;
  EntryId head_id;
  friend bool operator==(const ClearingHead&, const ClearingHead&) = default;
};

// One leg: `debtor`'s debt to `creditor` shrinks by `amount`. Debtor and
// creditor are indexes into ClearingPropose::participants.
struct ClearingLeg {
  uint8_t debtor = 0;
  uint8_t creditor = 0;
  uint64_t amount = 0;
  friend bool operator==(const ClearingLeg&, const ClearingLeg&) = default;
};

struct ClearingPropose {
  std::string unit;
  uint64_t expiry_ms = 0;                  // author time (header timestamp_ms scale)
  std::vector<ClearingHead> participants;  // strictly ascending by firm
  std::vector<ClearingLeg> legs;           // strictly ascending by (debtor, creditor)
  friend bool operator==(const ClearingPropose&, const ClearingPropose&) = default;
};

}  // namespace keiretsu::protocol
