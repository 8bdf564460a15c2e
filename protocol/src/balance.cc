#include "keiretsu/protocol/balance.h"

#include <algorithm>

namespace keiretsu::protocol {

std::optional<DebtChange> EffectOf(const Entry& e) {
  return std::visit(
      [&](const auto& b) -> std::optional<DebtChange> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Accept> || std::is_same_v<T, Obligation>)
          return DebtChange{e.author, b.creditor, b.unit, static_cast<Amount128>(b.amount)};
        else if constexpr (std::is_same_v<T, Release>)
          return DebtChange{b.debtor, e.author, b.unit, -static_cast<Amount128>(b.amount)};
        else
          return std::nullopt;
      },
      e.body);
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
