// keiretsu-vectors: writes the protocol test vectors (tests/vectors/v1.json)
// from the fixed scenario, or checks a vectors file against this build.
//
//   keiretsu-vectors --out tests/vectors/v1.json   regenerate the file
//   keiretsu-vectors                                print to stdout
//   keiretsu-vectors --check tests/vectors/v1.json re-derive every value
//                                                  from the file's inputs
#include <CLI/CLI.hpp>

#include <iostream>

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
  return keiretsu::vectors::WriteOrCheck("keiretsu-vectors", keiretsu::vectors::ToJson(v), out, "");
}

// Protocol v2: the scenarios of tools/vectors/v2.cc (tests/vectors/v2.json).
int GenerateV2(const std::string& out, const std::string& check) {
  auto text = keiretsu::vectors::V2Json();
  if (!text.ok()) {
    std::cerr << "keiretsu-vectors: " << text.status().ToString() << "\n";
    return 1;
  }
  return keiretsu::vectors::WriteOrCheck("keiretsu-vectors", *text, out, check);
}

int Check(const std::string& path) {
  const auto read = keiretsu::vectors::ReadVectorFile(path);
  if (!read) {
    std::cerr << "keiretsu-vectors: cannot read " << path << "\n";
    return 1;
  }
  const std::string& text = *read;
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
