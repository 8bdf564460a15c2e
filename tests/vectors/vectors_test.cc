// The committed protocol test vectors (tests/vectors/v1.json) against this
// build: every derived value is re-derived from the file's inputs through
// the real encoders, signer, rules and ledger, and must come out byte for
// byte the same. A change to any encoding or rule fails here until the file
// is regenerated and the change reviewed as a protocol change.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "keiretsu/protocol/limits.h"
#include "vectors.h"

namespace keiretsu::vectors {
namespace {

std::string ReadCommitted() {
  std::ifstream in(KEIRETSU_VECTORS_FILE, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Parses `text`, throws away every derived value, derives them again.
Result<std::string> Rederive(const std::string& text) {
  KEIRETSU_ASSIGN_OR_RETURN(Vectors v, FromJson(text));
  ClearDerived(&v);
  KEIRETSU_RETURN_IF_ERROR(Derive(&v));
  return ToJson(v);
}

class VectorsTest : public ::testing::Test {
 protected:
  const std::string text = ReadCommitted();
};

TEST_F(VectorsTest, CommittedFileParsesLosslessly) {
  ASSERT_FALSE(text.empty()) << "cannot read " << KEIRETSU_VECTORS_FILE;
  auto v = FromJson(text);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  // Printing what was read gives the file back: no field is ignored.
  auto diffs = DiffLines(text, ToJson(*v));
  EXPECT_TRUE(diffs.empty()) << Joined(diffs);
}

TEST_F(VectorsTest, EveryDerivedValueMatchesThisBuild) {
  auto again = Rederive(text);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto diffs = DiffLines(text, *again);
  EXPECT_TRUE(diffs.empty())
      << Joined(diffs) << "this build disagrees with " << KEIRETSU_VECTORS_FILE
      << ": a protocol change. If intended, regenerate with `keiretsu-vectors --out "
         "tests/vectors/v1.json`, update docs/PROTOCOL.md, and bump the protocol version.";
}

TEST_F(VectorsTest, GeneratorReproducesTheCommittedFile) {
  Vectors v = Scenario();
  Status s = Derive(&v);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto diffs = DiffLines(text, ToJson(v));
  EXPECT_TRUE(diffs.empty()) << Joined(diffs);
}

// The comparison can fail: a wrong expected value in the file is reported
// with its line.
TEST_F(VectorsTest, AWrongExpectedValueIsCaught) {
  for (const std::string anchor :
       {"\"id\": \"", "\"state_digest\": \"", "\"net\": \"", "\"network_id\": \""}) {
    std::string bad = text;
    size_t at = bad.find(anchor);
    ASSERT_NE(at, std::string::npos) << anchor;
    char& c = bad[at + anchor.size()];
    c = c == '1' ? '2' : '1';
    auto again = Rederive(bad);
    ASSERT_TRUE(again.ok()) << anchor << ": " << again.status().ToString();
    auto diffs = DiffLines(bad, *again);
    EXPECT_FALSE(diffs.empty()) << anchor;
  }
  std::string bad = text;
  size_t at = bad.find("\"outcome\": \"pending\"");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, 20, "\"outcome\": \"applied\"");
  auto again = Rederive(bad);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(DiffLines(bad, *again).empty());
}

// Bad vectors files get a clear error naming the field, and nothing else.
TEST_F(VectorsTest, MalformedFilesAreRefusedWithTheField) {
  EXPECT_EQ(FromJson("not json").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FromJson("[]").status().code(), Code::kInvalidArgument);

  std::string missing = text;
  missing.replace(missing.find("\"timestamp_ms\""), 14, "\"timestamp_xx\"");
  auto r = FromJson(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("$.entries[0].fields.timestamp_ms is missing"),
            std::string::npos)
      << r.status().message();

  std::string short_hex = text;
  size_t at = short_hex.find("\"prev\": \"") + 9;
  short_hex.erase(at, 2);
  r = FromJson(short_hex);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("prev must be 64 hex digits"), std::string::npos)
      << r.status().message();

  std::string bad_kind = text;
  bad_kind.replace(bad_kind.find("\"kind\": \"obligation\""), 20, "\"kind\": \"gift\"      ");
  r = FromJson(bad_kind);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("kind must be"), std::string::npos) << r.status().message();
}

TEST_F(VectorsTest, GenesisTomlAndFieldsMustAgree) {
  auto v = FromJson(text);
  ASSERT_TRUE(v.ok());
  ClearDerived(&*v);
  v->genesis.spec.admission_quorum = 3;  // the TOML still says 2
  Status s = Derive(&*v);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
}

TEST_F(VectorsTest, UnknownSignerOrLabelIsRefused) {
  auto v = FromJson(text);
  ASSERT_TRUE(v.ok());
  Vectors a = *v, b = *v;
  a.entries.at(0).signer = "nobody";
  EXPECT_EQ(Derive(&a).code(), Code::kInvalidArgument);
  b.ingest.at(0).entry = "no-such-label";
  EXPECT_EQ(Derive(&b).code(), Code::kInvalidArgument);
}

// The scenario keeps exercising every outcome, fault, body kind and
// evidence kind that docs/PROTOCOL.md describes, whatever edits it gets.
TEST_F(VectorsTest, ScenarioCoversEveryCase) {
  auto v = FromJson(text);
  ASSERT_TRUE(v.ok());
  std::set<std::string> outcomes, checks, kinds, units, evidence, verdicts;
  for (const auto& s : v->ingest) outcomes.insert(s.outcome);
  for (const auto& e : v->entries) {
    checks.insert(e.check);
    kinds.insert(std::string(protocol::KindName(protocol::KindOf(e.entry.body))));
  }
  for (const auto& b : v->final_state.balances) units.insert(b.unit);
  for (const auto& e : v->final_state.evidence) evidence.insert(e.kind);
  for (const auto& c : v->signature_checks) verdicts.insert(c.valid ? "valid" : "invalid");
  EXPECT_EQ(outcomes, (std::set<std::string>{"applied", "duplicate", "pending", "fork-proven",
                                             "feed-ended", "ignored", "rejected"}));
  EXPECT_EQ(checks, (std::set<std::string>{"none", "malformed", "wrong-network", "unknown-author",
                                           "bad-signature", "invalid-body"}));
  EXPECT_EQ(kinds, (std::set<std::string>{"claim", "accept", "decline", "obligation", "release"}));
  EXPECT_GE(units.size(), 3u);
  EXPECT_EQ(evidence, (std::set<std::string>{"fork", "invalid-entry"}));
  EXPECT_EQ(verdicts, (std::set<std::string>{"valid", "invalid"}));
  std::set<std::string> raw_checks;
  for (const auto& r : v->records) raw_checks.insert(r.check);
  EXPECT_EQ(raw_checks,
            (std::set<std::string>{"none", "malformed", "invalid-body", "unknown-kind"}));
  EXPECT_FALSE(v->final_state.open_claims.empty());
  EXPECT_FALSE(v->final_state.answers.empty());
}

// Sizes docs/PROTOCOL.md "Limits" states.
TEST(EntrySizes, LargestAndSmallestWellFormedEntries) {
  Vectors v = Scenario();
  ASSERT_TRUE(Derive(&v).ok());
  auto genesis = protocol::Genesis::Decode(v.genesis.canonical);
  ASSERT_TRUE(genesis.ok());
  const auto& members = genesis->members();
  crypto::SigningKey key = crypto::SigningKey::FromSeed(v.keys.at(0).seed);
  protocol::Entry e{
      genesis->network_id(),
      key.public_key(),
      2,
      EntryId{v.entries.at(0).id},
      0,
      protocol::Accept{
          v.entries.at(1).id, members[0].key == key.public_key() ? members[1].key : members[0].key,
          protocol::kMaxAmount, std::string(16, 'u'), std::string(protocol::kMaxMemoBytes, 'm')}};
  auto largest = protocol::SignEntry(e, key, *genesis);
  ASSERT_TRUE(largest.ok()) << largest.status().ToString();
  EXPECT_EQ(largest->record.size(), 781u);
  EXPECT_LE(largest->record.size(), protocol::kMaxEntryBytes);

  std::get<protocol::Accept>(e.body).memo += "m";  // 513 bytes
  EXPECT_EQ(protocol::SignEntry(e, key, *genesis).status().code(), Code::kInvalidArgument);

  e.body = protocol::Decline{v.entries.at(1).id, std::get<protocol::Accept>(e.body).creditor, ""};
  auto smallest = protocol::SignEntry(e, key, *genesis);
  ASSERT_TRUE(smallest.ok()) << smallest.status().ToString();
  EXPECT_EQ(smallest->record.size(), 244u);
}

}  // namespace
}  // namespace keiretsu::vectors
