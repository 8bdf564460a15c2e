// The solver on graphs small enough to check by hand, its range boundary,
// and one test per kind of graph it refuses.
#include "keiretsu/clearing/solver.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "clearing_support.h"
#include "keiretsu/protocol/balance.h"

namespace keiretsu::clearing {
namespace {

using testing::Contains;
using testing::Firm;
using testing::Owes;
using testing::SetsOff;

static_assert(std::is_same_v<Amount, protocol::Amount128>,
              "clearing amounts are the ledger's balance type");

TEST(Solve, TriangleClearsItsSmallestDebt) {
  // asahi owes biwa 5, biwa owes chikuma 3, chikuma owes asahi 7.
  const auto c = Solve({"EUR", {Owes(1, 2, 5), Owes(2, 3, 3), Owes(3, 1, 7)}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->unit, "EUR");
  EXPECT_EQ(c->total_owed, 15);
  EXPECT_EQ(c->cleared, 9);
  ASSERT_EQ(c->proposals.size(), 1u);
  const Proposal& p = c->proposals[0];
  EXPECT_EQ(p.unit, "EUR");
  EXPECT_EQ(p.firms, (std::vector<PublicKey>{Firm(1), Firm(2), Firm(3)}));
  EXPECT_EQ(p.legs, (std::vector<Leg>{SetsOff(1, 2, 3), SetsOff(2, 3, 3), SetsOff(3, 1, 3)}));
  EXPECT_EQ(p.total, 9);
}

TEST(Solve, DisjointCyclesBecomeSeparateProposalsInFirmOrder) {
  const auto c = Solve({"EUR",
                        {Owes(7, 8, 4), Owes(8, 7, 6),                    // a two-firm cycle
                         Owes(1, 2, 2), Owes(2, 3, 2), Owes(3, 1, 2)}});  // a triangle
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->proposals.size(), 2u);
  EXPECT_EQ(c->proposals[0].firms.front(), Firm(1));
  EXPECT_EQ(c->proposals[0].total, 6);
  EXPECT_EQ(c->proposals[1].legs, (std::vector<Leg>{SetsOff(7, 8, 4), SetsOff(8, 7, 4)}));
  EXPECT_EQ(c->cleared, 14);
}

TEST(Solve, CyclesSharingAFirmClearTogether) {
  // Two triangles through firm 3: one component, so one proposal.
  const auto c = Solve(
      {"EUR",
       {Owes(1, 2, 1), Owes(2, 3, 1), Owes(3, 1, 1), Owes(3, 4, 2), Owes(4, 5, 2), Owes(5, 3, 2)}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->proposals.size(), 1u);
  EXPECT_EQ(c->proposals[0].firms.size(), 5u);
  EXPECT_EQ(c->cleared, 9);
}

TEST(Solve, SilentFirmBlocksOnlyItsOwnCycles) {
  // As above; firm 5 stays silent. Solving again without it still clears
  // the triangle 1-2-3, which does not pass through it.
  const ObligationGraph g{
      "EUR",
      {Owes(1, 2, 1), Owes(2, 3, 1), Owes(3, 1, 1), Owes(3, 4, 2), Owes(4, 5, 2), Owes(5, 3, 2)}};
  const PublicKey silent[] = {Firm(5)};
  const ObligationGraph rest = WithoutFirms(g, silent);
  EXPECT_EQ(rest.obligations.size(), 4u);
  const auto c = Solve(rest);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->proposals.size(), 1u);
  EXPECT_EQ(c->proposals[0].firms, (std::vector<PublicKey>{Firm(1), Firm(2), Firm(3)}));
  EXPECT_EQ(c->cleared, 3);
}

TEST(Solve, AcyclicAndEmptyGraphsClearNothing) {
  const auto chain = Solve({"EUR", {Owes(1, 2, 5), Owes(2, 3, 5), Owes(1, 3, 5)}});
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_TRUE(chain->proposals.empty());
  EXPECT_EQ(chain->cleared, 0);
  EXPECT_EQ(chain->total_owed, 15);
  const auto empty = Solve({"EUR", {}});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->proposals.empty());
  EXPECT_EQ(empty->total_owed, 0);
}

TEST(Solve, PrefersTheLargerTotalOverTheObviousCycle) {
  // The long cycle 1-2-3-4 (4 legs of 2) beats the 2-cycle 1-2 (2 legs of 3)
  // that would block it: 1 owes 2 three, 2 owes 1 three.
  const auto c =
      Solve({"EUR", {Owes(1, 2, 3), Owes(2, 1, 3), Owes(2, 3, 2), Owes(3, 4, 2), Owes(4, 1, 2)}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->cleared, 10);  // 1->2 3, 2->1 1, 2->3 2, 3->4 2, 4->1 2 (not 6)
}

TEST(Solve, ClearsExactlyAtTheLargestAmount) {
  const auto c = Solve({"EUR",
                        {Owes(1, 2, kMaxAmount), Owes(2, 3, kMaxAmount), Owes(3, 1, kMaxAmount),
                         Owes(3, 2, kMaxAmount - 1)}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->total_owed, 4 * kMaxAmount - 1);
  // 1->2->3->1 at 2^62, and 2<->3 with what is left on 2->3: nothing.
  EXPECT_EQ(c->cleared, 3 * kMaxAmount);
  ASSERT_EQ(c->proposals.size(), 1u);
  for (const Leg& leg : c->proposals[0].legs) EXPECT_EQ(leg.amount, kMaxAmount);
}

TEST(Solve, RefusesAnAmountAboveTheLargest) {
  const auto c = Solve({"EUR", {Owes(1, 2, kMaxAmount + 1), Owes(2, 1, 1)}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(c.status(), "4611686018427387905")) << c.status().ToString();
  EXPECT_TRUE(Contains(c.status(), "above the largest amount")) << c.status().ToString();
  EXPECT_TRUE(Contains(c.status(), "clearing 'EUR'")) << c.status().ToString();
}

TEST(Solve, RefusesAZeroObligation) {
  const auto c = Solve({"EUR", {Owes(1, 2, 0), Owes(2, 1, 1)}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(c.status(), "owes 0: must be positive")) << c.status().ToString();
}

TEST(Solve, RefusesANegativeObligation) {
  const auto c = Solve({"EUR", {Owes(1, 2, -4), Owes(2, 1, 1)}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(c.status(), "owes -4: must be positive")) << c.status().ToString();
}

TEST(Solve, RefusesAFirmOwingItself) {
  const auto c = Solve({"EUR", {Owes(1, 1, 4)}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(c.status(), "a firm cannot owe itself")) << c.status().ToString();
}

TEST(Solve, RefusesAPairGivenTwice) {
  const auto c = Solve({"EUR", {Owes(1, 2, 4), Owes(2, 1, 1), Owes(1, 2, 3)}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(c.status(), "obligation 01000000->02000000 appears twice"))
      << c.status().ToString();
}

TEST(WhatCouldBeCleared, SummarisesEachUnitInOrder) {
  const ObligationGraph graphs[] = {
      {"hours", {Owes(1, 2, 10), Owes(2, 1, 10), Owes(2, 3, 5)}},
      {"EUR", {Owes(1, 2, 5), Owes(2, 3, 3), Owes(3, 1, 7)}},
  };
  const auto s = WhatCouldBeCleared(graphs);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 2u);
  const UnitSummary& eur = (*s)[0];
  EXPECT_EQ(eur.unit, "EUR");
  EXPECT_EQ(eur.firms, 3u);
  EXPECT_EQ(eur.obligations, 3u);
  EXPECT_EQ(eur.components, 1u);
  EXPECT_EQ(eur.legs, 3u);
  EXPECT_EQ(eur.cleared, 9);
  EXPECT_DOUBLE_EQ(eur.ClearedShare(), 9.0 / 15.0);
  const UnitSummary& hours = (*s)[1];
  EXPECT_EQ(hours.unit, "hours");
  EXPECT_EQ(hours.cleared, 20);
  EXPECT_DOUBLE_EQ(hours.ClearedShare(), 20.0 / 25.0);
}

TEST(WhatCouldBeCleared, RefusesAUnitGivenTwice) {
  const ObligationGraph graphs[] = {{"EUR", {Owes(1, 2, 1)}}, {"EUR", {Owes(2, 1, 1)}}};
  const auto s = WhatCouldBeCleared(graphs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(s.status(), "unit 'EUR' is given twice")) << s.status().ToString();
}

TEST(WhatCouldBeCleared, NamesTheUnitOfARefusedGraph) {
  const ObligationGraph graphs[] = {{"EUR", {Owes(1, 2, 1)}}, {"hours", {Owes(2, 2, 1)}}};
  const auto s = WhatCouldBeCleared(graphs);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.status(), "clearing 'hours'")) << s.status().ToString();
}

TEST(UnitSummary, ShareIsZeroWhenNothingIsOwed) {
  EXPECT_EQ(UnitSummary{}.ClearedShare(), 0.0);
}

TEST(AmountText, PrintsEvery128BitValue) {
  EXPECT_EQ(AmountText(0), "0");
  EXPECT_EQ(AmountText(-1500), "-1500");
  EXPECT_EQ(AmountText(kMaxAmount), "4611686018427387904");
  const Amount min = -(Amount{1} << 126) - (Amount{1} << 126);  // -2^127
  EXPECT_EQ(AmountText(min), "-170141183460469231731687303715884105728");
}

}  // namespace
}  // namespace keiretsu::clearing
