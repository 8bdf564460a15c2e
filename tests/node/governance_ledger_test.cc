// The ledger under protocol v2 governance (docs/PROTOCOL.md 19): admission
// by vote, early entries of an admitted firm, removal freezing a feed,
// leaving, key rotation (and a thief who holds only the current key), and
// every bad governance write refused with a clear error, changing nothing.
// Each outcome is held against protocol::RecomputeLedger over the same
// records.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "gov_network.h"
#include "temp_dir.h"

namespace keiretsu::node {
namespace {

using protocol::AdmitAction;
using protocol::Propose;
using protocol::RemoveAction;
using protocol::SetThresholdAction;
using protocol::Vote;
using testing::GovFirm;
using testing::GovLedgerKey;
using testing::SignAs;

class GovernanceLedgerTest : public ::testing::Test {
 protected:
  testing::GovNet net = testing::MakeGovNet(4, 3);
  GovFirm newcomer = GovFirm::Of("newcomer", 20, 120);
  testing::TempDir dir;
  std::vector<Bytes> all;  // every record made, in the order made

  GovFirm& F(int i) { return net.founders[static_cast<size_t>(i)]; }
  Digest H0() const { return protocol::GenesisEpochHash(net.id()); }

  Bytes Make(GovFirm& f, protocol::Body body) {
    Bytes r = SignAs(net, f, std::move(body)).record;
    all.push_back(r);
    return r;
  }
  // firm 0 proposes admitting the newcomer in epoch `h`; firms 0-2 vote.
  std::vector<Bytes> Admission(const Digest& h, uint16_t k = 3) {
    std::vector<Bytes> out;
    auto p =
        SignAs(net, F(0),
               Propose{h, 0, k, AdmitAction{newcomer.name, newcomer.id, newcomer.inception_next()},
                       "welcome"});
    out.push_back(p.record);
    for (int i = 0; i < 3; ++i) out.push_back(SignAs(net, F(i), Vote{h, 0, p.id}).record);
    all.insert(all.end(), out.begin(), out.end());
    return out;
  }
  protocol::LedgerModel Model() const {
    std::vector<protocol::ModelRecord> recs;
    for (const Bytes& r : all) recs.push_back(testing::ToModel(r));
    return protocol::RecomputeLedger(protocol::EpochZeroOf(net.genesis), recs);
  }
  static std::map<protocol::BalanceKey, protocol::Amount128> Balances(const Ledger& l) {
    std::map<protocol::BalanceKey, protocol::Amount128> out;
    auto rows = l.ListAllBalances();
    EXPECT_TRUE(rows.ok());
    for (const auto& r : *rows) out[{r.firm, r.counterparty, r.unit}] = r.net;
    return out;
  }
  void ExpectModel(const Ledger& l) {
    protocol::LedgerModel m = Model();
    EXPECT_EQ(l.StateDigest(), m.state_digest);
    EXPECT_EQ(Balances(l), m.balances);
    auto epochs = l.Epochs();
    ASSERT_EQ(epochs.size(), m.history.epochs.size());
    for (size_t e = 0; e < epochs.size(); ++e) EXPECT_EQ(epochs[e].hash, m.history.epochs[e].hash);
  }
  static void Ingest(Ledger& l, const std::vector<Bytes>& records) {
    for (const IngestResult& r : l.Ingest(records, false))
      EXPECT_NE(r.outcome, Outcome::kRejected) << r.status.ToString();
  }
};

TEST_F(GovernanceLedgerTest, AnAdmissionByVoteMakesANewMember) {
  auto l = testing::OpenGovLedger(net, dir.path());
  Ingest(*l, Admission(H0()));
  GovernanceState g = l->Governance();
  EXPECT_EQ(g.epoch, 1u);
  EXPECT_EQ(g.threshold, 3);
  ASSERT_EQ(g.members.size(), 5u);
  auto it = std::find_if(g.members.begin(), g.members.end(),
                         [&](const MemberView& m) { return m.id == newcomer.id; });
  ASSERT_NE(it, g.members.end());
  EXPECT_EQ(it->name, "newcomer");
  EXPECT_EQ(it->since_epoch, 1u);
  EXPECT_EQ(it->current_key, newcomer.id);
  ASSERT_EQ(g.proposals.size(), 1u);
  EXPECT_EQ(g.proposals[0].info.state, protocol::ProposalState::kPassed);
  EXPECT_EQ(g.proposals[0].voters.size(), 3u);
  ExpectModel(*l);
}

TEST_F(GovernanceLedgerTest, EarlyEntriesOfAnAdmittedFirmApplyOnceAdmittedInAnyOrder) {
  std::vector<Bytes> early;
  for (uint64_t a = 1; a <= 3; ++a) early.push_back(Make(newcomer, testing::Owe(F(1).id, a)));
  Bytes owed_to_newcomer = Make(F(2), testing::Owe(newcomer.id, 7));  // counterparty not yet in
  std::vector<Bytes> admission = Admission(H0());
  {  // before the admission: all kept, nothing counts
    testing::TempDir d;
    auto l = testing::OpenGovLedger(net, d.path());
    auto rs = l->Ingest(early, false);
    for (const auto& r : rs) EXPECT_EQ(r.outcome, Outcome::kPending);
    EXPECT_EQ(l->PendingCount(), 3u);
    Ingest(*l, {owed_to_newcomer});
    EXPECT_TRUE(Balances(*l).empty());
    Ingest(*l, admission);
    EXPECT_EQ(l->PendingCount(), 0u);
    EXPECT_EQ(l->Feed(newcomer.id).head_seq, 3u);
    ExpectModel(*l);
    EXPECT_FALSE(Balances(*l).empty());
  }
  std::mt19937_64 rng(7);
  for (int order = 0; order < 30; ++order) {
    std::vector<Bytes> records = all;
    std::shuffle(records.begin(), records.end(), rng);
    testing::TempDir d;
    auto l = testing::OpenGovLedger(net, d.path());
    for (const Bytes& r : records) Ingest(*l, {r});
    SCOPED_TRACE(order);
    ExpectModel(*l);
    EXPECT_EQ(l->Feed(newcomer.id).head_seq, 3u);
  }
}

TEST_F(GovernanceLedgerTest, ARemovedMembersLaterEntriesCountNowhere) {
  auto l = testing::OpenGovLedger(net, dir.path());
  Ingest(*l, {Make(F(3), testing::Owe(F(0).id, 5)), Make(F(3), testing::Owe(F(0).id, 6))});
  auto p = SignAs(net, F(0), Propose{H0(), 0, 2, RemoveAction{F(3).id, 2}, "gone"});
  all.push_back(p.record);
  std::vector<Bytes> votes;
  for (int i = 0; i < 3; ++i) votes.push_back(Make(F(i), Vote{H0(), 0, p.id}));
  Bytes later = Make(F(3), testing::Owe(F(0).id, 1000));
  Ingest(*l, {p.record, later});
  Ingest(*l, votes);
  GovernanceState g = l->Governance();
  EXPECT_EQ(g.epoch, 1u);
  auto removed = std::find_if(g.members.begin(), g.members.end(),
                              [&](const MemberView& m) { return m.id == F(3).id; });
  ASSERT_NE(removed, g.members.end());
  EXPECT_TRUE(removed->removed);
  EXPECT_EQ(removed->last_seq, 2u);
  // Its third entry is held (its feed goes on) but counts nowhere.
  EXPECT_EQ(l->Feed(F(3).id).head_seq, 3u);
  auto owed = l->GetBalance(F(0).id, F(3).id, "hours");
  ASSERT_TRUE(owed.ok());
  EXPECT_EQ(*owed, 11);
  ExpectModel(*l);
  // Its later writes are refused.
  crypto::SigningKey k3 = GovLedgerKey(F(3).key_index);
  auto w = l->Append(k3, testing::Owe(F(0).id, 1), 1);
  EXPECT_EQ(w.status().code(), Code::kFailedPrecondition) << w.status().ToString();
  // A node that learns the removal first agrees.
  testing::TempDir d2;
  auto l2 = testing::OpenGovLedger(net, d2.path());
  Ingest(*l2, votes);
  Ingest(*l2, {p.record});
  Ingest(*l2, {all[0], all[1], later});
  EXPECT_EQ(l2->StateDigest(), l->StateDigest());
  EXPECT_EQ(Balances(*l2), Balances(*l));
}

TEST_F(GovernanceLedgerTest, ALeaveEndsTheFeed) {
  auto l = testing::OpenGovLedger(net, dir.path());
  Ingest(*l, {Make(F(2), protocol::Leave{"closing"})});
  Bytes after = Make(F(2), testing::Owe(F(0).id, 3));
  auto r = l->Ingest(std::vector<Bytes>{after}, false);
  EXPECT_EQ(r[0].outcome, Outcome::kIgnored);
  EXPECT_EQ(l->Governance().members.size(), 4u);
  crypto::SigningKey k = GovLedgerKey(F(2).key_index);
  auto w = l->Append(k, testing::Owe(F(0).id, 1), 1);
  EXPECT_EQ(w.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(w.status().message().find("left"), std::string::npos);
  ExpectModel(*l);
}

TEST_F(GovernanceLedgerTest, ARotationChangesTheKeyInForceAndOldEntriesStayValid) {
  auto l = testing::OpenGovLedger(net, dir.path());
  crypto::SigningKey k0 = GovLedgerKey(F(0).key_index);
  ASSERT_TRUE(l->Append(k0, testing::Owe(F(1).id, 4), 1).ok());
  crypto::SigningKey next = GovLedgerKey(F(0).next_index);
  auto rot = l->AppendRotation(F(0).id, next, testing::DigestOfKey(300), 2);
  ASSERT_TRUE(rot.ok()) << rot.status().ToString();
  EXPECT_EQ(l->FirmOfKey(next.public_key()), F(0).id);
  EXPECT_FALSE(l->FirmOfKey(k0.public_key()).has_value());
  auto chain = l->KeyChain(F(0).id);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1].from_seq, 2u);
  EXPECT_EQ(chain[1].key, next.public_key());
  ASSERT_TRUE(l->Append(next, testing::Owe(F(1).id, 5), 3).ok());
  auto old = l->Append(k0, testing::Owe(F(1).id, 6), 4);
  EXPECT_EQ(old.status().code(), Code::kPermissionDenied);
  // A peer that has not seen the rotation takes the three records in one
  // batch, or one by one in any order: an entry signed by the new key that
  // arrives before the rotation is declined (no key it knows verifies it)
  // and taken when resent, as anti-entropy does.
  auto feed = l->ReadFeed(F(0).id, 1, 10);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), 3u);
  for (int order = 0; order < 6; ++order) {
    std::vector<Bytes> recs = *feed;
    std::mt19937_64 rng(static_cast<uint64_t>(order));
    if (order > 0) std::shuffle(recs.begin(), recs.end(), rng);
    testing::TempDir d;
    auto peer = testing::OpenGovLedger(net, d.path());
    if (order == 0) {
      Ingest(*peer, recs);
    } else {
      for (const Bytes& r : recs) {
        auto res = peer->Ingest(std::vector<Bytes>{r}, false);
        if (res[0].outcome == Outcome::kRejected) {
          EXPECT_NE(res[0].status.message().find("does not verify"), std::string::npos);
        }
      }
      EXPECT_EQ(peer->PendingCount(), 0u);
      peer->Ingest(recs, false);  // the resend
    }
    EXPECT_EQ(peer->StateDigest(), l->StateDigest());
    EXPECT_EQ(peer->Feed(F(0).id).head_seq, 3u);
  }
  all = *feed;
  ExpectModel(*l);
}

