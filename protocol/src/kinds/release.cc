// Kind 5, release: docs/PROTOCOL.md 5.2 and 7.
#include "keiretsu/protocol/entry.h"
#include "protocol/src/kinds/fields.h"

namespace keiretsu::protocol {

void KindOps<Release>::Encode(const Release& b, ByteWriter& w) {
  w.Raw(b.debtor.View());
  w.U64(b.amount);
  fields::Str8(w, b.unit);
  fields::Str16(w, b.memo);
}

Result<Release> KindOps<Release>::Decode(ByteReader& r) {
  Release b;
  b.debtor = PublicKey{r.H32()};
  b.amount = r.U64();
  b.unit = fields::ReadStr8(r);
  b.memo = fields::ReadStr16(r);
  return b;
}

Status KindOps<Release>::CheckBody(const Release& b, const PublicKey&) {
  return fields::CheckTerms(b.amount, b.unit, b.memo);
}

Parties KindOps<Release>::PartiesOf(const Release& b) {
  return {AuthorRole::kCreditor, {&b.debtor, 1}};
}

// What the debtor owes the author (creditor) shrinks.
void KindOps<Release>::Effects(const Entry& e, const Release& b, const EntryId&, EffectList& out) {
  out.push_back(DebtChange{b.debtor, e.author, b.unit, -static_cast<Amount128>(b.amount)});
}

BodySummary KindOps<Release>::Summary(const Release& b) {
  return {b.amount, b.unit, b.memo, nullptr};
}

}  // namespace keiretsu::protocol
