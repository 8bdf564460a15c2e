// Kind 2, accept: docs/PROTOCOL.md 5.2 and 7.
#include "keiretsu/protocol/entry.h"
#include "protocol/src/kinds/fields.h"

namespace keiretsu::protocol {

void KindOps<Accept>::Encode(const Accept& b, ByteWriter& w) {
  w.Raw(b.claim_id.View());
  w.Raw(b.creditor.View());
  w.U64(b.amount);
  fields::Str8(w, b.unit);
  fields::Str16(w, b.memo);
}

Result<Accept> KindOps<Accept>::Decode(ByteReader& r) {
  Accept b;
  b.claim_id = EntryId{r.H32()};
  b.creditor = PublicKey{r.H32()};
  b.amount = r.U64();
  b.unit = fields::ReadStr8(r);
  b.memo = fields::ReadStr16(r);
  return b;
}

Status KindOps<Accept>::CheckBody(const Accept& b, const PublicKey&) {
  if (b.claim_id.IsZero()) return InvalidArgument("accept names no claim");
  return fields::CheckTerms(b.amount, b.unit, b.memo);
}

Parties KindOps<Accept>::PartiesOf(const Accept& b) {
  return {AuthorRole::kDebtor, {&b.creditor, 1}};
}

// The author (debtor) owes the creditor the claim's amount.
void KindOps<Accept>::Effects(const Entry& e, const Accept& b, const EntryId&, EffectList& out) {
  out.push_back(DebtChange{e.author, b.creditor, b.unit, static_cast<Amount128>(b.amount)});
  out.push_back(AnswersClaim{b.claim_id});
}

BodySummary KindOps<Accept>::Summary(const Accept& b) {
  return {b.amount, b.unit, b.memo, &b.claim_id};
}

}  // namespace keiretsu::protocol
