// The ledger rules, one behaviour per test: what each outcome does to the
// store, and that refused input changes nothing.
#include "keiretsu/node/ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "test_network.h"

namespace keiretsu::node {
namespace {

using protocol::Accept;
using protocol::Claim;
using protocol::Release;
using testing::FeedBuilder;
using testing::Owe;

// Everything observable about a ledger, to compare before/after.
struct Snapshot {
  Digest digest;
  std::map<PublicKey, FeedState> feeds;
  std::vector<std::tuple<PublicKey, PublicKey, std::string, std::string>> balances;
  size_t pending = 0;
  size_t evidence = 0;
  bool operator==(const Snapshot&) const = default;
};
Snapshot Snap(const Ledger& l) {
  Snapshot s{l.StateDigest(), l.Feeds(), {}, l.PendingCount(), l.ListEvidence()->size()};
  auto rows = l.ListAllBalances();
  for (const auto& r : *rows)
    s.balances.emplace_back(r.firm, r.counterparty, r.unit, protocol::AmountToString(r.net));
  return s;
}

class LedgerTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);
  testing::TempDir dir;
  std::unique_ptr<Ledger> ledger = testing::OpenLedger(net, dir.Sub("db"));
  FeedBuilder fb{net};

  IngestResult One(const Bytes& record) {
    auto r = ledger->Ingest(std::span(&record, 1), false);
    return r.at(0);
  }
  protocol::Amount128 Net(int a, int b, const std::string& unit = "hours") {
    return *ledger->GetBalance(net.pk(a), net.pk(b), unit);
  }
  void ExpectBalancesMatchRecompute() { testing::ExpectBalancesMatchRecompute(*ledger); }
};

TEST_F(LedgerTest, ObligationMovesBalanceBothWays) {
  auto e = fb.Next(0, Owe(net.pk(1), 70));
  auto r = One(e.record);
  EXPECT_EQ(r.outcome, Outcome::kApplied) << r.status.ToString();
  EXPECT_TRUE(Net(1, 0) == 70);  // firm0 owes firm1 70
  EXPECT_TRUE(Net(0, 1) == -70);
  EXPECT_EQ(ledger->Feed(net.pk(0)).head_seq, 1u);
  ExpectBalancesMatchRecompute();
}

TEST_F(LedgerTest, ClaimHasNoEffectUntilAccepted) {
  auto claim = fb.Next(1, Claim{net.pk(0), 40, "hours", "forklift loan"});
  EXPECT_EQ(One(claim.record).outcome, Outcome::kApplied);
  EXPECT_TRUE(Net(1, 0) == 0);
  auto accept = fb.Next(0, Accept{claim.id, net.pk(1), 40, "hours", ""});
  EXPECT_EQ(One(accept.record).outcome, Outcome::kApplied);
  EXPECT_TRUE(Net(1, 0) == 40);
  auto release = fb.Next(1, Release{net.pk(0), 15, "hours", "paid back"});
  EXPECT_EQ(One(release.record).outcome, Outcome::kApplied);
  EXPECT_TRUE(Net(1, 0) == 25);
  ExpectBalancesMatchRecompute();
}

TEST_F(LedgerTest, DuplicateIsNoOp) {
  auto e = fb.Next(0, Owe(net.pk(1), 5));
  ASSERT_EQ(One(e.record).outcome, Outcome::kApplied);
  Snapshot before = Snap(*ledger);
  auto r = One(e.record);
  EXPECT_EQ(r.outcome, Outcome::kDuplicate) << OutcomeName(r.outcome) << " " << r.status.ToString();
  EXPECT_EQ(Snap(*ledger), before);
}

