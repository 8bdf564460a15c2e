#include "keiretsu/protocol/genesis.h"

#include <gtest/gtest.h>

#include "test_network.h"

namespace keiretsu::protocol {
namespace {

GenesisSpec Spec() {
  GenesisSpec s;
  s.network_name = "chubu-keiretsu";
  s.created_unix = 1'790'000'000;
  s.admission_quorum = 2;
  for (int i = 0; i < 3; ++i)
    s.members.push_back({"firm" + std::to_string(i), testing::FirmKey(i).public_key()});
  return s;
}

TEST(Genesis, NetworkIdIgnoresMemberOrder) {
  GenesisSpec a = Spec(), b = Spec();
  std::reverse(b.members.begin(), b.members.end());
  EXPECT_EQ(Genesis::Create(a)->network_id(), Genesis::Create(b)->network_id());
}

TEST(Genesis, EveryFieldChangesTheNetworkId) {
  NetworkId base = Genesis::Create(Spec())->network_id();
  GenesisSpec s = Spec();
  s.network_name = "chubu-keiretsu2";
  EXPECT_NE(Genesis::Create(s)->network_id(), base);
  s = Spec();
  s.created_unix += 1;
  EXPECT_NE(Genesis::Create(s)->network_id(), base);
  s = Spec();
  s.admission_quorum = 3;
  EXPECT_NE(Genesis::Create(s)->network_id(), base);
  s = Spec();
  s.members[0].name = "other";
  EXPECT_NE(Genesis::Create(s)->network_id(), base);
}

TEST(Genesis, CanonicalBytesRoundTrip) {
  auto g = Genesis::Create(Spec());
  auto d = Genesis::Decode(g->canonical_bytes());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->network_id(), g->network_id());
  EXPECT_EQ(d->members().size(), 3u);
}

TEST(Genesis, DecodeRefusesTruncationTrailingAndNonCanonical) {
  Bytes b = Genesis::Create(Spec())->canonical_bytes();
  for (size_t n = 0; n < b.size(); ++n)
    EXPECT_FALSE(Genesis::Decode(ByteView(b).first(n)).ok()) << n;
  Bytes longer = b;
  longer.push_back(0);
  EXPECT_NE(Genesis::Decode(longer).status().message().find("trailing"), std::string::npos);
  // Swap the first two members: same content, not canonical order.
  size_t header = 16 + 1 + 1 + Spec().network_name.size() + 8 + 2 + 2;
  size_t rec = 32 + 1 + 5;  // key, name length, "firmN"
  Bytes swapped = b;
  std::swap_ranges(swapped.begin() + static_cast<long>(header),
                   swapped.begin() + static_cast<long>(header + rec),
                   swapped.begin() + static_cast<long>(header + rec));
  auto d = Genesis::Decode(swapped);
  EXPECT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("canonical"), std::string::npos) << d.status().ToString();
}

TEST(Genesis, CreateRefusesBrokenRules) {
  struct Case {
    const char* expect;
    std::function<void(GenesisSpec&)> mutate;
  };
  std::vector<Case> cases = {
      {"network name", [](GenesisSpec& s) { s.network_name = ""; }},
      {"network name", [](GenesisSpec& s) { s.network_name = "has space"; }},
      {"at least one member", [](GenesisSpec& s) { s.members.clear(); }},
      {"same public key", [](GenesisSpec& s) { s.members[1].key = s.members[0].key; }},
      {"used twice", [](GenesisSpec& s) { s.members[1].name = "FIRM0"; }},
      {"member name", [](GenesisSpec& s) { s.members[1].name = "a/b"; }},
      {"not a usable Ed25519 point", [](GenesisSpec& s) { s.members[1].key = PublicKey{}; }},
      {"not a usable Ed25519 point",
       [](GenesisSpec& s) {  // the identity point: small order
         s.members[1].key = PublicKey{};
         s.members[1].key.bytes[0] = 1;
       }},
      {"admission quorum", [](GenesisSpec& s) { s.admission_quorum = 0; }},
      {"admission quorum", [](GenesisSpec& s) { s.admission_quorum = 4; }},
  };
  for (const auto& c : cases) {
    GenesisSpec s = Spec();
    c.mutate(s);
    auto g = Genesis::Create(s);
    ASSERT_FALSE(g.ok()) << c.expect;
    EXPECT_EQ(g.status().code(), Code::kInvalidArgument);
    EXPECT_NE(g.status().message().find(c.expect), std::string::npos) << g.status().message();
  }
}

TEST(Genesis, TomlRoundTripAndErrors) {
  auto g = Genesis::Create(Spec());
  auto parsed = Genesis::ParseToml(g->ToToml());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->network_id(), g->network_id());
  EXPECT_NE(Genesis::ParseToml("network = ").status().message().find("not valid TOML"),
            std::string::npos);
  EXPECT_NE(Genesis::ParseToml("created_unix = 1\n").status().message().find("network"),
            std::string::npos);
  EXPECT_NE(Genesis::ParseToml("network = \"x\"\ncreated_unix = 1\n[[members]]\nname = \"a\"\n"
                               "public_key = \"abc\"\n")
                .status()
                .message()
                .find("64 hex"),
            std::string::npos);
}

TEST(Genesis, TomlIsStrict) {
  std::string good = Genesis::Create(Spec())->ToToml();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    t.replace(t.find(from), from.size(), to);
    return Genesis::ParseToml(t).status().message();
  };
  EXPECT_NE(with("admission_quorum", "admision_quorum").find("unknown key `admision_quorum`"),
            std::string::npos);
  EXPECT_NE(with("admission_quorum = 2", "admission_quorum = 2.0").find("must be an integer"),
            std::string::npos);
  EXPECT_NE(with("created_unix = 1790000000", "created_unix = true").find("created_unix"),
            std::string::npos);
  EXPECT_NE(with("name = \"firm0\"", "name = \"firm0\"\nrole = \"x\"").find("unknown key `role`"),
            std::string::npos);
}

TEST(Genesis, ResolvesFirmsByNameOrKey) {
  auto g = Genesis::Create(Spec());
  PublicKey k1 = testing::FirmKey(1).public_key();
  EXPECT_EQ(*g->ResolveFirm("firm1"), k1);
  EXPECT_EQ(*g->ResolveFirm("FIRM1"), k1);
  EXPECT_EQ(*g->ResolveFirm(k1.Hex()), k1);
  EXPECT_EQ(g->ResolveFirm("kobe").status().code(), Code::kNotFound);
  EXPECT_EQ(g->ResolveFirm(std::string(64, 'a')).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace keiretsu::protocol
