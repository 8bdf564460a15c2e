// Every commit-failure path of the ledger, each with an injected storage
// fault under the real store (storage::FaultInjector). For each: the
// failing call returns an error value, nothing half-applied is visible (the
// ledger's caches equal the store, balances equal a recomputation), and the
// next call succeeds once the fault clears.
//
// Paths (node/src/ledger.cc, ledger_apply.cc), and the test that runs each:
//   Append, one entry ................... AppendFailureLeavesNoTraceAndTheNextBuildsOnTheStoredHead
//   Append, a group commit .............. AGroupCommitFailureFailsEveryWaiterAndNoFeedForks
//   Ingest, entries extending a feed .... IngestFailureAppliesNothing (sync and not)
//   Ingest, an entry kept pending ....... KeepingPendingFailsWithoutCountingIt
//   Ingest, promotion of pending ........ PromotionFailureLeavesThePendingEntriesKept
//   Ingest, a fork proof (stop, undo
//     effects, evidence) ................ ForkProofFailureStopsNothing
//   Ingest, an invalid entry (feed end,
//     evidence) ......................... FeedEndFailureEndsNothing
//   the reopen after a failed commit,
//     while the fault lasts ............. WhileTheStoreCannotReopenEveryCallFails
//   open-time: store open and the
//     consistency check ................. OpenFailsWhileFilesCannotBeCreated
//   the listener (Watch, replication) ... a failed commit notifies nothing (in
//                                         IngestFailureAppliesNothing)
// Import (the API) commits through Ingest with sync, the replicator through
// Ingest without (tests/faults/replicator_faults_test.cc); Export and
// GetCheckpoint only read. Each path runs with the write-ahead log's write
// failing and with its sync failing (a failed sync may still have written
// the batch: after the reopen it is then wholly there).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fault_support.h"

namespace keiretsu::node {
namespace {

using storage::FaultInjector;
using testing::FeedBuilder;
using testing::Owe;
using Kind = FaultInjector::FileKind;

enum class Fault { kLogWrite, kLogSync };

// Everything observable about a ledger, to compare before/after.
struct Snapshot {
  Digest digest;
  std::map<PublicKey, FeedState> feeds;
  size_t pending = 0;
  size_t evidence = 0;
  uint64_t cursor = 0;
  std::vector<std::string> balances;
};
Snapshot Snap(const Ledger& l) {
  Snapshot s{l.StateDigest(),  testing::NonEmpty(l.Feeds()),
             l.PendingCount(), l.ListEvidence()->size(),
             l.LastCursor(),   {}};
  auto rows = l.ListAllBalances();
  for (const auto& r : *rows)
    s.balances.push_back(r.firm.Short() + "/" + r.counterparty.Short() + "/" + r.unit + "=" +
                         protocol::AmountToString(r.net));
  return s;
}
void ExpectSame(const Snapshot& now, const Snapshot& before) {
  EXPECT_EQ(now.digest, before.digest);
  EXPECT_TRUE(now.feeds == before.feeds);
  EXPECT_EQ(now.pending, before.pending);
  EXPECT_EQ(now.evidence, before.evidence);
  EXPECT_EQ(now.cursor, before.cursor);
  EXPECT_EQ(now.balances, before.balances);
}

class LedgerFaultTest : public ::testing::TestWithParam<Fault> {
 protected:
  LedgerFaultTest() {
    ledger = std::move(testing::OpenFaultyLedger(net, dir.Sub("db"), faults)).value();
  }

  void Arm() {
    if (GetParam() == Fault::kLogWrite)
      faults->FailNthWrite(1, Kind::kWal);
    else
      faults->FailNthSync(1, Kind::kWal);
  }
  std::vector<IngestResult> Ingest(std::vector<Bytes> records, bool sync = true) {
    return ledger->Ingest(records, sync);
  }
  // Asserts the call failed with the injected storage error, and that
  // nothing of it is visible.
  void ExpectFailedCleanly(const std::vector<IngestResult>& results, const Snapshot& before) {
    EXPECT_EQ(faults->failures_injected(), 1u);
    for (const auto& r : results) {
      EXPECT_EQ(r.outcome, Outcome::kRejected);
      EXPECT_EQ(r.status.code(), Code::kIOError) << r.status.ToString();
    }
    ExpectSame(Snap(*ledger), before);
    testing::ExpectLedgerMatchesStore(*ledger);
  }
  // Power-cycles the ledger: what it acknowledged is still there.
  void ExpectSurvivesPowerCut() {
    const auto feeds = ledger->Feeds();
    faults->PowerCut();
    ledger.reset();
    faults->PowerOn();
    auto reopened = testing::OpenFaultyLedger(net, dir.Sub("db"), faults);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    ledger = std::move(reopened).value();
    EXPECT_TRUE(testing::NonEmpty(ledger->Feeds()) == testing::NonEmpty(feeds));
    testing::ExpectLedgerMatchesStore(*ledger);
  }