TEST_F(LedgerTest, OutOfOrderEntriesWaitThenApply) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 1));
  auto e2 = fb.Next(0, Owe(net.pk(1), 2));
  auto e3 = fb.Next(0, Owe(net.pk(2), 3));
  EXPECT_EQ(One(e3.record).outcome, Outcome::kPending);
  EXPECT_EQ(One(e2.record).outcome, Outcome::kPending);
  EXPECT_EQ(ledger->PendingCount(), 2u);
  EXPECT_TRUE(Net(1, 0) == 0);
  EXPECT_EQ(One(e1.record).outcome, Outcome::kApplied);
  EXPECT_EQ(ledger->PendingCount(), 0u);
  EXPECT_EQ(ledger->Feed(net.pk(0)).head_seq, 3u);
  EXPECT_TRUE(Net(1, 0) == 3);
  EXPECT_TRUE(Net(2, 0) == 3);
  ExpectBalancesMatchRecompute();
}

TEST_F(LedgerTest, PendingSurvivesReopen) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 1));
  auto e2 = fb.Next(0, Owe(net.pk(1), 2));
  ASSERT_EQ(One(e2.record).outcome, Outcome::kPending);
  ledger.reset();
  ledger = testing::OpenLedger(net, dir.Sub("db"));
  EXPECT_EQ(ledger->PendingCount(), 1u);
  EXPECT_EQ(One(e1.record).outcome, Outcome::kApplied);
  EXPECT_EQ(ledger->Feed(net.pk(0)).head_seq, 2u);
}

TEST_F(LedgerTest, ForkStopsFeedAndUndoesEffectsFromForkPoint) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  auto e2 = fb.Next(0, Owe(net.pk(1), 20));
  auto e3 = fb.Next(0, Owe(net.pk(1), 30));
  ASSERT_EQ(ledger->Ingest(std::vector<Bytes>{e1.record, e2.record, e3.record}, false).size(), 3u);
  EXPECT_TRUE(Net(1, 0) == 60);
  // The author signs a different seq 2.
  protocol::Entry other = e2.entry;
  other.body = Owe(net.pk(2), 99);
  auto e2b = FeedBuilder::SignRaw(other, net.key(0));
  auto r = One(e2b.record);
  EXPECT_EQ(r.outcome, Outcome::kForkProven) << r.status.ToString();
  FeedState st = ledger->Feed(net.pk(0));
  EXPECT_EQ(st.stop_seq, 2u);
  EXPECT_EQ(st.effective_seq(), 1u);
  EXPECT_EQ(st.effective_id, e1.id);
  EXPECT_TRUE(Net(1, 0) == 10);  // only seq 1 still counts
  EXPECT_TRUE(Net(2, 0) == 0);
  auto ev = ledger->ListEvidence();
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].seq, 2u);
  EXPECT_EQ((*ev)[0].kind, storage::StopReason::kFork);
  ExpectBalancesMatchRecompute();
  // Later entries of a stopped feed have no effect.
  auto e4 = fb.Next(0, Owe(net.pk(1), 40));
  EXPECT_EQ(One(e4.record).outcome, Outcome::kIgnored);
  EXPECT_TRUE(Net(1, 0) == 10);
}

TEST_F(LedgerTest, StopListenerHearsOfEveryStoredProofOnce) {
  std::vector<storage::Evidence> heard;
  ledger->SetStopListener([&](const std::vector<storage::Evidence>& ev) {
    heard.insert(heard.end(), ev.begin(), ev.end());
  });
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  auto e2 = fb.Next(0, Owe(net.pk(1), 20));
  EXPECT_EQ(ledger->Ingest(std::vector<Bytes>{e1.record, e2.record}, false).size(), 2u);
  EXPECT_TRUE(heard.empty());  // applied entries are not stops
  protocol::Entry other = e2.entry;
  other.body = Owe(net.pk(2), 99);
  auto e2b = FeedBuilder::SignRaw(other, net.key(0));
  EXPECT_EQ(One(e2b.record).outcome, Outcome::kForkProven);
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0].author, net.pk(0));
  EXPECT_EQ(heard[0].seq, 2u);
  EXPECT_EQ(heard[0].kind, storage::StopReason::kFork);
  const auto stored = ledger->ListEvidence();
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].first, heard[0].first);  // exactly the proof stored
  EXPECT_EQ((*stored)[0].second, heard[0].second);
  // The same proof again stores nothing and is not heard again.
  EXPECT_EQ(One(e2b.record).outcome, Outcome::kIgnored);
  EXPECT_EQ(heard.size(), 1u);
}

