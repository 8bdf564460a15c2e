// The feed-local walk (PROTOCOL.md 19.5-19.7): key succession, leaving,
// forks, key recovery and its window, one test per rule and per bad input.
#include "keiretsu/protocol/key_chain.h"

#include <gtest/gtest.h>

#include "governance_fixture.h"

namespace keiretsu::protocol {
namespace {

using testing::FeedOf;
using testing::GovKey;
using testing::OweBody;
using testing::RotateBody;
using testing::SignRecord;
using testing::Writer;

class KeyChainTest : public ::testing::Test {
 protected:
  Writer firm = Writer::Of(1, 2);  // inception key 1, next key 2
  PublicKey other = GovKey(50).public_key();
  std::vector<ModelRecord> recs;

  void Owe(uint64_t amount = 1) { recs.push_back(firm.Next(OweBody(firm.id, other, amount))); }
  FeedWalk Walk() {
    auto feed = FeedOf(recs);
    return WalkFeed(firm.inception(), feed);
  }
};

TEST_F(KeyChainTest, PlainFeedIsItsWholeChainUnderTheInceptionKey) {
  for (int i = 0; i < 3; ++i) Owe();
  FeedWalk w = Walk();
  EXPECT_EQ(w.effective_seq(), 3u);
  EXPECT_EQ(w.effective_id, firm.head);
  EXPECT_TRUE(w.open());
  ASSERT_EQ(w.keys.size(), 1u);
  EXPECT_EQ(w.keys[0].key, firm.id);
}

TEST_F(KeyChainTest, RotationPutsTheNewKeyInForceFromItsOwnSeq) {
  Owe();
  recs.push_back(firm.RotateTo(3));
  Owe();
  FeedWalk w = Walk();
  EXPECT_EQ(w.effective_seq(), 3u);
  ASSERT_EQ(w.keys.size(), 2u);
  EXPECT_EQ(w.keys[1].from_seq, 2u);
  EXPECT_EQ(w.KeyAt(1), firm.id);
  EXPECT_EQ(w.KeyAt(2), GovKey(2).public_key());
  EXPECT_EQ(w.KeyAt(3), GovKey(2).public_key());
  EXPECT_EQ(w.keys[1].next_key_digest, NextKeyDigest(GovKey(3).public_key()));
  EXPECT_TRUE(w.evidence.empty());
}

TEST_F(KeyChainTest, EntryAfterRotationSignedByTheOldKeyIsNotAttributable) {
  Owe();
  recs.push_back(firm.RotateTo(3));
  // Seq 3 signed by the retired inception key: no key in force verifies it.
  recs.push_back(SignRecord(firm.id, 3, firm.head, OweBody(firm.id, other, 1), GovKey(1)));
  FeedWalk w = Walk();
  EXPECT_EQ(w.effective_seq(), 2u);
  EXPECT_TRUE(w.open());
  EXPECT_TRUE(w.evidence.empty());
}

TEST_F(KeyChainTest, ThiefWithTheCurrentKeyButNotTheNextCannotRotate) {
  Owe();
  // The thief holds key 1 and makes its own key 9: D(9) is not the commitment.
  PublicKey thief_key = GovKey(9).public_key();
  recs.push_back(SignRecord(firm.id, 2, firm.head,
                            RotateBody(thief_key, NextKeyDigest(GovKey(10).public_key())),
                            GovKey(9)));
  FeedWalk w = Walk();
  EXPECT_EQ(w.effective_seq(), 1u) << "the thief's rotation is not attributable: ignored";
  EXPECT_EQ(w.keys.size(), 1u);
  EXPECT_TRUE(w.open());
}

TEST_F(KeyChainTest, RotationSignedByTheKeyItReplacesEndsTheFeed) {
  Owe();
  recs.push_back(SignRecord(
      firm.id, 2, firm.head,
      RotateBody(GovKey(2).public_key(), NextKeyDigest(GovKey(3).public_key())), GovKey(1)));
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 2u);
  EXPECT_EQ(w.stop_reason, StopReason::kInvalidEntry);
  ASSERT_EQ(w.evidence.size(), 1u);
  EXPECT_NE(w.evidence[0].reason.find("key it replaces"), std::string::npos);
}

TEST_F(KeyChainTest, RotationCommittingToAUsedKeyIsRefused) {
  Owe();
  // The next key after key 2 would be the inception key again.
  recs.push_back(firm.RotateTo(1));
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 2u);
  EXPECT_EQ(w.stop_reason, StopReason::kInvalidEntry);
  EXPECT_EQ(w.effective_seq(), 1u);
  EXPECT_EQ(w.keys.size(), 1u);
}

