// Head reports (docs/PROTOCOL.md 13.2.8): the statement's exact bytes, and
// every rule VerifyHeadReport applies, each refused with its own test.
#include "keiretsu/protocol/head_report.h"

#include <gtest/gtest.h>

#include <map>

namespace keiretsu::protocol {
namespace {

crypto::SigningKey Key(uint8_t i) {
  std::array<uint8_t, 32> seed{};
  seed[0] = i;
  seed[1] = 0x48;  // 'H'
  return crypto::SigningKey::FromSeed(seed);
}

HeadNonce Nonce(uint8_t b) {
  HeadNonce n{};
  n.fill(b);
  return n;
}

struct HeadReportTest : ::testing::Test {
  crypto::SigningKey reporter_key = Key(1), subject_key = Key(2), stranger_key = Key(3);
  NetworkId network{Hash32{}};
  // The verifier's view: reporter and subject are current members.
  std::map<PublicKey, PublicKey> keys{{reporter_key.public_key(), reporter_key.public_key()},
                                      {subject_key.public_key(), subject_key.public_key()}};
  MemberKeyLookup key_of = [this](const PublicKey& f) -> std::optional<PublicKey> {
    auto it = keys.find(f);
    if (it == keys.end()) return std::nullopt;
    return it->second;
  };

  HeadReportTest() { network.bytes.fill(0x11); }

  HeadReport Report(const HeadNonce& nonce) const {
    HeadReport r;
    r.network = network;
    r.reporter = reporter_key.public_key();
    r.subject = subject_key.public_key();
    r.nonce = nonce;
    r.held = HeadHeld::kOpen;
    r.head_seq = 7;
    r.head_id.bytes.fill(0x77);
    r.effective_id = r.head_id;
    return r;
  }
  Result<HeadReport> Verify(const Bytes& statement, const crypto::Signature& sig,
                            const HeadNonce& nonce) const {
    return VerifyHeadReport(statement, sig, network, subject_key.public_key(), nonce, key_of);
  }
};

TEST_F(HeadReportTest, StatementLayoutIsExact) {
  const HeadReport r = Report(Nonce(0xAA));
  const Bytes s = EncodeHeadReportStatement(r);
  ASSERT_EQ(s.size(), 210u);
  EXPECT_EQ(s[0], 1);     // version
  EXPECT_EQ(s[1], 0x11);  // network id
  EXPECT_EQ(Bytes(s.begin() + 33, s.begin() + 65),
            Bytes(r.reporter.bytes.begin(), r.reporter.bytes.end()));
  EXPECT_EQ(Bytes(s.begin() + 65, s.begin() + 97),
            Bytes(r.subject.bytes.begin(), r.subject.bytes.end()));
  EXPECT_EQ(s[97], 0xAA);  // nonce
  EXPECT_EQ(s[128], 0xAA);
  EXPECT_EQ(s[129], 1);     // held: open
  EXPECT_EQ(s[137], 7);     // head_seq, big-endian
  EXPECT_EQ(s[138], 0x77);  // head id
  EXPECT_EQ(s[177], 0);     // stop_seq
  EXPECT_EQ(s[178], 0x77);  // effective id
  const Bytes m = HeadReportSigningMessage(s);
  EXPECT_EQ(std::string(m.begin(), m.begin() + 23), "keiretsu/v1/head-report");
  auto back = DecodeHeadReportStatement(s);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->head_seq, 7u);
  EXPECT_EQ(back->nonce, r.nonce);
}

TEST_F(HeadReportTest, ValidReportCounts) {
  const Bytes s = EncodeHeadReportStatement(Report(Nonce(1)));
  auto r = Verify(s, SignHeadReport(s, reporter_key), Nonce(1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reporter, reporter_key.public_key());
  EXPECT_EQ(r->head_seq, 7u);
}

TEST_F(HeadReportTest, WrongNonceIsRefused) {
  const Bytes s = EncodeHeadReportStatement(Report(Nonce(1)));
  auto r = Verify(s, SignHeadReport(s, reporter_key), Nonce(2));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nonce"), std::string::npos) << r.status().ToString();
}

TEST_F(HeadReportTest, ReplayedReportOfAnEarlierRunIsRefused) {
  // Signed honestly in the subject's previous run (nonce 1); the subject
  // restarted and asks with nonce 9: the old answer must not count.
  HeadReport old = Report(Nonce(1));
  old.head_seq = 3;
  old.head_id.bytes.fill(0x33);
  old.effective_id = old.head_id;
  const Bytes s = EncodeHeadReportStatement(old);
  const crypto::Signature sig = SignHeadReport(s, reporter_key);
  ASSERT_TRUE(Verify(s, sig, Nonce(1)).ok());
  EXPECT_FALSE(Verify(s, sig, Nonce(9)).ok());
}

TEST_F(HeadReportTest, WrongNetworkIsRefused) {
  HeadReport r = Report(Nonce(1));
  r.network.bytes.fill(0x22);
  const Bytes s = EncodeHeadReportStatement(r);
  auto v = Verify(s, SignHeadReport(s, reporter_key), Nonce(1));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("network"), std::string::npos);
}

TEST_F(HeadReportTest, WrongSubjectIsRefused) {
  HeadReport r = Report(Nonce(1));
  r.subject = stranger_key.public_key();  // about someone else's feed
  const Bytes s = EncodeHeadReportStatement(r);
  auto v = Verify(s, SignHeadReport(s, reporter_key), Nonce(1));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("about"), std::string::npos);
}

