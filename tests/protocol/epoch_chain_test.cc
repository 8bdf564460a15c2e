// The epoch chain (PROTOCOL.md 19.8-19.10): one test per rule and per bad
// governance input.
#include "keiretsu/protocol/epoch_chain.h"

#include <gtest/gtest.h>

#include "epoch_fixture.h"

namespace keiretsu::protocol {
namespace {

using testing::GovHistory;

TEST(EpochChain, EpochZeroIsTheGenesis) {
  GovHistory g(3, 2);
  EpochHistory h = g.Run();
  ASSERT_EQ(h.epochs.size(), 1u);
  EXPECT_EQ(h.current().hash, g.h0());
  EXPECT_EQ(h.current().threshold, 2);
  EXPECT_EQ(h.current().ActiveCount(), 3u);
}

TEST(EpochChain, AdmitPassesWithThresholdVotes) {
  GovHistory g(3, 2);
  EntryId p = g.Admit(0, g.h0(), 0, 10, 3);
  g.Vote(0, g.h0(), 0, p);
  EXPECT_EQ(g.Run().epochs.size(), 1u) << "one vote of two needed";
  EXPECT_EQ(g.Run().proposals.at(p).state, ProposalState::kPending);
  g.Vote(1, g.h0(), 0, p);
  EpochHistory h = g.Run();
  ASSERT_EQ(h.epochs.size(), 2u);
  const Epoch& e1 = h.current();
  EXPECT_EQ(e1.number, 1u);
  EXPECT_EQ(e1.hash, NextEpochHash(g.h0(), p));
  EXPECT_EQ(e1.threshold, 3);
  EXPECT_EQ(e1.passed, p);
  const EpochMember* m = e1.Find(GovHistory::M(10));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->since_epoch, 1u);
  EXPECT_EQ(m->name, "new10");
  EXPECT_EQ(h.proposals.at(p).state, ProposalState::kPassed);
  EXPECT_EQ(h.proposals.at(p).supporters, 2u);
}

TEST(EpochChain, AnAdmittedMemberVotesInLaterEpochs) {
  GovHistory g(2, 2);
  EntryId p = g.Admit(0, g.h0(), 0, 10, 2);
  g.Vote(0, g.h0(), 0, p);
  g.Vote(1, g.h0(), 0, p);
  Digest h1 = NextEpochHash(g.h0(), p);
  EntryId q = g.SetThreshold(10, h1, 0, 3);
  g.Vote(10, h1, 0, q);
  g.Vote(0, h1, 0, q);
  EpochHistory h = g.Run();
  ASSERT_EQ(h.epochs.size(), 3u);
  EXPECT_EQ(h.current().threshold, 3);
}

TEST(EpochChain, AVoteByANonMemberDoesNotCount) {
  GovHistory g(3, 2);
  EntryId p = g.Admit(0, g.h0(), 0, 10, 3);
  g.Vote(0, g.h0(), 0, p);
  g.Vote(77, g.h0(), 0, p);  // never a member
  EpochHistory h = g.Run();
  EXPECT_EQ(h.epochs.size(), 1u);
  EXPECT_EQ(g.source.asked.size(), 3u) << "a non-member's feed is never read";
}

TEST(EpochChain, AVoteForAStaleEpochDoesNotCount) {
  GovHistory g(3, 2);
  EntryId p = g.Admit(0, g.h0(), 0, 10, 3);
  g.Vote(0, g.h0(), 0, p);
  g.Vote(1, g.h0(), 0, p);
  Digest h1 = NextEpochHash(g.h0(), p);
  EntryId q = g.SetThreshold(0, h1, 0, 4);
  g.Vote(0, h1, 0, q);
  g.Vote(1, g.h0(), 0, q);  // names epoch 0: stale
  g.Vote(2, h1, 1, q);      // names another round
  EpochHistory h = g.Run();
  EXPECT_EQ(h.epochs.size(), 2u);
  EXPECT_EQ(h.proposals.at(q).supporters, 1u);
}

TEST(EpochChain, AProposalNamingAStaleEpochIsVoid) {
  GovHistory g(3, 2);
  EntryId p = g.Admit(0, g.h0(), 0, 10, 3);
  EntryId stale = g.Admit(1, g.h0(), 1, 11, 3);
  g.Vote(0, g.h0(), 0, p);
  g.Vote(1, g.h0(), 0, p);
  EpochHistory h = g.Run();
  ASSERT_EQ(h.epochs.size(), 2u);
  EXPECT_EQ(h.proposals.at(stale).state, ProposalState::kVoid);
  EntryId unknown = g.SetThreshold(0, Digest{p.bytes}, 0, 2);
  h = g.Run();
  EXPECT_EQ(h.proposals.at(unknown).state, ProposalState::kVoid);
  EXPECT_EQ(h.proposals.at(unknown).why, "names no epoch of the chain");
}

TEST(EpochChain, OnlyAMembersFirstVoteOfARoundCounts) {
  GovHistory g(3, 2);
  EntryId a = g.Admit(0, g.h0(), 0, 10, 3);
  EntryId b = g.Admit(1, g.h0(), 0, 11, 3);
  g.Vote(0, g.h0(), 0, a);
  g.Vote(0, g.h0(), 0, b);  // second vote of member 0 in round 0: ignored
  g.Vote(1, g.h0(), 0, b);
  EpochHistory h = g.Run();
  EXPECT_EQ(h.epochs.size(), 1u);
  EXPECT_EQ(h.proposals.at(b).supporters, 1u);
  EXPECT_EQ(h.proposals.at(b).state, ProposalState::kPending) << "member 2 is undecided";
  g.Vote(2, g.h0(), 0, b);
  h = g.Run();
  ASSERT_EQ(h.epochs.size(), 2u);
  EXPECT_EQ(h.current().passed, b);
  EXPECT_EQ(h.proposals.at(a).state, ProposalState::kFailed);
}

TEST(EpochChain, AVoteBelowARoundAlreadyVotedInDoesNotCount) {
  GovHistory g(3, 2);
  EntryId p0 = g.Admit(0, g.h0(), 0, 10, 3);
  EntryId p1 = g.Admit(0, g.h0(), 1, 11, 3);
  g.Vote(1, g.h0(), 1, p1);
  g.Vote(1, g.h0(), 0, p0);  // after a round-1 vote: abandoned
  g.Vote(2, g.h0(), 0, p0);
  EpochHistory h = g.Run();
  EXPECT_EQ(h.epochs.size(), 1u) << "p0 has one counting vote";
}

TEST(EpochChain, AFailedRoundLetsTheNextRoundDecide) {
  GovHistory g(3, 2);
  EntryId a = g.Admit(0, g.h0(), 0, 10, 3);
  EntryId b = g.Admit(1, g.h0(), 0, 11, 3);
  EntryId c = g.Admit(2, g.h0(), 0, 12, 3);
  EntryId d = g.SetThreshold(0, g.h0(), 1, 3);
  g.Vote(0, g.h0(), 1, d);
  EpochHistory h = g.Run();
  EXPECT_EQ(h.epochs.size(), 1u);
  EXPECT_EQ(h.proposals.at(a).state, ProposalState::kPending) << "members 1 and 2 undecided";
  g.Vote(1, g.h0(), 0, b);
  g.Vote(2, g.h0(), 0, c);  // one vote each: round 0 can no longer pass
  h = g.Run();
  EXPECT_EQ(h.epochs.size(), 1u);
  EXPECT_EQ(h.proposals.at(b).state, ProposalState::kFailed);
  EXPECT_EQ(h.proposals.at(d).state, ProposalState::kPending);
  g.Vote(1, g.h0(), 1, d);
  h = g.Run();
  ASSERT_EQ(h.epochs.size(), 2u);
  EXPECT_EQ(h.current().passed, d);
  EXPECT_EQ(h.proposals.at(a).state, ProposalState::kFailed);
  EXPECT_EQ(h.proposals.at(c).state, ProposalState::kFailed);
}

TEST(EpochChain, ARoundWithNoProposalFailsOnceEnoughMembersMovedOn) {
  GovHistory g(3, 2);
  EntryId d = g.SetThreshold(0, g.h0(), 2, 3);
  g.Vote(0, g.h0(), 2, d);
  g.Vote(1, g.h0(), 2, d);
  EpochHistory h = g.Run();
  ASSERT_EQ(h.epochs.size(), 2u) << "rounds 0 and 1 hold nothing and 2 of 3 moved to round 2";
  EXPECT_EQ(h.current().passed, d);
}

TEST(EpochChain, ThresholdAtOrBelowHalfIsVoid) {
  GovHistory g(4, 3);
  EntryId half = g.SetThreshold(0, g.h0(), 0, 2);
  EntryId above = g.SetThreshold(0, g.h0(), 0, 5);
  EntryId admit_low = g.Admit(1, g.h0(), 0, 10, 2);  // n' = 5: k' must be >= 3
  EpochHistory h = g.Run();
  EXPECT_EQ(h.proposals.at(half).state, ProposalState::kVoid);
  EXPECT_NE(h.proposals.at(half).why.find("threshold 2"), std::string::npos);
  EXPECT_EQ(h.proposals.at(above).state, ProposalState::kVoid);
  EXPECT_EQ(h.proposals.at(admit_low).state, ProposalState::kVoid);
}

TEST(EpochChain, AdmissionOfAnExistingKeyOrNameIsVoid) {
  GovHistory g(3, 2);
  EntryId same_key = g.Admit(0, g.h0(), 0, 2, 3);
  EntryId same_name = g.Admit(0, g.h0(), 0, 10, 3, "FIRM1");
  EpochHistory h = g.Run();
  EXPECT_EQ(h.proposals.at(same_key).state, ProposalState::kVoid);
  EXPECT_EQ(h.proposals.at(same_key).why, "admits a firm that is or was a member");
  EXPECT_EQ(h.proposals.at(same_name).state, ProposalState::kVoid);
}

TEST(EpochChain, ARemovedFirmIsNeverAdmittedAgain) {
  GovHistory g(3, 2);
  EntryId rm = g.Remove(0, g.h0(), 0, 2, 5, 2);
  g.Vote(0, g.h0(), 0, rm);
  g.Vote(1, g.h0(), 0, rm);
  Digest h1 = NextEpochHash(g.h0(), rm);
  EntryId back = g.Admit(0, h1, 0, 2, 2, "firm2-again");
  EpochHistory h = g.Run();
  ASSERT_EQ(h.epochs.size(), 2u);
  const EpochMember* m = h.current().Find(GovHistory::M(2));
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->removed);
  EXPECT_EQ(m->last_seq, 5u);
  EXPECT_EQ(m->removed_in_epoch, 1u);
  EXPECT_EQ(h.current().ActiveCount(), 2u);
  EXPECT_EQ(h.proposals.at(back).state, ProposalState::kVoid);
  EXPECT_TRUE(h.EverMember(GovHistory::M(2)));
}

