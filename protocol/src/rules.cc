// The body rules of an entry (docs/PROTOCOL.md "Validity").
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/limits.h"
#include "protocol/src/text_rules.h"

namespace keiretsu::protocol {
namespace {

Status CheckAmount(uint64_t amount) {
  if (amount == 0) return InvalidArgument("amount must be positive");
  if (amount > kMaxAmount)
    return InvalidArgument("amount " + std::to_string(amount) + " exceeds the maximum " +
                           std::to_string(kMaxAmount));
  return Status::Ok();
}

Status CheckUnit(const std::string& unit) {
  if (unit.size() < kMinUnitBytes || unit.size() > kMaxUnitBytes || !IsNameChars(unit))
    return InvalidArgument("unit must be 1-16 characters of A-Z a-z 0-9 . _ -");
  return Status::Ok();
}

Status CheckMemo(const std::string& memo) {
  if (memo.size() > kMaxMemoBytes)
    return InvalidArgument("memo is " + std::to_string(memo.size()) + " bytes, more than " +
                           std::to_string(kMaxMemoBytes));
  if (!IsValidUtf8(memo)) return InvalidArgument("memo is not valid UTF-8");
  return Status::Ok();
}

struct BodyRules {
  Status operator()(const Claim& b) const { return Terms(b.amount, b.unit, b.memo); }
  Status operator()(const Accept& b) const {
    if (b.claim_id.IsZero()) return InvalidArgument("accept names no claim");
    return Terms(b.amount, b.unit, b.memo);
  }
  Status operator()(const Decline& b) const {
    if (b.claim_id.IsZero()) return InvalidArgument("decline names no claim");
    return CheckMemo(b.memo);
  }
  Status operator()(const Obligation& b) const { return Terms(b.amount, b.unit, b.memo); }
  Status operator()(const Release& b) const { return Terms(b.amount, b.unit, b.memo); }

  static Status Terms(uint64_t amount, const std::string& unit, const std::string& memo) {
    KEIRETSU_RETURN_IF_ERROR(CheckAmount(amount));
    KEIRETSU_RETURN_IF_ERROR(CheckUnit(unit));
    return CheckMemo(memo);
  }
};

}  // namespace

Status CheckRules(const Entry& e, const Genesis& genesis) {
  if (e.seq == 0) return InvalidArgument("seq must start at 1");
  if (e.seq == 1 && !e.prev.IsZero()) return InvalidArgument("first entry must have a zero prev");
  if (e.seq > 1 && e.prev.IsZero()) return InvalidArgument("entry after the first needs a prev");
  const PublicKey& other = Counterparty(e.body);
  if (other == e.author) return InvalidArgument("a firm cannot owe itself");
  if (!genesis.IsMember(other))
    return InvalidArgument("counterparty " + other.Short() + " is not a member");
  return std::visit(BodyRules{}, e.body);
}

}  // namespace keiretsu::protocol
