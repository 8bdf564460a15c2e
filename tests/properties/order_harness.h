// The order-independence harness (tests/properties): arrival orders,
// noise, batch ingest, and the checks every order must pass. Shared by
// order_independence_test (honest feeds) and order_adversarial_test (a fork
// and an invalid entry), two binaries so ctest can run them side by side.
//
// Every order must end in the same state digest and the same balances,
// equal to the ledger's own recomputation and to the generator's independent
// sums (feed_gen.h), with nothing left pending, the feed heads the generator
// expects, and the same claims and answers indexes.
//
// KEIRETSU_PROPERTY_SEEDS raises the number of orders (never below 200).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <numeric>
#include <set>

#include "feed_gen.h"
#include "keiretsu/node/ledger.h"
#include "test_network.h"

namespace keiretsu::node::order_test {

using testing::Below;
using testing::Generated;

constexpr int kFirms = 6;
constexpr size_t kEntries = 2000;

// 200 arrival orders by default. KEIRETSU_PROPERTY_SEEDS sets another
// count: more for a long soak, fewer under the sanitizers (scripts/test.sh
// --sanitize), where the point is memory errors on every path, not breadth.
inline int SeedCount() {
  int n = 200;
  if (const char* env = std::getenv("KEIRETSU_PROPERTY_SEEDS"))
    if (int asked = std::atoi(env); asked >= 1) n = asked;
  return n;
}

using BalanceKey = std::tuple<PublicKey, PublicKey, std::string>;
inline std::map<BalanceKey, protocol::Amount128> AsMap(const std::vector<BalanceRow>& rows) {
  std::map<BalanceKey, protocol::Amount128> m;
  for (const auto& r : rows) m[{r.firm, r.counterparty, r.unit}] += r.net;
  return m;
}
// The positions where `got` and `want` differ (at most 10), for failure
// messages that stay readable; empty when they are equal.
inline std::string Diff(const std::map<BalanceKey, protocol::Amount128>& got,
                        const std::map<BalanceKey, protocol::Amount128>& want) {
  std::set<BalanceKey> keys;
  for (const auto& kv : got) keys.insert(kv.first);
  for (const auto& kv : want) keys.insert(kv.first);
  std::string s;
  int shown = 0;
  for (const auto& k : keys) {
    auto g = got.find(k), w = want.find(k);
    protocol::Amount128 gv = g == got.end() ? 0 : g->second, wv = w == want.end() ? 0 : w->second;
    if (gv == wv) continue;
    if (++shown > 10) return s + "...\n";
    s += std::get<0>(k).Short() + "<-" + std::get<1>(k).Short() + " " + std::get<2>(k) + ": got " +
         protocol::AmountToString(gv) + ", want " + protocol::AmountToString(wv) + "\n";
  }
  return s;
}

// How a record is expected to be received.
enum class Kind { kHonest, kAdversary, kNoise };
struct Arrival {
  std::vector<Bytes> records;
  std::vector<Kind> kinds;
};

// The publication indices in one of five delivery patterns (the seed picks
// which, and the permutation within it): fully shuffled; reversed; nearly in
// order; feeds each in order but interleaved at random (how replication
// delivers); feeds each backwards, interleaved.
inline std::vector<size_t> Order(const Generated& g, uint64_t seed, std::mt19937_64& rng) {
  const size_t n = g.records.size();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  auto shuffle = [&](std::vector<size_t>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[Below(rng, i)]);
  };
  switch (seed % 5) {
    case 0: shuffle(idx); break;
    case 1: std::reverse(idx.begin(), idx.end()); break;
    case 2:
      for (size_t i = 0; i + 1 < n; ++i)
        std::swap(idx[i], idx[std::min(n - 1, i + Below(rng, 50))]);
      break;
    default: {
      std::vector<std::vector<size_t>> per_firm(kFirms);
      for (size_t i = 0; i < n; ++i) per_firm[static_cast<size_t>(g.firm[i])].push_back(i);
      if (seed % 5 == 4)
        for (auto& f : per_firm) std::reverse(f.begin(), f.end());
      std::vector<size_t> next(kFirms, 0);
      idx.clear();
      while (idx.size() < n) {
        size_t f = Below(rng, kFirms);
        // Bursts, as a peer streams one feed for a while.
        for (uint64_t k = 1 + Below(rng, 40); k > 0 && next[f] < per_firm[f].size(); --k)
          idx.push_back(per_firm[f][next[f]++]);
      }
    }
  }
  return idx;
}

// Records that must be refused and change nothing: tampered copies (one
// byte changed anywhere), truncated and padded copies, and an entry a member
// signed for another network.
inline std::vector<Bytes> Noise(const Generated& g, std::mt19937_64& rng) {
  std::vector<Bytes> out;
  for (int i = 0; i < 24; ++i) {
    Bytes r = g.records[Below(rng, g.records.size())];
    r[Below(rng, r.size())] ^= static_cast<uint8_t>(1 + Below(rng, 255));
    out.push_back(std::move(r));
  }
  Bytes truncated = g.records[0];
  truncated.pop_back();
  out.push_back(truncated);
  Bytes padded = g.records[1];
  padded.push_back(0);
  out.push_back(padded);
  auto other = testing::MakeNetwork(kFirms, "other-keiretsu");  // same firm keys
  testing::FeedBuilder ofb(other);
  out.push_back(ofb.Next(0, testing::Owe(other.pk(1), 10)).record);
  return out;
}