TEST(EpochChain, RemovalOfANonMemberOrTheLastMemberIsVoid) {
  GovHistory g(1, 1);
  EntryId last = g.Remove(0, g.h0(), 0, 0, 1, 1);
  EntryId stranger = g.Remove(0, g.h0(), 0, 9, 1, 1);
  EpochHistory h = g.Run();
  EXPECT_EQ(h.proposals.at(last).why, "removes the last member");
  EXPECT_EQ(h.proposals.at(stranger).why, "removes a firm that is not an active member");
}

TEST(EpochChain, ARemovedMembersLaterVotesAndProposalsDoNotCount) {
  GovHistory g(3, 2);
  EntryId rm = g.Remove(0, g.h0(), 0, 2, 0, 2);
  g.Vote(0, g.h0(), 0, rm);
  g.Vote(2, g.h0(), 0, rm);  // the removed member's own vote counts in epoch 0
  Digest h1 = NextEpochHash(g.h0(), rm);
  EntryId p = g.Admit(2, h1, 0, 10, 2);
  g.Vote(2, h1, 0, p);
  g.Vote(0, h1, 0, p);
  EpochHistory h = g.Run();
  ASSERT_EQ(h.epochs.size(), 2u);
  EXPECT_EQ(h.proposals.at(p).state, ProposalState::kVoid);
  EXPECT_NE(h.proposals.at(p).why.find("not an active member"), std::string::npos);
}

