// All three strata from scratch (PROTOCOL.md 19.11): admission, removal,
// leaving and the counterparty rule as they reach balances and the digest.
#include "keiretsu/protocol/ledger_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "governance_fixture.h"

namespace keiretsu::protocol {
namespace {

using testing::OweBody;
using testing::ProposeBody;
using testing::VoteBody;
using testing::Writer;

class LedgerModelTest : public ::testing::Test {
 protected:
  // Founders 0..2 (keys 1, 2, 3; next keys 101..103), threshold 2;
  // newcomer key 20 (next 120).
  std::vector<Writer> firms = {Writer::Of(1, 101), Writer::Of(2, 102), Writer::Of(3, 103)};
  Writer newcomer = Writer::Of(20, 120);
  std::vector<ModelRecord> recs;
  EpochZero zero;

  void SetUp() override {
    zero.network = testing::GovNetwork();
    zero.threshold = 2;
    for (size_t i = 0; i < firms.size(); ++i)
      zero.members.push_back(
          {firms[i].id, "firm" + std::to_string(i), firms[i].inception().next_key_digest, 0});
  }
  Digest h0() const { return GenesisEpochHash(zero.network); }

  EntryId Propose(size_t by, ProposalAction action, uint16_t k) {
    recs.push_back(firms[by].Next(ProposeBody({h0(), 0, k, std::move(action), ""})));
    return recs.back().feed.id;
  }
  void VoteFor(size_t by, const EntryId& p) {
    recs.push_back(firms[by].Next(VoteBody({h0(), 0, p})));
  }
  EntryId AdmitNewcomer() {
    EntryId p =
        Propose(0, AdmitAction{"newco", newcomer.id, newcomer.inception().next_key_digest}, 3);
    VoteFor(0, p);
    VoteFor(1, p);
    return p;
  }
  Amount128 Net(const PublicKey& firm, const PublicKey& other, const LedgerModel& m) {
    auto it = m.balances.find({firm, other, "hours"});
    return it == m.balances.end() ? 0 : it->second;
  }
  LedgerModel Run() { return RecomputeLedger(zero, recs); }
};

TEST_F(LedgerModelTest, EarlyEntriesOfAnAdmittedFirmCountOnceAdmitted) {
  recs.push_back(newcomer.Next(OweBody(newcomer.id, firms[0].id, 30)));
  recs.push_back(newcomer.Next(OweBody(newcomer.id, firms[0].id, 12)));
  LedgerModel before = Run();
  EXPECT_EQ(before.pending_authors.at(newcomer.id), 2u);
  EXPECT_TRUE(before.balances.empty());
  AdmitNewcomer();
  LedgerModel after = Run();
  EXPECT_TRUE(after.pending_authors.empty());
  EXPECT_EQ(after.history.epochs.size(), 2u);
  EXPECT_EQ(Net(firms[0].id, newcomer.id, after), 42);
  EXPECT_EQ(Net(newcomer.id, firms[0].id, after), -42);
}

TEST_F(LedgerModelTest, ACounterpartyNotYetAMemberTakesEffectOnAdmission) {
  recs.push_back(firms[2].Next(OweBody(firms[2].id, newcomer.id, 9)));
  EXPECT_TRUE(Run().balances.empty());
  EXPECT_EQ(Run().feeds.at(firms[2].id).counted_seq, 1u) << "counted, without effect";
  AdmitNewcomer();
  EXPECT_EQ(Net(newcomer.id, firms[2].id, Run()), 9);
}

TEST_F(LedgerModelTest, ARemovedMembersEntriesAboveLastSeqCountForNothing) {
  for (uint64_t i = 1; i <= 4; ++i)
    recs.push_back(firms[2].Next(OweBody(firms[2].id, firms[0].id, i)));
  EntryId p = Propose(0, RemoveAction{firms[2].id, 2}, 2);
  VoteFor(0, p);
  EXPECT_EQ(Net(firms[0].id, firms[2].id, Run()), 10) << "not removed yet";
  VoteFor(1, p);
  LedgerModel m = Run();
  EXPECT_EQ(Net(firms[0].id, firms[2].id, m), 3) << "entries 1 and 2 keep their effect";
  EXPECT_EQ(m.feeds.at(firms[2].id).counted_seq, 2u);
  EXPECT_EQ(m.feeds.at(firms[2].id).walk.effective_seq(), 4u);
}

TEST_F(LedgerModelTest, EntriesAfterALeaveCountForNothing) {
  recs.push_back(firms[1].Next(OweBody(firms[1].id, firms[0].id, 5)));
  recs.push_back(firms[1].Next(testing::LeaveBody()));
  recs.push_back(firms[1].Next(OweBody(firms[1].id, firms[0].id, 7)));
  LedgerModel m = Run();
  EXPECT_EQ(Net(firms[0].id, firms[1].id, m), 5);
  EXPECT_EQ(m.feeds.at(firms[1].id).walk.left_seq, 2u);
  EXPECT_EQ(m.history.current().ActiveCount(), 3u) << "a leave alone changes no epoch";
}

TEST_F(LedgerModelTest, DigestIsV1InEpochZeroAndCoversTheEpochAfter) {
  recs.push_back(firms[0].Next(OweBody(firms[0].id, firms[1].id, 5)));
  LedgerModel m0 = Run();
  std::vector<FeedHeadSummary> heads = {{firms[0].id, 1, firms[0].head, 0}};
  EXPECT_EQ(m0.state_digest, StateDigest(zero.network, heads));
  EntryId p = AdmitNewcomer();
  LedgerModel m1 = Run();
  heads = {{firms[0].id, 3, firms[0].head, 0}, {firms[1].id, 1, firms[1].head, 0}};
  EXPECT_EQ(m1.state_digest, StateDigestV2(zero.network, 1, NextEpochHash(h0(), p), heads));
  EXPECT_NE(m1.state_digest, StateDigest(zero.network, heads));
}

TEST_F(LedgerModelTest, TheNewcomerCanRotateWithItsAdmittedCommitment) {
  AdmitNewcomer();
  recs.push_back(newcomer.RotateTo(121));
  recs.push_back(newcomer.Next(OweBody(newcomer.id, firms[1].id, 4)));
  LedgerModel m = Run();
  ASSERT_EQ(m.feeds.at(newcomer.id).walk.keys.size(), 2u);
  EXPECT_EQ(Net(firms[1].id, newcomer.id, m), 4);
}

TEST_F(LedgerModelTest, ArrivalOrderChangesNothing) {
  recs.push_back(newcomer.Next(OweBody(newcomer.id, firms[0].id, 30)));
  AdmitNewcomer();
  recs.push_back(firms[2].Next(OweBody(firms[2].id, newcomer.id, 9)));
  recs.push_back(recs[1]);  // a duplicate
  // firm 2 forks at its seq 1 (undoing its 9 to the newcomer); the newcomer
  // rotates after a theft of its first key (recovery).
  recs.push_back(testing::SignRecord(firms[2].id, 1, EntryId{},
                                     OweBody(firms[2].id, firms[0].id, 77), testing::GovKey(3)));
  Writer thief = newcomer;
  recs.push_back(thief.Next(OweBody(newcomer.id, firms[2].id, 500)));
  recs.push_back(newcomer.RotateTo(121));
  recs.push_back(newcomer.Next(OweBody(newcomer.id, firms[2].id, 5)));
  LedgerModel want = Run();
  EXPECT_EQ(want.feeds.at(firms[2].id).walk.stop_reason, StopReason::kFork);
  EXPECT_EQ(Net(firms[2].id, newcomer.id, want), 5) << "the thief's 500 is overridden";
  EXPECT_EQ(want.history.epochs.size(), 2u);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::shuffle(recs.begin(), recs.end(), rng);
    LedgerModel got = Run();
    ASSERT_EQ(got.state_digest, want.state_digest);
    ASSERT_EQ(got.balances, want.balances);
    ASSERT_EQ(got.history.current().hash, want.history.current().hash);
  }
}

}  // namespace
}  // namespace keiretsu::protocol