TEST_F(HeadReportTest, BadSignatureIsRefused) {
  const Bytes s = EncodeHeadReportStatement(Report(Nonce(1)));
  crypto::Signature sig = SignHeadReport(s, reporter_key);
  sig[5] ^= 0x01;
  auto v = Verify(s, sig, Nonce(1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
}

TEST_F(HeadReportTest, AlteredStatementIsRefused) {
  // A relayer raising (or lowering) the head breaks the signature.
  Bytes s = EncodeHeadReportStatement(Report(Nonce(1)));
  const crypto::Signature sig = SignHeadReport(s, reporter_key);
  s[137] = 6;
  auto v = Verify(s, sig, Nonce(1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
}

TEST_F(HeadReportTest, ForgedInAnotherMembersNameIsRefused) {
  // The subject's own key (a member) signs a report naming the reporter.
  const Bytes s = EncodeHeadReportStatement(Report(Nonce(1)));
  auto v = Verify(s, SignHeadReport(s, subject_key), Nonce(1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
}

TEST_F(HeadReportTest, NonMemberReporterIsRefused) {
  HeadReport r = Report(Nonce(1));
  r.reporter = stranger_key.public_key();
  const Bytes s = EncodeHeadReportStatement(r);
  auto v = Verify(s, SignHeadReport(s, stranger_key), Nonce(1));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("not a current member"), std::string::npos);
}

TEST_F(HeadReportTest, ReportUnderARotatedAwayKeyDoesNotCount) {
  // The verifier knows the reporter rotated to another key: the old key's
  // signature no longer counts.
  keys[reporter_key.public_key()] = stranger_key.public_key();
  const Bytes s = EncodeHeadReportStatement(Report(Nonce(1)));
  EXPECT_FALSE(Verify(s, SignHeadReport(s, reporter_key), Nonce(1)).ok());
  EXPECT_TRUE(Verify(s, SignHeadReport(s, stranger_key), Nonce(1)).ok());
}

TEST_F(HeadReportTest, MalformedStatementsAreRefused) {
  const Bytes good = EncodeHeadReportStatement(Report(Nonce(1)));
  Bytes shorter(good.begin(), good.end() - 1);
  EXPECT_FALSE(DecodeHeadReportStatement(shorter).ok());
  Bytes version = good;
  version[0] = 2;
  EXPECT_FALSE(DecodeHeadReportStatement(version).ok());
  Bytes held = good;
  held[129] = 3;
  EXPECT_FALSE(DecodeHeadReportStatement(held).ok());
  HeadReport none = Report(Nonce(1));
  none.held = HeadHeld::kNone;  // but head fields set
  EXPECT_FALSE(DecodeHeadReportStatement(EncodeHeadReportStatement(none)).ok());
  HeadReport self = Report(Nonce(1));
  self.reporter = self.subject;
  EXPECT_FALSE(DecodeHeadReportStatement(EncodeHeadReportStatement(self)).ok());
  HeadReport stopped = Report(Nonce(1));
  stopped.held = HeadHeld::kStopped;  // with stop_seq 0
  EXPECT_FALSE(DecodeHeadReportStatement(EncodeHeadReportStatement(stopped)).ok());
  stopped.stop_seq = 5;  // head 7, effective min(7, 4) = 4, id present
  EXPECT_TRUE(DecodeHeadReportStatement(EncodeHeadReportStatement(stopped)).ok());
}

}  // namespace
}  // namespace keiretsu::protocol
