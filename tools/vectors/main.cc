// keiretsu-vectors: writes the protocol test vectors (tests/vectors/v1.json)
// from the fixed scenario, or checks a vectors file against this build.
//
//   keiretsu-vectors --out tests/vectors/v1.json   regenerate the file
//   keiretsu-vectors                                print to stdout
//   keiretsu-vectors --check tests/vectors/v1.json re-derive every value
//                                                  from the file's inputs
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "v2.h"
#include "vectors.h"

namespace {

using keiretsu::vectors::Vectors;

int Generate(const std::string& out) {
  Vectors v = keiretsu::vectors::Scenario();
  keiretsu::Status s = keiretsu::vectors::Derive(&v);
  if (!s.ok()) {
    std::cerr << "keiretsu-vectors: " << s.ToString() << "\n";
    return 1;
  }
  std::string text = keiretsu::vectors::ToJson(v);
  if (out.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    std::cerr << "keiretsu-vectors: cannot write " << out << "\n";
    return 1;
  }
  std::cerr << "keiretsu-vectors: wrote " << out << " (" << v.entries.size() << " entries, "
            << v.ingest.size() << " ingest steps)\n";
  return 0;
}

std::string ReadFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  *ok = static_cast<bool>(in);
  return ss.str();
}

// Protocol v2: the scenarios of tools/vectors/v2.cc (tests/vectors/v2.json).
int GenerateV2(const std::string& out, const std::string& check) {
  auto text = keiretsu::vectors::V2Json();
  if (!text.ok()) {
    std::cerr << "keiretsu-vectors: " << text.status().ToString() << "\n";
    return 1;
  }
  if (!check.empty()) {
    bool ok = false;
    std::string want = ReadFile(check, &ok);
    if (!ok) {
      std::cerr << "keiretsu-vectors: cannot read " << check << "\n";
      return 1;
    }
    auto diffs = keiretsu::vectors::DiffLines(want, *text);
    for (const auto& d : diffs) std::cerr << check << ": " << d << "\n";
    if (!diffs.empty()) return 1;
    std::cerr << "keiretsu-vectors: " << check << ": every value matches this build\n";
    return 0;
  }
  if (out.empty()) {
    std::cout << *text;
    return 0;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << *text;
  f.close();
  if (!f) {
    std::cerr << "keiretsu-vectors: cannot write " << out << "\n";
    return 1;
  }
  std::cerr << "keiretsu-vectors: wrote " << out << "\n";
  return 0;
}

int Check(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "keiretsu-vectors: cannot read " << path << "\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  auto parsed = keiretsu::vectors::FromJson(text);
  if (!parsed.ok()) {
    std::cerr << "keiretsu-vectors: " << parsed.status().ToString() << "\n";
    return 1;
  }
  Vectors v = std::move(parsed).value();
  keiretsu::vectors::ClearDerived(&v);
  keiretsu::Status s = keiretsu::vectors::Derive(&v);
  if (!s.ok()) {
    std::cerr << "keiretsu-vectors: " << s.ToString() << "\n";
    return 1;
  }
  auto diffs = keiretsu::vectors::DiffLines(text, keiretsu::vectors::ToJson(v));
  for (const auto& d : diffs) std::cerr << path << ": " << d << "\n";
  if (!diffs.empty()) return 1;
  std::cerr << "keiretsu-vectors: " << path << ": every derived value matches this build\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Writes or checks the keiretsu protocol test vectors (v1, or v2 with --v2)."};
  std::string out, check;
  bool v2 = false;
  app.add_flag("--v2", v2, "the protocol v2 vectors (tests/vectors/v2.json)");
  app.add_option("--out", out, "write the vectors to this file (default: stdout)");
  app.add_option("--check", check, "re-derive a vectors file's values and compare")
      ->excludes(app.get_option("--out"));
  CLI11_PARSE(app, argc, argv);
  if (v2) return GenerateV2(out, check);
  return check.empty() ? Generate(out) : Check(check);
}