TEST_F(GovernanceLedgerTest, AThiefWithTheCurrentKeyButNotTheNextCannotRotate) {
  auto l = testing::OpenGovLedger(net, dir.path());
  const Digest before = l->StateDigest();
  crypto::SigningKey thief = GovLedgerKey(666);
  auto w = l->AppendRotation(F(0).id, thief, testing::DigestOfKey(667), 1);
  EXPECT_EQ(w.status().code(), Code::kPermissionDenied) << w.status().ToString();
  EXPECT_NE(w.status().message().find("committed to"), std::string::npos);
  // A rotate record signed by a key the firm did not commit to is not the
  // firm's: refused, nothing kept.
  GovFirm copy = F(0);
  auto forged =
      SignAs(net, copy, protocol::Rotate{thief.public_key(), testing::DigestOfKey(667)}, &thief);
  auto r = l->Ingest(std::vector<Bytes>{forged.record}, false);
  EXPECT_EQ(r[0].outcome, Outcome::kRejected);
  EXPECT_EQ(l->PendingCount(), 0u);
  EXPECT_EQ(l->StateDigest(), before);
  EXPECT_EQ(l->KeyChain(F(0).id).size(), 1u);
}

TEST_F(GovernanceLedgerTest, AKeyOnceUsedIsRefused) {
  auto l = testing::OpenGovLedger(net, dir.path());
  crypto::SigningKey next = GovLedgerKey(F(0).next_index);
  const Digest before = l->StateDigest();
  // Committing to the inception key (used) as the key after the next.
  auto w = l->AppendRotation(F(0).id, next, testing::DigestOfKey(F(0).key_index), 1);
  EXPECT_EQ(w.status().code(), Code::kInvalidArgument) << w.status().ToString();
  EXPECT_NE(w.status().message().find("used before"), std::string::npos);
  EXPECT_EQ(l->StateDigest(), before);
  // Such a record, signed by the firm's real next key, ends its feed on
  // every node (the model agrees).
  auto bad = SignAs(
      net, F(0), protocol::Rotate{next.public_key(), testing::DigestOfKey(F(0).key_index)}, &next);
  all.push_back(bad.record);
  auto r = l->Ingest(std::vector<Bytes>{bad.record}, false);
  EXPECT_EQ(r[0].outcome, Outcome::kFeedEnded);
  ExpectModel(*l);
}

