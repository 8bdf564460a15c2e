// Power cuts at random points under the real ledger on the real store
// (storage::FaultInjector, files in memory). Each round runs random own
// appends (some concurrent, group-committed), synced ingests (as Import
// does) and unsynced ones (as replication does) of other firms' feeds,
// with entries ahead of their feed (pending), a fork and an invalid entry;
// the power is cut at a random file operation (a log write or sync, a
// table or manifest write during a flush, ...) or between operations; then
// the ledger is reopened and checked:
//   - 0 acknowledged entries lost: every entry Append returned, and every
//     outcome of a synced Ingest (applied, pending, fork proof, feed end)
//     is there, as is every outcome of an unsynced Ingest that a later
//     synced commit covered;
//   - the ledger opens (feed heads consistent with the entries), its caches
//     equal the store, chains link (each entry names the one before, new
//     signatures verify), and balances equal a recomputation;
//   - the ledger keeps working: an append after the reopen succeeds.
// Rounds run in lives of kRoundsPerLife on one store, so state piles up
// across cuts; half the lives keep a torn log tail (a random part of the
// unsynced bytes) instead of none.
//
//   KEIRETSU_POWER_CUTS=N        rounds (power cuts) in all; default 2000
//   KEIRETSU_POWER_CUT_SEED=S    first life's seed; default 1
//   KEIRETSU_POWER_CUT_LIFE=S    replay the one life with seed S
// A failing round names its life's seed and the command that replays it.
// The full run of 10,000 cuts (docs/TESTING.md):
//   KEIRETSU_POWER_CUTS=10000 build/tests/faults/power_cut_test
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "fault_support.h"
#include "keiretsu/protocol/entry.h"

namespace keiretsu::node {
namespace {

using storage::FaultInjector;
using testing::FeedBuilder;
using testing::Owe;

constexpr int kRoundsPerLife = 25;
constexpr int kFirms = 4;              // firm 0 is this node; 1..3 arrive by Ingest
constexpr uint64_t kForeignLen = 120;  // entries pre-signed per foreign feed
constexpr uint64_t kForkSeq = 6;       // firm 3 signs two entries at this seq
constexpr uint64_t kInvalidSeq = 9;    // firm 2's entry here breaks a rule

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// What was acknowledged, to find after the cut.
struct Acked {
  std::set<EntryId> entries;  // stored at their seq (applied, or own)
  std::set<EntryId> kept;     // kept pending (or applied or dropped by a stop since)
  std::set<std::pair<PublicKey, uint64_t>> stops;  // feed stopped at or below seq
};

class Life {
 public:
  explicit Life(uint64_t seed)
      : seed_(seed), rng_(seed), faults_(FaultInjector::Create(FaultInjector::Medium::kMemory)) {
    if (seed % 2 == 0) faults_->SetTornTail(true, seed);
    Presign();
  }

  // One round: work, cut, reopen, check. Returns where the cut fell.
  std::string Round() {
    if (!ledger_) Reopen();
    faults_->PowerCutAt(1 + rng_() % 40);
    Work();
    faults_->PowerCut();  // if the workload ended first: a cut between operations
    std::string where = faults_->last_cut();
    ledger_.reset();
    faults_->PowerOn();
    unsynced_ = {};
    Reopen();
    if (!ledger_) return where;
    Check();
    // Keeps working: a synced append on the reopened ledger.
    auto r = Append();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return where;
  }

 private:
  // Other firms' feeds, signed ahead: firm 2's entry kInvalidSeq breaks a
  // rule, firm 3 also signs a twin at kForkSeq.
  void Presign() {
    for (int f = 1; f < kFirms; ++f) {
      auto& feed = foreign_[f];
      feed.push_back({});  // seq 0 unused
      EntryId prev;
      for (uint64_t seq = 1; seq <= kForeignLen; ++seq) {
        protocol::Body body =
            f == 2 && seq == kInvalidSeq ? protocol::Body(Owe(net_.pk(2), 1)) : Body(f, seq);
        protocol::Entry e{net_.id(), net_.pk(f), seq, prev, 1'790'000'000'000 + seq, body};
        feed.push_back(FeedBuilder::SignRaw(e, net_.key(f)));
        prev = feed.back().id;
        if (f == 3 && seq == kForkSeq) {
          e.body = Owe(net_.pk(1), 999);
          fork_twin_ = FeedBuilder::SignRaw(e, net_.key(3));
        }
      }
    }
  }
  protocol::Body Body(int author, uint64_t n) {
    const PublicKey& other = net_.pk(static_cast<int>((author + 1 + n % 3) % kFirms));
    if (n % 4 == 0) return protocol::Release{other, 1 + n % 5, "hours", "paid"};
    if (n % 5 == 0) return protocol::Claim{other, 2 + n % 7, "kg", "loan"};
    return Owe(other, 1 + (n * 7) % 50, n % 3 == 0 ? "kg" : "hours");
  }

