// The fault-injecting file system under the real store: failed writes and
// syncs surface as errors and change nothing visible, Recover reopens after
// them, a power cut keeps exactly what was synced, and a torn log tail
// loses whole batches only.
#include "keiretsu/storage/fault_injector.h"

#include <gtest/gtest.h>

#include <set>

#include "keiretsu/storage/store.h"
#include "temp_dir.h"

namespace keiretsu::storage {
namespace {

using Kind = FaultInjector::FileKind;

PublicKey Author() {
  PublicKey k;
  k.bytes[0] = 1;
  return k;
}

// Batch i writes entry i of one feed and the feed's head: two rows that
// must be there together or not at all.
Status CommitEntry(Store& store, uint8_t i, bool sync) {
  Batch b;
  EntryId id;
  id.bytes[0] = i;
  b.PutEntry(Author(), i, id, Bytes{i, i});
  b.SetFeedState(Author(), FeedState{i, id, 0, StopReason::kNone, id});
  return store.Commit(b, sync);
}

bool HasEntry(const Store& store, uint8_t i) {
  auto e = store.GetEntry(Author(), i);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() && e->has_value();
}

// The head names the highest entry stored, and entries 1..head are there:
// every batch is either wholly present or wholly absent, in commit order.
uint8_t CheckedHead(const Store& store) {
  EXPECT_TRUE(store.CheckConsistency().ok());
  auto feeds = store.LoadFeedStates();
  const uint8_t head = feeds.empty() ? 0 : static_cast<uint8_t>(feeds[Author()].head_seq);
  for (uint8_t i = 1; i <= head; ++i) EXPECT_TRUE(HasEntry(store, i)) << "entry " << int(i);
  EXPECT_FALSE(HasEntry(store, static_cast<uint8_t>(head + 1)));
  return head;
}

class FaultInjectorTest : public ::testing::TestWithParam<FaultInjector::Medium> {
 protected:
  FaultInjectorTest() : faults(FaultInjector::Create(GetParam())) {}
  StoreOptions Options() const { return {dir.Sub("db"), NetworkId{}, true, faults}; }
  std::unique_ptr<Store> Open() {
    auto s = Store::Open(Options());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // Cuts the power, closes the store, restores power and opens it again.
  std::unique_ptr<Store> PowerCycle(std::unique_ptr<Store> store) {
    faults->PowerCut();
    store.reset();
    faults->PowerOn();
    return Open();
  }

  testing::TempDir dir;
  std::shared_ptr<FaultInjector> faults;
};

TEST_P(FaultInjectorTest, AFailedLogWriteFailsTheCommitAndRecoverReopens) {
  auto store = Open();
  ASSERT_TRUE(CommitEntry(*store, 1, true).ok());
  faults->FailNthWrite(1, Kind::kWal);
  Status s = CommitEntry(*store, 2, true);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_EQ(faults->failures_injected(), 1u);
  EXPECT_FALSE(HasEntry(*store, 2));
  EXPECT_TRUE(store->NeedsRecovery());
  // The open instance refuses writes until Recover, even with the fault gone.
  EXPECT_EQ(CommitEntry(*store, 2, true).code(), Code::kIOError);
  ASSERT_TRUE(store->Recover().ok());
  EXPECT_FALSE(store->NeedsRecovery());
  EXPECT_EQ(CheckedHead(*store), 1);  // the write never happened
  ASSERT_TRUE(CommitEntry(*store, 2, true).ok());
  store = PowerCycle(std::move(store));
  EXPECT_EQ(CheckedHead(*store), 2);
}

TEST_P(FaultInjectorTest, AFailedSyncLeavesTheBatchWhollyThereOrAbsent) {
  auto store = Open();
  ASSERT_TRUE(CommitEntry(*store, 1, true).ok());
  faults->FailNthSync(1, Kind::kWal);
  EXPECT_EQ(CommitEntry(*store, 2, true).code(), Code::kIOError);
  EXPECT_FALSE(HasEntry(*store, 2));
  ASSERT_TRUE(store->Recover().ok());
  // The bytes were written, only the sync failed: the reopened instance
  // replays them. The batch is whole, and the store writes on from there.
  const uint8_t head = CheckedHead(*store);
  EXPECT_GE(head, 1);
  ASSERT_TRUE(CommitEntry(*store, static_cast<uint8_t>(head + 1), true).ok());
  store = PowerCycle(std::move(store));
  EXPECT_EQ(CheckedHead(*store), head + 1);
}

TEST_P(FaultInjectorTest, RecoverFailsWhileTheFaultLastsAndReadsStayErrors) {
  auto store = Open();
  ASSERT_TRUE(CommitEntry(*store, 1, true).ok());
  faults->FailEverySync();
  EXPECT_FALSE(CommitEntry(*store, 2, true).ok());
  Status s = store->Recover();  // reopening writes and syncs a new manifest
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(store->NeedsRecovery());
  EXPECT_FALSE(store->GetEntry(Author(), 1).ok());  // an error, not a crash
  EXPECT_EQ(CommitEntry(*store, 2, true).code(), Code::kIOError);
  faults->Clear();
  ASSERT_TRUE(store->Recover().ok()) << store->Recover().ToString();
  EXPECT_GE(CheckedHead(*store), 1);
}

TEST_P(FaultInjectorTest, OpenFailsWhenFilesCannotBeCreated) {
  faults->FailFileCreation();
  auto s = Store::Open(Options());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kIOError) << s.status().ToString();
  faults->Clear();
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(CheckedHead(*store), 0);
}

TEST_P(FaultInjectorTest, APowerCutKeepsWhatWasSyncedAndDropsTheRest) {
  auto store = Open();
  ASSERT_TRUE(CommitEntry(*store, 1, true).ok());
  ASSERT_TRUE(CommitEntry(*store, 2, false).ok());
  ASSERT_TRUE(CommitEntry(*store, 3, false).ok());
  EXPECT_TRUE(HasEntry(*store, 3));
  store = PowerCycle(std::move(store));
  EXPECT_EQ(CheckedHead(*store), 1);
  // A synced commit makes the unsynced ones before it durable too.
  ASSERT_TRUE(CommitEntry(*store, 2, false).ok());
  ASSERT_TRUE(CommitEntry(*store, 3, true).ok());
  store = PowerCycle(std::move(store));
  EXPECT_EQ(CheckedHead(*store), 3);
}

TEST_P(FaultInjectorTest, OperationsAfterACutAreRefused) {
  auto store = Open();
  ASSERT_TRUE(CommitEntry(*store, 1, true).ok());
  faults->PowerCut();
  EXPECT_TRUE(faults->power_cut());
  EXPECT_FALSE(CommitEntry(*store, 2, true).ok());
  store.reset();
  faults->PowerOn();
  EXPECT_FALSE(faults->power_cut());
  store = Open();
  EXPECT_EQ(CheckedHead(*store), 1);
}

// A cut at every operation of a synced commit, one at a time: the commit
// is durable exactly when it reported success, else wholly absent.
TEST_P(FaultInjectorTest, ACutAtAnyPointOfASyncedCommitIsAtomic) {
  uint64_t ops_per_commit = 0;
  {
    auto store = Open();
    ASSERT_TRUE(CommitEntry(*store, 1, true).ok());
    const uint64_t before = faults->mutating_ops();
    ASSERT_TRUE(CommitEntry(*store, 2, true).ok());
    ops_per_commit = faults->mutating_ops() - before;
  }
  ASSERT_GE(ops_per_commit, 2u);  // at least the log write and its sync
  for (uint64_t at = 1; at <= ops_per_commit + 1; ++at) {
    auto store = Open();
    const uint8_t head = CheckedHead(*store);
    faults->PowerCutAt(at);
    const bool ok = CommitEntry(*store, static_cast<uint8_t>(head + 1), true).ok();
    store = PowerCycle(std::move(store));
    const uint8_t after = CheckedHead(*store);
    if (ok) {
      EXPECT_EQ(after, head + 1) << "cut at op " << at;
    }
    EXPECT_TRUE(after == head || after == head + 1) << "cut at op " << at;
  }
}

TEST_P(FaultInjectorTest, ATornLogTailLosesWholeBatchesOnly) {
  std::set<uint8_t> heads;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    testing::TempDir round_dir;
    auto round = FaultInjector::Create(GetParam());
    round->SetTornTail(true, seed);
    const StoreOptions opts{round_dir.Sub("db"), NetworkId{}, true, round};
    auto store = std::move(Store::Open(opts)).value();
    ASSERT_TRUE(CommitEntry(*store, 1, true).ok());
    for (uint8_t i = 2; i <= 9; ++i) ASSERT_TRUE(CommitEntry(*store, i, false).ok());
    round->PowerCut();
    store.reset();
    round->PowerOn();
    auto reopened = Store::Open(opts);
    ASSERT_TRUE(reopened.ok()) << "seed " << seed << ": " << reopened.status().ToString();
    const uint8_t head = CheckedHead(**reopened);
    EXPECT_GE(head, 1) << "seed " << seed;
    heads.insert(head);
  }
  EXPECT_GT(heads.size(), 1u);  // tails were torn at different places
}

INSTANTIATE_TEST_SUITE_P(Media, FaultInjectorTest,
                         ::testing::Values(FaultInjector::Medium::kMemory,
                                           FaultInjector::Medium::kDisk),
                         [](const auto& param_info) {
                           return param_info.param == FaultInjector::Medium::kMemory ? "Memory"
                                                                                     : "Disk";
                         });

}  // namespace
}  // namespace keiretsu::storage
