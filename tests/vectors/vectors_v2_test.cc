// The committed protocol v2 vectors (tests/vectors/v2.json) against this
// build: the generator, which derives every value through the real
// encoders, signer, record parser and the reference
// protocol::RecomputeLedger, must reproduce the file byte for byte, and the
// file must cover every case docs/PROTOCOL.md 16 lists.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "v2.h"
#include "vectors.h"

namespace keiretsu::vectors {
namespace {

std::string ReadCommitted() {
  std::ifstream in(KEIRETSU_VECTORS_V2_FILE, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(VectorsV2Test, GeneratorReproducesTheCommittedFile) {
  const std::string text = ReadCommitted();
  ASSERT_FALSE(text.empty()) << "cannot read " << KEIRETSU_VECTORS_V2_FILE;
  auto again = V2Json();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto diffs = DiffLines(text, *again);
  std::string joined;
  for (const auto& d : diffs) joined += d + "\n";
  EXPECT_TRUE(diffs.empty()) << joined << "this build disagrees with " << KEIRETSU_VECTORS_V2_FILE
                             << ": a protocol change. If intended, regenerate with "
                                "`keiretsu-vectors --v2 --out tests/vectors/v2.json` and update "
                                "docs/PROTOCOL.md.";
}

TEST(VectorsV2Test, GenerationIsDeterministic) {
  auto a = V2Json();
  auto b = V2Json();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

// Every outcome, evidence kind, proposal state and membership change the
// section promises appears in some scenario.
TEST(VectorsV2Test, ScenariosCoverEveryCase) {
  auto doc = nlohmann::json::parse(ReadCommitted());
  std::set<std::string> outcomes, evidence, states, actions, stops;
  bool removed = false, left = false, rotated = false, pending_author = false;
  for (const auto& s : doc["scenarios"]) {
    const auto& e = s["expected"];
    for (const auto& o : e["outcomes"]) outcomes.insert(o["outcome"].get<std::string>());
    for (const auto& x : e["evidence"]) evidence.insert(x["kind"].get<std::string>());
    for (const auto& p : e["proposals"]) states.insert(p["state"].get<std::string>());
    for (const auto& f : e["feeds"]) {
      stops.insert(f["stop_reason"].get<std::string>());
      left |= f["left_seq"].get<uint64_t>() != 0;
      rotated |= f["keys"].size() > 1;
    }
    for (const auto& ep : e["epochs"])
      for (const auto& m : ep["members"]) removed |= m["removed"].get<bool>();
    pending_author |= !e["pending_authors"].empty();
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"counted", "uncounted", "pending-author", "above-stop",
                                             "above-leave", "overridden", "beyond"}));
  EXPECT_EQ(evidence, (std::set<std::string>{"fork", "invalid-entry", "key-recovery"}));
  EXPECT_EQ(states, (std::set<std::string>{"passed", "failed", "void", "pending"}));
  EXPECT_EQ(stops, (std::set<std::string>{"", "fork", "invalid-entry"}));
  EXPECT_TRUE(removed && left && rotated && pending_author);
  EXPECT_GE(doc["scenarios"].size(), 39u);
}

// Checkpoints (PROTOCOL.md 15.2): valid ones after an admission (epoch 1)
// and after a rotation (epoch 0, signed by a rotated key), and refused
// ones, each refused by the check the section names.
TEST(VectorsV2Test, CheckpointsCoverAdmissionRotationAndRefusals) {
  auto doc = nlohmann::json::parse(ReadCommitted());
  std::set<std::string> verdicts;
  bool after_admission = false, after_rotation = false;
  for (const auto& s : doc["scenarios"]) {
    if (!s.contains("checkpoints")) continue;
    for (const auto& c : s["checkpoints"]) {
      const std::string verdict = c["verdict"].get<std::string>();
      verdicts.insert(verdict);
      if (verdict != "valid") continue;
      const std::string statement = c["statement"].get<std::string>();
      ASSERT_GE(statement.size(), 2u * 168);
      EXPECT_EQ(statement.substr(38, 2), "02") << "version 2";
      const std::string epoch = statement.substr(2 * 92, 16);
      after_admission |= epoch == "0000000000000001";
      after_rotation |= epoch == "0000000000000000" && c["signing_key"] != c["signer_name"];
    }
  }
  EXPECT_TRUE(after_admission);
  EXPECT_TRUE(after_rotation);
  EXPECT_EQ(verdicts, (std::set<std::string>{"valid", "epoch", "signature", "digest"}));
}

}  // namespace
}  // namespace keiretsu::vectors
