// Small text helpers shared by modules that compare what operators type
// with what the network holds. Pure functions; thread-safe.
#pragma once

#include <cctype>
#include <string_view>

namespace keiretsu {

// Whether `a` and `b` are equal ignoring ASCII case (firm names are matched
// so: "Asahi" names asahi).
inline bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace keiretsu