inline Arrival Deliver(const Generated& g, uint64_t seed, const std::vector<Bytes>& noise) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + 17);
  Arrival a;
  for (size_t i : Order(g, seed, rng)) {
    a.records.push_back(g.records[i]);
    a.kinds.push_back(g.honest[i] ? Kind::kHonest : Kind::kAdversary);
  }
  // Re-sent duplicates (about 4%) and the noise, at random places.
  size_t dups = g.records.size() / 25;
  for (size_t k = 0; k < dups + noise.size(); ++k) {
    size_t at = Below(rng, a.records.size() + 1);
    if (k < dups) {
      size_t src = Below(rng, g.records.size());
      a.records.insert(a.records.begin() + static_cast<std::ptrdiff_t>(at), g.records[src]);
      a.kinds.insert(a.kinds.begin() + static_cast<std::ptrdiff_t>(at),
                     g.honest[src] ? Kind::kHonest : Kind::kAdversary);
    } else {
      a.records.insert(a.records.begin() + static_cast<std::ptrdiff_t>(at), noise[k - dups]);
      a.kinds.insert(a.kinds.begin() + static_cast<std::ptrdiff_t>(at), Kind::kNoise);
    }
  }
  return a;
}

class OrderIndependence : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(kFirms);

  // Delivers `g` in SeedCount() orders, checking each against the
  // expectation and the first order.
  void Run(const Generated& g, const std::vector<Bytes>& noise) {
    const int seeds = SeedCount();
    std::optional<Digest> first_digest;
    std::optional<std::vector<BalanceRow>> first_rows;
    // Every (debtor, claim) any accept or decline names, counted or not.
    std::set<std::pair<PublicKey, EntryId>> answer_keys;
    for (const Bytes& r : g.records) {
      auto c = protocol::CheckRecord(r, net.genesis, /*verify_signature=*/false);
      const auto& body = c.signed_entry->entry.body;
      if (const auto* a = std::get_if<protocol::Accept>(&body))
        answer_keys.insert({c.signed_entry->entry.author, a->claim_id});
      if (const auto* d = std::get_if<protocol::Decline>(&body))
        answer_keys.insert({c.signed_entry->entry.author, d->claim_id});
    }
    auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < seeds && !HasFailure(); ++s) {
      const uint64_t seed = static_cast<uint64_t>(s);
      SCOPED_TRACE("arrival seed " + std::to_string(seed));
      Arrival a = Deliver(g, seed, noise);
      testing::TempDir dir;
      auto ledger = testing::OpenLedger(net, dir.Sub("db"));
      IngestAll(*ledger, a, seed);

      const Digest digest = ledger->StateDigest();
      EXPECT_EQ(digest, g.expected.digest) << "digest differs from the generator's";
      if (!first_digest) first_digest = digest;
      EXPECT_EQ(digest, *first_digest) << "digest differs from the first order's";
      EXPECT_EQ(ledger->PendingCount(), 0u);
      EXPECT_TRUE(ledger->store().CheckConsistency().ok());

      auto rows = ledger->ListAllBalances();
      auto recomputed = ledger->RecomputeBalances();
      ASSERT_TRUE(rows.ok() && recomputed.ok());
      for (const auto& r : *rows) EXPECT_TRUE(r.net != 0) << "a zero balance row is listed";
      auto stored = AsMap(*rows);
      EXPECT_EQ(Diff(stored, AsMap(*recomputed)), "")
          << "materialised balances differ from recomputation";
      EXPECT_EQ(Diff(stored, g.expected.balances), "") << "balances differ from the generator's";
      if (!first_rows) first_rows = *rows;
      EXPECT_EQ(Diff(stored, AsMap(*first_rows)), "") << "balances differ from the first order's";
      CheckFeeds(*ledger, g);
      CheckClaims(*ledger, g, answer_keys);
    }
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    std::printf("%d orders of %zu records: %lld ms\n", seeds, g.records.size(),
                static_cast<long long>(ms));
  }

  // Ingests in random-size batches, checking each record's outcome class:
  // honest records are never refused or ignored, noise always is refused.
  void IngestAll(Ledger& ledger, const Arrival& a, uint64_t seed) {
    std::mt19937_64 rng(seed + 1000);
    size_t pos = 0;
    while (pos < a.records.size()) {
      size_t n = Below(rng, 8) == 0 ? 1 + Below(rng, 3) : 1 + Below(rng, 400);
      n = std::min(n, a.records.size() - pos);
      auto results = ledger.Ingest(std::span(a.records).subspan(pos, n), /*sync=*/false);
      ASSERT_EQ(results.size(), n);
      for (size_t i = 0; i < n; ++i) {
        const Outcome o = results[i].outcome;
        switch (a.kinds[pos + i]) {
          case Kind::kHonest:
            EXPECT_TRUE(o == Outcome::kApplied || o == Outcome::kPending ||
                        o == Outcome::kDuplicate)
                << "honest record " << pos + i << ": " << OutcomeName(o) << " "
                << results[i].status.ToString();
            break;
          case Kind::kNoise: EXPECT_EQ(o, Outcome::kRejected) << "noise record " << pos + i; break;
          case Kind::kAdversary: break;  // depends on the order
        }
      }
      pos += n;
    }
  }

  // The claims and answers indexes (docs/PROTOCOL.md 12) are derived state
  // too: the same in every order, and what the counted entries say.
  void CheckClaims(const Ledger& ledger, const Generated& g,
                   const std::set<std::pair<PublicKey, EntryId>>& answer_keys) {
    for (int i = 0; i < kFirms; ++i) {
      auto open = ledger.ListOpenClaims(net.pk(i));
      ASSERT_TRUE(open.ok()) << open.status().ToString();
      std::vector<EntryId> ids;
      for (const Bytes& r : *open) ids.push_back(*protocol::IdOfRecord(r));
      auto want = g.expected.open_claims.find(net.pk(i));
      EXPECT_EQ(ids, want == g.expected.open_claims.end() ? std::vector<EntryId>{} : want->second)
          << "open claims of firm " << i;
    }
    for (const auto& key : answer_keys) {
      auto got = ledger.FindAnswer(key.first, key.second);
      ASSERT_TRUE(got.ok());
      auto want = g.expected.answers.find(key);
      EXPECT_EQ(*got, want == g.expected.answers.end() ? std::optional<EntryId>{} : want->second)
          << "answer row of " << key.first.Short() << " for claim " << key.second.Short();
    }
  }

  void CheckFeeds(const Ledger& ledger, const Generated& g) {
    auto feeds = ledger.Feeds();
    for (int i = 0; i < kFirms; ++i) {
      const auto& want = g.expected.heads.at(net.pk(i));
      const FeedState st = feeds[net.pk(i)];
      SCOPED_TRACE("firm " + std::to_string(i));
      EXPECT_EQ(st.effective_seq(), want.effective_seq);
      EXPECT_EQ(st.effective_id, want.effective_id);
      EXPECT_EQ(st.stop_seq, want.stop_seq);
      if (g.ForkOf(i)) {
        EXPECT_EQ(st.stop_reason, storage::StopReason::kFork);
      } else if (i == g.bad_firm) {
        EXPECT_EQ(st.stop_reason, storage::StopReason::kInvalidEntry);
      } else {  // an honest feed is complete: exactly the builder's head
        EXPECT_EQ(st.head_seq, g.builder_heads[static_cast<size_t>(i)].seq);
        EXPECT_EQ(st.head_id, g.builder_heads[static_cast<size_t>(i)].id);
        EXPECT_EQ(st.stop_reason, storage::StopReason::kNone);
      }
    }
    auto evidence = ledger.ListEvidence();
    ASSERT_TRUE(evidence.ok());
    size_t fork_proofs = 0;
    bool invalid_proof = false;
    auto fork_of = [&](const PublicKey& author) -> const Generated::Fork* {
      for (const auto& f : g.forks)
        if (net.pk(f.firm) == author) return &f;
      return nullptr;
    };
    for (const auto& e : *evidence) {
      const Generated::Fork* f = fork_of(e.author);
      if (e.kind == storage::StopReason::kFork && f && e.seq == f->seq) {
        // Canonical: the two records at the fork seq, lower id first.
        bool a_first = *protocol::IdOfRecord(f->a) < *protocol::IdOfRecord(f->b);
        EXPECT_EQ(e.first, a_first ? f->a : f->b);
        EXPECT_EQ(e.second, a_first ? f->b : f->a);
        ++fork_proofs;
      } else if (e.kind == storage::StopReason::kInvalidEntry && e.author == net.pk(g.bad_firm) &&
                 e.seq == g.bad_seq) {
        EXPECT_EQ(e.first, g.bad_record);
        EXPECT_NE(e.reason.find("cannot owe itself"), std::string::npos) << e.reason;
        invalid_proof = true;
      } else {
        // Other proofs may exist (a fork's second branch can be caught one
        // seq later first), but only of a forking feed, above its stop.
        ASSERT_NE(f, nullptr) << "unexpected evidence at seq " << e.seq;
        EXPECT_GT(e.seq, f->seq);
      }
    }
    EXPECT_EQ(fork_proofs, g.forks.size()) << "fork proof missing";
    EXPECT_EQ(invalid_proof, g.bad_firm >= 0) << "invalid-entry proof missing";
  }
};

}  // namespace keiretsu::node::order_test