TEST_F(KeyChainTest, RotationCommittingToItselfIsAnInvalidBody) {
  Owe();
  recs.push_back(firm.RotateTo(2));
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_reason, StopReason::kInvalidEntry);
  EXPECT_EQ(w.stop_seq, 2u);
}

TEST_F(KeyChainTest, ASecondRotationFollowsTheNewCommitment) {
  recs.push_back(firm.RotateTo(3));
  Owe();
  recs.push_back(firm.RotateTo(4));
  Owe();
  FeedWalk w = Walk();
  EXPECT_EQ(w.effective_seq(), 4u);
  ASSERT_EQ(w.keys.size(), 3u);
  EXPECT_EQ(w.KeyAt(4), GovKey(3).public_key());
}

TEST_F(KeyChainTest, FounderWithoutACommitmentCanNeverRotate) {
  Owe();
  // Zero digest: a v1 founder. A rotate signed by any new key is nobody's.
  recs.push_back(SignRecord(
      firm.id, 2, firm.head,
      RotateBody(GovKey(2).public_key(), NextKeyDigest(GovKey(3).public_key())), GovKey(2)));
  auto feed = FeedOf(recs);
  FeedWalk w = WalkFeed({firm.id, Digest{}}, feed);
  EXPECT_EQ(w.effective_seq(), 1u);
  EXPECT_TRUE(w.open());
}

TEST_F(KeyChainTest, LeaveIsTheFinalEntry) {
  Owe();
  recs.push_back(firm.Next(testing::LeaveBody()));
  Owe();  // after the leave: ignored
  // Even a fork above the leave is nothing.
  recs.push_back(SignRecord(firm.id, 3, recs[1].feed.id, OweBody(firm.id, other, 7), GovKey(1)));
  FeedWalk w = Walk();
  EXPECT_EQ(w.left_seq, 2u);
  EXPECT_EQ(w.effective_seq(), 2u);
  EXPECT_EQ(w.stop_seq, 0u);
  EXPECT_FALSE(w.open());
}

TEST_F(KeyChainTest, TwoRecordsAtOneSeqUnderTheKeyInForceAreAFork) {
  Owe();
  Owe(1);
  auto fork = SignRecord(firm.id, 2, recs[0].feed.id, OweBody(firm.id, other, 2), GovKey(1));
  recs.push_back(fork);
  Owe();
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 2u);
  EXPECT_EQ(w.stop_reason, StopReason::kFork);
  EXPECT_EQ(w.effective_seq(), 1u);
  ASSERT_EQ(w.evidence.size(), 1u);
  EXPECT_EQ(w.evidence[0].first, std::min(recs[1].feed.id, fork.feed.id));
  EXPECT_EQ(w.evidence[0].second, std::max(recs[1].feed.id, fork.feed.id));
}

TEST_F(KeyChainTest, DuplicateRecordsAreOneRecord) {
  Owe();
  Owe();
  recs.push_back(recs[1]);
  recs.push_back(recs[0]);
  FeedWalk w = Walk();
  EXPECT_EQ(w.effective_seq(), 2u);
  EXPECT_EQ(w.stop_seq, 0u);
}

TEST_F(KeyChainTest, ACopyWithABadSignatureDoesNotHideTheGoodOne) {
  Owe();
  ModelRecord bad = recs[0];
  bad.feed.signature[5] ^= 1;
  recs.insert(recs.begin(), bad);
  FeedWalk w = Walk();
  EXPECT_EQ(w.effective_seq(), 1u);
}

TEST_F(KeyChainTest, WrongPrevEndsThePrefixWithoutStopping) {
  Owe();
  recs.push_back(
      SignRecord(firm.id, 2, EntryId{firm.id.bytes}, OweBody(firm.id, other, 1), GovKey(1)));
  FeedWalk w = Walk();
  EXPECT_EQ(w.effective_seq(), 1u);
  EXPECT_EQ(w.stop_seq, 0u);
}

