// Private: the field encodings and field rules the kinds share
// (docs/PROTOCOL.md 5.2 and 7).
#pragma once

#include <string>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/status.h"

namespace keiretsu::protocol::fields {

void Str8(ByteWriter& w, const std::string& s);
void Str16(ByteWriter& w, const std::string& s);
std::string ReadStr8(ByteReader& r);
std::string ReadStr16(ByteReader& r);

Status CheckAmount(uint64_t amount);     // 1..kMaxAmount
Status CheckUnit(const std::string& u);  // 1-16 name characters
Status CheckMemo(const std::string& m);  // <= 512 bytes of UTF-8
// Amount, unit and memo, in that order.
Status CheckTerms(uint64_t amount, const std::string& unit, const std::string& memo);

}  // namespace keiretsu::protocol::fields
