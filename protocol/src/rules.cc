// The rules of an entry on its own (docs/PROTOCOL.md "Validity"): the
// header's, then its kind's (KindOps::CheckBody in protocol/src/kinds/).
#include "keiretsu/protocol/entry.h"

namespace keiretsu::protocol {

Status CheckRules(const Entry& e) {
  if (e.seq == 0) return InvalidArgument("seq must start at 1");
  if (e.seq == 1 && !e.prev.IsZero()) return InvalidArgument("first entry must have a zero prev");
  if (e.seq > 1 && e.prev.IsZero()) return InvalidArgument("entry after the first needs a prev");
  for (const PublicKey& named : PartiesOf(e.body).named)
    if (named == e.author) return InvalidArgument("a firm cannot owe itself");
  return std::visit(
      [&](const auto& b) { return KindOps<std::decay_t<decltype(b)>>::CheckBody(b, e.author); },
      e.body);
}

Status CheckRules(const Entry& e, const Genesis& genesis) {
  KEIRETSU_RETURN_IF_ERROR(CheckRules(e));
  for (const PublicKey& named : PartiesOf(e.body).named)
    if (!genesis.IsMember(named))
      return InvalidArgument("counterparty " + named.Short() + " is not a member");
  return Status::Ok();
}

}  // namespace keiretsu::protocol
