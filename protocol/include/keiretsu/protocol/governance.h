// Protocol v2 governance and key-rotation bodies: propose, vote, leave,
// rotate (docs/PROTOCOL.md 18.3), their canonical encodings and stateless
// rules, and the two v2 hashes every rule builds on: the next-key digest
// and the epoch hash (18.1).
//
// Each kind is described once here, in the shape of the entry-kind seam
// (Encode / Decode / CheckBody per body type); effects, parties and display
// belong to the seam's per-kind description.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"

namespace keiretsu::protocol {

// Kind bytes (content byte 113); never reused.
inline constexpr uint8_t kKindPropose = 6;
inline constexpr uint8_t kKindVote = 7;
inline constexpr uint8_t kKindLeave = 8;
inline constexpr uint8_t kKindRotate = 9;

// The recovery window W (18.7): a rotate at t recovers the feed from the
// records its retired key signed at t..t+W-1, and no further.
inline constexpr uint64_t kRecoveryWindow = 256;

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

// Kind 6: a proposal for the epoch whose hash it names, in `round`; if it
// passes, the next epoch has threshold `threshold`.
struct Propose {
  Digest epoch_hash;
  uint32_t round = 0;
  uint16_t threshold = 0;
  ProposalAction action;
  std::string memo;
};
// Kind 7: a yes for `proposal_id` in (epoch, round).
struct Vote {
  Digest epoch_hash;
  uint32_t round = 0;
  EntryId proposal_id;
};
// Kind 8: the author's final entry.
struct Leave {
  std::string memo;
};
// Kind 9: the author's key from this seq on is `new_key` (the record is
// signed by it); `next_key_digest` commits to the key after it.
struct Rotate {
  PublicKey new_key;
  Digest next_key_digest;
};

// One kind's codec and stateless rules. Decode reads a body; the caller
// checks that the reader ended exactly at the end of the content.
// CheckBody: the rules of 18.3 that need nothing but the body and its
// author. Errors: kInvalidArgument naming the rule.
template <class T>
struct GovernanceOps;
#define KEIRETSU_GOVERNANCE_OPS(T)                                   \
  template <>                                                        \
  struct GovernanceOps<T> {                                          \
    static void Encode(const T& body, ByteWriter& w);                \
    static Result<T> Decode(ByteReader& r);                          \
    static Status CheckBody(const T& body, const PublicKey& author); \
  };
KEIRETSU_GOVERNANCE_OPS(Propose)
KEIRETSU_GOVERNANCE_OPS(Vote)
KEIRETSU_GOVERNANCE_OPS(Leave)
KEIRETSU_GOVERNANCE_OPS(Rotate)
#undef KEIRETSU_GOVERNANCE_OPS

// D(k) = BLAKE2b-256("keiretsu/v2/next-key" || k).
Digest NextKeyDigest(const PublicKey& key);
// h(0) = BLAKE2b-256("keiretsu/v2/epoch" || network_id).
Digest GenesisEpochHash(const NetworkId& network);
// h(e+1) = BLAKE2b-256("keiretsu/v2/epoch" || h(e) || id(P)).
Digest NextEpochHash(const Digest& previous, const EntryId& passed_proposal);

}  // namespace keiretsu::protocol