// Every bad governance write: a clear error, and nothing changes.
class BadGovernanceWrite : public GovernanceLedgerTest {
 protected:
  void SetUp() override {
    l = testing::OpenGovLedger(net, dir.path());
    Ingest(*l, Admission(H0()));
    ASSERT_EQ(l->Governance().epoch, 1u);
    before = l->StateDigest();
    pending = l->PendingCount();
  }
  void ExpectRefused(const Result<protocol::SignedEntry>& w, Code code, const std::string& why) {
    EXPECT_EQ(w.status().code(), code) << w.status().ToString();
    EXPECT_NE(w.status().message().find(why), std::string::npos) << w.status().ToString();
    EXPECT_EQ(l->StateDigest(), before);
    EXPECT_EQ(l->PendingCount(), pending);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(l->Feed(F(i).id).head_seq, F(i).seq);
  }
  Digest H1() const { return l->Governance().epoch_hash; }
  crypto::SigningKey K(int i) { return GovLedgerKey(F(i).key_index); }

  std::unique_ptr<Ledger> l;
  Digest before;
  size_t pending = 0;
};

TEST_F(BadGovernanceWrite, AVoteByANonMember) {
  auto id = l->Governance().proposals[0].info.id;
  ExpectRefused(l->Append(GovLedgerKey(900), Vote{H1(), 0, id}, 1), Code::kPermissionDenied,
                "not the key in force of any member");
}
TEST_F(BadGovernanceWrite, AVoteForAStaleEpoch) {
  auto id = l->Governance().proposals[0].info.id;
  ExpectRefused(l->Append(K(3), Vote{H0(), 0, id}, 1), Code::kFailedPrecondition, "stale epoch");
}
TEST_F(BadGovernanceWrite, AProposalForAStaleEpoch) {
  ExpectRefused(l->Append(K(3), Propose{H0(), 1, 3, SetThresholdAction{}, ""}, 1),
                Code::kFailedPrecondition, "stale epoch");
}
TEST_F(BadGovernanceWrite, AVoteForAnUnknownProposal) {
  ExpectRefused(l->Append(K(3), Vote{H1(), 0, EntryId{H0().bytes}}, 1), Code::kNotFound,
                "no proposal");
}
TEST_F(BadGovernanceWrite, AThresholdAtOrBelowHalf) {
  // Five members: k = 2 is not above half.
  ExpectRefused(l->Append(K(1), Propose{H1(), 0, 2, SetThresholdAction{}, ""}, 1),
                Code::kInvalidArgument, "not above half");
}
TEST_F(BadGovernanceWrite, AThresholdAboveTheMembers) {
  ExpectRefused(l->Append(K(1), Propose{H1(), 0, 6, SetThresholdAction{}, ""}, 1),
                Code::kInvalidArgument, "at most 5");
}
TEST_F(BadGovernanceWrite, AnAdmissionOfAnExistingKey) {
  ExpectRefused(
      l->Append(K(1),
                Propose{H1(), 0, 4, AdmitAction{"again", F(2).id, testing::DigestOfKey(5)}, ""}, 1),
      Code::kAlreadyExists, "is or was a member");
}
TEST_F(BadGovernanceWrite, AnAdmissionOfAnExistingName) {
  ExpectRefused(l->Append(K(1),
                          Propose{H1(), 0, 4,
                                  AdmitAction{"FIRM2", GovLedgerKey(50).public_key(),
                                              testing::DigestOfKey(51)},
                                  ""},
                          1),
                Code::kAlreadyExists, "name");
}
TEST_F(BadGovernanceWrite, ARemovalOfANonMember) {
  ExpectRefused(
      l->Append(K(1), Propose{H1(), 0, 3, RemoveAction{GovLedgerKey(50).public_key(), 1}, ""}, 1),
      Code::kInvalidArgument, "not an active member");
}
TEST_F(BadGovernanceWrite, ARotationSignedByTheWrongKey) {
  ExpectRefused(l->AppendRotation(F(1).id, GovLedgerKey(777), testing::DigestOfKey(778), 1),
                Code::kPermissionDenied, "committed to");
}
TEST_F(BadGovernanceWrite, ARotateBodyThroughPlainAppend) {
  ExpectRefused(l->Append(K(1),
                          protocol::Rotate{GovLedgerKey(F(1).next_index).public_key(),
                                           testing::DigestOfKey(400)},
                          1),
                Code::kInvalidArgument, "AppendRotation");
}
TEST_F(BadGovernanceWrite, AnObligationToANonMember) {
  ExpectRefused(l->Append(K(1), testing::Owe(GovLedgerKey(50).public_key(), 1), 1),
                Code::kInvalidArgument, "not a member");
}

TEST_F(GovernanceLedgerTest, GovernanceSurvivesAReopen) {
  Bytes early = Make(newcomer, testing::Owe(F(1).id, 2));
  {
    auto l = testing::OpenGovLedger(net, dir.path());
    Ingest(*l, {early});
  }
  {
    auto l = testing::OpenGovLedger(net, dir.path());
    EXPECT_EQ(l->PendingCount(), 1u);
    Ingest(*l, Admission(H0()));
    EXPECT_EQ(l->Feed(newcomer.id).head_seq, 1u);
  }
  auto l = testing::OpenGovLedger(net, dir.path());
  EXPECT_EQ(l->Governance().epoch, 1u);
  EXPECT_EQ(l->Feed(newcomer.id).head_seq, 1u);
  ExpectModel(*l);
}

}  // namespace
}  // namespace keiretsu::node
