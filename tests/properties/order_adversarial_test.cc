// Property: order independence with adversaries (DESIGN.md invariants 2-4).
// As order_independence_test, plus a firm that signs two entries at one seq
// (and goes on down both branches), a firm whose second branch starts from
// an entry it never publishes (so its first published record names a prev
// nobody holds), a firm that signs an invalid entry mid-feed (and chains
// more onto it), and refused noise (tampered, truncated, padded,
// other-network records). In every order each forked feed stops at its
// fork seq and the invalid one at the invalid seq, with the same proofs, and
// the noise changes nothing.
#include "order_harness.h"

namespace keiretsu::node::order_test {
namespace {

TEST_F(OrderIndependence, ForkAndInvalidFeedStopTheSameInEveryOrder) {
  Generated g = testing::FeedGenerator(net, {kFirms, kEntries, 7, true}).Run();
  ASSERT_EQ(g.forks.size(), 2u);
  ASSERT_GT(g.forks[0].seq, 2u);  // the hidden-root fork: seq 1 and 2 count at least
  ASSERT_GT(g.forks[1].seq, 1u);
  ASSERT_GT(g.bad_seq, 1u);
  std::mt19937_64 rng(99);
  Run(g, Noise(g, rng));
}

}  // namespace
}  // namespace keiretsu::node::order_test
