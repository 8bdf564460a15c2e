// Kind 1, claim: docs/PROTOCOL.md 5.2 and 7.
#include "keiretsu/protocol/entry.h"
#include "protocol/src/kinds/fields.h"

namespace keiretsu::protocol {

void KindOps<Claim>::Encode(const Claim& b, ByteWriter& w) {
  w.Raw(b.debtor.View());
  w.U64(b.amount);
  fields::Str8(w, b.unit);
  fields::Str16(w, b.memo);
}

Result<Claim> KindOps<Claim>::Decode(ByteReader& r) {
  Claim b;
  b.debtor = PublicKey{r.H32()};
  b.amount = r.U64();
  b.unit = fields::ReadStr8(r);
  b.memo = fields::ReadStr16(r);
  return b;
}

Status KindOps<Claim>::CheckBody(const Claim& b, const PublicKey&) {
  return fields::CheckTerms(b.amount, b.unit, b.memo);
}

Parties KindOps<Claim>::PartiesOf(const Claim& b) {
  return {AuthorRole::kCreditor, {&b.debtor, 1}};
}

// No balance effect: the claim waits in the debtor's open claims.
void KindOps<Claim>::Effects(const Entry&, const Claim& b, const EntryId&, EffectList& out) {
  out.push_back(OpensClaim{b.debtor});
}

BodySummary KindOps<Claim>::Summary(const Claim& b) {
  return {b.amount, b.unit, b.memo, nullptr};
}

}  // namespace keiretsu::protocol
