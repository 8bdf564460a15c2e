#include "keiretsu/protocol/balance.h"

#include <algorithm>

namespace keiretsu::protocol {

std::optional<DebtChange> EffectOf(const Entry& e) {
  for (Effect& effect : EffectsOf(e, EntryId{}))
    if (auto* change = std::get_if<DebtChange>(&effect)) return std::move(*change);
  return std::nullopt;
}

std::string AmountToString(Amount128 v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  // Work in the negative range so the most negative value is safe.
  Amount128 n = negative ? v : -v;
  std::string s;
  while (n != 0) {
    s.push_back(static_cast<char>('0' - static_cast<int>(n % 10)));
    n /= 10;
  }
  if (negative) s.push_back('-');
  std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace keiretsu::protocol
