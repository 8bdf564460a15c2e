// Governance bodies (PROTOCOL.md 19.3): byte layout, round trips, and one
// test per stateless rule.
#include <gtest/gtest.h>

#include "governance_fixture.h"
#include "keiretsu/protocol/governance.h"

namespace keiretsu::protocol {
namespace {

using testing::GovKey;

template <class T>
Bytes Encode(const T& b) {
  Bytes out;
  ByteWriter w(&out);
  KindOps<T>::Encode(b, w);
  return out;
}
template <class T>
T RoundTrip(const T& b) {
  Bytes bytes = Encode(b);
  ByteReader r(bytes);
  auto got = KindOps<T>::Decode(r);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  return *got;
}

const PublicKey kAuthor = GovKey(1).public_key();
const PublicKey kNewFirm = GovKey(2).public_key();
const Digest kNext = NextKeyDigest(GovKey(3).public_key());
const Digest kEpoch = GenesisEpochHash(testing::GovNetwork());

Propose Admit() {
  return Propose{kEpoch, 7, 3, AdmitAction{"echo-freight", kNewFirm, kNext}, "new partner"};
}

TEST(GovernanceCodec, ProposeAdmitLayout) {
  Bytes b = Encode(Admit());
  // epoch 32, round 4, action 1, threshold 2, key 32, digest 32, name 1+12, memo 2+11
  ASSERT_EQ(b.size(), 32u + 4 + 1 + 2 + 32 + 32 + 13 + 13);
  EXPECT_EQ(Bytes(b.begin(), b.begin() + 32), Bytes(kEpoch.bytes.begin(), kEpoch.bytes.end()));
  EXPECT_EQ(b[35], 7);  // round, big-endian
  EXPECT_EQ(b[36], 1);  // admit
  EXPECT_EQ(b[38], 3);  // threshold low byte
  EXPECT_EQ(Bytes(b.begin() + 39, b.begin() + 71),
            Bytes(kNewFirm.bytes.begin(), kNewFirm.bytes.end()));
  Propose got = RoundTrip(Admit());
  const auto& a = std::get<AdmitAction>(got.action);
  EXPECT_EQ(a.name, "echo-freight");
  EXPECT_EQ(a.inception_key, kNewFirm);
  EXPECT_EQ(a.next_key_digest, kNext);
  EXPECT_EQ(got.round, 7u);
  EXPECT_EQ(got.threshold, 3);
  EXPECT_EQ(got.memo, "new partner");
}

TEST(GovernanceCodec, ProposeRemoveAndSetThresholdRoundTrip) {
  Propose rm{kEpoch, 0, 2, RemoveAction{kNewFirm, 41}, ""};
  EXPECT_EQ(Encode(rm).size(), 32u + 4 + 1 + 2 + 32 + 8 + 2);
  auto got = RoundTrip(rm);
  EXPECT_EQ(std::get<RemoveAction>(got.action).last_seq, 41u);
  Propose st{kEpoch, 1, 4, SetThresholdAction{}, "x"};
  EXPECT_EQ(Encode(st).size(), 32u + 4 + 1 + 2 + 3);
  EXPECT_TRUE(std::holds_alternative<SetThresholdAction>(RoundTrip(st).action));
}

TEST(GovernanceCodec, VoteLeaveRotateLayouts) {
  Vote v{kEpoch, 2, EntryId{kNext.bytes}};
  EXPECT_EQ(Encode(v).size(), 68u);
  EXPECT_EQ(RoundTrip(v).proposal_id, v.proposal_id);
  EXPECT_EQ(Encode(Leave{"done"}).size(), 6u);
  EXPECT_EQ(RoundTrip(Leave{"done"}).memo, "done");
  Rotate rot{kNewFirm, kNext};
  EXPECT_EQ(Encode(rot).size(), 64u);
  EXPECT_EQ(RoundTrip(rot).new_key, kNewFirm);
}

TEST(GovernanceCodec, UnknownActionIsRefused) {
  Bytes b = Encode(Admit());
  b[36] = 4;
  ByteReader r(b);
  auto got = KindOps<Propose>::Decode(r);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("unknown proposal action 4"), std::string::npos);
}

TEST(GovernanceCodec, TruncatedBodyLeavesTheReaderFailed) {
  Bytes b = Encode(Vote{kEpoch, 2, EntryId{kNext.bytes}});
  b.pop_back();
  ByteReader r(b);
  (void)KindOps<Vote>::Decode(r);
  EXPECT_FALSE(r.ok());
}

TEST(GovernanceCodec, HashesFollowTheirDefinitions) {
  Bytes nk(AsBytes(std::string_view("keiretsu/v2/next-key")).begin(),
           AsBytes(std::string_view("keiretsu/v2/next-key")).end());
  nk.insert(nk.end(), kNewFirm.bytes.begin(), kNewFirm.bytes.end());
  EXPECT_EQ(NextKeyDigest(kNewFirm).bytes, crypto::Blake2b256(nk));
  NetworkId net = testing::GovNetwork();
  Bytes e0(AsBytes(std::string_view("keiretsu/v2/epoch")).begin(),
           AsBytes(std::string_view("keiretsu/v2/epoch")).end());
  e0.insert(e0.end(), net.bytes.begin(), net.bytes.end());
  EXPECT_EQ(GenesisEpochHash(net).bytes, crypto::Blake2b256(e0));
  EntryId p{kNext.bytes};
  Bytes e1(AsBytes(std::string_view("keiretsu/v2/epoch")).begin(),
           AsBytes(std::string_view("keiretsu/v2/epoch")).end());
  e1.insert(e1.end(), kEpoch.bytes.begin(), kEpoch.bytes.end());
  e1.insert(e1.end(), p.bytes.begin(), p.bytes.end());
  EXPECT_EQ(NextEpochHash(kEpoch, p).bytes, crypto::Blake2b256(e1));
}

// The rule broken by `p`, which must be refused.
std::string Refusal(const Propose& p) {
  Status s = KindOps<Propose>::CheckBody(p, kAuthor);
  EXPECT_FALSE(s.ok());
  return std::string(s.message());
}

TEST(GovernanceRules, AValidAdmitPasses) {
  EXPECT_TRUE(KindOps<Propose>::CheckBody(Admit(), kAuthor).ok());
}

TEST(GovernanceRules, ThresholdOutOfRange) {
  Propose p = Admit();
  p.threshold = 0;
  EXPECT_NE(Refusal(p).find("threshold 0"), std::string::npos);
  p.threshold = 1025;
  EXPECT_NE(Refusal(p).find("threshold 1025"), std::string::npos);
}

TEST(GovernanceRules, AdmitWithABadName) {
  Propose p = Admit();
  std::get<AdmitAction>(p.action).name = "echo freight";
  EXPECT_NE(Refusal(p).find("name"), std::string::npos);
  std::get<AdmitAction>(p.action).name = "";
  EXPECT_NE(Refusal(p).find("name"), std::string::npos);
}

TEST(GovernanceRules, AdmitOfTheAuthorItself) {
  Propose p = Admit();
  std::get<AdmitAction>(p.action).inception_key = kAuthor;
  EXPECT_NE(Refusal(p).find("cannot admit itself"), std::string::npos);
}

TEST(GovernanceRules, AdmitOfAKeyThatIsNoUsablePoint) {
  Propose p = Admit();
  std::get<AdmitAction>(p.action).inception_key = PublicKey{};  // the identity: small order
  EXPECT_NE(Refusal(p).find("usable"), std::string::npos);
}

TEST(GovernanceRules, AdmitWithoutANextKey) {
  Propose p = Admit();
  std::get<AdmitAction>(p.action).next_key_digest = Digest{};
  EXPECT_NE(Refusal(p).find("must not be zero"), std::string::npos);
  std::get<AdmitAction>(p.action).next_key_digest = NextKeyDigest(kNewFirm);
  EXPECT_NE(Refusal(p).find("new key"), std::string::npos);
}

TEST(GovernanceRules, RemoveNamingNoMember) {
  Propose p{kEpoch, 0, 1, RemoveAction{PublicKey{}, 3}, ""};
  EXPECT_NE(Refusal(p).find("names no member"), std::string::npos);
}

TEST(GovernanceRules, MemoTooLongOrNotUtf8) {
  Propose p = Admit();
  p.memo = std::string(513, 'a');
  EXPECT_NE(Refusal(p).find("513 bytes"), std::string::npos);
  p.memo = "\xff";
  EXPECT_NE(Refusal(p).find("UTF-8"), std::string::npos);
  EXPECT_FALSE(KindOps<Leave>::CheckBody(Leave{"\xc0\x80"}, kAuthor).ok());
}

TEST(GovernanceRules, VoteNamingNoProposal) {
  EXPECT_FALSE(KindOps<Vote>::CheckBody(Vote{kEpoch, 0, EntryId{}}, kAuthor).ok());
  EXPECT_TRUE(KindOps<Vote>::CheckBody(Vote{kEpoch, 0, EntryId{kNext.bytes}}, kAuthor).ok());
}

TEST(GovernanceRules, RotateRules) {
  EXPECT_TRUE(KindOps<Rotate>::CheckBody(Rotate{kNewFirm, kNext}, kAuthor).ok());
  EXPECT_FALSE(KindOps<Rotate>::CheckBody(Rotate{kAuthor, kNext}, kAuthor).ok());
  EXPECT_FALSE(KindOps<Rotate>::CheckBody(Rotate{PublicKey{}, kNext}, kAuthor).ok());
  EXPECT_FALSE(KindOps<Rotate>::CheckBody(Rotate{kNewFirm, Digest{}}, kAuthor).ok());
  EXPECT_FALSE(KindOps<Rotate>::CheckBody(Rotate{kNewFirm, NextKeyDigest(kNewFirm)}, kAuthor).ok());
}

}  // namespace
}  // namespace keiretsu::protocol
