// Entry encoding, signing and CheckRecord: every refusal has its own test and
// names the problem.
#include "keiretsu/protocol/entry.h"

#include <gtest/gtest.h>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/protocol/limits.h"
#include "test_network.h"

namespace keiretsu::protocol {
namespace {

using testing::FeedBuilder;

class EntryTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);
  Entry Base() {
    return Entry{
        net.id(),  net.pk(0),         1,
        EntryId{}, 1'790'000'000'000, Obligation{net.pk(1), 250, "hours", "crane, two days"}};
  }
  SignedEntry Signed(const Entry& e) {
    auto se = SignEntry(e, net.key(0), net.genesis);
    EXPECT_TRUE(se.ok()) << se.status().ToString();
    return *se;
  }
  // SignEntry's refusal for `e`, which must be kInvalidArgument.
  std::string Refusal(const Entry& e) {
    auto se = SignEntry(e, net.key(0), net.genesis);
    EXPECT_FALSE(se.ok());
    EXPECT_EQ(se.status().code(), Code::kInvalidArgument);
    return se.status().message();
  }
};

TEST_F(EntryTest, EveryBodyKindRoundTrips) {
  auto claim_id = EntryId{net.pk(2).bytes};
  std::vector<Body> bodies = {
      Claim{net.pk(1), 5, "kg", "steel"},
      Accept{claim_id, net.pk(1), 5, "kg", ""},
      Decline{claim_id, net.pk(2), "not ours"},
      Obligation{net.pk(2), kMaxAmount, "JPY", "\xe3\x81\x82"},  // UTF-8 memo
      Release{net.pk(1), 1, "a.b_c-D", std::string(kMaxMemoBytes, 'm')},
  };
  for (const Body& body : bodies) {
    Entry e = Base();
    e.body = body;
    SignedEntry se = Signed(e);
    RecordCheck c = CheckRecord(se.record, net.genesis);
    ASSERT_EQ(c.fault, Fault::kNone) << c.status.ToString();
    EXPECT_EQ(c.signed_entry->id, se.id);
    EXPECT_EQ(EncodeContent(c.signed_entry->entry),
              Bytes(se.content().begin(), se.content().end()));
    EXPECT_EQ(KindOf(c.signed_entry->entry.body), KindOf(body));
    EXPECT_LE(se.record.size(), kMaxEntryBytes);
  }
}

TEST_F(EntryTest, ContentLayoutIsFixed) {
  // The header layout is the contract of docs/PROTOCOL.md "Entries".
  SignedEntry se = Signed(Base());
  const Bytes& r = se.record;
  EXPECT_EQ(r[0], kEntryVersion);
  EXPECT_TRUE(std::equal(net.id().bytes.begin(), net.id().bytes.end(), r.begin() + 1));
  EXPECT_TRUE(std::equal(net.pk(0).bytes.begin(), net.pk(0).bytes.end(), r.begin() + 33));
  EXPECT_EQ(r[72], 1);   // seq (u64 BE) low byte
  EXPECT_EQ(r[113], 4);  // body kind: obligation
  EXPECT_EQ(r.size(), 114u + 32 + 8 + 1 + 5 + 2 + 15 + 64);
}

TEST_F(EntryTest, TruncationAtEveryLengthIsRefused) {
  SignedEntry se = Signed(Base());
  for (size_t n = 0; n < se.record.size(); ++n) {
    RecordCheck c = CheckRecord(ByteView(se.record).first(n), net.genesis);
    EXPECT_NE(c.fault, Fault::kNone) << "length " << n;
    EXPECT_FALSE(c.status.ok());
  }
}

TEST_F(EntryTest, EveryBitFlipIsRefused) {
  SignedEntry se = Signed(Base());
  for (size_t i = 0; i < se.record.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes r = se.record;
      r[i] ^= static_cast<uint8_t>(1 << bit);
      RecordCheck c = CheckRecord(r, net.genesis);
      // Nothing but the author's exact bytes may pass: a flip is refused as
      // malformed, wrong network, unknown author or bad signature.
      EXPECT_NE(c.fault, Fault::kNone) << "byte " << i << " bit " << bit;
      EXPECT_NE(c.fault, Fault::kInvalidBody) << "byte " << i << " bit " << bit;
    }
  }
}

