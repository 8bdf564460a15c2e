#include "keiretsu/protocol/digest.h"

#include <gtest/gtest.h>

#include "keiretsu/protocol/balance.h"

namespace keiretsu::protocol {
namespace {

FeedHeadSummary Feed(uint8_t who, uint64_t seq, uint8_t id, uint64_t stop = 0) {
  FeedHeadSummary f;
  f.author.bytes[0] = who;
  f.effective_seq = seq;
  f.effective_id.bytes[0] = id;
  f.stop_seq = stop;
  return f;
}

TEST(StateDigest, OrderOfFeedsDoesNotMatter) {
  NetworkId n;
  EXPECT_EQ(StateDigest(n, {Feed(1, 3, 9), Feed(2, 1, 8)}),
            StateDigest(n, {Feed(2, 1, 8), Feed(1, 3, 9)}));
}

TEST(StateDigest, EveryFieldMatters) {
  NetworkId n;
  Digest base = StateDigest(n, {Feed(1, 3, 9)});
  EXPECT_NE(StateDigest(n, {Feed(1, 4, 9)}), base);
  EXPECT_NE(StateDigest(n, {Feed(1, 3, 7)}), base);
  EXPECT_NE(StateDigest(n, {Feed(1, 3, 9, 4)}), base);
  EXPECT_NE(StateDigest(n, {Feed(2, 3, 9)}), base);
  NetworkId other;
  other.bytes[0] = 1;
  EXPECT_NE(StateDigest(other, {Feed(1, 3, 9)}), base);
}

TEST(StateDigest, EmptyFeedsAreSkipped) {
  NetworkId n;
  EXPECT_EQ(StateDigest(n, {Feed(1, 3, 9), Feed(5, 0, 0)}), StateDigest(n, {Feed(1, 3, 9)}));
  EXPECT_NE(StateDigest(n, {Feed(5, 0, 0, 1)}), StateDigest(n, {}));  // stopped at 1 counts
}

TEST(Amount, DecimalText) {
  EXPECT_EQ(AmountToString(0), "0");
  EXPECT_EQ(AmountToString(-1500), "-1500");
  Amount128 big = static_cast<Amount128>(1) << 100;
  EXPECT_EQ(AmountToString(big), "1267650600228229401496703205376");
  Amount128 min = -(static_cast<Amount128>(1) << 126) * 2;  // most negative
  EXPECT_EQ(AmountToString(min), "-170141183460469231731687303715884105728");
}

}  // namespace
}  // namespace keiretsu::protocol
