// Property: every genesis that Genesis::Create accepts survives both of its
// forms unchanged: Decode(canonical_bytes) and ParseToml(ToToml()) give back
// the same canonical bytes (genesis.h promises the TOML round trip). Seeded
// random specs, plus the boundary values of created_unix, which the canonical
// form holds as u64 while TOML integers are signed 64-bit. Found by
// fuzz/entry_fuzz (a decoded genesis with created_unix >= 2^63).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "keiretsu/protocol/genesis.h"
#include "test_network.h"

namespace keiretsu::protocol {
namespace {

// Every spec given here is valid: Create must accept it (a test that
// skipped refused specs would pass having checked nothing, were Create to
// refuse them all), and then both forms must give it back.
void ExpectRoundTrips(const GenesisSpec& spec) {
  auto g = Genesis::Create(spec);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto decoded = Genesis::Decode(g->canonical_bytes());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->canonical_bytes(), g->canonical_bytes());
  auto parsed = Genesis::ParseToml(g->ToToml());
  ASSERT_TRUE(parsed.ok()) << "created_unix " << spec.created_unix << ": "
                           << parsed.status().ToString();
  EXPECT_EQ(parsed->canonical_bytes(), g->canonical_bytes());
  EXPECT_EQ(parsed->network_id(), g->network_id());
}

GenesisSpec Spec(uint64_t created_unix, int members) {
  GenesisSpec s;
  s.network_name = "round-trip";
  s.created_unix = created_unix;
  s.admission_quorum = 1;
  for (int i = 0; i < members; ++i)
    s.members.push_back({"firm-" + std::to_string(i), testing::FirmKey(i).public_key()});
  return s;
}

TEST(GenesisRoundTrip, RandomSpecs) {
  std::mt19937_64 rng(5);
  const char kNameChars[] = "abcXYZ019._-";
  for (int n = 0; n < 200 && !HasFailure(); ++n) {
    GenesisSpec s = Spec(rng() % 4'000'000'000, 1 + static_cast<int>(rng() % 6));
    s.network_name.clear();
    for (uint64_t k = 1 + rng() % 64; k > 0; --k) s.network_name += kNameChars[rng() % 12];
    s.admission_quorum = static_cast<uint16_t>(1 + rng() % s.members.size());
    SCOPED_TRACE("spec " + std::to_string(n));
    ExpectRoundTrips(s);
  }
}

TEST(GenesisRoundTrip, CreatedUnixBoundaries) {
  constexpr uint64_t kI64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (uint64_t t : {uint64_t{0}, uint64_t{1}, kI64Max}) {
    SCOPED_TRACE("created_unix " + std::to_string(t));
    ExpectRoundTrips(Spec(t, 3));
  }
  // Beyond what a TOML integer holds, Create refuses rather than write a
  // genesis file that would not read back.
  for (uint64_t t : {kI64Max + 1, std::numeric_limits<uint64_t>::max()}) {
    auto g = Genesis::Create(Spec(t, 3));
    ASSERT_FALSE(g.ok()) << "created_unix " << t;
    EXPECT_NE(g.status().message().find("at most 2^63-1"), std::string::npos)
        << g.status().ToString();
  }
}

}  // namespace
}  // namespace keiretsu::protocol
