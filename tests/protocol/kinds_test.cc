// The entry-kind seam: every kind round-trips through its own description
// (KindOps), each bad body of each kind is refused on its own with a clear
// error, and the strata check what they say and nothing more.
#include <gtest/gtest.h>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/limits.h"
#include "test_network.h"

namespace keiretsu::protocol {
namespace {

using testing::FeedBuilder;

class KindsTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);
  EntryId claim_id{net.pk(2).bytes};

  Entry With(Body body, int author = 0) {
    return Entry{net.id(), net.pk(author), 1, EntryId{}, 1'790'000'000'000, std::move(body)};
  }
  // The stratum-1 verdict on `body` signed by firm0 (no membership).
  RecordCheck FeedLocal(Body body) {
    Bytes record = FeedBuilder::SignRaw(With(std::move(body)), net.key(0)).record;
    return CheckFeedLocal(record, net.id(), InceptionKeys{});
  }
  // Expects `body` to be refused by its kind's rules with `why`.
  void ExpectBad(Body body, const std::string& why) {
    EXPECT_EQ(CheckRules(With(body)).code(), Code::kInvalidArgument);
    EXPECT_NE(CheckRules(With(body)).message().find(why), std::string::npos)
        << CheckRules(With(body)).message();
    RecordCheck c = FeedLocal(body);
    EXPECT_EQ(c.fault, Fault::kInvalidBody);
    EXPECT_NE(c.status.message().find(why), std::string::npos) << c.status.message();
  }
  void ExpectRoundTrip(const Body& body, BodyKind kind, std::string_view name) {
    EXPECT_EQ(KindOf(body), kind);
    EXPECT_EQ(KindName(kind), name);
    EXPECT_TRUE(IsKnownKind(static_cast<uint8_t>(kind)));
    auto se = SignEntry(With(body), net.key(0), net.genesis);
    ASSERT_TRUE(se.ok()) << se.status().ToString();
    EXPECT_EQ(se->record[113], static_cast<uint8_t>(kind));
    RecordCheck c = FeedLocal(body);
    ASSERT_EQ(c.fault, Fault::kNone) << c.status.ToString();
    EXPECT_EQ(c.signed_entry->record, se->record);
    EXPECT_EQ(EncodeContent(c.signed_entry->entry),
              Bytes(se->content().begin(), se->content().end()));
    EXPECT_EQ(KindOf(c.signed_entry->entry.body), kind);
  }
};

TEST_F(KindsTest, ClaimRoundTrips) {
  ExpectRoundTrip(Claim{net.pk(1), 5, "kg", "steel"}, BodyKind::kClaim, "claim");
}
TEST_F(KindsTest, AcceptRoundTrips) {
  ExpectRoundTrip(Accept{claim_id, net.pk(1), 5, "kg", ""}, BodyKind::kAccept, "accept");
}
TEST_F(KindsTest, DeclineRoundTrips) {
  ExpectRoundTrip(Decline{claim_id, net.pk(1), "not ours"}, BodyKind::kDecline, "decline");
}
TEST_F(KindsTest, ObligationRoundTrips) {
  ExpectRoundTrip(Obligation{net.pk(2), kMaxAmount, "JPY", "\xe3\x81\x82"}, BodyKind::kObligation,
                  "obligation");
}
TEST_F(KindsTest, ReleaseRoundTrips) {
  ExpectRoundTrip(Release{net.pk(1), 1, "a.b_c-D", std::string(kMaxMemoBytes, 'm')},
                  BodyKind::kRelease, "release");
}

TEST_F(KindsTest, ProposeRoundTrips) {
  const Digest epoch = GenesisEpochHash(net.id());
  const PublicKey newcomer = testing::FirmKey(7).public_key();
  const Digest next = NextKeyDigest(testing::FirmKey(8).public_key());
  ExpectRoundTrip(Propose{epoch, 2, 3, AdmitAction{"echo", newcomer, next}, "welcome"},
                  BodyKind::kPropose, "propose");
  ExpectRoundTrip(Propose{epoch, 0, 2, RemoveAction{net.pk(2), 17}, ""}, BodyKind::kPropose,
                  "propose");
  ExpectRoundTrip(Propose{epoch, 1, 2, SetThresholdAction{}, "two will do"}, BodyKind::kPropose,
                  "propose");
}
TEST_F(KindsTest, VoteRoundTrips) {
  ExpectRoundTrip(Vote{GenesisEpochHash(net.id()), 4, claim_id}, BodyKind::kVote, "vote");
}
TEST_F(KindsTest, LeaveRoundTrips) {
  ExpectRoundTrip(Leave{"closing down"}, BodyKind::kLeave, "leave");
}
TEST_F(KindsTest, RotateRoundTrips) {
  ExpectRoundTrip(
      Rotate{testing::FirmKey(7).public_key(), NextKeyDigest(testing::FirmKey(8).public_key())},
      BodyKind::kRotate, "rotate");
}

