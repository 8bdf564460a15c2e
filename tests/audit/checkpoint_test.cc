// Signed checkpoints (protocol/checkpoint.h): canonical bytes, signing,
// and every kind of damage refused with a clear error.
#include "keiretsu/protocol/checkpoint.h"

#include <gtest/gtest.h>

#include "keiretsu/crypto/hash.h"
#include "test_network.h"

namespace keiretsu::protocol {
namespace {

using testing::MakeNetwork;

FeedHeadSummary Head(const PublicKey& a, uint64_t seq, uint8_t id, uint64_t stop = 0) {
  FeedHeadSummary f{a, seq, EntryId{}, stop};
  if (seq != 0) f.effective_id.bytes.fill(id);
  return f;
}

class CheckpointTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = MakeNetwork(4);
  std::vector<FeedHeadSummary> heads{Head(net.pk(2), 7, 0xa7), Head(net.pk(0), 3, 0x03),
                                     Head(net.pk(1), 0, 0, 1), Head(net.pk(3), 0, 0)};
  SignedCheckpoint Make() {
    auto cp = MakeCheckpoint(heads, net.genesis, net.key(1), 1'790'000'000'777);
    EXPECT_TRUE(cp.ok()) << cp.status().ToString();
    return *cp;
  }
  Result<Checkpoint> Verify(const SignedCheckpoint& cp) {
    return VerifyCheckpoint(cp.statement, cp.signer, cp.signature, net.genesis);
  }
};

TEST_F(CheckpointTest, StatementBytesAreExactlyAsSpecified) {
  SignedCheckpoint cp = Make();
  // Built by hand from docs/audit.md, not from the encoder.
  std::vector<FeedHeadSummary> listed;
  for (const auto& h : heads)
    if (h.effective_seq != 0 || h.stop_seq != 0) listed.push_back(h);
  std::sort(listed.begin(), listed.end(),
            [](const auto& a, const auto& b) { return a.author < b.author; });
  ASSERT_EQ(listed.size(), 3u);
  Bytes want;
  ByteWriter w(&want);
  w.Raw(std::string_view("keiretsu-checkpoint"));
  w.U8(1);
  w.Raw(net.id().View());
  w.Raw(net.pk(1).View());
  w.U64(1'790'000'000'777);
  w.Raw(StateDigest(net.id(), heads).View());
  w.U32(3);
  for (const auto& f : listed) {
    w.Raw(f.author.View());
    w.U64(f.effective_seq);
    w.Raw(f.effective_id.View());
    w.U64(f.stop_seq);
  }
  EXPECT_EQ(cp.statement, want);
  EXPECT_EQ(cp.statement.size(), 19u + 1 + 32 + 32 + 8 + 32 + 4 + 3 * 80);
  Bytes msg;
  ByteWriter m(&msg);
  m.Raw(std::string_view("keiretsu/v1/checkpoint"));
  m.Raw(want);
  EXPECT_TRUE(crypto::Verify(net.pk(1), msg, cp.signature));
  EXPECT_EQ(cp.signer, net.pk(1));
}

TEST_F(CheckpointTest, VerifiesAndDecodes) {
  SignedCheckpoint cp = Make();
  auto c = Verify(cp);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->network, net.id());
  EXPECT_EQ(c->signer, net.pk(1));
  EXPECT_EQ(c->time_ms, 1'790'000'000'777u);
  EXPECT_EQ(c->state_digest, StateDigest(net.id(), heads));
  ASSERT_EQ(c->feeds.size(), 3u);
  ASSERT_NE(c->Find(net.pk(2)), nullptr);
  EXPECT_EQ(c->Find(net.pk(2))->effective_seq, 7u);
  EXPECT_EQ(c->Find(net.pk(3)), nullptr);  // nothing effective, no stop: omitted
  EXPECT_EQ(c->Find(net.pk(1))->stop_seq, 1u);
}

TEST_F(CheckpointTest, EveryChangedByteIsRefused) {
  SignedCheckpoint cp = Make();
  for (size_t i = 0; i < cp.statement.size(); ++i) {
    SignedCheckpoint bad = cp;
    bad.statement[i] ^= 0x01;
    auto c = Verify(bad);
    EXPECT_FALSE(c.ok()) << "byte " << i;
    EXPECT_FALSE(c.status().message().empty());
  }
  for (size_t i = 0; i < cp.signature.size(); ++i) {
    SignedCheckpoint bad = cp;
    bad.signature[i] ^= 0x80;
    auto c = Verify(bad);
    ASSERT_FALSE(c.ok()) << "signature byte " << i;
    EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
  }
}

TEST_F(CheckpointTest, TruncatedOrExtendedIsRefused) {
  SignedCheckpoint cp = Make();
  for (size_t n : {size_t{0}, size_t{10}, size_t{127}, cp.statement.size() - 1}) {
    auto c = ParseCheckpoint(ByteView(cp.statement).first(n));
    ASSERT_FALSE(c.ok()) << n;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  }
  Bytes longer = cp.statement;
  longer.push_back(0);
  auto c = ParseCheckpoint(longer);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("exactly"), std::string::npos) << c.status().message();
}

