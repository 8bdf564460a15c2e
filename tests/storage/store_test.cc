#include "keiretsu/storage/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

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

size_t CountSstFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().extension() == ".sst") ++n;
  return n;
}

// A node restarted many times (systemd restarts, upgrades) must not leave a
// table file per start behind: each open used to flush the recovered write-
// ahead log into new level-0 files of every column family it touched.
TEST_F(StoreTest, RepeatedOpensLeaveABoundedNumberOfSstFiles) {
  constexpr int kOpens = 101;
  for (int i = 1; i <= kOpens; ++i) {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    Batch b;
    EntryId id;
    id.bytes[0] = static_cast<uint8_t>(i);
    id.bytes[1] = static_cast<uint8_t>(i >> 8);
    Bytes rec = {static_cast<uint8_t>(i), 1, 2, 3};
    b.PutEntry(Key(1), static_cast<uint64_t>(i), id, rec);
    b.SetFeedState(Key(1), FeedState{static_cast<uint64_t>(i), id, 0, StopReason::kNone, id});
    b.AddDebt({Key(1), Key(2), "hours", 1});
    b.AppendLog(static_cast<uint64_t>(i), id);
    ASSERT_TRUE(store->Commit(b, true).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->LoadFeedStates().at(Key(1)).head_seq, static_cast<uint64_t>(kOpens));
  EXPECT_TRUE(*store->GetBalance(Key(2), Key(1), "hours") == kOpens);
  EXPECT_EQ(store->ReadFeed(Key(1), 1, 1000)->size(), static_cast<size_t>(kOpens));
  EXPECT_TRUE(store->CheckConsistency().ok());
  // Ten column families, each compacted at open once it holds 4 small
  // files: at most 4 each, however many opens (it was 310).
  EXPECT_LE(CountSstFiles(dir.Sub("db")), 40u);
  std::printf("%zu table files after %d opens\n", CountSstFiles(dir.Sub("db")), kOpens);
}

// Free space as the test says it is.
struct FakeDisk {
  std::shared_ptr<std::atomic<uint64_t>> available =
      std::make_shared<std::atomic<uint64_t>>(uint64_t{1} << 40);
  std::shared_ptr<std::atomic<bool>> broken = std::make_shared<std::atomic<bool>>(false);
  DiskSpaceProbe Probe() const {
    return [a = available, b = broken](const std::string& path) -> Result<DiskSpace> {
      if (b->load()) return IOError("cannot measure " + path);
      return DiskSpace{a->load(), uint64_t{1} << 41};
    };
  }
  void Set(uint64_t bytes) { available->store(bytes); }
};

constexpr uint64_t kMiB = 1 << 20;

class ReserveTest : public StoreTest {
 protected:
  std::unique_ptr<Store> OpenWithReserve(uint64_t reserve) {
    StoreOptions o(dir.Sub("db"), NetworkId{});
    o.reserve_bytes = reserve;
    o.probe = disk.Probe();
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  static Status WriteEntry(Store& store, uint64_t seq) {
    Batch b;
    EntryId id;
    id.bytes[0] = static_cast<uint8_t>(seq);
    Bytes rec = {static_cast<uint8_t>(seq)};
    b.PutEntry(Key(1), seq, id, rec);
    b.SetFeedState(Key(1), FeedState{seq, id, 0, StopReason::kNone, id});
    return store.Commit(b, true);
  }
  FakeDisk disk;
};

TEST(DiskSpaceTest, ReserveMessageNamesPathFreeSpaceAndReserve) {
  EXPECT_TRUE(CheckReserve("/data", DiskSpace{64 * kMiB, 0}, 64 * kMiB).ok());
  Status s = CheckReserve("/data", DiskSpace{3 * kMiB + kMiB / 5, 0}, 64 * kMiB);
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_NE(s.message().find("/data has 3.2 MiB free, below the reserve of 64 MiB"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(uint64_t{17} << 30), "17 GiB");
}

TEST(DiskSpaceTest, StatFilesystemMeasuresARealDirectory) {
  testing::TempDir dir;
  auto space = StatFilesystem(dir.path());
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  EXPECT_GT(space->total_bytes, 0u);
  EXPECT_LE(space->available_bytes, space->total_bytes);
  EXPECT_EQ(StatFilesystem(dir.Sub("absent")).status().code(), Code::kIOError);
}

TEST_F(ReserveTest, CommitsBelowTheReserveAreRefusedAndWriteNothing) {
  auto store = OpenWithReserve(64 * kMiB);
  ASSERT_TRUE(WriteEntry(*store, 1).ok());
  disk.Set(10 * kMiB);
  Status s = WriteEntry(*store, 2);
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_NE(s.message().find(dir.Sub("db") + " has 10 MiB free"), std::string::npos) << s.message();
  EXPECT_EQ(store->Writable(), s);
  // Nothing of the refused batch is stored; reads go on.
  EXPECT_EQ(store->LoadFeedStates().at(Key(1)).head_seq, 1u);
  EXPECT_FALSE(store->GetEntry(Key(1), 2)->has_value());
  EXPECT_TRUE(store->GetEntry(Key(1), 1)->has_value());
  // Space back: the next commit measures again and goes through.
  disk.Set(65 * kMiB);
  EXPECT_TRUE(WriteEntry(*store, 2).ok());
  EXPECT_TRUE(store->Writable().ok());
}

TEST_F(ReserveTest, RefreshReportsLowSpaceBeforeAnyWriteAndClearsItAfter) {
  auto store = OpenWithReserve(64 * kMiB);
  EXPECT_TRUE(store->Refresh().ok());
  disk.Set(0);
  EXPECT_EQ(store->Refresh().code(), Code::kResourceExhausted);
  EXPECT_EQ(store->Writable().code(), Code::kResourceExhausted);
  disk.Set(64 * kMiB);
  EXPECT_TRUE(store->Refresh().ok());
  EXPECT_TRUE(store->Writable().ok());
}

TEST_F(ReserveTest, AFailedMeasurementDoesNotStopWrites) {
  auto store = OpenWithReserve(64 * kMiB);
  *disk.broken = true;
  EXPECT_TRUE(WriteEntry(*store, 1).ok());
  EXPECT_TRUE(store->Refresh().ok());
}

TEST_F(ReserveTest, NoReserveNeverMeasures) {
  *disk.broken = true;
  disk.Set(0);
  auto store = OpenWithReserve(0);
  EXPECT_TRUE(WriteEntry(*store, 1).ok());
}

TEST_F(ReserveTest, OpenBelowTheReserveIsReadOnlyUntilRefreshFindsSpace) {
  {
    auto store = OpenWithReserve(64 * kMiB);
    ASSERT_TRUE(WriteEntry(*store, 1).ok());
  }
  disk.Set(kMiB);
  auto store = OpenWithReserve(64 * kMiB);
  ASSERT_NE(store, nullptr);
  // Reads are served from the read-only store, the log's entries included.
  EXPECT_EQ(store->LoadFeedStates().at(Key(1)).head_seq, 1u);
  EXPECT_TRUE(store->GetEntry(Key(1), 1)->has_value());
  EXPECT_TRUE(store->CheckConsistency().ok());
  Status refused = store->Writable();
  EXPECT_EQ(refused.code(), Code::kResourceExhausted);
  EXPECT_NE(refused.message().find("read-only"), std::string::npos) << refused.message();
  EXPECT_EQ(WriteEntry(*store, 2).code(), Code::kResourceExhausted);
  // Still read-only with space back until Refresh reopens it: a commit
  // alone cannot.
  disk.Set(128 * kMiB);
  EXPECT_EQ(WriteEntry(*store, 2).code(), Code::kResourceExhausted);
  ASSERT_TRUE(store->Refresh().ok()) << store->Writable().ToString();
  EXPECT_TRUE(WriteEntry(*store, 2).ok());
  EXPECT_EQ(store->LoadFeedStates().at(Key(1)).head_seq, 2u);
  store.reset();
  auto again = OpenWithReserve(64 * kMiB);
  EXPECT_EQ(again->LoadFeedStates().at(Key(1)).head_seq, 2u);
}

TEST_F(ReserveTest, AReadOnlyStoreStillLocksItsDirectory) {
  { ASSERT_NE(OpenWithReserve(64 * kMiB), nullptr); }
  disk.Set(0);
  auto first = OpenWithReserve(64 * kMiB);
  ASSERT_EQ(first->Writable().code(), Code::kResourceExhausted);
  disk.Set(128 * kMiB);
  StoreOptions o(dir.Sub("db"), NetworkId{});
  auto second = Store::Open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("locked"), std::string::npos);
}

}  // namespace
}  // namespace keiretsu::storage
