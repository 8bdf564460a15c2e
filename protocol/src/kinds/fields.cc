#include "protocol/src/kinds/fields.h"

#include "keiretsu/protocol/limits.h"
#include "protocol/src/text_rules.h"

namespace keiretsu::protocol::fields {

void Str8(ByteWriter& w, const std::string& s) {
  w.U8(static_cast<uint8_t>(s.size()));
  w.Raw(s);
}
void Str16(ByteWriter& w, const std::string& s) {
  w.U16(static_cast<uint16_t>(s.size()));
  w.Raw(s);
}
std::string ReadStr8(ByteReader& r) {
  return std::string(AsChars(r.Raw(r.U8())));
}
std::string ReadStr16(ByteReader& r) {
  return std::string(AsChars(r.Raw(r.U16())));
}

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

Status CheckTerms(uint64_t amount, const std::string& unit, const std::string& memo) {
  KEIRETSU_RETURN_IF_ERROR(CheckAmount(amount));
  KEIRETSU_RETURN_IF_ERROR(CheckUnit(unit));
  return CheckMemo(memo);
}

}  // namespace keiretsu::protocol::fields
