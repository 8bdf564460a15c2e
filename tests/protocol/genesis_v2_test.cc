// Genesis version 2 (PROTOCOL.md 19.2): threshold and next-key digests, the
// canonical bytes, TOML, and the version-1 fallback; one test per rule.
#include <gtest/gtest.h>

#include "governance_fixture.h"
#include "keiretsu/protocol/epoch_chain.h"
#include "keiretsu/protocol/genesis.h"

namespace keiretsu::protocol {
namespace {

using testing::GovKey;

GenesisSpec V2(size_t n, uint16_t k) {
  GenesisSpec s;
  s.network_name = "v2-net";
  s.created_unix = 1'790'000'000;
  s.version = 2;
  s.threshold = k;
  for (uint32_t i = 0; i < n; ++i)
    s.members.push_back({"firm" + std::to_string(i), GovKey(i).public_key(),
                         NextKeyDigest(GovKey(100 + i).public_key())});
  return s;
}

std::string Refusal(const GenesisSpec& s) {
  auto g = Genesis::Create(s);
  EXPECT_FALSE(g.ok());
  return g.ok() ? "" : std::string(g.status().message());
}

TEST(GenesisV2, CanonicalBytesRoundTripAndCarryEveryField) {
  auto g = Genesis::Create(V2(3, 2));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Bytes& b = g->canonical_bytes();
  EXPECT_EQ(b[16], 2);  // version
  EXPECT_EQ(b.size(), 16u + 1 + 1 + 6 + 8 + 2 + 2 + 3 * (32 + 32 + 1 + 5));
  EXPECT_EQ(b[18 + 6 + 8 + 1], 2);  // threshold, low byte
  auto back = Genesis::Decode(b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->network_id(), g->network_id());
  EXPECT_EQ(back->threshold(), 2);
  EXPECT_EQ(back->members()[0].next_key_digest, g->members()[0].next_key_digest);
  auto toml = Genesis::ParseToml(g->ToToml());
  ASSERT_TRUE(toml.ok()) << toml.status().ToString();
  EXPECT_EQ(toml->network_id(), g->network_id());
  EpochZero z = EpochZeroOf(*g);
  EXPECT_EQ(z.threshold, 2);
  EXPECT_FALSE(z.members[0].next_key_digest.IsZero());
}

TEST(GenesisV2, ThresholdMustBeAboveHalfAndAtMostAll) {
  EXPECT_NE(Refusal(V2(4, 2)).find("above half"), std::string::npos);
  EXPECT_NE(Refusal(V2(4, 5)).find("at most all"), std::string::npos);
  EXPECT_TRUE(Genesis::Create(V2(4, 3)).ok());
}

TEST(GenesisV2, EveryMemberCommitsToANewDistinctNextKey) {
  GenesisSpec s = V2(3, 2);
  s.members[1].next_key_digest = Digest{};
  EXPECT_NE(Refusal(s).find("needs a next_key_digest"), std::string::npos);
  s = V2(3, 2);
  s.members[1].next_key_digest = NextKeyDigest(s.members[1].key);
  EXPECT_NE(Refusal(s).find("current key"), std::string::npos);
  s = V2(3, 2);
  s.members[2].next_key_digest = s.members[0].next_key_digest;
  EXPECT_NE(Refusal(s).find("same next key"), std::string::npos);
}

TEST(GenesisV2, VersionOneStillLoadsAndItsThresholdIsAMajority) {
  GenesisSpec s = V2(4, 3);
  s.version = 1;
  s.threshold = 0;
  for (auto& m : s.members) m.next_key_digest = Digest{};
  s.admission_quorum = 1;
  auto g = Genesis::Create(s);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->canonical_bytes()[16], 1);
  EXPECT_EQ(g->threshold(), 3) << "floor(4/2)+1, whatever admission_quorum says";
  EXPECT_TRUE(EpochZeroOf(*g).members[0].next_key_digest.IsZero());
  s.members[0].next_key_digest = NextKeyDigest(GovKey(7).public_key());
  EXPECT_NE(Refusal(s).find("version 2"), std::string::npos);
}

TEST(GenesisV2, TomlRules) {
  std::string head = "network = \"n\"\ncreated_unix = 1\nthreshold = 1\n";
  std::string member =
      "[[members]]\nname = \"a\"\npublic_key = \"" + GovKey(1).public_key().Hex() + "\"\n";
  std::string next = "next_key_digest = \"" + NextKeyDigest(GovKey(2).public_key()).Hex() + "\"\n";
  EXPECT_TRUE(Genesis::ParseToml(head + member + next).ok());
  auto missing = Genesis::ParseToml(head + member);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("needs `next_key_digest`"), std::string::npos);
  auto v1_with_next = Genesis::ParseToml("network = \"n\"\ncreated_unix = 1\n" + member + next);
  ASSERT_FALSE(v1_with_next.ok());
  EXPECT_NE(v1_with_next.status().message().find("version 2"), std::string::npos);
  auto both = Genesis::ParseToml(head + "admission_quorum = 1\n" + member + next);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("no admission_quorum"), std::string::npos);
  auto bad_hex = Genesis::ParseToml(head + member + "next_key_digest = \"xyz\"\n");
  ASSERT_FALSE(bad_hex.ok());
  EXPECT_NE(bad_hex.status().message().find("64 hex"), std::string::npos);
}

TEST(GenesisV2, DecodeRefusesAnUnknownVersion) {
  auto g = Genesis::Create(V2(1, 1));
  ASSERT_TRUE(g.ok());
  Bytes b = g->canonical_bytes();
  b[16] = 3;
  auto d = Genesis::Decode(b);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("version 3"), std::string::npos);
}

}  // namespace
}  // namespace keiretsu::protocol
