// Kind 3, decline: docs/PROTOCOL.md 5.2 and 7.
#include "keiretsu/protocol/entry.h"
#include "protocol/src/kinds/fields.h"

namespace keiretsu::protocol {

void KindOps<Decline>::Encode(const Decline& b, ByteWriter& w) {
  w.Raw(b.claim_id.View());
  w.Raw(b.creditor.View());
  fields::Str16(w, b.memo);
}

Result<Decline> KindOps<Decline>::Decode(ByteReader& r) {
  Decline b;
  b.claim_id = EntryId{r.H32()};
  b.creditor = PublicKey{r.H32()};
  b.memo = fields::ReadStr16(r);
  return b;
}

Status KindOps<Decline>::CheckBody(const Decline& b, const PublicKey&) {
  if (b.claim_id.IsZero()) return InvalidArgument("decline names no claim");
  return fields::CheckMemo(b.memo);
}

Parties KindOps<Decline>::PartiesOf(const Decline& b) {
  return {AuthorRole::kDebtor, {&b.creditor, 1}};
}

// No balance effect; the claim is answered.
void KindOps<Decline>::Effects(const Entry&, const Decline& b, const EntryId&, EffectList& out) {
  out.push_back(AnswersClaim{b.claim_id});
}

BodySummary KindOps<Decline>::Summary(const Decline& b) {
  return {0, {}, b.memo, &b.claim_id};
}

}  // namespace keiretsu::protocol
