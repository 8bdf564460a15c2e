// Kind 10, clearing proposal: docs/PROTOCOL.md 20.2.
#include <map>

#include "keiretsu/protocol/entry.h"
#include "protocol/src/kinds/fields.h"

namespace keiretsu::protocol {

void KindOps<ClearingPropose>::Encode(const ClearingPropose& b, ByteWriter& w) {
  fields::Str8(w, b.unit);
  w.U64(b.expiry_ms);
  w.U8(static_cast<uint8_t>(b.participants.size()));
  for (const ClearingHead& h : b.participants) {
    w.Raw(h.firm.View());
    w.U64(h.head_seq);
    w.Raw(h.head_id.View());
  }
  w.U8(static_cast<uint8_t>(b.legs.size()));
  for (const ClearingLeg& l : b.legs) {
    w.U8(l.debtor);
    w.U8(l.creditor);
    w.U64(l.amount);
  }
}

Result<ClearingPropose> KindOps<ClearingPropose>::Decode(ByteReader& r) {
  ClearingPropose b;
  b.unit = fields::ReadStr8(r);
  b.expiry_ms = r.U64();
  const uint8_t n = r.U8();
  for (uint8_t i = 0; i < n && r.ok(); ++i) {
    ClearingHead h;
    h.firm = PublicKey{r.H32()};
    h.head_seq = r.U64();
    h.head_id = EntryId{r.H32()};
    b.participants.push_back(h);
  }
  const uint8_t legs = r.U8();
  for (uint8_t i = 0; i < legs && r.ok(); ++i) {
    ClearingLeg l;
    l.debtor = r.U8();
    l.creditor = r.U8();
    l.amount = r.U64();
    b.legs.push_back(l);
  }
  return b;
}

// Rules 1-8 of 20.2, in that order.
Status KindOps<ClearingPropose>::CheckBody(const ClearingPropose& b, const PublicKey& author) {
  KEIRETSU_RETURN_IF_ERROR(fields::CheckUnit(b.unit));
  const size_t n = b.participants.size();
  if (n < 2) return InvalidArgument("a clearing proposal needs at least 2 participants");
  bool author_participates = false;
  for (size_t i = 0; i < n; ++i) {
    const ClearingHead& h = b.participants[i];
    if (h.firm.IsZero())
      return InvalidArgument("clearing participant " + std::to_string(i) + " is zero");
    if (i > 0 && !(b.participants[i - 1].firm < h.firm))
      return InvalidArgument("clearing participants must be strictly ascending by key");
    if ((h.head_seq == 0) != h.head_id.IsZero())
      return InvalidArgument("clearing head of participant " + std::to_string(i) +
                             " must have a zero id exactly at seq 0");
    if (h.firm == author) author_participates = true;
  }
  if (!author_participates) return InvalidArgument("the proposer is not a clearing participant");
  if (b.legs.size() < 2) return InvalidArgument("a clearing proposal needs at least 2 legs");
  std::vector<Amount128> out(n, 0), in(n, 0);
  std::vector<bool> named(n, false);
  for (size_t i = 0; i < b.legs.size(); ++i) {
    const ClearingLeg& l = b.legs[i];
    const std::string which = "clearing leg " + std::to_string(i);
    if (l.debtor >= n || l.creditor >= n) return InvalidArgument(which + " names no participant");
    if (l.debtor == l.creditor) return InvalidArgument(which + " has the same debtor and creditor");
    if (i > 0) {
      const ClearingLeg& p = b.legs[i - 1];
      if (std::pair(p.debtor, p.creditor) >= std::pair(l.debtor, l.creditor))
        return InvalidArgument("clearing legs must be strictly ascending by (debtor, creditor)");
    }
    KEIRETSU_RETURN_IF_ERROR(fields::CheckAmount(l.amount).WithContext(which));
    out[l.debtor] += l.amount;
    in[l.creditor] += l.amount;
    named[l.debtor] = named[l.creditor] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!named[i])
      return InvalidArgument("clearing participant " + std::to_string(i) + " is in no leg");
    if (out[i] != in[i])
      return InvalidArgument("clearing legs are not a circulation: participant " +
                             std::to_string(i) + " pays and receives different totals");
  }
  return Status::Ok();
}

// Every participant, the proposer included, is checked for membership by
// the outcome (20.3), not per entry: the parties list stays empty.
Parties KindOps<ClearingPropose>::PartiesOf(const ClearingPropose&) {
  return {AuthorRole::kParticipant, {}};
}

// A proposal changes nothing by itself; its outcome (20.4) does.
void KindOps<ClearingPropose>::Effects(const Entry&, const ClearingPropose&, const EntryId&,
                                       EffectList&) {}

// The amount shown is the cleared total: the sum of the legs.
BodySummary KindOps<ClearingPropose>::Summary(const ClearingPropose& b) {
  uint64_t total = 0;
  for (const ClearingLeg& l : b.legs) total += l.amount;
  return {total, b.unit, {}, nullptr};
}

}  // namespace keiretsu::protocol
