// Small helpers for the clearing tests: named firms and terse graphs.
#pragma once

#include <string>
#include <vector>

#include "keiretsu/clearing/types.h"
#include "keiretsu/common/status.h"

namespace keiretsu::clearing::testing {

// Firm n: a key whose first byte is n (Short() is "0n000000").
inline PublicKey Firm(uint8_t n) {
  PublicKey k;
  k.bytes[0] = n;
  return k;
}

inline Obligation Owes(uint8_t debtor, uint8_t creditor, Amount owed) {
  return {Firm(debtor), Firm(creditor), owed};
}

inline Leg SetsOff(uint8_t debtor, uint8_t creditor, Amount amount) {
  return {Firm(debtor), Firm(creditor), amount};
}

inline bool Contains(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

}  // namespace keiretsu::clearing::testing