TEST_F(LedgerTest, ForkSeenInPendingBeforeTheGapFills) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  auto e2 = fb.Next(0, Owe(net.pk(1), 20));
  protocol::Entry other = e2.entry;
  other.body = Owe(net.pk(2), 99);
  auto e2b = FeedBuilder::SignRaw(other, net.key(0));
  EXPECT_EQ(One(e2.record).outcome, Outcome::kPending);
  EXPECT_EQ(One(e2b.record).outcome, Outcome::kForkProven);
  EXPECT_EQ(One(e1.record).outcome, Outcome::kApplied);
  FeedState st = ledger->Feed(net.pk(0));
  EXPECT_EQ(st.stop_seq, 2u);
  EXPECT_EQ(st.head_seq, 1u);
  EXPECT_TRUE(Net(1, 0) == 10);
  EXPECT_EQ(ledger->PendingCount(), 0u);
}

// max_pending_ahead is a local resource limit on lone records; it must not
// decide which forks a node proves (PROTOCOL.md 8.2 step 5), or the digest
// would depend on a setting the auditor does not have.
TEST_F(LedgerTest, FarAheadLoneRecordRefusedButFarAheadProofStopsTheFeed) {
  testing::TempDir small_dir;
  LedgerOptions options;
  options.max_pending_ahead = 3;
  auto small = testing::OpenLedger(net, small_dir.Sub("db"), options);
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  std::vector<protocol::SignedEntry> ahead;
  for (int i = 0; i < 5; ++i) ahead.push_back(fb.Next(0, Owe(net.pk(1), 1)));
  const auto& far = ahead.back();  // seq 6: 6 past head 0
  protocol::Entry other = far.entry;
  other.body = Owe(net.pk(2), 99);
  auto far_b = FeedBuilder::SignRaw(other, net.key(0));
  const std::vector<Bytes> proof{far.record, far_b.record};

  // As feed entries, both are refused for their distance; nothing changes.
  const Snapshot before = Snap(*small);
  for (const auto& r : small->Ingest(proof, false)) {
    EXPECT_EQ(r.outcome, Outcome::kRejected);
    EXPECT_EQ(r.status.code(), Code::kResourceExhausted) << r.status.ToString();
    EXPECT_NE(r.status.message().find("ahead of the feed's head"), std::string::npos);
  }
  EXPECT_EQ(Snap(*small), before);

  // As evidence, the same two records prove the fork at seq 6.
  auto rs = small->Ingest(proof, false, std::vector<bool>{true, true});
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].outcome, Outcome::kPending) << rs[0].status.ToString();
  EXPECT_EQ(rs[1].outcome, Outcome::kForkProven) << rs[1].status.ToString();
  EXPECT_EQ(small->Feed(net.pk(0)).stop_seq, 6u);
  // And the node agrees with one that has no such limit (the default).
  EXPECT_EQ(ledger->Ingest(proof, false).back().outcome, Outcome::kForkProven);
  for (auto* l : {small.get(), ledger.get()}) {
    EXPECT_EQ(l->Ingest(std::span(&e1.record, 1), false).at(0).outcome, Outcome::kApplied);
  }
  EXPECT_EQ(small->StateDigest(), ledger->StateDigest());
  EXPECT_EQ(small->Feed(net.pk(0)).effective_seq(), 1u);
}

