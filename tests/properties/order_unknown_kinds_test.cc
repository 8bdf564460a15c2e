// Property: order independence with records this node cannot apply yet
// (docs/PROTOCOL.md "Protocol v2"): an entry of a kind it does not know
// (a newer peer's) with two more entries chained after it, and entries of a
// firm not known as a member, mixed into honest feeds. In every arrival
// order they stay pending (never refused, never an end of the feed), the
// digest and balances are exactly the honest feeds', and "upgrade needed"
// names the one record. A second ledger acting as an older version (no
// kind 5, release) ends, in every order, in the state of every feed's
// prefix before its first release; reopened as the current version it
// converges on the same digest and balances as the first (every fifth
// order: two more ledgers per order would double the test's time).
#include "keiretsu/crypto/hash.h"
#include "order_harness.h"

namespace keiretsu::node::order_test {
namespace {

constexpr uint8_t kNewKind = 200;
constexpr int kNewKindFirm = 2;

// The extra records: firm 2's next entry of an unknown kind and two entries
// chained after it; a stranger's first three entries.
std::vector<Bytes> Extras(const testing::TestNetwork& net, const Generated& g) {
  std::vector<Bytes> out;
  const auto& head = g.builder_heads[kNewKindFirm];
  Bytes content = protocol::EncodeContent(
      {net.id(), net.pk(kNewKindFirm), head.seq + 1, head.id, 9, testing::Owe(net.pk(0), 1)});
  content.resize(114);
  content[113] = kNewKind;
  for (uint8_t b : {0x10, 0x20, 0x30}) content.push_back(b);
  auto sig = net.key(kNewKindFirm).Sign(protocol::SigningMessage(content));
  EntryId prev{crypto::Blake2b256(content)};
  content.insert(content.end(), sig.begin(), sig.end());
  out.push_back(content);
  for (uint64_t k = 2; k <= 3; ++k) {
    protocol::Entry e{net.id(), net.pk(kNewKindFirm),      head.seq + k, prev,
                      9,        testing::Owe(net.pk(1), k)};
    auto se = testing::FeedBuilder::SignRaw(e, net.key(kNewKindFirm));
    prev = se.id;
    out.push_back(se.record);
  }
  auto stranger = testing::FirmKey(77);
  prev = EntryId{};
  for (uint64_t s = 1; s <= 3; ++s) {
    protocol::Entry e{net.id(), stranger.public_key(), s, prev, 9, testing::Owe(net.pk(1), s)};
    auto se = testing::FeedBuilder::SignRaw(e, stranger);
    prev = se.id;
    out.push_back(se.record);
  }
  return out;
}

// `a` with the extras at random places.
Arrival Mix(Arrival a, const std::vector<Bytes>& extras, uint64_t seed) {
  std::mt19937_64 rng(seed + 5000);
  for (const Bytes& r : extras) {
    auto at = static_cast<std::ptrdiff_t>(Below(rng, a.records.size() + 1));
    a.records.insert(a.records.begin() + at, r);
    a.kinds.insert(a.kinds.begin() + at, Kind::kAdversary);
  }
  return a;
}

class UnknownKinds : public OrderIndependence {
 protected:
  void CheckState(const Ledger& l, const Generated& g, const std::vector<Bytes>& extras) {
    EXPECT_EQ(l.StateDigest(), g.expected.digest);
    auto rows = l.ListAllBalances();
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(Diff(AsMap(*rows), g.expected.balances), "");
    EXPECT_EQ(l.PendingCount(), extras.size());
    auto needed = l.UpgradesNeeded();
    ASSERT_EQ(needed.size(), 1u);
    EXPECT_EQ(needed[0].author, net.pk(kNewKindFirm));
    EXPECT_EQ(needed[0].seq, g.builder_heads[kNewKindFirm].seq + 1);
    EXPECT_EQ(needed[0].kind_tag, kNewKind);
    EXPECT_TRUE(l.ListEvidence()->empty());
  }
};

TEST_F(UnknownKinds, PendingRecordsChangeNothingInEveryOrderAndAnUpgradeConverges) {
  Generated g = testing::FeedGenerator(net, {kFirms, 600, 11, false}).Run();
  const std::vector<Bytes> extras = Extras(net, g);
  LedgerOptions older;
  older.kinds.Remove(static_cast<uint8_t>(protocol::BodyKind::kRelease));
  std::optional<Digest> older_digest;
  for (int s = 0; s < SeedCount() && !HasFailure(); ++s) {
    const uint64_t seed = static_cast<uint64_t>(s);
    SCOPED_TRACE("arrival seed " + std::to_string(seed));
    Arrival a = Mix(Deliver(g, seed, {}), extras, seed);
    testing::TempDir dir;
    {
      auto ledger = testing::OpenLedger(net, dir.Sub("current"));
      IngestAll(*ledger, a, seed);
      CheckState(*ledger, g, extras);
    }
    if (seed % 5 != 0) continue;  // the upgrade path: every fifth order (40 of 200)
    {
      auto old = testing::OpenLedger(net, dir.Sub("older"), older);
      IngestAll(*old, a, seed);
      if (!older_digest) older_digest = old->StateDigest();
      EXPECT_EQ(old->StateDigest(), *older_digest) << "the older version depends on the order";
      EXPECT_NE(old->StateDigest(), g.expected.digest);  // releases are not applied
      EXPECT_GT(old->UpgradesNeeded().size(), 1u);
    }
    auto upgraded = testing::OpenLedger(net, dir.Sub("older"));
    CheckState(*upgraded, g, extras);
    testing::ExpectBalancesMatchRecompute(*upgraded);
  }
}

}  // namespace
}  // namespace keiretsu::node::order_test
