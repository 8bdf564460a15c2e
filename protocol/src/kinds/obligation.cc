// Kind 4, obligation: docs/PROTOCOL.md 5.2 and 7.
#include "keiretsu/protocol/entry.h"
#include "protocol/src/kinds/fields.h"

namespace keiretsu::protocol {

void KindOps<Obligation>::Encode(const Obligation& b, ByteWriter& w) {
  w.Raw(b.creditor.View());
  w.U64(b.amount);
  fields::Str8(w, b.unit);
  fields::Str16(w, b.memo);
}

Result<Obligation> KindOps<Obligation>::Decode(ByteReader& r) {
  Obligation b;
  b.creditor = PublicKey{r.H32()};
  b.amount = r.U64();
  b.unit = fields::ReadStr8(r);
  b.memo = fields::ReadStr16(r);
  return b;
}

Status KindOps<Obligation>::CheckBody(const Obligation& b, const PublicKey&) {
  return fields::CheckTerms(b.amount, b.unit, b.memo);
}

Parties KindOps<Obligation>::PartiesOf(const Obligation& b) {
  return {AuthorRole::kDebtor, {&b.creditor, 1}};
}

// The author (debtor) owes the creditor.
void KindOps<Obligation>::Effects(const Entry& e, const Obligation& b, const EntryId&,
                                  EffectList& out) {
  out.push_back(DebtChange{e.author, b.creditor, b.unit, static_cast<Amount128>(b.amount)});
}

BodySummary KindOps<Obligation>::Summary(const Obligation& b) {
  return {b.amount, b.unit, b.memo, nullptr};
}

}  // namespace keiretsu::protocol