TEST_F(LedgerTest, EvidenceFlagsMustMatchTheRecords) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  const Snapshot before = Snap(*ledger);
  auto rs = ledger->Ingest(std::span(&e1.record, 1), false, std::vector<bool>{false, false});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].outcome, Outcome::kRejected);
  EXPECT_EQ(rs[0].status.code(), Code::kInvalidArgument);
  EXPECT_NE(rs[0].status.message().find("2 evidence flags for 1 records"), std::string::npos);
  EXPECT_EQ(Snap(*ledger), before);
}

TEST_F(LedgerTest, InvalidSignedEntryEndsTheFeedWithReason) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  ASSERT_EQ(One(e1.record).outcome, Outcome::kApplied);
  protocol::Entry bad{net.id(), net.pk(0), 2, e1.id, 0, Owe(net.pk(0), 5)};  // self-debt
  auto se = FeedBuilder::SignRaw(bad, net.key(0));
  auto r = One(se.record);
  EXPECT_EQ(r.outcome, Outcome::kFeedEnded);
  EXPECT_NE(r.status.message().find("cannot owe itself"), std::string::npos) << r.status.ToString();
  FeedState st = ledger->Feed(net.pk(0));
  EXPECT_EQ(st.stop_seq, 2u);
  EXPECT_EQ(st.stop_reason, storage::StopReason::kInvalidEntry);
  EXPECT_EQ(st.head_seq, 1u);
  EXPECT_TRUE(Net(1, 0) == 10);
  auto ev = ledger->ListEvidence();
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_NE((*ev)[0].reason.find("cannot owe itself"), std::string::npos);
}

// A signed entry naming the wrong prev must lead to the same state whether
// it arrives before or after the real entry at its seq: a fork either way.
TEST_F(LedgerTest, WrongPrevProvesAForkInEitherOrder) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  auto e2 = fb.Next(0, Owe(net.pk(1), 20));
  protocol::Entry x{net.id(), net.pk(0), 2, EntryId{e1.id.bytes}, 0, Owe(net.pk(2), 1)};
  x.prev.bytes[0] ^= 1;
  Bytes bad = FeedBuilder::SignRaw(x, net.key(0)).record;
  std::vector<std::vector<Bytes>> orders = {
      {e1.record, bad, e2.record}, {e1.record, e2.record, bad}, {bad, e2.record, e1.record}};
  std::optional<Snapshot> first;
  for (const auto& order : orders) {
    testing::TempDir d;
    auto l = testing::OpenLedger(net, d.Sub("db"));
    for (const Bytes& r : order) l->Ingest(std::span(&r, 1), false);
    FeedState st = l->Feed(net.pk(0));
    EXPECT_EQ(st.stop_seq, 2u);
    EXPECT_EQ(st.effective_seq(), 1u);
    EXPECT_EQ(l->PendingCount(), 0u);
    Snapshot s = Snap(*l);
    if (!first) first = s;
    EXPECT_EQ(s.digest, first->digest);
    EXPECT_EQ(s.balances, first->balances);
  }
}

TEST_F(LedgerTest, WrongPrevAloneIsKeptWithoutEffect) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 10));
  ASSERT_EQ(One(e1.record).outcome, Outcome::kApplied);
  Snapshot before = Snap(*ledger);
  protocol::Entry e{net.id(), net.pk(0), 2, EntryId{e1.id.bytes}, 0, Owe(net.pk(1), 1)};
  e.prev.bytes[0] ^= 1;
  Bytes r = FeedBuilder::SignRaw(e, net.key(0)).record;
  auto res = One(r);
  EXPECT_EQ(res.outcome, Outcome::kPending);
  EXPECT_NE(res.status.message().find("names prev"), std::string::npos);
  EXPECT_EQ(One(r).outcome, Outcome::kDuplicate);
  Snapshot after = Snap(*ledger);
  EXPECT_EQ(after.digest, before.digest);
  EXPECT_EQ(after.balances, before.balances);
  EXPECT_EQ(after.pending, before.pending + 1);
}

