// Kind 6, propose (author: a member of the named epoch): a change of the
// membership or threshold, for the epoch whose hash it names, in `round`
// (docs/PROTOCOL.md 19.3, 19.8). Behaviour: protocol/src/kinds/propose.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

// Admit a firm: its name, inception key (its id) and the digest of its next
// key.
struct AdmitAction {
  std::string name;
  PublicKey inception_key;
  Digest next_key_digest;
};
// Remove a member, freezing its feed at `last_seq` (its entries 1..last_seq
// keep their effects).
struct RemoveAction {
  PublicKey member;
  uint64_t last_seq = 0;
};
struct SetThresholdAction {};
using ProposalAction = std::variant<AdmitAction, RemoveAction, SetThresholdAction>;

enum class ActionTag : uint8_t { kAdmit = 1, kRemove = 2, kSetThreshold = 3 };
ActionTag TagOf(const ProposalAction& action);
std::string_view ActionName(ActionTag tag);  // "admit", "remove", "set-threshold"

// If it passes, the next epoch has threshold `threshold`.
struct Propose {
  Digest epoch_hash;
  uint32_t round = 0;
  uint16_t threshold = 0;
  ProposalAction action;
  std::string memo;
};

}  // namespace keiretsu::protocol
