// Governance and rotation bodies: docs/PROTOCOL.md 18.1 and 18.3.
#include <string_view>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/limits.h"
#include "protocol/src/kinds/fields.h"
#include "protocol/src/text_rules.h"

namespace keiretsu::protocol {
namespace {

constexpr std::string_view kNextKeyTag = "keiretsu/v2/next-key";
constexpr std::string_view kEpochTag = "keiretsu/v2/epoch";

using fields::CheckMemo;
using fields::ReadStr16;
using fields::ReadStr8;
using fields::Str16;
using fields::Str8;

// A key and the digest it commits to, as an inception or a rotation names
// them: a usable key, a non-zero digest that is not the key's own.
Status CheckKeyAndNext(const PublicKey& key, const Digest& next, std::string_view what) {
  if (!crypto::IsValidPublicKey(key))
    return InvalidArgument(std::string(what) + " is not a usable Ed25519 public key");
  if (next.IsZero()) return InvalidArgument("next_key_digest must not be zero");
  if (next == NextKeyDigest(key))
    return InvalidArgument("next_key_digest commits to " + std::string(what) +
                           " itself: the next key must be a new key");
  return Status::Ok();
}

}  // namespace

ActionTag TagOf(const ProposalAction& action) {
  return static_cast<ActionTag>(action.index() + 1);
}

std::string_view ActionName(ActionTag tag) {
  switch (tag) {
    case ActionTag::kAdmit: return "admit";
    case ActionTag::kRemove: return "remove";
    case ActionTag::kSetThreshold: return "set-threshold";
  }
  return "unknown";
}

void GovernanceOps<Propose>::Encode(const Propose& b, ByteWriter& w) {
  w.Raw(b.epoch_hash.View());
  w.U32(b.round);
  w.U8(static_cast<uint8_t>(TagOf(b.action)));
  w.U16(b.threshold);
  if (const auto* a = std::get_if<AdmitAction>(&b.action)) {
    w.Raw(a->inception_key.View());
    w.Raw(a->next_key_digest.View());
    Str8(w, a->name);
  } else if (const auto* rm = std::get_if<RemoveAction>(&b.action)) {
    w.Raw(rm->member.View());
    w.U64(rm->last_seq);
  }
  Str16(w, b.memo);
}

Result<Propose> GovernanceOps<Propose>::Decode(ByteReader& r) {
  Propose b;
  b.epoch_hash = Digest{r.H32()};
  b.round = r.U32();
  uint8_t action = r.U8();
  b.threshold = r.U16();
  switch (static_cast<ActionTag>(action)) {
    case ActionTag::kAdmit: {
      AdmitAction a;
      a.inception_key = PublicKey{r.H32()};
      a.next_key_digest = Digest{r.H32()};
      a.name = ReadStr8(r);
      b.action = std::move(a);
      break;
    }
    case ActionTag::kRemove: {
      RemoveAction rm;
      rm.member = PublicKey{r.H32()};
      rm.last_seq = r.U64();
      b.action = rm;
      break;
    }
    case ActionTag::kSetThreshold: b.action = SetThresholdAction{}; break;
    default:
      return InvalidArgument("unknown proposal action " + std::to_string(action) +
                             " (1 admit, 2 remove, 3 set-threshold)");
  }
  b.memo = ReadStr16(r);
  return b;
}

Status GovernanceOps<Propose>::CheckBody(const Propose& b, const PublicKey& author) {
  if (b.threshold < 1 || b.threshold > kMaxMembers)
    return InvalidArgument("threshold " + std::to_string(b.threshold) + " is not in 1.." +
                           std::to_string(kMaxMembers));
  if (const auto* a = std::get_if<AdmitAction>(&b.action)) {
    if (!IsValidName(a->name, kMaxFirmNameBytes))
      return InvalidArgument("admitted firm's name must be 1-64 characters of A-Z a-z 0-9 . _ -");
    if (a->inception_key == author) return InvalidArgument("a member cannot admit itself");
    KEIRETSU_RETURN_IF_ERROR(
        CheckKeyAndNext(a->inception_key, a->next_key_digest, "the inception key"));
  } else if (const auto* rm = std::get_if<RemoveAction>(&b.action)) {
    if (rm->member.IsZero()) return InvalidArgument("remove names no member");
  }
  return CheckMemo(b.memo);
}

void GovernanceOps<Vote>::Encode(const Vote& b, ByteWriter& w) {
  w.Raw(b.epoch_hash.View());
  w.U32(b.round);
  w.Raw(b.proposal_id.View());
}

Result<Vote> GovernanceOps<Vote>::Decode(ByteReader& r) {
  Vote b;
  b.epoch_hash = Digest{r.H32()};
  b.round = r.U32();
  b.proposal_id = EntryId{r.H32()};
  return b;
}

Status GovernanceOps<Vote>::CheckBody(const Vote& b, const PublicKey&) {
  if (b.proposal_id.IsZero()) return InvalidArgument("vote names no proposal");
  return Status::Ok();
}

void GovernanceOps<Leave>::Encode(const Leave& b, ByteWriter& w) {
  Str16(w, b.memo);
}

Result<Leave> GovernanceOps<Leave>::Decode(ByteReader& r) {
  return Leave{ReadStr16(r)};
}

Status GovernanceOps<Leave>::CheckBody(const Leave& b, const PublicKey&) {
  return CheckMemo(b.memo);
}

void GovernanceOps<Rotate>::Encode(const Rotate& b, ByteWriter& w) {
  w.Raw(b.new_key.View());
  w.Raw(b.next_key_digest.View());
}

Result<Rotate> GovernanceOps<Rotate>::Decode(ByteReader& r) {
  Rotate b;
  b.new_key = PublicKey{r.H32()};
  b.next_key_digest = Digest{r.H32()};
  return b;
}

Status GovernanceOps<Rotate>::CheckBody(const Rotate& b, const PublicKey& author) {
  if (b.new_key == author) return InvalidArgument("rotation to the firm's inception key");
  return CheckKeyAndNext(b.new_key, b.next_key_digest, "the new key");
}

Digest NextKeyDigest(const PublicKey& key) {
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(kNextKeyTag));
  h.Update(key.View());
  return Digest{h.Final()};
}

Digest GenesisEpochHash(const NetworkId& network) {
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(kEpochTag));
  h.Update(network.View());
  return Digest{h.Final()};
}

Digest NextEpochHash(const Digest& previous, const EntryId& passed_proposal) {
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(kEpochTag));
  h.Update(previous.View());
  h.Update(passed_proposal.View());
  return Digest{h.Final()};
}

}  // namespace keiretsu::protocol