TEST_F(LedgerTest, AppendSignsChainsAndSyncs) {
  auto a = ledger->Append(net.key(2), Owe(net.pk(0), 12), 1);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = ledger->Append(net.key(2), Owe(net.pk(1), 13), 2);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->entry.seq, 2u);
  EXPECT_EQ(b->entry.prev, a->id);
  EXPECT_TRUE(Net(0, 2) == 12);
  auto refused = ledger->Append(net.key(2), Owe(net.pk(2), 1), 3);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ledger->Feed(net.pk(2)).head_seq, 2u);
}

}  // namespace
}  // namespace keiretsu::node

namespace keiretsu::node {
namespace {

// Synchronous and asynchronous appends meet in the same group commits (the
// lead passes between waiting threads and the committer thread): every
// completion is called once, every entry gets its own seq on one chain, and
// a refused write of a batch fails only itself.
TEST_F(LedgerTest, AsyncAndBatchAppendsShareGroupsWithSyncOnes) {
  const std::shared_ptr<const crypto::SigningKey> key(&net.key(0), [](auto*) {});
  constexpr int kThreads = 4, kEach = 30, kBatch = 5;
  std::mutex mu;
  std::condition_variable cv;
  int pending = 0, ok = 0, refused = 0;
  auto count = [&](bool good) {
    std::lock_guard lock(mu);
    (good ? ok : refused)++;
    --pending;
    cv.notify_all();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (i % 3 == 0) {  // synchronous
          auto r = ledger->Append(*key, Owe(net.pk(1), 1), static_cast<uint64_t>(i));
          std::lock_guard lock(mu);
          (r.ok() ? ok : refused)++;
        } else if (i % 3 == 1) {  // asynchronous
          {
            std::lock_guard lock(mu);
            ++pending;
          }
          ledger->AppendAsync(key, Owe(net.pk(2), 1), static_cast<uint64_t>(i), {},
                              [&](Result<Appended> r) { count(r.ok()); });
        } else {  // a batch whose middle write breaks a rule (zero amount)
          std::vector<AppendRequest> writes;
          for (int k = 0; k < kBatch; ++k)
            writes.push_back({Owe(net.pk(1), k == kBatch / 2 ? 0 : 1), {}});
          {
            std::lock_guard lock(mu);
            pending += kBatch;
          }
          ledger->AppendBatchAsync(key, std::move(writes), static_cast<uint64_t>(i),
                                   [&](std::vector<Result<Appended>> rs) {
                                     EXPECT_EQ(rs.size(), size_t{kBatch});
                                     for (size_t k = 0; k < rs.size(); ++k) {
                                       EXPECT_EQ(rs[k].ok(), k != kBatch / 2);
                                       if (!rs[k].ok()) {
                                         EXPECT_EQ(rs[k].status().code(), Code::kInvalidArgument);
                                       }
                                       count(rs[k].ok());
                                     }
                                   });
        }
      }
    });
  for (auto& th : threads) th.join();
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return pending == 0; });
  }
  const int batches = kThreads * (kEach / 3);
  EXPECT_EQ(refused, batches);
  const uint64_t expected =
      static_cast<uint64_t>(kThreads * (kEach / 3) * 2 + batches * (kBatch - 1));
  EXPECT_EQ(static_cast<uint64_t>(ok), expected);
  EXPECT_EQ(ledger->Feed(net.pk(0)).head_seq, expected);
  auto records = ledger->ReadFeed(net.pk(0), 1, 10'000);
  ASSERT_EQ(records->size(), expected);
  EntryId prev;
  for (uint64_t i = 0; i < expected; ++i) {
    auto c = protocol::CheckRecord((*records)[i], net.genesis);
    ASSERT_EQ(c.fault, protocol::Fault::kNone);
    EXPECT_EQ(c.signed_entry->entry.prev, prev);
    prev = c.signed_entry->id;
  }
  ExpectBalancesMatchRecompute();
}

