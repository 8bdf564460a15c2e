// Clearing outcomes (docs/PROTOCOL.md 20.3-20.5): a three-firm cycle set off
// when all three accept in time, and not when one rejects, lets the expiry
// pass, forks around its vote, or when the proposal is stale. Each outcome
// is computed by the reference (protocol::RecomputeLedger) and held against
// a ledger that ingested the same records.
#include <gtest/gtest.h>

#include "clearing_fixture.h"
#include "temp_dir.h"

namespace keiretsu::node {
namespace {

using protocol::ClearingStance;
using protocol::ClearingState;

class ClearingOutcomeTest : public ::testing::Test, public testing::ClearingNet {
 protected:
  static constexpr uint64_t kExpiry = kT0 + 1'000;
  EntryId proposal;

  // firm0 owes firm1, firm1 owes firm2, firm2 owes firm0, 10 hours each;
  // firm0 proposes setting the cycle off by `amount`.
  void CycleProposed(uint64_t amount = 10) {
    Owe(0, 1, 10);
    Owe(1, 2, 10);
    Owe(2, 0, 10);
    proposal = Write(0, Proposal({{0, 1, amount}, {1, 2, amount}, {2, 0, amount}}, kExpiry)).id;
  }
  ClearingState StateOf(const protocol::LedgerModel& m) const {
    auto it = m.clearing.proposals.find(proposal);
    EXPECT_NE(it, m.clearing.proposals.end());
    return it == m.clearing.proposals.end() ? ClearingState::kVoid : it->second.state;
  }
  // The ledger that ingests every record made (one batch, then one by one
  // in reverse order) ends where the model does.
  void ExpectLedgerAgrees() {
    protocol::LedgerModel m = Model();
    for (bool reversed : {false, true}) {
      testing::TempDir dir;
      auto l = testing::OpenGovLedger(net, dir.path());
      if (reversed) {
        for (auto it = all.rbegin(); it != all.rend(); ++it)
          l->Ingest(std::vector<Bytes>{*it}, false);
      } else {
        l->Ingest(all, false);
      }
      EXPECT_EQ(Balances(*l), m.balances) << (reversed ? "reversed" : "in order");
      EXPECT_EQ(l->StateDigest(), m.state_digest);
    }
  }
};

TEST_F(ClearingOutcomeTest, AllAcceptingInTimeCommitsAndKeepsNetPositions) {
  CycleProposed();
  const auto before = Model();
  EXPECT_EQ(Net(before, 1, 0), 10);
  for (int i : {2, 1, 0}) VoteOn(i, proposal, true);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kCommitted);
  EXPECT_TRUE(m.balances.empty());  // every leg was the whole debt
  EXPECT_EQ(NetPositions(m.balances), NetPositions(before.balances));
  ASSERT_EQ(m.clearing.set_offs.size(), 3u);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, APartialSetOffLeavesTheRestAndNetPositions) {
  CycleProposed(4);
  Owe(0, 3, 9);  // firm3 is no participant
  const auto before = Model();
  for (int i : {0, 1, 2}) VoteOn(i, proposal, true);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kCommitted);
  EXPECT_EQ(Net(m, 1, 0), 6);
  EXPECT_EQ(Net(m, 2, 1), 6);
  EXPECT_EQ(Net(m, 0, 2), 6);
  EXPECT_EQ(Net(m, 3, 0), 9);
  EXPECT_EQ(NetPositions(m.balances), NetPositions(before.balances));
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, OneMissingVoteLeavesItPending) {
  CycleProposed();
  VoteOn(0, proposal, true);
  VoteOn(1, proposal, true);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kPending);
  EXPECT_EQ(Net(m, 1, 0), 10);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, ARejectionEndsItAndALaterAcceptDoesNotCount) {
  CycleProposed();
  VoteOn(0, proposal, true);
  VoteOn(1, proposal, false);
  VoteOn(1, proposal, true);  // not its first vote: does not count
  VoteOn(2, proposal, true);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kRejected);
  const auto& stances = m.clearing.proposals.at(proposal).stances;
  EXPECT_EQ(std::count(stances.begin(), stances.end(), ClearingStance::kRejected), 1);
  EXPECT_EQ(std::count(stances.begin(), stances.end(), ClearingStance::kAccepted), 2);
  EXPECT_EQ(Net(m, 1, 0), 10);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, AnEntryAfterTheExpiryByANonAccepterExpiresIt) {
  CycleProposed();
  VoteOn(0, proposal, true);
  VoteOn(1, proposal, true);
  Owe(2, 3, 1);  // dated kT0 + seq: still in time
  Write(2, protocol::Obligation{Id(3), 1, "hours", ""}, kExpiry + 1);
  VoteOn(2, proposal, true, kExpiry + 2);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kExpired);
  EXPECT_EQ(Net(m, 1, 0), 10);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, AnAcceptDatedAfterTheExpiryDoesNotCount) {
  CycleProposed();
  VoteOn(0, proposal, true);
  VoteOn(1, proposal, true);
  VoteOn(2, proposal, true, kExpiry + 1);
  EXPECT_EQ(StateOf(Model()), ClearingState::kExpired);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, AnAccepterWritingAfterTheExpiryDoesNotExpireIt) {
  CycleProposed();
  VoteOn(0, proposal, true, kExpiry);  // exactly at the expiry: in time
  Write(0, protocol::Obligation{Id(3), 1, "hours", ""}, kExpiry + 5);
  VoteOn(1, proposal, true);
  VoteOn(2, proposal, true);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kCommitted);
  EXPECT_EQ(Net(m, 1, 0), 0);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, AStaleProposalOneUnitAboveWhatIsOwedHasNoEffect) {
  CycleProposed(11);
  for (int i : {0, 1, 2}) VoteOn(i, proposal, true);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kVoid);
  EXPECT_EQ(Net(m, 1, 0), 10);
  EXPECT_EQ(Net(m, 2, 1), 10);
  EXPECT_EQ(Net(m, 0, 2), 10);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, WhatIsOwedIsCountedAtTheNamedHeadsOnly) {
  Owe(0, 1, 10);
  Owe(1, 2, 10);
  Owe(2, 0, 10);
  // Named heads: before firm0 owes firm1 one more hour.
  protocol::ClearingPropose p = Proposal({{0, 1, 11}, {1, 2, 11}, {2, 0, 11}}, kExpiry);
  Owe(0, 1, 1);
  Owe(1, 2, 1);
  Owe(2, 0, 1);
  proposal = Write(0, p).id;
  for (int i : {0, 1, 2}) VoteOn(i, proposal, true);
  EXPECT_EQ(StateOf(Model()), ClearingState::kVoid);  // 11 > 10 owed at the heads
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, AHeadNotInItsFeedVoidsIt) {
  Owe(0, 1, 10);
  Owe(1, 2, 10);
  Owe(2, 0, 10);
  protocol::ClearingPropose p = Proposal({{0, 1, 5}, {1, 2, 5}, {2, 0, 5}}, kExpiry);
  for (auto& h : p.participants)
    if (h.firm == Id(1)) h.head_id = EntryId{Id(3).bytes};  // no such entry at that seq
  proposal = Write(0, p).id;
  for (int i : {0, 1, 2}) VoteOn(i, proposal, true);
  EXPECT_EQ(StateOf(Model()), ClearingState::kVoid);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, AHeadBeyondItsFeedLeavesItPending) {
  Owe(0, 1, 10);
  Owe(1, 2, 10);
  Owe(2, 0, 10);
  protocol::ClearingPropose p = Proposal({{0, 1, 5}, {1, 2, 5}, {2, 0, 5}}, kExpiry);
  for (auto& h : p.participants)
    if (h.firm == Id(2)) h.head_seq += 50;  // firm2 never wrote that far
  proposal = Write(0, p).id;
  for (int i : {0, 1, 2}) VoteOn(i, proposal, true);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kPending);
  EXPECT_EQ(Net(m, 1, 0), 10);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, VotesOfNonParticipantsCountForNothing) {
  CycleProposed();
  VoteOn(3, proposal, false);
  for (int i : {0, 1, 2}) VoteOn(i, proposal, true);
  EXPECT_EQ(StateOf(Model()), ClearingState::kCommitted);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, AParticipantForkingAroundItsVoteBlocksTheSetOff) {
  CycleProposed();
  VoteOn(0, proposal, true);
  VoteOn(1, proposal, true);
  // firm2 signs two different records at one seq: its accept, and a reject.
  protocol::SignedEntry reject =
      Sibling(2, protocol::ClearingVote{proposal, protocol::ClearingDecision::kReject});
  VoteOn(2, proposal, true);
  ASSERT_EQ(reject.entry.seq, F(2).seq);
  const auto m = Model();
  // The fork stops firm2's feed at its vote's seq: no vote of it counts.
  EXPECT_EQ(m.feeds.at(Id(2)).walk.stop_seq, F(2).seq);
  EXPECT_EQ(StateOf(m), ClearingState::kPending);
  EXPECT_EQ(Net(m, 1, 0), 10);
  ExpectLedgerAgrees();
}

