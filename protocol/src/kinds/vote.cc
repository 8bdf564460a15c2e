// Kind 7, vote: docs/PROTOCOL.md 19.3.
#include "keiretsu/protocol/entry.h"

namespace keiretsu::protocol {

void KindOps<Vote>::Encode(const Vote& b, ByteWriter& w) {
  w.Raw(b.epoch_hash.View());
  w.U32(b.round);
  w.Raw(b.proposal_id.View());
}

Result<Vote> KindOps<Vote>::Decode(ByteReader& r) {
  Vote b;
  b.epoch_hash = Digest{r.H32()};
  b.round = r.U32();
  b.proposal_id = EntryId{r.H32()};
  return b;
}

Status KindOps<Vote>::CheckBody(const Vote& b, const PublicKey&) {
  if (b.proposal_id.IsZero()) return InvalidArgument("vote names no proposal");
  return Status::Ok();
}

Parties KindOps<Vote>::PartiesOf(const Vote&) {
  return {AuthorRole::kMember, {}};
}

// Consumed by stratum 2 (the epoch chain), not here: no balance effect.
void KindOps<Vote>::Effects(const Entry&, const Vote&, const EntryId&, EffectList&) {}

BodySummary KindOps<Vote>::Summary(const Vote&) {
  return {};
}

}  // namespace keiretsu::protocol