  void Reopen() {
    auto l = testing::OpenFaultyLedger(net_, "/power-cut/db", faults_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
  }

  Result<protocol::SignedEntry> Append() {
    const uint64_t n = ++own_count_;
    auto r = ledger_->Append(net_.key(0), Body(0, n), 1'790'000'000'000 + n);
    if (r.ok()) Synced(r->id);
    return r;
  }
  void Synced(const EntryId& id) {
    acked_.entries.insert(id);
    CoverUnsynced();
  }
  // A synced commit made everything committed before it durable too.
  void CoverUnsynced() {
    for (const EntryId& u : unsynced_.entries) acked_.entries.insert(u);
    for (const EntryId& u : unsynced_.kept) acked_.kept.insert(u);
    for (const auto& s : unsynced_.stops) acked_.stops.insert(s);
    unsynced_ = {};
  }

  void Work() {
    const int ops = 2 + static_cast<int>(rng_() % 10);
    for (int i = 0; i < ops && !faults_->power_cut(); ++i) {
      switch (rng_() % 6) {
        case 0:
        case 1: (void)Append(); break;
        case 2: ConcurrentAppends(); break;
        case 3:
        case 4: Ingest(/*sync=*/true); break;
        default: Ingest(/*sync=*/false); break;
      }
    }
  }

  void ConcurrentAppends() {
    std::vector<Result<protocol::SignedEntry>> results(3, Status(Code::kInternal, "not run"));
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t)
      threads.emplace_back([&, t] {
        results[t] = ledger_->Append(net_.key(0), Owe(net_.pk(1), 1), 1'790'000'000'000);
      });
    for (auto& th : threads) th.join();
    for (auto& r : results)
      if (r.ok()) Synced(r->id);
  }

  void Ingest(bool sync) {
    const int f = 1 + static_cast<int>(rng_() % (kFirms - 1));
    const FeedState st = ledger_->Feed(net_.pk(f));
    uint64_t from = st.head_seq + 1 + (rng_() % 4 == 0 ? 1 + rng_() % 3 : 0);  // ahead: pending
    if (rng_() % 8 == 0 && st.head_seq > 0) from = 1 + rng_() % st.head_seq;   // duplicates
    std::vector<Bytes> records;
    for (uint64_t s = from; s < from + 1 + rng_() % 5 && s <= kForeignLen; ++s)
      records.push_back(foreign_[f][s].record);
    if (f == 3 && rng_() % 3 == 0) records.push_back(fork_twin_.record);
    if (records.empty()) return;
    auto results = ledger_->Ingest(records, sync);
    Acked& into = sync ? acked_ : unsynced_;
    bool committed = false;
    for (const IngestResult& r : results) {
      switch (r.outcome) {
        case Outcome::kApplied: into.entries.insert(*r.id); break;
        case Outcome::kPending: into.kept.insert(*r.id); break;
        case Outcome::kForkProven:
        case Outcome::kFeedEnded: into.stops.insert({r.author, r.seq}); break;
        case Outcome::kDuplicate:
        case Outcome::kIgnored:
        case Outcome::kRejected: continue;
      }
      committed = true;
    }
    if (sync && committed) CoverUnsynced();
  }

