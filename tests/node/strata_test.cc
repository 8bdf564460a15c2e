// Record checking in strata (docs/PROTOCOL.md "Protocol v2"): an entry of
// an author not known as a member, and an entry of a kind this version does
// not know, are kept pending durably (not refused, not an end of the feed),
// reported, and applied once they can be.
#include <gtest/gtest.h>

#include "keiretsu/node/ledger.h"
#include "test_network.h"

namespace keiretsu::node {
namespace {

using protocol::Entry;
using testing::FeedBuilder;
using testing::Owe;

class StrataTest : public ::testing::Test {
 protected:
  IngestResult One(Ledger& l, const Bytes& record) {
    return l.Ingest(std::span(&record, 1), /*sync=*/true).at(0);
  }
  // A record of firm `i` at `seq` after `prev`, of kind `tag` with `body`
  // bytes: what a newer version would send.
  Bytes OfKind(int i, uint64_t seq, const EntryId& prev, uint8_t tag, Bytes body) {
    Bytes content = protocol::EncodeContent(
        Entry{net.id(), net.pk(i), seq, prev, 7, protocol::Claim{net.pk((i + 1) % 3), 1, "h", ""}});
    content.resize(114);
    content[113] = tag;
    content.insert(content.end(), body.begin(), body.end());
    auto sig = net.key(i).Sign(protocol::SigningMessage(content));
    content.insert(content.end(), sig.begin(), sig.end());
    return content;
  }
  LedgerOptions WithoutRelease() {  // acts as a version that predates kind 5
    LedgerOptions o;
    o.kinds.Remove(static_cast<uint8_t>(protocol::BodyKind::kRelease));
    return o;
  }

