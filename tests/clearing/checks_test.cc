// The checks a proposal passes: one test per defect, each with its own code
// and message.
#include "keiretsu/clearing/checks.h"

#include <gtest/gtest.h>

#include "clearing_support.h"

namespace keiretsu::clearing {
namespace {

using testing::Contains;
using testing::Owes;
using testing::SetsOff;

const std::vector<Leg> kTriangle = {SetsOff(1, 2, 3), SetsOff(2, 3, 3), SetsOff(3, 1, 3)};
const ObligationGraph kOwed = {"EUR", {Owes(1, 2, 5), Owes(2, 3, 3), Owes(3, 1, 7)}};

void ExpectRefused(const Status& s, Code code, const std::string& text) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_TRUE(Contains(s, text)) << s.ToString();
}

TEST(IsCirculation, AcceptsACycleInAnyOrder) {
  EXPECT_TRUE(IsCirculation(kTriangle).ok());
  const std::vector<Leg> shuffled = {kTriangle[2], kTriangle[0], kTriangle[1]};
  EXPECT_TRUE(IsCirculation(shuffled).ok());
}

TEST(IsCirculation, AcceptsTwoCyclesThroughOneFirm) {
  const std::vector<Leg> legs = {SetsOff(1, 2, 2), SetsOff(2, 1, 1), SetsOff(2, 3, 1),
                                 SetsOff(3, 1, 1)};
  EXPECT_TRUE(IsCirculation(legs).ok()) << IsCirculation(legs).ToString();
}

TEST(IsCirculation, RefusesNoLegs) {
  ExpectRefused(IsCirculation({}), Code::kInvalidArgument, "needs at least one leg");
}

TEST(IsCirculation, RefusesAZeroAmount) {
  const std::vector<Leg> legs = {SetsOff(1, 2, 0), SetsOff(2, 1, 0)};
  ExpectRefused(IsCirculation(legs), Code::kInvalidArgument,
                "leg 01000000->02000000 sets off 0: must be positive");
}

TEST(IsCirculation, RefusesANegativeAmount) {
  const std::vector<Leg> legs = {SetsOff(1, 2, -2), SetsOff(2, 1, -2)};
  ExpectRefused(IsCirculation(legs), Code::kInvalidArgument, "sets off -2: must be positive");
}

TEST(IsCirculation, RefusesAnAmountAboveTheLargest) {
  const std::vector<Leg> legs = {SetsOff(1, 2, kMaxAmount + 1), SetsOff(2, 1, kMaxAmount + 1)};
  ExpectRefused(IsCirculation(legs), Code::kInvalidArgument, "above the largest amount");
}

TEST(IsCirculation, RefusesAFirmSettingOffWithItself) {
  const std::vector<Leg> legs = {SetsOff(1, 1, 2)};
  ExpectRefused(IsCirculation(legs), Code::kInvalidArgument, "a firm cannot owe itself");
}

TEST(IsCirculation, RefusesAPairTwice) {
  const std::vector<Leg> legs = {SetsOff(1, 2, 1), SetsOff(2, 1, 2), SetsOff(1, 2, 1)};
  ExpectRefused(IsCirculation(legs), Code::kInvalidArgument,
                "leg 01000000->02000000 appears twice");
}

TEST(IsCirculation, RefusesLegsThatMoveANetPosition) {
  const std::vector<Leg> legs = {SetsOff(1, 2, 3), SetsOff(2, 3, 3), SetsOff(3, 1, 2)};
  ExpectRefused(IsCirculation(legs), Code::kInvalidArgument,
                "not a circulation: firm 01000000 is debtor on legs summing to 3 but creditor on "
                "legs summing to 2");
}

TEST(LegsWithinOwed, AcceptsLegsUpToWhatIsOwed) {
  EXPECT_TRUE(LegsWithinOwed({"EUR", kTriangle}, kOwed).ok());
}

TEST(LegsWithinOwed, RefusesALegOneAboveWhatIsOwed) {
  // A stale proposal: 2 owes 3 only 3 now.
  const SetOff stale = {"EUR", {SetsOff(1, 2, 4), SetsOff(2, 3, 4), SetsOff(3, 1, 4)}};
  ExpectRefused(LegsWithinOwed(stale, kOwed), Code::kFailedPrecondition,
                "leg 02000000->03000000 sets off 4 but only 3 is owed");
}

TEST(LegsWithinOwed, RefusesALegOnAPairThatOwesNothing) {
  const SetOff reversed = {"EUR", {SetsOff(2, 1, 1), SetsOff(1, 2, 1)}};
  ExpectRefused(LegsWithinOwed(reversed, kOwed), Code::kFailedPrecondition,
                "02000000 owes 01000000 nothing in 'EUR'");
}

TEST(LegsWithinOwed, RefusesMixedUnits) {
  ExpectRefused(LegsWithinOwed({"hours", kTriangle}, kOwed), Code::kInvalidArgument,
                "the set-off is in unit 'hours' but the obligations are in 'EUR': mixed units");
}

TEST(LegsWithinOwed, RefusesMalformedLegs) {
  ExpectRefused(LegsWithinOwed({"EUR", {}}, kOwed), Code::kInvalidArgument,
                "needs at least one leg");
}

TEST(LegsWithinOwed, RefusesAMalformedGraph) {
  const ObligationGraph bad = {"EUR", {Owes(1, 2, 5), Owes(1, 2, 5)}};
  ExpectRefused(LegsWithinOwed({"EUR", kTriangle}, bad), Code::kInvalidArgument,
                "obligation 01000000->02000000 appears twice in unit 'EUR'");
}

TEST(JointlyWithinOwed, AcceptsWhenTheSumFits) {
  const SetOff first = {"EUR", {SetsOff(1, 2, 2), SetsOff(2, 3, 2), SetsOff(3, 1, 2)}};
  const SetOff second = {"EUR", {SetsOff(1, 2, 1), SetsOff(2, 3, 1), SetsOff(3, 1, 1)}};
  const SetOff accepted[] = {first};
  EXPECT_TRUE(JointlyWithinOwed(second, accepted, kOwed).ok());
  EXPECT_TRUE(JointlyWithinOwed(second, {}, kOwed).ok());
}

TEST(JointlyWithinOwed, RefusesTwoSetOffsThatTogetherExceedWhatIsOwed) {
  // Each alone fits; together 2->3 would be set off 4 of 3.
  const SetOff first = {"EUR", {SetsOff(1, 2, 2), SetsOff(2, 3, 2), SetsOff(3, 1, 2)}};
  const SetOff accepted[] = {first};
  ASSERT_TRUE(LegsWithinOwed(first, kOwed).ok());
  ExpectRefused(JointlyWithinOwed(first, accepted, kOwed), Code::kFailedPrecondition,
                "together with 1 accepted set-off(s), 02000000->03000000 would be set off 4 but "
                "only 3 is owed");
}

TEST(JointlyWithinOwed, RefusesAnAcceptedSetOffOfAnotherUnit) {
  const SetOff other = {"hours", kTriangle};
  const SetOff accepted[] = {other};
  ExpectRefused(JointlyWithinOwed({"EUR", kTriangle}, accepted, kOwed), Code::kInvalidArgument,
                "accepted set-off #0 is in unit 'hours'");
}

TEST(JointlyWithinOwed, RefusesAMalformedAcceptedSetOff) {
  const SetOff empty = {"EUR", {}};
  const SetOff accepted[] = {empty};
  ExpectRefused(JointlyWithinOwed({"EUR", kTriangle}, accepted, kOwed), Code::kInvalidArgument,
                "accepted set-off #0: a set-off needs at least one leg");
}

TEST(JointlyWithinOwed, RefusesACandidateAboveWhatIsOwedAlone) {
  const SetOff big = {"EUR", {SetsOff(1, 2, 4), SetsOff(2, 3, 4), SetsOff(3, 1, 4)}};
  ExpectRefused(JointlyWithinOwed(big, {}, kOwed), Code::kFailedPrecondition,
                "sets off 4 but only 3 is owed");
}

TEST(CheckObligationGraph, AcceptsBothDirectionsOfAPair) {
  EXPECT_TRUE(CheckObligationGraph({"EUR", {Owes(1, 2, 5), Owes(2, 1, 5)}}).ok());
  EXPECT_TRUE(CheckObligationGraph({"EUR", {}}).ok());
}

}  // namespace
}  // namespace keiretsu::clearing