TEST_F(KindsTest, TheKindListIsTheTagsOneToEleven) {
  std::vector<uint8_t> tags(std::begin(kKnownKinds), std::end(kKnownKinds));
  EXPECT_EQ(tags, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_FALSE(IsKnownKind(0));
  EXPECT_FALSE(IsKnownKind(12));
  EXPECT_FALSE(IsKnownKind(200));
  EXPECT_FALSE(IsKnownKind(255));
}

// The governance kinds' rules that need the author, through the seam.
TEST_F(KindsTest, ProposeAdmittingItsAuthorIsBad) {
  ExpectBad(Propose{GenesisEpochHash(net.id()), 0, 2,
                    AdmitAction{"self", net.pk(0), NextKeyDigest(net.pk(1))}, ""},
            "cannot admit itself");
}
TEST_F(KindsTest, RotateToTheInceptionKeyIsBad) {
  ExpectBad(Rotate{net.pk(0), NextKeyDigest(net.pk(1))}, "rotation to the firm's inception key");
}
TEST_F(KindsTest, GovernanceKindsNameNoCounterparty) {
  Vote v{GenesisEpochHash(net.id()), 0, claim_id};
  EXPECT_EQ(PartiesOf(v).author_role, AuthorRole::kMember);
  EXPECT_TRUE(PartiesOf(v).named.empty());
  EXPECT_TRUE(Counterparty(v).IsZero());
  EXPECT_TRUE(EffectsOf(With(v), claim_id).empty());
}

// Bad bodies, one test each.
TEST_F(KindsTest, ClaimWithZeroAmountIsBad) {
  ExpectBad(Claim{net.pk(1), 0, "kg", ""}, "amount must be positive");
}
TEST_F(KindsTest, ClaimAboveTheMaximumIsBad) {
  ExpectBad(Claim{net.pk(1), kMaxAmount + 1, "kg", ""}, "exceeds the maximum");
}
TEST_F(KindsTest, ClaimWithABadUnitIsBad) {
  ExpectBad(Claim{net.pk(1), 1, "k g", ""}, "unit must be");
}
TEST_F(KindsTest, ClaimAgainstItsAuthorIsBad) {
  ExpectBad(Claim{net.pk(0), 1, "kg", ""}, "cannot owe itself");
}
TEST_F(KindsTest, AcceptNamingNoClaimIsBad) {
  ExpectBad(Accept{EntryId{}, net.pk(1), 1, "kg", ""}, "accept names no claim");
}
TEST_F(KindsTest, AcceptWithAnEmptyUnitIsBad) {
  ExpectBad(Accept{claim_id, net.pk(1), 1, "", ""}, "unit must be");
}
TEST_F(KindsTest, DeclineNamingNoClaimIsBad) {
  ExpectBad(Decline{EntryId{}, net.pk(1), ""}, "decline names no claim");
}
TEST_F(KindsTest, DeclineWithAnOverlongMemoIsBad) {
  ExpectBad(Decline{claim_id, net.pk(1), std::string(kMaxMemoBytes + 1, 'm')}, "memo is 513 bytes");
}
TEST_F(KindsTest, ObligationWithBadUtf8IsBad) {
  ExpectBad(Obligation{net.pk(1), 1, "kg", "\xc0\x80"}, "not valid UTF-8");
}
TEST_F(KindsTest, ObligationToItsAuthorIsBad) {
  ExpectBad(Obligation{net.pk(0), 1, "kg", ""}, "cannot owe itself");
}
TEST_F(KindsTest, ReleaseWithA17ByteUnitIsBad) {
  ExpectBad(Release{net.pk(1), 1, std::string(17, 'u'), ""}, "unit must be");
}
TEST_F(KindsTest, ReleaseOfZeroIsBad) {
  ExpectBad(Release{net.pk(1), 0, "kg", ""}, "amount must be positive");
}

TEST_F(KindsTest, PartiesNameTheAuthorsRole) {
  EXPECT_EQ(PartiesOf(Claim{net.pk(1), 1, "kg", ""}).author_role, AuthorRole::kCreditor);
  EXPECT_EQ(PartiesOf(Release{net.pk(1), 1, "kg", ""}).author_role, AuthorRole::kCreditor);
  EXPECT_EQ(PartiesOf(Accept{claim_id, net.pk(1), 1, "kg", ""}).author_role, AuthorRole::kDebtor);
  EXPECT_EQ(PartiesOf(Decline{claim_id, net.pk(1), ""}).author_role, AuthorRole::kDebtor);
  EXPECT_EQ(PartiesOf(Obligation{net.pk(2), 1, "kg", ""}).author_role, AuthorRole::kDebtor);
  Obligation o{net.pk(2), 1, "kg", ""};
  ASSERT_EQ(PartiesOf(o).named.size(), 1u);
  EXPECT_EQ(PartiesOf(o).named[0], net.pk(2));
}

TEST_F(KindsTest, EffectsFollowTheKind) {
  const EntryId id{net.pk(1).bytes};
  EffectList claim = EffectsOf(With(Claim{net.pk(1), 7, "kg", ""}), id);
  ASSERT_EQ(claim.size(), 1u);
  EXPECT_EQ(std::get<OpensClaim>(claim[0]).debtor, net.pk(1));

  EffectList accept = EffectsOf(With(Accept{claim_id, net.pk(1), 7, "kg", ""}), id);
  ASSERT_EQ(accept.size(), 2u);
  const auto& debt = std::get<DebtChange>(accept[0]);
  EXPECT_EQ(debt.debtor, net.pk(0));
  EXPECT_EQ(debt.creditor, net.pk(1));
  EXPECT_EQ(debt.delta, 7);
  EXPECT_EQ(std::get<AnswersClaim>(accept[1]).claim, claim_id);

  EffectList release = EffectsOf(With(Release{net.pk(1), 3, "kg", ""}), id);
  ASSERT_EQ(release.size(), 1u);
  EXPECT_EQ(std::get<DebtChange>(release[0]).debtor, net.pk(1));
  EXPECT_EQ(std::get<DebtChange>(release[0]).creditor, net.pk(0));
  EXPECT_EQ(std::get<DebtChange>(release[0]).delta, -3);

  EXPECT_FALSE(EffectOf(With(Decline{claim_id, net.pk(1), ""})).has_value());
  EXPECT_EQ(EffectOf(With(Obligation{net.pk(2), 9, "kg", ""}))->delta, 9);
}

// --- Strata

// A key lookup that says another key (or none) is in force.
class FixedKey final : public KeyInForce {
 public:
  explicit FixedKey(std::optional<PublicKey> key) : key_(key) {}
  std::optional<PublicKey> KeyAt(const PublicKey&, uint64_t) const override { return key_; }

 private:
  std::optional<PublicKey> key_;
};

TEST_F(KindsTest, Stratum1VerifiesUnderTheKeyInForce) {
  Bytes record = FeedBuilder::SignRaw(With(Obligation{net.pk(1), 1, "kg", ""}), net.key(2)).record;
  // Signed by firm2's key for firm0's feed: bad under firm0's inception key,
  // good once a lookup says firm2's key is in force for that seq.
  EXPECT_EQ(CheckFeedLocal(record, net.id(), InceptionKeys{}).fault, Fault::kBadSignature);
  EXPECT_EQ(CheckFeedLocal(record, net.id(), FixedKey(net.pk(2))).fault, Fault::kNone);
}

TEST_F(KindsTest, Stratum1RefusesWhenNoKeyIsKnown) {
  Bytes record = FeedBuilder::SignRaw(With(Obligation{net.pk(1), 1, "kg", ""}), net.key(0)).record;
  RecordCheck c = CheckFeedLocal(record, net.id(), FixedKey(std::nullopt));
  EXPECT_EQ(c.fault, Fault::kUnknownKey);
  EXPECT_FALSE(c.signed_entry.has_value());
  EXPECT_NE(c.status.message().find("no key in force"), std::string::npos);
}

TEST_F(KindsTest, Stratum1NeedsNoMembership) {
  auto stranger = crypto::SigningKey::Generate();
  Entry e = With(Obligation{crypto::SigningKey::Generate().public_key(), 1, "kg", ""});
  e.author = stranger.public_key();
  RecordCheck c =
      CheckFeedLocal(FeedBuilder::SignRaw(e, stranger).record, net.id(), InceptionKeys{});
  EXPECT_EQ(c.fault, Fault::kNone) << c.status.ToString();
}

TEST_F(KindsTest, Stratum2KeepsAStrangersEntryPending) {
  auto stranger = crypto::SigningKey::Generate();
  Entry e = With(Obligation{net.pk(1), 1, "kg", ""});
  e.author = stranger.public_key();
  RecordCheck c =
      CheckFeedLocal(FeedBuilder::SignRaw(e, stranger).record, net.id(), InceptionKeys{});
  CheckMembership(c, GenesisMembership(net.genesis));
  EXPECT_EQ(c.fault, Fault::kUnknownAuthor);
  EXPECT_TRUE(c.signed_entry.has_value());
}

TEST_F(KindsTest, Stratum2RefusesANonMemberCounterparty) {
  RecordCheck c = FeedLocal(Obligation{crypto::SigningKey::Generate().public_key(), 1, "kg", ""});
  ASSERT_EQ(c.fault, Fault::kNone);
  CheckMembership(c, GenesisMembership(net.genesis));
  EXPECT_EQ(c.fault, Fault::kInvalidBody);
  EXPECT_NE(c.status.message().find("is not a member"), std::string::npos);
}

TEST_F(KindsTest, Stratum2LeavesAnUnknownKindToTheUpgrade) {
  Bytes content = EncodeContent(With(Obligation{net.pk(1), 1, "kg", ""}));
  content[113] = 200;
  content.push_back(0x42);  // a body this build cannot read
  auto sig = net.key(0).Sign(SigningMessage(content));
  content.insert(content.end(), sig.begin(), sig.end());
  RecordCheck c = CheckFeedLocal(content, net.id(), InceptionKeys{});
  ASSERT_EQ(c.fault, Fault::kUnknownKind);
  CheckMembership(c, GenesisMembership(net.genesis));
  EXPECT_EQ(c.fault, Fault::kUnknownKind);
  EXPECT_EQ(c.kind_tag, 200);
}

}  // namespace
}  // namespace keiretsu::protocol