  testing::TestNetwork net = testing::MakeNetwork(3);
  testing::TempDir dir;
  FeedBuilder fb{net};
};

TEST_F(StrataTest, AStrangersEntryIsKeptPendingAndSurvivesReopen) {
  auto stranger = crypto::SigningKey::Generate();
  Entry e{net.id(), stranger.public_key(), 1, EntryId{}, 5, Owe(net.pk(1), 1)};
  Bytes record = FeedBuilder::SignRaw(e, stranger).record;
  {
    auto ledger = testing::OpenLedger(net, dir.Sub("db"));
    const Digest before = ledger->StateDigest();
    IngestResult r = One(*ledger, record);
    EXPECT_EQ(r.outcome, Outcome::kPending) << r.status.ToString();
    EXPECT_NE(r.status.message().find("not (yet) known as a member"), std::string::npos);
    EXPECT_EQ(ledger->PendingCount(), 1u);
    EXPECT_EQ(ledger->StateDigest(), before);
    EXPECT_TRUE(ledger->Feeds().empty());
    EXPECT_EQ(One(*ledger, record).outcome, Outcome::kDuplicate);
  }
  auto reopened = testing::OpenLedger(net, dir.Sub("db"));
  EXPECT_EQ(reopened->PendingCount(), 1u);
  EXPECT_TRUE(reopened->Feeds().empty());
}

TEST_F(StrataTest, StrangersEntriesAreBoundedInTotal) {
  LedgerOptions o;
  o.max_pending_non_members = 1;
  auto ledger = testing::OpenLedger(net, dir.Sub("db"), o);
  for (int n = 0; n < 2; ++n) {
    auto stranger = crypto::SigningKey::Generate();
    Entry e{net.id(), stranger.public_key(), 1, EntryId{}, 5, Owe(net.pk(1), 1)};
    IngestResult r = One(*ledger, FeedBuilder::SignRaw(e, stranger).record);
    if (n == 0) {
      EXPECT_EQ(r.outcome, Outcome::kPending);
    } else {
      EXPECT_EQ(r.outcome, Outcome::kRejected);
      EXPECT_EQ(r.status.code(), Code::kResourceExhausted);
      EXPECT_NE(r.status.message().find("not known as members"), std::string::npos);
    }
  }
  EXPECT_EQ(ledger->PendingCount(), 1u);
}

TEST_F(StrataTest, AnUnknownKindKeepsTheFeedPendingAndIsReported) {
  auto ledger = testing::OpenLedger(net, dir.Sub("db"));
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  ASSERT_EQ(One(*ledger, e1.record).outcome, Outcome::kApplied);
  const Digest before = ledger->StateDigest();
  Bytes unknown = OfKind(0, 2, e1.id, 77, Bytes{1, 2, 3});
  IngestResult r = One(*ledger, unknown);
  EXPECT_EQ(r.outcome, Outcome::kPending) << r.status.ToString();
  EXPECT_NE(r.status.message().find("upgrade needed"), std::string::npos);
  // The feed neither ends nor moves; its later entries wait behind it.
  Entry after{net.id(), net.pk(0), 3, *protocol::IdOfRecord(unknown), 8, Owe(net.pk(1), 5)};
  EXPECT_EQ(One(*ledger, FeedBuilder::SignRaw(after, net.key(0)).record).outcome,
            Outcome::kPending);
  EXPECT_EQ(ledger->Feed(net.pk(0)).head_seq, 1u);
  EXPECT_EQ(ledger->Feed(net.pk(0)).stop_seq, 0u);
  EXPECT_EQ(ledger->StateDigest(), before);
  EXPECT_TRUE(ledger->ListEvidence()->empty());
  auto needed = ledger->UpgradesNeeded();
  ASSERT_EQ(needed.size(), 1u);
  EXPECT_EQ(needed[0].author, net.pk(0));
  EXPECT_EQ(needed[0].seq, 2u);
  EXPECT_EQ(needed[0].kind_tag, 77);
  EXPECT_EQ(needed[0].id, *protocol::IdOfRecord(unknown));
}

TEST_F(StrataTest, TwoEntriesOfUnknownKindAtOneSeqProveAFork) {
  auto ledger = testing::OpenLedger(net, dir.Sub("db"));
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  ASSERT_EQ(One(*ledger, e1.record).outcome, Outcome::kApplied);
  EXPECT_EQ(One(*ledger, OfKind(0, 2, e1.id, 77, Bytes{1})).outcome, Outcome::kPending);
  EXPECT_EQ(One(*ledger, OfKind(0, 2, e1.id, 77, Bytes{2})).outcome, Outcome::kForkProven);
  EXPECT_EQ(ledger->Feed(net.pk(0)).stop_seq, 2u);
  EXPECT_TRUE(ledger->UpgradesNeeded().empty());  // nothing waits for an upgrade now
}

// An older version (no kind 5) keeps a release and what follows it pending;
// after the upgrade (reopened knowing kind 5) the feed resumes by itself.
TEST_F(StrataTest, TheFeedResumesWhenTheKindBecomesKnown) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  auto e2 = fb.Next(1, protocol::Release{net.pk(0), 4, "hours", ""});  // kind 5 at firm1 seq 1
  auto e3 = fb.Next(1, Owe(net.pk(2), 6));
  {
    auto old = testing::OpenLedger(net, dir.Sub("db"), WithoutRelease());
    auto results = old->Ingest(std::vector<Bytes>{e1.record, e2.record, e3.record}, true);
    EXPECT_EQ(results[0].outcome, Outcome::kApplied);
    EXPECT_EQ(results[1].outcome, Outcome::kPending);
    EXPECT_EQ(results[2].outcome, Outcome::kPending);
    ASSERT_EQ(old->UpgradesNeeded().size(), 1u);
    EXPECT_EQ(old->UpgradesNeeded()[0].kind_tag, 5);
    EXPECT_EQ(old->Feed(net.pk(1)).head_seq, 0u);
  }
  {  // still the old version: still waiting, still reported
    auto old = testing::OpenLedger(net, dir.Sub("db"), WithoutRelease());
    EXPECT_EQ(old->UpgradesNeeded().size(), 1u);
    EXPECT_EQ(old->PendingCount(), 2u);
  }
  auto upgraded = testing::OpenLedger(net, dir.Sub("db"));
  EXPECT_TRUE(upgraded->UpgradesNeeded().empty());
  EXPECT_EQ(upgraded->PendingCount(), 0u);
  EXPECT_EQ(upgraded->Feed(net.pk(1)).head_seq, 2u);
  EXPECT_TRUE(*upgraded->GetBalance(net.pk(1), net.pk(0), "hours") == 6);  // 10 owed, 4 released
  testing::ExpectBalancesMatchRecompute(*upgraded);
  // Same state as a node that knew the kind all along.
  testing::TempDir other;
  auto current = testing::OpenLedger(net, other.Sub("db"));
  current->Ingest(std::vector<Bytes>{e1.record, e2.record, e3.record}, true);
  EXPECT_EQ(upgraded->StateDigest(), current->StateDigest());
}

}  // namespace
}  // namespace keiretsu::node
