// Kind 6, propose: docs/PROTOCOL.md 19.3.
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/limits.h"
#include "protocol/src/kinds/fields.h"
#include "protocol/src/text_rules.h"

namespace keiretsu::protocol {

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

void KindOps<Propose>::Encode(const Propose& b, ByteWriter& w) {
  w.Raw(b.epoch_hash.View());
  w.U32(b.round);
  w.U8(static_cast<uint8_t>(TagOf(b.action)));
  w.U16(b.threshold);
  if (const auto* a = std::get_if<AdmitAction>(&b.action)) {
    w.Raw(a->inception_key.View());
    w.Raw(a->next_key_digest.View());
    fields::Str8(w, a->name);
  } else if (const auto* rm = std::get_if<RemoveAction>(&b.action)) {
    w.Raw(rm->member.View());
    w.U64(rm->last_seq);
  }
  fields::Str16(w, b.memo);
}

Result<Propose> KindOps<Propose>::Decode(ByteReader& r) {
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
      a.name = fields::ReadStr8(r);
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
  b.memo = fields::ReadStr16(r);
  return b;
}

Status KindOps<Propose>::CheckBody(const Propose& b, const PublicKey& author) {
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
  return fields::CheckMemo(b.memo);
}

Parties KindOps<Propose>::PartiesOf(const Propose&) {
  return {AuthorRole::kMember, {}};
}

// Consumed by stratum 2 (the epoch chain), not here: no balance effect.
void KindOps<Propose>::Effects(const Entry&, const Propose&, const EntryId&, EffectList&) {}

BodySummary KindOps<Propose>::Summary(const Propose& b) {
  return {0, {}, b.memo, nullptr};
}

}  // namespace keiretsu::protocol