TEST_F(KeyChainTest, InvalidBodyAtTheHeadEndsTheFeed) {
  Owe();
  auto bad = firm.Next(OweBody(firm.id, other, 1));
  bad.feed.body_status = InvalidArgument("amount exceeds the maximum");
  recs.push_back(bad);
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 2u);
  EXPECT_EQ(w.stop_reason, StopReason::kInvalidEntry);
  EXPECT_EQ(w.evidence[0].first, bad.feed.id);
}

TEST_F(KeyChainTest, FixedKeyFeedStopsAtAForkAboveAGapAsInV1) {
  Owe();
  Writer copy = firm;
  Owe();
  Owe();
  Owe();
  // A fork at seq 4 while seq 2 and 3 are missing.
  recs.erase(recs.begin() + 1, recs.begin() + 3);
  recs.push_back(
      SignRecord(firm.id, 4, EntryId{other.bytes}, OweBody(firm.id, other, 9), GovKey(1)));
  (void)copy;
  auto feed = FeedOf(recs);
  FeedWalk fixed = WalkFeed({firm.id, Digest{}}, feed);
  EXPECT_EQ(fixed.effective_seq(), 1u);
  EXPECT_EQ(fixed.stop_seq, 4u);
  // With a next key committed, the key above the gap is unknown: no stop yet.
  FeedWalk rotatable = Walk();
  EXPECT_EQ(rotatable.effective_seq(), 1u);
  EXPECT_EQ(rotatable.stop_seq, 0u);
}

class RecoveryTest : public KeyChainTest {
 protected:
  // The firm writes seq 1..2; a thief with key 1 writes `stolen` records
  // from seq 3; the firm rotates at 3 with its pre-committed key 2 and goes on.
  Writer Setup(uint64_t stolen) {
    Owe();
    Owe();
    Writer thief = firm;
    for (uint64_t i = 0; i < stolen; ++i) recs.push_back(thief.Next(OweBody(firm.id, other, 1000)));
    recs.push_back(firm.RotateTo(3));
    Owe();
    return thief;
  }
};

TEST_F(RecoveryTest, RotationByTheNextKeyOverridesTheThiefsBranch) {
  Setup(5);
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 0u);
  EXPECT_EQ(w.effective_seq(), 4u);
  EXPECT_EQ(w.effective_id, firm.head);
  ASSERT_EQ(w.evidence.size(), 1u);
  EXPECT_EQ(w.evidence[0].kind, EvidenceKind::kKeyRecovery);
  EXPECT_EQ(w.evidence[0].seq, 3u);
  EXPECT_EQ(w.evidence[0].first, recs[2 + 5].feed.id);
}

TEST_F(RecoveryTest, AnOldKeyRecordBeyondTheWindowMakesItAFork) {
  Writer thief = Setup(2);
  // The thief publishes one more record at seq >= 3 + W (it need not chain).
  recs.push_back(
      SignRecord(firm.id, 3 + kRecoveryWindow, thief.head, OweBody(firm.id, other, 1), GovKey(1)));
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 3u);
  EXPECT_EQ(w.stop_reason, StopReason::kFork);
  EXPECT_EQ(w.effective_seq(), 2u);
}

TEST_F(RecoveryTest, AnOldKeyRecordJustInsideTheWindowStillRecovers) {
  Writer thief = Setup(2);
  recs.push_back(SignRecord(firm.id, 3 + kRecoveryWindow - 1, thief.head,
                            OweBody(firm.id, other, 1), GovKey(1)));
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 0u);
  EXPECT_EQ(w.effective_seq(), 4u);
}

TEST_F(RecoveryTest, ARecoveryRotationNamingTheWrongPrevIsAFork) {
  Owe();
  Owe();
  Writer thief = firm;
  recs.push_back(thief.Next(OweBody(firm.id, other, 1000)));
  firm.head = EntryId{other.bytes};  // the firm's rotate names a wrong prev
  recs.push_back(firm.RotateTo(3));
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 3u);
  EXPECT_EQ(w.stop_reason, StopReason::kFork);
}

TEST_F(RecoveryTest, TwoRotationsByTheNextKeyAtOneSeqAreAFork) {
  Owe();
  Writer twin = firm;
  recs.push_back(firm.RotateTo(3));
  recs.push_back(twin.RotateTo(4));
  FeedWalk w = Walk();
  EXPECT_EQ(w.stop_seq, 2u);
  EXPECT_EQ(w.stop_reason, StopReason::kFork);
}

}  // namespace
}  // namespace keiretsu::protocol
