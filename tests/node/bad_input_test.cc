// Bad input through Ledger::Ingest: each refusal names the problem and
// leaves the ledger exactly as it was (digest, feeds, balances, pending,
// evidence).
#include <gtest/gtest.h>

#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/limits.h"
#include "test_network.h"

namespace keiretsu::node {
namespace {

using protocol::Entry;
using protocol::Obligation;
using testing::FeedBuilder;
using testing::Owe;

struct Snapshot {
  Digest digest;
  std::map<PublicKey, FeedState> feeds;
  std::vector<std::string> balances;
  size_t pending = 0;
  size_t evidence = 0;
  bool operator==(const Snapshot&) const = default;
};

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A little history so "unchanged" means something.
    e1 = fb.Next(0, Owe(net.pk(1), 10));
    e2 = fb.Next(1, Owe(net.pk(2), 20));
    ledger->Ingest(std::vector<Bytes>{e1.record, e2.record}, false);
    ASSERT_EQ(ledger->Feed(net.pk(0)).head_seq, 1u);
  }
  Snapshot Snap() {
    Snapshot s{ledger->StateDigest(),
               ledger->Feeds(),
               {},
               ledger->PendingCount(),
               ledger->ListEvidence()->size()};
    auto rows = ledger->ListAllBalances();
    for (const auto& r : *rows)
      s.balances.push_back(r.firm.Hex() + r.counterparty.Hex() + r.unit +
                           protocol::AmountToString(r.net));
    return s;
  }
  // Ingests `record`, expects a refusal with `code` and `needle` in the
  // message, and that nothing changed.
  void ExpectRefused(const Bytes& record, Code code, const std::string& needle) {
    Snapshot before = Snap();
    auto r = ledger->Ingest(std::span(&record, 1), true).at(0);
    EXPECT_EQ(r.outcome, Outcome::kRejected) << OutcomeName(r.outcome);
    EXPECT_EQ(r.status.code(), code) << r.status.ToString();
    EXPECT_NE(r.status.message().find(needle), std::string::npos) << r.status.message();
    EXPECT_EQ(Snap(), before);
  }
  Bytes Next0(protocol::Body body) {  // a valid record at firm0 seq 2, unsigned changes allowed
    Entry e{net.id(), net.pk(0), 2, e1.id, 5, std::move(body)};
    return FeedBuilder::SignRaw(e, net.key(0)).record;
  }

  testing::TestNetwork net = testing::MakeNetwork(3);
  testing::TempDir dir;
  std::unique_ptr<Ledger> ledger = testing::OpenLedger(net, dir.Sub("db"));
  FeedBuilder fb{net};
  protocol::SignedEntry e1, e2;
};

TEST_F(BadInputTest, TruncatedRecord) {
  Bytes r = Next0(Owe(net.pk(1), 1));
  r.resize(r.size() - 1);
  ExpectRefused(r, Code::kUnauthenticated, "does not verify");
  r.resize(100);
  ExpectRefused(r, Code::kInvalidArgument, "truncated");
  ExpectRefused(Bytes{}, Code::kInvalidArgument, "truncated");
}

TEST_F(BadInputTest, BitFlippedRecord) {
  Bytes good = Next0(Owe(net.pk(1), 1));
  for (size_t i : {0, 5, 40, 70, 100, 113, 120, 150, 200}) {
    if (i >= good.size()) continue;
    Bytes r = good;
    r[i] ^= 0x10;
    Snapshot before = Snap();
    auto res = ledger->Ingest(std::span(&r, 1), false).at(0);
    EXPECT_EQ(res.outcome, Outcome::kRejected) << "byte " << i;
    EXPECT_EQ(Snap(), before) << "byte " << i;
  }
}

TEST_F(BadInputTest, WrongNetwork) {
  auto other = testing::MakeNetwork(3, "other");
  Entry e{other.id(), net.pk(0), 2, e1.id, 5, Owe(net.pk(1), 1)};
  ExpectRefused(FeedBuilder::SignRaw(e, net.key(0)).record, Code::kInvalidArgument, "not this one");
}

// An author not known as a member whose signature does not verify under its
// own key proves nothing: refused. (A stranger's well-signed entry is kept
// pending: tests/node/strata_test.cc.)
TEST_F(BadInputTest, UnknownAuthorWithABadSignature) {
  auto stranger = crypto::SigningKey::Generate();
  Entry e{net.id(), stranger.public_key(), 1, EntryId{}, 5, Owe(net.pk(1), 1)};
  ExpectRefused(FeedBuilder::SignRaw(e, net.key(0)).record, Code::kUnauthenticated,
                "does not verify");
}

TEST_F(BadInputTest, BadSignature) {
  Entry e{net.id(), net.pk(0), 2, e1.id, 5, Owe(net.pk(1), 1)};
  ExpectRefused(FeedBuilder::SignRaw(e, net.key(2)).record, Code::kUnauthenticated,
                "does not verify");
}