TEST_F(EntryTest, OversizedRecordIsMalformed) {
  Bytes r(kMaxEntryBytes + 1, 0);
  RecordCheck c = CheckRecord(r, net.genesis);
  EXPECT_EQ(c.fault, Fault::kMalformed);
  EXPECT_NE(c.status.message().find("more than the limit"), std::string::npos);
}

TEST_F(EntryTest, WrongNetworkIsNamed) {
  auto other = testing::MakeNetwork(3, "other-keiretsu");
  Entry e = Base();
  e.network = other.id();
  auto se = SignEntry(e, net.key(0), other.genesis);
  ASSERT_TRUE(se.ok());
  RecordCheck c = CheckRecord(se->record, net.genesis);
  EXPECT_EQ(c.fault, Fault::kWrongNetwork);
  EXPECT_NE(c.status.message().find("network"), std::string::npos);
  EXPECT_FALSE(c.signed_entry.has_value());
}

TEST_F(EntryTest, UnknownAuthorIsNamed) {
  auto stranger = crypto::SigningKey::Generate();
  Entry e = Base();
  e.author = stranger.public_key();
  RecordCheck c = CheckRecord(FeedBuilder::SignRaw(e, stranger).record, net.genesis);
  EXPECT_EQ(c.fault, Fault::kUnknownAuthor);
  EXPECT_NE(c.status.message().find("not (yet) known as a member"), std::string::npos);
  // Attributable (the stranger signed it): kept pending until admission.
  EXPECT_TRUE(c.signed_entry.has_value());
}

TEST_F(EntryTest, SignatureByAnotherMemberIsBad) {
  Entry e = Base();  // author firm0, signed by firm1
  RecordCheck c = CheckRecord(FeedBuilder::SignRaw(e, net.key(1)).record, net.genesis);
  EXPECT_EQ(c.fault, Fault::kBadSignature);
  EXPECT_EQ(c.status.code(), Code::kUnauthenticated);
}

TEST_F(EntryTest, SignatureIsDomainSeparated) {
  // A signature over the bare content (no "keiretsu/v1/entry" tag) must fail.
  SignedEntry se = Signed(Base());
  Bytes r(se.content().begin(), se.content().end());
  auto sig = net.key(0).Sign(r);
  r.insert(r.end(), sig.begin(), sig.end());
  EXPECT_EQ(CheckRecord(r, net.genesis).fault, Fault::kBadSignature);
}

// Protocol v2: a kind this build does not know is a newer peer's, not a
// broken rule. The record is attributable (its signature and id need only
// the header and the content's length), and kept for an upgrade.
TEST_F(EntryTest, UnknownBodyKindSignedByAuthorIsUnknownKind) {
  SignedEntry se = Signed(Base());
  Bytes content(se.content().begin(), se.content().end());
  content[113] = 200;
  auto sig = net.key(0).Sign(SigningMessage(content));
  const EntryId id{crypto::Blake2b256(content)};
  content.insert(content.end(), sig.begin(), sig.end());
  RecordCheck c = CheckRecord(content, net.genesis);
  EXPECT_EQ(c.fault, Fault::kUnknownKind);
  EXPECT_EQ(c.kind_tag, 200);
  ASSERT_TRUE(c.signed_entry.has_value());
  EXPECT_EQ(c.signed_entry->id, id);
  EXPECT_EQ(c.signed_entry->entry.author, net.pk(0));
  EXPECT_EQ(c.signed_entry->entry.seq, 1u);
  EXPECT_NE(c.status.message().find("kind 200"), std::string::npos);
  EXPECT_NE(c.status.message().find("upgrade needed"), std::string::npos);
}

