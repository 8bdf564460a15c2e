// Kind 11, clearing vote: docs/PROTOCOL.md 20.2.
#include "keiretsu/protocol/entry.h"

namespace keiretsu::protocol {

void KindOps<ClearingVote>::Encode(const ClearingVote& b, ByteWriter& w) {
  w.Raw(b.proposal_id.View());
  w.U8(static_cast<uint8_t>(b.decision));
}

Result<ClearingVote> KindOps<ClearingVote>::Decode(ByteReader& r) {
  ClearingVote b;
  b.proposal_id = EntryId{r.H32()};
  b.decision = static_cast<ClearingDecision>(r.U8());  // CheckBody refuses other values
  return b;
}

Status KindOps<ClearingVote>::CheckBody(const ClearingVote& b, const PublicKey&) {
  if (b.proposal_id.IsZero()) return InvalidArgument("clearing vote names no proposal");
  if (b.decision != ClearingDecision::kAccept && b.decision != ClearingDecision::kReject)
    return InvalidArgument("clearing decision " + std::to_string(static_cast<int>(b.decision)) +
                           " is neither 1 (accept) nor 2 (reject)");
  return Status::Ok();
}

// Whether the author participates is known only with the proposal (20.4).
Parties KindOps<ClearingVote>::PartiesOf(const ClearingVote&) {
  return {AuthorRole::kParticipant, {}};
}

// Collected by the clearing outcome (20.4), not here.
void KindOps<ClearingVote>::Effects(const Entry&, const ClearingVote&, const EntryId&,
                                    EffectList&) {}

BodySummary KindOps<ClearingVote>::Summary(const ClearingVote&) {
  return {};
}

}  // namespace keiretsu::protocol