TEST_F(LedgerTest, ConcurrentAppendsChainWithoutGapsOrForks) {
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        protocol::Body body = (i % 5 == 4) ? protocol::Body(Owe(net.pk(2), 0))  // refused
                                           : protocol::Body(Owe(net.pk(1 + (t + i) % 2), 1));
        auto r = ledger->Append(net.key(0), body, static_cast<uint64_t>(i));
        if (!r.ok() && r.status().code() != Code::kInvalidArgument) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const uint64_t expected = kThreads * kEach * 4 / 5;
  FeedState st = ledger->Feed(net.pk(0));
  EXPECT_EQ(st.head_seq, expected);
  EXPECT_EQ(st.stop_seq, 0u);
  auto records = ledger->ReadFeed(net.pk(0), 1, 10'000);
  ASSERT_EQ(records->size(), expected);
  EntryId prev;
  for (uint64_t i = 0; i < expected; ++i) {
    auto c = protocol::CheckRecord((*records)[i], net.genesis);
    ASSERT_EQ(c.fault, protocol::Fault::kNone);
    EXPECT_EQ(c.signed_entry->entry.seq, i + 1);
    EXPECT_EQ(c.signed_entry->entry.prev, prev);
    prev = c.signed_entry->id;
  }
  EXPECT_TRUE(Net(1, 0) + Net(2, 0) == static_cast<protocol::Amount128>(expected));
  ExpectBalancesMatchRecompute();
}

TEST_F(LedgerTest, WriteGateRefusesAppendUntilOpened) {
  ledger->SetWriteGate("learning this firm's head from peers");
  auto r = ledger->Append(net.key(0), Owe(net.pk(1), 1), 1);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("learning"), std::string::npos);
  EXPECT_EQ(ledger->Feed(net.pk(0)).head_seq, 0u);
  ledger->SetWriteGate("");
  EXPECT_TRUE(ledger->Append(net.key(0), Owe(net.pk(1), 1), 1).ok());
}

TEST_F(LedgerTest, OpenClaimsAndAnswersAreIndexed) {
  auto c1 = fb.Next(1, Claim{net.pk(0), 40, "hours", "a"});
  auto c2 = fb.Next(2, Claim{net.pk(0), 7, "kg", "b"});
  ledger->Ingest(std::vector<Bytes>{c1.record, c2.record}, false);
  auto open = ledger->ListOpenClaims(net.pk(0));
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 2u);
  auto acc = fb.Next(0, Accept{c1.id, net.pk(1), 40, "hours", ""});
  EXPECT_EQ(One(acc.record).outcome, Outcome::kApplied);
  open = ledger->ListOpenClaims(net.pk(0));
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(*protocol::IdOfRecord((*open)[0]), c2.id);
  auto ans = ledger->FindAnswer(net.pk(0), c1.id);
  ASSERT_TRUE(ans.ok() && ans->has_value());
  EXPECT_EQ(**ans, acc.id);
  EXPECT_FALSE(ledger->FindAnswer(net.pk(0), c2.id)->has_value());
}

TEST_F(LedgerTest, LogListsEffectiveEntriesInOrderAcrossReopen) {
  auto e1 = fb.Next(0, Owe(net.pk(1), 1));
  auto e2 = fb.Next(1, Owe(net.pk(0), 2));
  ledger->Ingest(std::vector<Bytes>{e1.record, e2.record}, false);
  EXPECT_EQ(ledger->LastCursor(), 2u);
  ledger.reset();
  ledger = testing::OpenLedger(net, dir.Sub("db"));
  EXPECT_EQ(ledger->LastCursor(), 2u);
  auto e3 = fb.Next(0, Owe(net.pk(2), 3));
  One(e3.record);
  auto log = ledger->ReadLog(1, 10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].cursor, 2u);
  EXPECT_EQ((*log)[0].id, e2.id);
  EXPECT_EQ((*log)[1].cursor, 3u);
  EXPECT_EQ((*log)[1].id, e3.id);
}

}  // namespace
}  // namespace keiretsu::node