  testing::TestNetwork net = testing::MakeNetwork(3);
  testing::TempDir dir;
  std::shared_ptr<FaultInjector> faults = FaultInjector::Create(FaultInjector::Medium::kMemory);
  std::unique_ptr<Ledger> ledger;
  FeedBuilder fb{net};
};

TEST_P(LedgerFaultTest, AppendFailureLeavesNoTraceAndTheNextBuildsOnTheStoredHead) {
  ASSERT_TRUE(ledger->Append(net.key(0), Owe(net.pk(1), 5), 1).ok());
  const Snapshot before = Snap(*ledger);
  Arm();
  auto failed = ledger->Append(net.key(0), Owe(net.pk(1), 7), 2);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kIOError) << failed.status().ToString();
  ExpectSame(Snap(*ledger), before);
  testing::ExpectLedgerMatchesStore(*ledger);

  faults->Clear();
  auto next = ledger->Append(net.key(0), Owe(net.pk(1), 11), 3);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  // A failed sync may have stored the failed entry: then the next one
  // follows it (seq 3), else it takes its place (seq 2). Never beside it.
  const FeedState st = ledger->Feed(net.pk(0));
  EXPECT_EQ(st.head_seq, next->entry.seq);
  EXPECT_EQ(st.head_id, next->id);
  if (GetParam() == Fault::kLogWrite) {
    EXPECT_EQ(next->entry.seq, 2u);
  }
  EXPECT_EQ(st.stop_seq, 0u);
  testing::ExpectLedgerMatchesStore(*ledger);
  ExpectSurvivesPowerCut();
}

TEST_P(LedgerFaultTest, AGroupCommitFailureFailsEveryWaiterAndNoFeedForks) {
  constexpr int kThreads = 4, kEach = 10;
  Arm();
  std::atomic<int> failed{0};
  std::vector<std::thread> writers;
  std::vector<std::vector<protocol::SignedEntry>> acked(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = ledger->Append(net.key(t % 3), Owe(net.pk((t + 1) % 3), 1), 1);
        if (r.ok()) {
          acked[static_cast<size_t>(t)].push_back(*r);
        } else {
          EXPECT_EQ(r.status().code(), Code::kIOError) << r.status().ToString();
          ++failed;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_GE(failed.load(), 1);  // the whole failing group
  EXPECT_EQ(faults->failures_injected(), 1u);
  for (const auto& mine : acked)
    for (const auto& se : mine) {
      auto held = ledger->GetEntry(se.id);
      ASSERT_TRUE(held.ok() && held->has_value()) << "acknowledged entry lost";
    }
  for (const auto& [author, st] : ledger->Feeds()) EXPECT_EQ(st.stop_seq, 0u);
  testing::ExpectLedgerMatchesStore(*ledger);
  ExpectSurvivesPowerCut();
}

TEST_P(LedgerFaultTest, IngestFailureAppliesNothing) {
  for (bool sync : {true, false}) {
    if (!sync && GetParam() == Fault::kLogSync) continue;  // an unsynced commit never syncs
    SCOPED_TRACE(sync ? "synced (Import)" : "unsynced (replication)");
    const auto e1 = fb.Next(1, Owe(net.pk(2), 3)), e2 = fb.Next(1, Owe(net.pk(0), 4));
    size_t notified = 0;
    ledger->SetListener([&](const std::vector<AppliedEntry>& a) { notified += a.size(); });
    const Snapshot before = Snap(*ledger);
    Arm();
    const uint64_t injected_before = faults->failures_injected();
    auto results = Ingest({e1.record, e2.record}, sync);
    EXPECT_EQ(faults->failures_injected(), injected_before + 1);
    for (const auto& r : results) {
      EXPECT_EQ(r.outcome, Outcome::kRejected);
      EXPECT_EQ(r.status.code(), Code::kIOError) << r.status.ToString();
    }
    ExpectSame(Snap(*ledger), before);
    EXPECT_EQ(notified, 0u);
    testing::ExpectLedgerMatchesStore(*ledger);

    faults->Clear();
    for (const auto& r : Ingest({e1.record, e2.record}, sync))
      EXPECT_TRUE(r.outcome == Outcome::kApplied || r.outcome == Outcome::kDuplicate)
          << OutcomeName(r.outcome) << " " << r.status.ToString();
    EXPECT_EQ(ledger->Feed(net.pk(1)).head_id, e2.id);
    testing::ExpectLedgerMatchesStore(*ledger);
    ledger->SetListener(nullptr);
  }
  // A synced commit makes the unsynced ones before it durable.
  ASSERT_TRUE(ledger->Append(net.key(0), Owe(net.pk(1), 1), 1).ok());
  ExpectSurvivesPowerCut();
}

TEST_P(LedgerFaultTest, KeepingPendingFailsWithoutCountingIt) {
  fb.Next(1, Owe(net.pk(2), 1));
  const auto e2 = fb.Next(1, Owe(net.pk(2), 2));
  const Snapshot before = Snap(*ledger);
  Arm();
  ExpectFailedCleanly(Ingest({e2.record}), before);
  faults->Clear();
  auto r = Ingest({e2.record}).at(0);
  EXPECT_TRUE(r.outcome == Outcome::kPending || r.outcome == Outcome::kDuplicate)
      << OutcomeName(r.outcome);
  EXPECT_EQ(ledger->PendingCount(), 1u);
  testing::ExpectLedgerMatchesStore(*ledger);
  ExpectSurvivesPowerCut();
}

TEST_P(LedgerFaultTest, PromotionFailureLeavesThePendingEntriesKept) {
  const auto e1 = fb.Next(1, Owe(net.pk(2), 1));
  const auto e2 = fb.Next(1, Owe(net.pk(2), 2));
  const auto e3 = fb.Next(1, Owe(net.pk(0), 3));
  for (const auto& r : Ingest({e2.record, e3.record})) ASSERT_EQ(r.outcome, Outcome::kPending);
  const Snapshot before = Snap(*ledger);
  Arm();
  ExpectFailedCleanly(Ingest({e1.record}), before);
  EXPECT_EQ(ledger->PendingCount(), 2u);
  faults->Clear();
  auto r = Ingest({e1.record}).at(0);
  EXPECT_TRUE(r.outcome == Outcome::kApplied || r.outcome == Outcome::kDuplicate);
  EXPECT_EQ(ledger->Feed(net.pk(1)).head_seq, 3u);
  EXPECT_EQ(ledger->PendingCount(), 0u);
  testing::ExpectLedgerMatchesStore(*ledger);
  ExpectSurvivesPowerCut();
}

TEST_P(LedgerFaultTest, ForkProofFailureStopsNothing) {
  const auto e1 = fb.Next(1, Owe(net.pk(2), 10));
  const auto e2 = fb.Next(1, Owe(net.pk(2), 20));
  const auto e3 = fb.Next(1, Owe(net.pk(0), 30));
  for (const auto& r : Ingest({e1.record, e2.record, e3.record}))
    ASSERT_EQ(r.outcome, Outcome::kApplied);
  protocol::Entry other = e2.entry;
  other.body = Owe(net.pk(0), 99);
  const auto e2b = FeedBuilder::SignRaw(other, net.key(1));
  const Snapshot before = Snap(*ledger);
  Arm();
  ExpectFailedCleanly(Ingest({e2b.record}), before);
  EXPECT_EQ(ledger->Feed(net.pk(1)).stop_seq, 0u);
  faults->Clear();
  auto r = Ingest({e2b.record}).at(0);
  // kIgnored when the failed sync had stored the proof after all.
  EXPECT_TRUE(r.outcome == Outcome::kForkProven || r.outcome == Outcome::kIgnored)
      << OutcomeName(r.outcome);
  EXPECT_EQ(ledger->Feed(net.pk(1)).stop_seq, 2u);
  EXPECT_EQ(ledger->ListEvidence()->size(), 1u);
  testing::ExpectLedgerMatchesStore(*ledger);
  ExpectSurvivesPowerCut();
}

TEST_P(LedgerFaultTest, FeedEndFailureEndsNothing) {
  const auto e1 = fb.Next(1, Owe(net.pk(2), 10));
  ASSERT_EQ(Ingest({e1.record}).at(0).outcome, Outcome::kApplied);
  protocol::Entry bad{net.id(), net.pk(1), 2, e1.id, 0, Owe(net.pk(1), 5)};  // self-debt
  const auto se = FeedBuilder::SignRaw(bad, net.key(1));
  const Snapshot before = Snap(*ledger);
  Arm();
  ExpectFailedCleanly(Ingest({se.record}), before);
  faults->Clear();
  auto r = Ingest({se.record}).at(0);
  EXPECT_TRUE(r.outcome == Outcome::kFeedEnded || r.outcome == Outcome::kIgnored)
      << OutcomeName(r.outcome);
  EXPECT_EQ(ledger->Feed(net.pk(1)).stop_seq, 2u);
  EXPECT_EQ(ledger->Feed(net.pk(1)).stop_reason, storage::StopReason::kInvalidEntry);
  testing::ExpectLedgerMatchesStore(*ledger);
  ExpectSurvivesPowerCut();
}

TEST_P(LedgerFaultTest, WhileTheStoreCannotReopenEveryCallFails) {
  ASSERT_TRUE(ledger->Append(net.key(0), Owe(net.pk(1), 5), 1).ok());
  const auto feeds = ledger->Feeds();
  Arm();
  ASSERT_FALSE(ledger->Append(net.key(0), Owe(net.pk(1), 7), 2).ok());
  faults->FailFileCreation();  // reopening needs a new log and manifest
  for (int i = 0; i < 3; ++i) {
    auto r = ledger->Append(net.key(0), Owe(net.pk(1), 1), 3);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kIOError) << r.status().ToString();
    const auto e = fb.Next(2, Owe(net.pk(1), 1));
    auto in = Ingest({e.record}).at(0);
    EXPECT_EQ(in.outcome, Outcome::kRejected);
    EXPECT_EQ(in.status.code(), Code::kIOError) << in.status.ToString();
    EXPECT_TRUE(testing::NonEmpty(ledger->Feeds()) ==
                testing::NonEmpty(feeds));  // the caches stay as they were
  }
  faults->Clear();
  ASSERT_TRUE(ledger->Append(net.key(0), Owe(net.pk(1), 9), 4).ok());
  testing::ExpectLedgerMatchesStore(*ledger);
  ExpectSurvivesPowerCut();
}

TEST_P(LedgerFaultTest, OpenFailsWhileFilesCannotBeCreated) {
  ASSERT_TRUE(ledger->Append(net.key(0), Owe(net.pk(1), 5), 1).ok());
  const auto feeds = ledger->Feeds();
  ledger.reset();
  faults->FailFileCreation();
  auto refused = testing::OpenFaultyLedger(net, dir.Sub("db"), faults);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kIOError) << refused.status().ToString();
  faults->Clear();
  faults->FailNthWrite(1, Kind::kManifest);  // opening writes a new manifest
  refused = testing::OpenFaultyLedger(net, dir.Sub("db"), faults);
  EXPECT_FALSE(refused.ok());
  faults->Clear();
  auto reopened = testing::OpenFaultyLedger(net, dir.Sub("db"), faults);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  ledger = std::move(reopened).value();
  EXPECT_TRUE(testing::NonEmpty(ledger->Feeds()) == testing::NonEmpty(feeds));
  ASSERT_TRUE(ledger->Append(net.key(0), Owe(net.pk(1), 6), 2).ok());
  testing::ExpectLedgerMatchesStore(*ledger);
}

INSTANTIATE_TEST_SUITE_P(Faults, LedgerFaultTest,
                         ::testing::Values(Fault::kLogWrite, Fault::kLogSync),
                         [](const auto& param_info) {
                           return param_info.param == Fault::kLogWrite ? "LogWrite" : "LogSync";
                         });

}  // namespace
}  // namespace keiretsu::node