TEST(EpochChain, ALeftOrStoppedMemberIsDecided) {
  GovHistory g(3, 2);
  EntryId a = g.Admit(0, g.h0(), 0, 10, 3);
  EntryId b = g.Admit(1, g.h0(), 0, 11, 3);
  g.Vote(0, g.h0(), 0, a);
  g.Vote(1, g.h0(), 0, b);
  EntryId c = g.SetThreshold(0, g.h0(), 1, 3);
  g.Vote(0, g.h0(), 1, c);
  g.Vote(1, g.h0(), 1, c);
  EXPECT_EQ(g.Run().epochs.size(), 1u) << "member 2 could still make a or b pass";
  g.Close(2);  // member 2 left (or its feed stopped)
  EpochHistory h = g.Run();
  ASSERT_EQ(h.epochs.size(), 2u);
  EXPECT_EQ(h.current().passed, c);
}

TEST(EpochChain, AVoteForAnUnknownProposalIsStillTheBallot) {
  GovHistory g(3, 2);
  EntryId p = g.Admit(0, g.h0(), 0, 10, 3);
  g.Vote(1, g.h0(), 0, EntryId{g.h0().bytes});  // names nothing known
  g.Vote(1, g.h0(), 0, p);                      // its second vote: ignored
  g.Vote(0, g.h0(), 0, p);
  EpochHistory h = g.Run();
  EXPECT_EQ(h.epochs.size(), 1u);
  g.Vote(2, g.h0(), 0, p);
  EXPECT_EQ(g.Run().epochs.size(), 2u);
}

TEST(EpochChain, ProposalsOfHigherRoundsThanTheWinnerAreVoid) {
  GovHistory g(3, 2);
  EntryId p = g.Admit(0, g.h0(), 0, 10, 3);
  EntryId later = g.SetThreshold(1, g.h0(), 5, 3);
  g.Vote(0, g.h0(), 0, p);
  g.Vote(1, g.h0(), 0, p);
  EpochHistory h = g.Run();
  EXPECT_EQ(h.proposals.at(later).state, ProposalState::kVoid);
  EXPECT_EQ(h.proposals.at(later).why, "a proposal of a lower round passed first");
}

TEST(EpochChain, ProposalByANonMemberIsVoid) {
  GovHistory g(2, 2);
  EntryId p = g.Admit(0, g.h0(), 0, 10, 2);
  g.Vote(0, g.h0(), 0, p);
  g.Vote(1, g.h0(), 0, p);
  // The newcomer proposes for epoch 0, where it was not a member.
  EntryId early = g.SetThreshold(10, g.h0(), 0, 2);
  EpochHistory h = g.Run();
  EXPECT_EQ(h.proposals.at(early).state, ProposalState::kVoid);
  EXPECT_EQ(h.proposals.at(early).why, "its author was not an active member of that epoch");
}

}  // namespace
}  // namespace keiretsu::protocol