  void Check() {
    ASSERT_TRUE(ledger_);
    testing::ExpectLedgerMatchesStore(*ledger_);
    for (const EntryId& id : acked_.entries) {
      auto held = ledger_->GetEntry(id);
      ASSERT_TRUE(held.ok()) << held.status().ToString();
      EXPECT_TRUE(held->has_value()) << "acknowledged entry " << id.Short() << " lost";
    }
    auto pending = ledger_->store().ListPending();
    ASSERT_TRUE(pending.ok());
    std::set<EntryId> pending_ids;
    for (const auto& p : *pending) pending_ids.insert(p.id);
    for (const EntryId& id : acked_.kept) {
      if (pending_ids.count(id)) continue;
      auto held = ledger_->GetEntry(id);
      ASSERT_TRUE(held.ok());
      if (held->has_value()) continue;  // promoted since
      EXPECT_TRUE(StoppedBelowPending(id))
          << "acknowledged pending entry " << id.Short() << " lost";
    }
    for (const auto& [author, seq] : acked_.stops) {
      const FeedState st = ledger_->Feed(author);
      EXPECT_TRUE(st.stop_seq != 0 && st.stop_seq <= seq)
          << "acknowledged stop of " << author.Short() << " at " << seq << " lost";
    }
    CheckChains();
  }
  // A kept entry may be dropped only because its feed stopped at or below it.
  bool StoppedBelowPending(const EntryId& id) {
    if (id == fork_twin_.id) {
      const FeedState st = ledger_->Feed(net_.pk(3));
      return st.stop_seq != 0 && st.stop_seq <= kForkSeq;
    }
    for (int f = 1; f < kFirms; ++f)
      for (uint64_t s = 1; s <= kForeignLen; ++s)
        if (foreign_[f][s].id == id) {
          const FeedState st = ledger_->Feed(net_.pk(f));
          return st.stop_seq != 0 && st.stop_seq <= s;
        }
    return false;
  }
  // Every stored entry names the one before it; signatures of entries not
  // checked in an earlier round verify.
  void CheckChains() {
    for (const auto& [author, st] : ledger_->Feeds()) {
      auto records = ledger_->ReadFeed(author, 1, st.head_seq + 1);
      ASSERT_TRUE(records.ok());
      ASSERT_EQ(records->size(), st.head_seq) << "a gap in feed " << author.Short();
      EntryId prev;
      uint64_t& verified = verified_[author];
      for (uint64_t i = 0; i < records->size(); ++i) {
        const bool verify = i + 1 > verified;
        auto c = protocol::CheckRecord((*records)[i], net_.genesis, verify);
        ASSERT_TRUE(c.signed_entry) << c.status.ToString();
        EXPECT_EQ(c.signed_entry->entry.seq, i + 1);
        EXPECT_EQ(c.signed_entry->entry.prev, prev) << "chain broken at " << i + 1;
        prev = c.signed_entry->id;
      }
      EXPECT_EQ(prev, st.head_id);
      verified = std::max(verified, st.head_seq);
    }
  }

  const uint64_t seed_;
  std::mt19937_64 rng_;
  testing::TestNetwork net_ = testing::MakeNetwork(kFirms);
  std::shared_ptr<FaultInjector> faults_;
  std::unique_ptr<Ledger> ledger_;
  std::map<int, std::vector<protocol::SignedEntry>> foreign_;
  protocol::SignedEntry fork_twin_;
  uint64_t own_count_ = 0;
  Acked acked_, unsynced_;
  std::map<PublicKey, uint64_t> verified_;
};

TEST(PowerCutTest, AcknowledgedEntriesSurviveEveryCut) {
  const uint64_t replay = EnvOr("KEIRETSU_POWER_CUT_LIFE", 0);
  const uint64_t cuts = replay != 0 ? kRoundsPerLife : EnvOr("KEIRETSU_POWER_CUTS", 2000);
  const uint64_t first = replay != 0 ? replay : EnvOr("KEIRETSU_POWER_CUT_SEED", 1);
  std::map<std::string, uint64_t> where;
  uint64_t done = 0;
  for (uint64_t seed = first; done < cuts; ++seed) {
    Life life(seed);
    for (int round = 0; round < kRoundsPerLife && done < cuts; ++round, ++done) {
      SCOPED_TRACE("life seed " + std::to_string(seed) + ", round " + std::to_string(round) +
                   "; replay: KEIRETSU_POWER_CUT_LIFE=" + std::to_string(seed) +
                   " build/tests/faults/power_cut_test");
      ++where[life.Round()];
      if (::testing::Test::HasFailure()) return;
    }
  }
  std::string summary;
  for (const auto& [at, n] : where) summary += "  " + at + ": " + std::to_string(n) + "\n";
  std::printf("%llu power cuts, cut at:\n%s", static_cast<unsigned long long>(done),
              summary.c_str());
  if (cuts >= 200) {  // the cuts fell in the middle of commits, not only between them
    EXPECT_GT(where["write wal"], 0u);
    EXPECT_GT(where["sync wal"], 0u);
  }
}

}  // namespace
}  // namespace keiretsu::node
