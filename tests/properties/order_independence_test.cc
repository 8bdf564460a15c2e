// Property: balances are a pure function of the set of entries (DESIGN.md
// invariant 2). One seeded set of honest feeds of 6 firms (2,000 entries:
// claims, accepts of earlier claims, declines, obligations, releases,
// several units, a few second answers to one claim) is delivered to a fresh
// ledger in at least 200 different arrival orders, with duplicates re-sent,
// in random-size batches; every order must end in the same state (see
// order_harness.h for the checks). KEIRETSU_PROPERTY_SEEDS raises the count.
#include "order_harness.h"

namespace keiretsu::node::order_test {
namespace {

TEST_F(OrderIndependence, HonestFeedsConvergeInEveryOrder) {
  Generated g = testing::FeedGenerator(net, {kFirms, kEntries, 42, false}).Run();
  ASSERT_EQ(g.records.size(), kEntries);
  // The expectation is not trivial: many positions, every firm has a feed.
  EXPECT_GT(g.expected.balances.size(), 20u);
  EXPECT_EQ(g.expected.heads.size(), static_cast<size_t>(kFirms));
  EXPECT_GT(g.expected.open_claims.size(), 3u);
  EXPECT_GT(g.expected.answers.size(), 100u);
  Run(g, {});
}

}  // namespace
}  // namespace keiretsu::node::order_test