TEST_F(CheckpointTest, WrongSignerNetworkOrMembershipIsRefused) {
  SignedCheckpoint cp = Make();
  auto c = VerifyCheckpoint(cp.statement, net.pk(2), cp.signature, net.genesis);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("presented as signed by"), std::string::npos);

  auto other = MakeNetwork(4, "other-keiretsu");  // same keys, another network
  c = VerifyCheckpoint(cp.statement, cp.signer, cp.signature, other.genesis);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("network"), std::string::npos);

  auto small = MakeNetwork(1);  // firm1 is not a member there... and the network differs
  c = VerifyCheckpoint(cp.statement, cp.signer, cp.signature, small.genesis);
  EXPECT_FALSE(c.ok());

  c = VerifyCheckpoint(cp.statement, cp.signer, ByteView(cp.signature).first(63), net.genesis);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("64"), std::string::npos);
}

// Statements that are well signed but malformed: built with the encoder
// and signed directly, so only the structure checks can refuse them.
TEST_F(CheckpointTest, MalformedButSignedStatementsAreRefused) {
  auto sign = [&](const Checkpoint& c) {
    SignedCheckpoint s;
    s.statement = EncodeCheckpointStatement(c);
    s.signer = c.signer;
    s.signature = net.key(1).Sign(CheckpointSigningMessage(s.statement));
    return s;
  };
  Checkpoint base;
  base.network = net.id();
  base.signer = net.pk(1);
  base.time_ms = 5;
  auto with = [&](std::vector<FeedHeadSummary> feeds, bool fix_digest = true) {
    Checkpoint c = base;
    c.feeds = std::move(feeds);
    if (fix_digest) c.state_digest = StateDigest(c.network, c.feeds);
    return sign(c);
  };
  struct Case {
    const char* name;
    SignedCheckpoint cp;
    const char* says;
  };
  FeedHeadSummary zero_id = Head(net.pk(0), 3, 0);
  zero_id.effective_id = EntryId{};
  std::vector<FeedHeadSummary> sorted{Head(net.pk(0), 1, 1), Head(net.pk(2), 1, 2)};
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.author < b.author; });
  std::vector<FeedHeadSummary> unsorted{sorted[1], sorted[0]};
  std::vector<Case> cases = {
      {"unsorted", with(unsorted), "sorted"},
      {"twice", with({sorted[0], sorted[0]}), "twice"},
      {"empty feed listed", with({Head(net.pk(0), 0, 0)}), "omitted"},
      {"zero id", with({zero_id}), "zero effective id"},
      {"id without entry", with({[&] {
         auto f = Head(net.pk(0), 0, 0, 4);
         f.effective_id.bytes[0] = 1;
         return f;
       }()}),
       "no effective entry"},
      {"effective at stop", with({Head(net.pk(0), 4, 9, 4)}), "at or after its stop"},
      {"digest", with({Head(net.pk(0), 4, 9)}, false), "does not match its own feed list"},
  };
  for (const Case& k : cases) {
    auto c = Verify(k.cp);
    ASSERT_FALSE(c.ok()) << k.name;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << k.name;
    EXPECT_NE(c.status().message().find(k.says), std::string::npos)
        << k.name << ": " << c.status().message();
  }
  // A non-member listed, correctly otherwise: refused by VerifyCheckpoint only.
  FeedHeadSummary stranger = Head(PublicKey{}, 2, 2);
  stranger.author.bytes.fill(0x55);
  auto c = Verify(with({stranger}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("non-member"), std::string::npos);
}

TEST_F(CheckpointTest, MakeRefusesBadInputAndSignsNothing) {
  auto stranger = testing::FirmKey(40);
  auto r = MakeCheckpoint(heads, net.genesis, stranger, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);

  auto dup = heads;
  dup.push_back(heads[0]);
  r = MakeCheckpoint(dup, net.genesis, net.key(0), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("twice"), std::string::npos);

  r = MakeCheckpoint({Head(net.pk(0), 5, 1, 3)}, net.genesis, net.key(0), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);

  r = MakeCheckpoint({Head(stranger.public_key(), 5, 1)}, net.genesis, net.key(0), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a member"), std::string::npos);
}

TEST_F(CheckpointTest, EmptyLedgerCheckpoint) {
  auto cp = MakeCheckpoint({}, net.genesis, net.key(0), 0);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->statement.size(), kCheckpointFixedBytes);
  auto c = VerifyCheckpoint(cp->statement, cp->signer, cp->signature, net.genesis);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->feeds.empty());
  EXPECT_EQ(c->state_digest, StateDigest(net.id(), {}));
}

}  // namespace
}  // namespace keiretsu::protocol