// A wrong prev is signed by the author, so it is kept (without effect) as
// possible fork evidence rather than dropped: see LedgerTest.WrongPrev*.
TEST_F(BadInputTest, WrongPrevChangesNoBalanceOrHead) {
  Entry e{net.id(), net.pk(0), 2, e2.id, 5, Owe(net.pk(1), 1)};
  Bytes r = FeedBuilder::SignRaw(e, net.key(0)).record;
  Snapshot before = Snap();
  auto res = ledger->Ingest(std::span(&r, 1), true).at(0);
  EXPECT_EQ(res.outcome, Outcome::kPending);
  EXPECT_EQ(res.status.code(), Code::kFailedPrecondition);
  EXPECT_NE(res.status.message().find("names prev"), std::string::npos) << res.status.message();
  Snapshot after = Snap();
  EXPECT_EQ(after.digest, before.digest);
  EXPECT_EQ(after.balances, before.balances);
  EXPECT_EQ(after.feeds, before.feeds);
}

TEST_F(BadInputTest, SeqFarAheadIsRefused) {
  testing::TempDir d2;
  auto small = testing::OpenLedger(net, d2.Sub("db"), LedgerOptions{0, 10});
  Entry e{net.id(), net.pk(0), 12, e1.id, 5, Owe(net.pk(1), 1)};
  Bytes r = FeedBuilder::SignRaw(e, net.key(0)).record;
  auto res = small->Ingest(std::span(&r, 1), false).at(0);
  EXPECT_EQ(res.outcome, Outcome::kRejected);
  EXPECT_EQ(res.status.code(), Code::kResourceExhausted);
  EXPECT_EQ(small->PendingCount(), 0u);
}

// A seq gap is not an error: the design keeps entries that arrive ahead of
// what they need (durably), but they change no balance or head until the
// gap fills.
TEST_F(BadInputTest, SeqGapIsKeptPendingWithoutEffect) {
  Entry e{net.id(), net.pk(0), 3, e2.id, 5, Owe(net.pk(1), 1)};
  Bytes r = FeedBuilder::SignRaw(e, net.key(0)).record;
  Snapshot before = Snap();
  auto res = ledger->Ingest(std::span(&r, 1), true).at(0);
  EXPECT_EQ(res.outcome, Outcome::kPending);
  Snapshot after = Snap();
  EXPECT_EQ(after.digest, before.digest);
  EXPECT_EQ(after.balances, before.balances);
  EXPECT_EQ(after.feeds, before.feeds);
  EXPECT_EQ(after.pending, before.pending + 1);
}

// Body rules on the local path: Append refuses before signing anything.
TEST_F(BadInputTest, AppendRefusesBadBodiesAndChangesNothing) {
  struct Case {
    protocol::Body body;
    const char* needle;
  };
  std::vector<Case> cases = {
      {Obligation{net.pk(1), 0, "hours", ""}, "amount must be positive"},
      {Obligation{net.pk(1), protocol::kMaxAmount + 1, "hours", ""}, "exceeds the maximum"},
      {Obligation{net.pk(1), 1, "hours", std::string(600, 'x')}, "memo is 600 bytes"},
      {Obligation{net.pk(0), 1, "hours", ""}, "cannot owe itself"},
      {protocol::Release{net.pk(0), 1, "hours", ""}, "cannot owe itself"},
      {protocol::Claim{net.pk(1), 1, "", ""}, "unit must be"},
  };
  for (const auto& c : cases) {
    Snapshot before = Snap();
    auto r = ledger->Append(net.key(0), c.body, 7);
    ASSERT_FALSE(r.ok()) << c.needle;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
    EXPECT_EQ(Snap(), before) << c.needle;
  }
}

// The same broken rules in a record the author signed anyway: the author's
// feed ends there (the reason recorded), and no balance or head moves.
TEST_F(BadInputTest, SignedInvalidBodyEndsFeedWithoutEffect) {
  Snapshot before = Snap();
  Bytes r = Next0(Obligation{net.pk(1), 0, "hours", ""});
  auto res = ledger->Ingest(std::span(&r, 1), true).at(0);
  EXPECT_EQ(res.outcome, Outcome::kFeedEnded);
  EXPECT_NE(res.status.message().find("amount must be positive"), std::string::npos);
  Snapshot after = Snap();
  EXPECT_EQ(after.balances, before.balances);
  EXPECT_EQ(after.feeds.at(net.pk(0)).head_seq, 1u);
  EXPECT_EQ(after.feeds.at(net.pk(0)).stop_seq, 2u);
  EXPECT_EQ(after.evidence, before.evidence + 1);
  // The author's own node refuses to write past the end.
  auto more = ledger->Append(net.key(0), Owe(net.pk(1), 1), 8);
  EXPECT_EQ(more.status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace keiretsu::node