TEST_F(EntryTest, UnknownBodyKindWithABadSignatureIsRefused) {
  SignedEntry se = Signed(Base());
  Bytes content(se.content().begin(), se.content().end());
  content[113] = 200;
  auto sig = net.key(1).Sign(SigningMessage(content));
  content.insert(content.end(), sig.begin(), sig.end());
  RecordCheck c = CheckRecord(content, net.genesis);
  EXPECT_EQ(c.fault, Fault::kBadSignature);
  EXPECT_FALSE(c.signed_entry.has_value());
}

TEST_F(EntryTest, TrailingBytesSignedByAuthorAreInvalidBody) {
  SignedEntry se = Signed(Base());
  Bytes content(se.content().begin(), se.content().end());
  content.push_back(0);
  auto sig = net.key(0).Sign(SigningMessage(content));
  content.insert(content.end(), sig.begin(), sig.end());
  RecordCheck c = CheckRecord(content, net.genesis);
  EXPECT_EQ(c.fault, Fault::kInvalidBody);
  EXPECT_NE(c.status.message().find("trailing"), std::string::npos);
}

// Each body rule: SignEntry refuses to sign, and a record signed anyway is
// an attributable kInvalidBody naming the same rule.
TEST_F(EntryTest, BodyRulesRefuseBadInput) {
  struct Case {
    const char* expect;
    std::function<void(Entry&)> mutate;
  };
  std::vector<Case> cases = {
      {"amount must be positive", [](Entry& e) { std::get<Obligation>(e.body).amount = 0; }},
      {"exceeds the maximum",
       [](Entry& e) { std::get<Obligation>(e.body).amount = kMaxAmount + 1; }},
      {"exceeds the maximum", [](Entry& e) { std::get<Obligation>(e.body).amount = ~0ULL; }},
      {"memo is 513 bytes",
       [](Entry& e) { std::get<Obligation>(e.body).memo = std::string(513, 'x'); }},
      {"not valid UTF-8", [](Entry& e) { std::get<Obligation>(e.body).memo = "\xff\xfe"; }},
      {"not valid UTF-8", [](Entry& e) { std::get<Obligation>(e.body).memo = "\xed\xa0\x80"; }},
      {"unit must be", [](Entry& e) { std::get<Obligation>(e.body).unit = ""; }},
      {"unit must be", [](Entry& e) { std::get<Obligation>(e.body).unit = "hours!"; }},
      {"unit must be", [](Entry& e) { std::get<Obligation>(e.body).unit = std::string(17, 'u'); }},
      {"cannot owe itself", [&](Entry& e) { std::get<Obligation>(e.body).creditor = net.pk(0); }},
      {"not a member",
       [](Entry& e) {
         std::get<Obligation>(e.body).creditor = crypto::SigningKey::Generate().public_key();
       }},
      {"seq must start at 1", [](Entry& e) { e.seq = 0; }},
      {"first entry must have a zero prev", [](Entry& e) { e.prev.bytes[3] = 1; }},
      {"needs a prev", [](Entry& e) { e.seq = 2; }},
      {"names no claim",
       [&](Entry& e) {
         e.body = Accept{EntryId{}, net.pk(1), 1, "kg", ""};
       }},
      {"cannot owe itself",
       [&](Entry& e) {
         e.body = Release{net.pk(0), 1, "kg", ""};
       }},
  };
  for (const auto& c : cases) {
    Entry e = Base();
    c.mutate(e);
    std::string refusal = Refusal(e);
    EXPECT_NE(refusal.find(c.expect), std::string::npos) << refusal;
    RecordCheck check = CheckRecord(FeedBuilder::SignRaw(e, net.key(0)).record, net.genesis);
    EXPECT_EQ(check.fault, Fault::kInvalidBody) << c.expect;
    EXPECT_NE(check.status.message().find(c.expect), std::string::npos) << check.status.message();
  }
}

TEST_F(EntryTest, SignEntryRefusesAnotherAuthorsKey) {
  auto r = SignEntry(Base(), net.key(1), net.genesis);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace keiretsu::protocol
