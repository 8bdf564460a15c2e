// Kind 8, leave: docs/PROTOCOL.md 19.3 and 19.6.
#include "keiretsu/protocol/entry.h"
#include "protocol/src/kinds/fields.h"

namespace keiretsu::protocol {

void KindOps<Leave>::Encode(const Leave& b, ByteWriter& w) {
  fields::Str16(w, b.memo);
}

Result<Leave> KindOps<Leave>::Decode(ByteReader& r) {
  return Leave{fields::ReadStr16(r)};
}

Status KindOps<Leave>::CheckBody(const Leave& b, const PublicKey&) {
  return fields::CheckMemo(b.memo);
}

Parties KindOps<Leave>::PartiesOf(const Leave&) {
  return {AuthorRole::kMember, {}};
}

// Ends the feed (stratum 1); no balance effect.
void KindOps<Leave>::Effects(const Entry&, const Leave&, const EntryId&, EffectList&) {}

BodySummary KindOps<Leave>::Summary(const Leave& b) {
  return {0, {}, b.memo, nullptr};
}

}  // namespace keiretsu::protocol
