#include "keiretsu/storage/store.h"

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace keiretsu::storage {
namespace {

PublicKey Key(uint8_t b) {
  PublicKey k;
  k.bytes[0] = b;
  return k;
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(NetworkId net = {}) {
    auto s = Store::Open({dir.Sub("db"), net, true});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  testing::TempDir dir;
};

TEST_F(StoreTest, BalancesSumBothDirectionsIn128Bits) {
  auto store = Open();
  Batch b;
  protocol::Amount128 big = static_cast<protocol::Amount128>(1) << 80;
  b.AddDebt({Key(1), Key(2), "hours", big});
  b.AddDebt({Key(1), Key(2), "hours", 5});
  b.AddDebt({Key(1), Key(2), "kg", -3});
  ASSERT_TRUE(store->Commit(b, true).ok());
  EXPECT_TRUE(*store->GetBalance(Key(2), Key(1), "hours") == big + 5);
  EXPECT_TRUE(*store->GetBalance(Key(1), Key(2), "hours") == -(big + 5));
  EXPECT_TRUE(*store->GetBalance(Key(1), Key(2), "kg") == 3);
  EXPECT_TRUE(*store->GetBalance(Key(1), Key(3), "kg") == 0);
  auto rows = store->ListBalances(Key(1));
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].unit, "hours");
  EXPECT_EQ((*rows)[0].counterparty, Key(2));
}

TEST_F(StoreTest, ZeroBalancesAreNotListed) {
  auto store = Open();
  Batch b;
  b.AddDebt({Key(1), Key(2), "hours", 5});
  b.AddDebt({Key(1), Key(2), "hours", -5});
  ASSERT_TRUE(store->Commit(b, false).ok());
  EXPECT_TRUE(store->ListAllBalances()->empty());
}

TEST_F(StoreTest, FeedStateAndEntriesPersistAcrossReopen) {
  {
    auto store = Open();
    Batch b;
    EntryId id;
    id.bytes[0] = 7;
    Bytes rec = {1, 2, 3};
    b.PutEntry(Key(1), 1, id, rec);
    b.SetFeedState(Key(1), FeedState{1, id, 0, StopReason::kNone, id});
    ASSERT_TRUE(store->Commit(b, true).ok());
  }
  auto store = Open();
  auto feeds = store->LoadFeedStates();
  ASSERT_EQ(feeds.size(), 1u);
  EXPECT_EQ(feeds.at(Key(1)).head_seq, 1u);
  EXPECT_EQ(**store->GetEntry(Key(1), 1), (Bytes{1, 2, 3}));
  EXPECT_TRUE(store->CheckConsistency().ok());
}

TEST_F(StoreTest, RequestIdsPersistAcrossReopenAndOnlyWithTheirBatch) {
  RequestRecord rec;
  rec.entry.bytes[0] = 7;
  rec.fingerprint[31] = 9;
  rec.created_unix_ms = 1'790'000'000'123;
  {
    auto store = Open();
    EXPECT_FALSE(store->GetRequest("r-1")->has_value());
    Batch b;
    b.PutRequest("r-1", rec);
    ASSERT_TRUE(store->Commit(b, true).ok());
  }
  auto store = Open();
  auto got = store->GetRequest("r-1");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ(**got, rec);
  EXPECT_FALSE(store->GetRequest("r-2")->has_value());
}

TEST_F(StoreTest, ConsistencyCheckFindsAMissingHead) {
  auto store = Open();
  Batch b;
  EntryId id;
  id.bytes[0] = 7;
  b.SetFeedState(Key(1), FeedState{3, id, 0, StopReason::kNone, id});
  ASSERT_TRUE(store->Commit(b, true).ok());
  Status s = store->CheckConsistency();
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("head entry 3 is missing"), std::string::npos) << s.message();
}

TEST_F(StoreTest, RefusesAnotherNetworksDirectory) {
  NetworkId a, b;
  b.bytes[0] = 1;
  { ASSERT_NE(Open(a), nullptr); }
  auto s = Store::Open({dir.Sub("db"), b, true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("belongs to network"), std::string::npos);
}

TEST_F(StoreTest, RefusesASecondOpenWhileLocked) {
  auto first = Open();
  auto second = Store::Open({dir.Sub("db"), NetworkId{}, true});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("locked"), std::string::npos)
      << second.status().message();
}

TEST_F(StoreTest, MissingDirectoryWithoutCreateIsNotFound) {
  auto s = Store::Open({dir.Sub("absent"), NetworkId{}, false});
  EXPECT_EQ(s.status().code(), Code::kNotFound) << s.status().ToString();
}

TEST_F(StoreTest, PendingAndEvidenceRoundTrip) {
  auto store = Open();
  Batch b;
  EntryId id;
  id.bytes[0] = 9;
  Bytes rec = {4, 5};
  b.PutPending(Key(1), 4, id, rec);
  b.PutEvidence(Evidence{Key(1), 2, StopReason::kInvalidEntry, {1}, {}, "amount must be positive"});
  ASSERT_TRUE(store->Commit(b, true).ok());
  EXPECT_EQ(store->PendingAt(Key(1), 4)->size(), 1u);
  EXPECT_TRUE(store->PendingAt(Key(1), 5)->empty());
  EXPECT_EQ(store->ListPendingFor(Key(1), 3)->size(), 1u);
  EXPECT_TRUE(store->ListPendingFor(Key(1), 5)->empty());
  auto ev = store->ListEvidence();
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].reason, "amount must be positive");
  EXPECT_EQ((*ev)[0].seq, 2u);
  Batch del;
  del.DeletePending(Key(1), 4, id);
  ASSERT_TRUE(store->Commit(del, true).ok());
  EXPECT_TRUE(store->ListPending()->empty());
}

}  // namespace
}  // namespace keiretsu::storage