TEST_F(ClearingOutcomeTest, AForkLearntAfterTheCommitUndoesTheSetOff) {
  CycleProposed();
  const testing::GovFirm before_vote = F(1);
  for (int i : {0, 1, 2}) VoteOn(i, proposal, true);
  testing::TempDir dir;
  auto l = testing::OpenGovLedger(net, dir.path());
  l->Ingest(all, false);
  EXPECT_TRUE(Balances(*l).empty());
  // firm1 turns out to have signed another record at its vote's seq.
  const testing::GovFirm saved = F(1);
  F(1) = before_vote;
  auto other = Sibling(1, protocol::Leave{"other"});
  F(1) = saved;
  l->Ingest(std::vector<Bytes>{other.record}, false);
  const auto m = Model();
  EXPECT_EQ(StateOf(m), ClearingState::kPending);
  EXPECT_EQ(Balances(*l), m.balances);
  EXPECT_EQ(l->StateDigest(), m.state_digest);
  EXPECT_EQ(Net(m, 1, 0), 10);
}

// A proposal breaking a stateless rule (20.2) is the author's fault: it
// ends the author's feed there, and nothing else changes.
TEST_F(ClearingOutcomeTest, AProposalThatIsNoCirculationEndsItsAuthorsFeed) {
  Owe(0, 1, 10);
  Owe(1, 2, 10);
  Owe(2, 0, 10);
  protocol::ClearingPropose p = Proposal({{0, 1, 5}, {1, 2, 4}, {2, 0, 5}}, kExpiry);
  testing::GovFirm& f = F(0);
  protocol::Entry e{net.id(), f.id, f.seq + 1, f.head, kT0 + 50, p};
  Bytes record = protocol::EncodeContent(e);
  auto sig = testing::GovLedgerKey(f.key_index).Sign(protocol::SigningMessage(record));
  record.insert(record.end(), sig.begin(), sig.end());
  testing::TempDir dir;
  auto l = testing::OpenGovLedger(net, dir.path());
  l->Ingest(all, false);
  const auto before = Balances(*l);
  auto rs = l->Ingest(std::vector<Bytes>{record}, false);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].outcome, Outcome::kFeedEnded);
  EXPECT_NE(rs[0].status.message().find("not a circulation"), std::string::npos)
      << rs[0].status.ToString();
  EXPECT_EQ(l->Feed(Id(0)).stop_seq, f.seq + 1);
  EXPECT_EQ(Balances(*l), before);
  all.push_back(record);
  EXPECT_EQ(l->StateDigest(), Model().state_digest);
}

TEST_F(ClearingOutcomeTest, TheLedgerReopensWithItsSetOffs) {
  CycleProposed(3);
  for (int i : {0, 1, 2}) VoteOn(i, proposal, true);
  testing::TempDir dir;
  {
    auto l = testing::OpenGovLedger(net, dir.path());
    l->Ingest(all, false);
  }
  auto l = testing::OpenGovLedger(net, dir.path());
  Owe(0, 1, 2);  // a later round recomputes: the set-off must not apply twice
  l->Ingest(std::vector<Bytes>{all.back()}, false);
  const auto m = Model();
  EXPECT_EQ(Net(m, 1, 0), 9);
  EXPECT_EQ(Balances(*l), m.balances);
}

}  // namespace
}  // namespace keiretsu::node
