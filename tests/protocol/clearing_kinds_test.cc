// The clearing kinds (docs/PROTOCOL.md 20.2) through the entry-kind seam:
// each round-trips byte for byte, its layout is the one the section gives,
// and each bad body is refused on its own with a clear error.
#include <gtest/gtest.h>

#include <algorithm>

#include "keiretsu/clearing/checks.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/limits.h"
#include "test_network.h"

namespace keiretsu::protocol {
namespace {

using testing::FeedBuilder;

class ClearingKindsTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(4);
  EntryId some_id{net.pk(3).bytes};

  Entry With(Body body, int author = 0) {
    return Entry{net.id(), net.pk(author), 1, EntryId{}, 1'790'000'000'000, std::move(body)};
  }
  RecordCheck FeedLocal(Body body) {
    Bytes record = FeedBuilder::SignRaw(With(std::move(body)), net.key(0)).record;
    return CheckFeedLocal(record, net.id(), InceptionKeys{});
  }
  void ExpectBad(Body body, const std::string& why) {
    Status s = CheckRules(With(body));
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
    RecordCheck c = FeedLocal(body);
    EXPECT_EQ(c.fault, Fault::kInvalidBody);
    EXPECT_NE(c.status.message().find(why), std::string::npos) << c.status.message();
  }
  // Participants 0..n-1 of the network, sorted by key, as heads at seq 0.
  std::vector<ClearingHead> Heads(int n) {
    std::vector<ClearingHead> h;
    for (int i = 0; i < n; ++i) h.push_back({net.pk(i), 0, EntryId{}});
    std::sort(h.begin(), h.end(), [](const auto& a, const auto& b) { return a.firm < b.firm; });
    return h;
  }
  // A 3-cycle of `amount` over firms 0..2: index i owes index i+1.
  ClearingPropose Cycle(uint64_t amount = 5) {
    ClearingPropose p{"hours", 1'790'000'100'000, Heads(3), {}};
    p.participants[1].head_seq = 4;
    p.participants[1].head_id = some_id;
    p.legs = {{0, 1, amount}, {1, 2, amount}, {2, 0, amount}};
    return p;
  }
};

TEST_F(ClearingKindsTest, ProposalRoundTrips) {
  ClearingPropose p = Cycle();
  auto se = SignEntry(With(p), net.key(0), net.genesis);
  ASSERT_TRUE(se.ok()) << se.status().ToString();
  EXPECT_EQ(se->record[113], 10);
  RecordCheck c = FeedLocal(p);
  ASSERT_EQ(c.fault, Fault::kNone) << c.status.ToString();
  EXPECT_EQ(c.signed_entry->record, se->record);
  EXPECT_EQ(std::get<ClearingPropose>(c.signed_entry->entry.body), p);
  EXPECT_EQ(KindName(KindOf(p)), "clearing-propose");
  EXPECT_EQ(SummaryOf(p).amount, 15u);
  EXPECT_EQ(SummaryOf(p).unit, "hours");
}

// A proposal whose record would pass the 1,024-byte limit is refused before
// it is signed: peers would refuse it as malformed (check 1).
TEST_F(ClearingKindsTest, ProposalAboveTheRecordLimitIsNotSigned) {
  testing::TestNetwork big = testing::MakeNetwork(12);
  ClearingPropose p{"hours", 1'790'000'100'000, {}, {}};
  for (int i = 0; i < 12; ++i) p.participants.push_back({big.pk(i), 0, EntryId{}});
  std::sort(p.participants.begin(), p.participants.end(),
            [](const auto& a, const auto& b) { return a.firm < b.firm; });
  int author = 0;
  while (p.participants[0].firm != big.pk(author)) ++author;
  for (uint8_t i = 0; i < 12; ++i) p.legs.push_back({i, static_cast<uint8_t>((i + 1) % 12), 5});
  const Entry e{big.id(), big.pk(author), 1, EntryId{}, 1'790'000'000'000, p};
  ASSERT_TRUE(CheckRules(e).ok()) << CheckRules(e).ToString();
  for (auto se : {SignEntryUnder(e, big.key(author)), SignEntry(e, big.key(author), big.genesis)}) {
    ASSERT_FALSE(se.ok());
    EXPECT_EQ(se.status().code(), Code::kInvalidArgument);
    EXPECT_NE(se.status().message().find("above the limit of 1024 bytes"), std::string::npos)
        << se.status().message();
  }
}

TEST_F(ClearingKindsTest, ProposalLayoutIsSection20) {
  ClearingPropose p = Cycle();
  Bytes content = EncodeContent(With(p));
  // 114 header + 1+5 unit + 8 expiry + 1 + 3*72 heads + 1 + 3*10 legs.
  ASSERT_EQ(content.size(), 114u + 6 + 8 + 1 + 216 + 1 + 30);
  EXPECT_EQ(content[114], 5);
  EXPECT_EQ(std::string(content.begin() + 115, content.begin() + 120), "hours");
  ByteReader r(ByteView(content).subspan(120));
  EXPECT_EQ(r.U64(), p.expiry_ms);
  EXPECT_EQ(r.U8(), 3);
  EXPECT_EQ(PublicKey{r.H32()}, p.participants[0].firm);
  EXPECT_EQ(r.U64(), 0u);
  EXPECT_TRUE(EntryId{r.H32()}.IsZero());
  EXPECT_EQ(PublicKey{r.H32()}, p.participants[1].firm);
  EXPECT_EQ(r.U64(), 4u);
  EXPECT_EQ(EntryId{r.H32()}, some_id);
  r.Raw(72);
  EXPECT_EQ(r.U8(), 3);
  EXPECT_EQ(r.U8(), 0);
  EXPECT_EQ(r.U8(), 1);
  EXPECT_EQ(r.U64(), 5u);
}

TEST_F(ClearingKindsTest, VoteRoundTripsAndIs33Bytes) {
  for (ClearingDecision d : {ClearingDecision::kAccept, ClearingDecision::kReject}) {
    ClearingVote v{some_id, d};
    auto se = SignEntry(With(v), net.key(0), net.genesis);
    ASSERT_TRUE(se.ok()) << se.status().ToString();
    EXPECT_EQ(se->record[113], 11);
    EXPECT_EQ(se->record.size(), 114u + 33 + 64);
    EXPECT_EQ(se->record[114 + 32], static_cast<uint8_t>(d));
    RecordCheck c = FeedLocal(v);
    ASSERT_EQ(c.fault, Fault::kNone) << c.status.ToString();
    EXPECT_EQ(std::get<ClearingVote>(c.signed_entry->entry.body), v);
  }
  EXPECT_EQ(KindName(BodyKind::kClearingVote), "clearing-vote");
}

TEST_F(ClearingKindsTest, ClearingKindsHaveNoEntryEffectAndNoNamedParty) {
  ClearingPropose p = Cycle();
  ClearingVote v{some_id, ClearingDecision::kAccept};
  EXPECT_EQ(PartiesOf(p).author_role, AuthorRole::kParticipant);
  EXPECT_TRUE(PartiesOf(p).named.empty());
  EXPECT_EQ(PartiesOf(v).author_role, AuthorRole::kParticipant);
  EXPECT_TRUE(EffectsOf(With(p), some_id).empty());
  EXPECT_TRUE(EffectsOf(With(v), some_id).empty());
  EXPECT_TRUE(Counterparty(p).IsZero());
}

// The body rule agrees with the solver module's own check.
TEST_F(ClearingKindsTest, CirculationRuleAgreesWithClearingChecks) {
  ClearingPropose p = Cycle(7);
  std::vector<clearing::Leg> legs;
  for (const ClearingLeg& l : p.legs)
    legs.push_back({p.participants[l.debtor].firm, p.participants[l.creditor].firm, l.amount});
  EXPECT_TRUE(clearing::IsCirculation(legs).ok());
  EXPECT_TRUE(CheckRules(With(p)).ok());
  legs[0].amount += 1;
  p.legs[0].amount += 1;
  EXPECT_FALSE(clearing::IsCirculation(legs).ok());
  EXPECT_FALSE(CheckRules(With(p)).ok());
}

// Bad bodies, one test each (rules 1-8 of 20.2, and the vote's).
TEST_F(ClearingKindsTest, ProposalWithABadUnitIsBad) {
  ClearingPropose p = Cycle();
  p.unit = "h rs";
  ExpectBad(p, "unit must be");
}
TEST_F(ClearingKindsTest, ProposalWithOneParticipantIsBad) {
  ClearingPropose p{"hours", 1, {{net.pk(0), 0, EntryId{}}}, {{0, 0, 1}, {0, 0, 1}}};
  ExpectBad(p, "at least 2 participants");
}
TEST_F(ClearingKindsTest, ProposalWithUnsortedParticipantsIsBad) {
  ClearingPropose p = Cycle();
  std::swap(p.participants[0], p.participants[1]);
  ExpectBad(p, "strictly ascending by key");
}
TEST_F(ClearingKindsTest, ProposalWithARepeatedParticipantIsBad) {
  ClearingPropose p = Cycle();
  p.participants[2] = p.participants[1];
  ExpectBad(p, "strictly ascending by key");
}
TEST_F(ClearingKindsTest, ProposalWithAZeroParticipantIsBad) {
  ClearingPropose p = Cycle();
  p.participants.insert(p.participants.begin(), ClearingHead{PublicKey{}, 0, EntryId{}});
  for (ClearingLeg& l : p.legs) ++l.debtor, ++l.creditor;
  ExpectBad(p, "is zero");
}
TEST_F(ClearingKindsTest, ProposalWithAHeadIdAtSeqZeroIsBad) {
  ClearingPropose p = Cycle();
  p.participants[0].head_id = some_id;
  ExpectBad(p, "zero id exactly at seq 0");
}
TEST_F(ClearingKindsTest, ProposalWithAZeroHeadIdAboveSeqZeroIsBad) {
  ClearingPropose p = Cycle();
  p.participants[1].head_id = EntryId{};
  ExpectBad(p, "zero id exactly at seq 0");
}
TEST_F(ClearingKindsTest, ProposalByANonParticipantIsBad) {
  ClearingPropose p = Cycle();
  std::vector<ClearingHead> h;
  for (int i = 1; i <= 3; ++i) h.push_back({net.pk(i), 0, EntryId{}});
  std::sort(h.begin(), h.end(), [](const auto& a, const auto& b) { return a.firm < b.firm; });
  p.participants = h;
  ExpectBad(p, "proposer is not a clearing participant");
}
TEST_F(ClearingKindsTest, ProposalWithOneLegIsBad) {
  ClearingPropose p = Cycle();
  p.legs = {{0, 1, 5}};
  ExpectBad(p, "at least 2 legs");
}
TEST_F(ClearingKindsTest, ProposalWithALegOutOfRangeIsBad) {
  ClearingPropose p = Cycle();
  p.legs[2].debtor = 3;
  ExpectBad(p, "names no participant");
}
TEST_F(ClearingKindsTest, ProposalWithASelfLegIsBad) {
  ClearingPropose p = Cycle();
  p.legs = {{0, 0, 5}, {0, 1, 5}, {1, 2, 5}, {2, 0, 5}};
  ExpectBad(p, "same debtor and creditor");
}
TEST_F(ClearingKindsTest, ProposalWithUnsortedLegsIsBad) {
  ClearingPropose p = Cycle();
  std::swap(p.legs[0], p.legs[2]);
  ExpectBad(p, "strictly ascending by (debtor, creditor)");
}
TEST_F(ClearingKindsTest, ProposalWithADuplicatePairIsBad) {
  ClearingPropose p = Cycle();
  p.legs = {{0, 1, 2}, {0, 1, 3}, {1, 2, 5}, {2, 0, 5}};
  ExpectBad(p, "strictly ascending by (debtor, creditor)");
}
TEST_F(ClearingKindsTest, ProposalWithAZeroLegIsBad) {
  ClearingPropose p = Cycle(0);
  ExpectBad(p, "amount must be positive");
}
TEST_F(ClearingKindsTest, ProposalWithALegAboveTheMaximumIsBad) {
  ClearingPropose p = Cycle(kMaxAmount + 1);
  ExpectBad(p, "exceeds the maximum");
}
TEST_F(ClearingKindsTest, ProposalWithAnIdleParticipantIsBad) {
  ClearingPropose p{"hours", 1, Heads(4), {}};
  p.legs = {{0, 1, 5}, {1, 2, 5}, {2, 0, 5}};
  ExpectBad(p, "is in no leg");
}
TEST_F(ClearingKindsTest, ProposalThatIsNoCirculationIsBad) {
  ClearingPropose p = Cycle();
  p.legs[1].amount = 4;
  ExpectBad(p, "not a circulation");
}
TEST_F(ClearingKindsTest, ProposalTruncatedIsBad) {
  Bytes content = EncodeContent(With(Cycle()));
  content.resize(content.size() - 3);
  auto sig = net.key(0).Sign(SigningMessage(content));
  content.insert(content.end(), sig.begin(), sig.end());
  RecordCheck c = CheckFeedLocal(content, net.id(), InceptionKeys{});
  EXPECT_EQ(c.fault, Fault::kInvalidBody);
  EXPECT_NE(c.status.message().find("truncated"), std::string::npos) << c.status.message();
}
TEST_F(ClearingKindsTest, VoteNamingNoProposalIsBad) {
  ExpectBad(ClearingVote{EntryId{}, ClearingDecision::kAccept}, "names no proposal");
}
TEST_F(ClearingKindsTest, VoteWithAnUnknownDecisionIsBad) {
  ExpectBad(ClearingVote{some_id, static_cast<ClearingDecision>(3)},
            "neither 1 (accept) nor 2 (reject)");
}
TEST_F(ClearingKindsTest, VoteWithATrailingByteIsBad) {
  Bytes content = EncodeContent(With(ClearingVote{some_id, ClearingDecision::kAccept}));
  content.push_back(0);
  auto sig = net.key(0).Sign(SigningMessage(content));
  content.insert(content.end(), sig.begin(), sig.end());
  RecordCheck c = CheckFeedLocal(content, net.id(), InceptionKeys{});
  EXPECT_EQ(c.fault, Fault::kInvalidBody);
  EXPECT_NE(c.status.message().find("trailing"), std::string::npos) << c.status.message();
}

}  // namespace
}  // namespace keiretsu::protocol
