#include "vector_file.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

namespace keiretsu::vectors {

std::optional<std::string> ReadVectorFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

std::vector<std::string> DiffLines(std::string_view want, std::string_view got, size_t max) {
  auto split = [](std::string_view s) {
    std::vector<std::string_view> lines;
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find('\n', start);
      if (end == std::string_view::npos) end = s.size();
      lines.push_back(s.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  };
  // Long hex lines differ anywhere: show each side around the first difference.
  auto around = [](std::string_view line, size_t at) {
    size_t from = at > 24 ? at - 24 : 0;
    return std::string(from > 0 ? "..." : "") + std::string(line.substr(from, 72)) +
           (from + 72 < line.size() ? "..." : "");
  };
  const auto a = split(want), b = split(got);
  std::vector<std::string> out;
  for (size_t i = 0; i < std::max(a.size(), b.size()) && out.size() < max; ++i) {
    std::string_view x = i < a.size() ? a[i] : "<missing>";
    std::string_view y = i < b.size() ? b[i] : "<missing>";
    if (x == y) continue;
    size_t at = 0;
    while (at < x.size() && at < y.size() && x[at] == y[at]) ++at;
    out.push_back("line " + std::to_string(i + 1) + ", column " + std::to_string(at + 1) +
                  ": want `" + around(x, at) + "` got `" + around(y, at) + "`");
  }
  return out;
}

int WriteOrCheck(std::string_view tool, const std::string& text, const std::string& out,
                 const std::string& check) {
  if (!check.empty()) {
    auto want = ReadVectorFile(check);
    if (!want) {
      std::cerr << tool << ": cannot read " << check << "\n";
      return 1;
    }
    const auto diffs = DiffLines(*want, text);
    for (const auto& d : diffs) std::cerr << check << ": " << d << "\n";
    if (!diffs.empty()) {
      std::cerr << tool << ": " << check
                << " differs from what this build derives; regenerate with --out and review\n";
      return 1;
    }
    std::cerr << tool << ": " << check << ": every value matches this build\n";
    return 0;
  }
  if (out.empty()) {
    std::cout << text;
    return std::cout ? 0 : 1;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    std::cerr << tool << ": cannot write " << out << "\n";
    return 1;
  }
  std::cerr << tool << ": wrote " << out << "\n";
  return 0;
}

}  // namespace keiretsu::vectors
