// Kind 9, rotate: docs/PROTOCOL.md 19.3 and 19.5.
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/governance.h"

namespace keiretsu::protocol {

void KindOps<Rotate>::Encode(const Rotate& b, ByteWriter& w) {
  w.Raw(b.new_key.View());
  w.Raw(b.next_key_digest.View());
}

Result<Rotate> KindOps<Rotate>::Decode(ByteReader& r) {
  Rotate b;
  b.new_key = PublicKey{r.H32()};
  b.next_key_digest = Digest{r.H32()};
  return b;
}

Status KindOps<Rotate>::CheckBody(const Rotate& b, const PublicKey& author) {
  if (b.new_key == author) return InvalidArgument("rotation to the firm's inception key");
  return CheckKeyAndNext(b.new_key, b.next_key_digest, "the new key");
}

Parties KindOps<Rotate>::PartiesOf(const Rotate&) {
  return {AuthorRole::kMember, {}};
}

// Changes the key in force (stratum 1); no balance effect.
void KindOps<Rotate>::Effects(const Entry&, const Rotate&, const EntryId&, EffectList&) {}

BodySummary KindOps<Rotate>::Summary(const Rotate&) {
  return {};
}

}  // namespace keiretsu::protocol
