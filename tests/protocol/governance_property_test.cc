// Properties of the epoch chain over many seeded random governance
// histories (PROTOCOL.md 19.9): two proposals of one (epoch, round) never
// both pass; every epoch keeps 2k > n; no decided epoch is ever undone by
// more records (absent forks); the result does not depend on input order.
// A failure prints its seed; KEIRETSU_GOVERNANCE_SEEDS sets how many run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "epoch_fixture.h"

namespace keiretsu::protocol {
namespace {

using testing::GovHistory;

int Seeds() {
  const char* s = std::getenv("KEIRETSU_GOVERNANCE_SEEDS");
  return s ? std::atoi(s) : 10'000;
}

struct Generated {
  GovHistory g;
  bool forked = false;  // a feed was cut back: monotonicity need not hold
  int duplicates = 0, leaves = 0, forks = 0, proposals = 0;
};

// A random history: members propose (valid and invalid actions, stale and
// unknown epochs, several rounds), vote (for real, unknown and other-round
// proposals, out of round order), leave, fork and repeat records; outsiders
// and removed members act too.
Generated Generate(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  uint32_t n0 = 1 + static_cast<uint32_t>(pick(7));
  uint16_t k0 = static_cast<uint16_t>(n0 / 2 + 1 + pick(n0 - n0 / 2));
  Generated out{GovHistory(n0, k0)};
  GovHistory& g = out.g;
  uint32_t next_new = 100;
  std::vector<uint32_t> known;  // every key index used so far
  for (uint32_t i = 0; i < n0; ++i) known.push_back(i);
  EpochHistory h = g.Run();
  int steps = 10 + static_cast<int>(pick(50));
  for (int step = 0; step < steps; ++step) {
    if (step % 2 == 0) h = g.Run();
    const Epoch& cur = h.current();
    std::vector<uint32_t> everyone;  // indexes of keys that are or were members
    for (uint32_t i : known)
      if (cur.Find(GovHistory::M(i))) everyone.push_back(i);
    uint32_t author = everyone[pick(everyone.size())];
    if (pick(20) == 0) author = 900 + static_cast<uint32_t>(pick(3));  // an outsider
    Digest epoch = cur.hash;
    if (pick(10) == 0) epoch = h.epochs[pick(h.epochs.size())].hash;
    if (pick(40) == 0) epoch = Digest{GovHistory::M(7).bytes};
    uint32_t round = pick(10) < 7 ? 0 : static_cast<uint32_t>(1 + pick(2));
    uint64_t what = pick(100);
    auto& feed = g.source.feeds[GovHistory::M(author)];
    if (what < 30) {
      ++out.proposals;
      uint64_t action = pick(3);
      size_t n = cur.ActiveCount() + (action == 0) - (action == 1 && cur.ActiveCount() > 1);
      // Mostly a valid threshold for the resulting n', sometimes any.
      uint16_t k =
          static_cast<uint16_t>(pick(5) != 0 ? n / 2 + 1 + pick(n - n / 2) : 1 + pick(n + 2));
      if (action == 0) {
        uint32_t newcomer = everyone[pick(everyone.size())];
        if (pick(10) != 0) known.push_back(newcomer = next_new++);
        g.Admit(author, epoch, round, newcomer, k);
      } else if (action == 1) {
        g.Remove(author, epoch, round, everyone[pick(everyone.size())], pick(5), k);
      } else {
        g.SetThreshold(author, epoch, round, k);
      }
    } else if (what < 90) {
      std::vector<const ProposalInfo*> open;
      for (const auto& [id, p] : h.proposals)
        if (p.body.epoch_hash == epoch) open.push_back(&p);
      EntryId target = EntryId{GovHistory::M(8).bytes};
      // Members mostly rally behind the best-supported proposal.
      std::stable_sort(open.begin(), open.end(),
                       [](auto* a, auto* b) { return a->supporters > b->supporters; });
      if (!open.empty() && pick(10) != 0) {
        const ProposalInfo* p = pick(4) != 0 ? open[0] : open[pick(open.size())];
        target = p->id;
        if (pick(5) != 0) round = p->body.round;
      }
      g.Vote(author, epoch, round, target);
    } else if (what < 95 && !feed.records.empty()) {
      ++out.duplicates;
      feed.records.push_back(feed.records[pick(feed.records.size())]);
    } else if (what < 98) {
      ++out.leaves;
      feed.open = false;  // a leave (its later records never count)
    } else if (!feed.records.empty()) {
      ++out.forks;
      out.forked = true;  // a fork proven at some seq: the prefix is cut there
      uint64_t stop = 1 + pick(feed.records.size());
      std::erase_if(feed.records, [&](const GovernanceRecord& r) { return r.seq >= stop; });
      feed.open = false;
    }
  }
  return out;
}

// A member's ballots in one epoch, by the definition (18.8), written again
// here so the check does not share code with the chain.
std::map<uint32_t, EntryId> Ballots(const GovernanceFeed& feed, const Digest& hash) {
  std::vector<GovernanceRecord> votes;
  for (const auto& r : feed.records)
    if (auto* v = std::get_if<Vote>(&r.body); v && v->epoch_hash == hash) votes.push_back(r);
  std::stable_sort(votes.begin(), votes.end(), [](auto& a, auto& b) { return a.seq < b.seq; });
  std::map<uint32_t, EntryId> out;
  for (size_t i = 0; i < votes.size(); ++i) {
    const Vote& v = std::get<Vote>(votes[i].body);
    bool abandoned = false;
    for (size_t j = 0; j < i; ++j)
      if (std::get<Vote>(votes[j].body).round > v.round) abandoned = true;
    if (!abandoned && !out.contains(v.round)) out[v.round] = v.proposal_id;
  }
  return out;
}

// Supporters of every proposal id in every round of epoch `e`.
std::map<std::pair<uint32_t, EntryId>, uint32_t> Support(
    const Epoch& e, const std::map<PublicKey, GovernanceFeed>& feeds) {
  std::map<std::pair<uint32_t, EntryId>, uint32_t> out;
  for (const EpochMember& m : e.members) {
    if (m.removed || !feeds.contains(m.id)) continue;
    for (const auto& [round, id] : Ballots(feeds.at(m.id), e.hash)) ++out[{round, id}];
  }
  return out;
}

// The epoch before `e` in `h` as it stood when deciding (members as of that
// epoch) is h.epochs[i]; checks every transition and every round.
void CheckChain(const EpochHistory& h, const std::map<PublicKey, GovernanceFeed>& feeds,
                uint64_t seed) {
  for (size_t i = 0; i < h.epochs.size(); ++i) {
    const Epoch& e = h.epochs[i];
    size_t n = e.ActiveCount();
    ASSERT_GT(2 * size_t{e.threshold}, n) << "seed " << seed << " epoch " << i;
    ASSERT_LE(size_t{e.threshold}, n) << "seed " << seed << " epoch " << i;
    auto support = Support(e, feeds);
    std::map<uint32_t, int> passing;
    for (const auto& [key, count] : support)
      if (count >= e.threshold) ++passing[key.first];
    for (const auto& [round, count] : passing)
      ASSERT_LE(count, 1) << "seed " << seed << ": two proposals pass epoch " << i << " round "
                          << round;
    if (i + 1 < h.epochs.size()) {
      const Epoch& next = h.epochs[i + 1];
      const ProposalInfo& p = h.proposals.at(next.passed);
      ASSERT_EQ(p.body.epoch_hash, e.hash) << "seed " << seed;
      uint32_t got = support[std::pair{p.body.round, p.id}];
      ASSERT_GE(got, e.threshold) << "seed " << seed;
      ASSERT_EQ(next.hash, NextEpochHash(e.hash, p.id)) << "seed " << seed;
    }
  }
}

// Every feed cut at a random seq: what a node that has not seen everything
// yet holds. Its epochs must be a prefix of the full chain's.
void CheckMonotone(Generated& gen, uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  testing::FakeSource partial;
  for (const auto& [id, feed] : gen.g.source.feeds) {
    GovernanceFeed cut;
    cut.open = true;
    uint64_t keep = rng() % (feed.records.size() + 1);
    for (const auto& r : feed.records)
      if (r.seq <= keep) cut.records.push_back(r);
    if (keep >= feed.records.size()) cut.open = feed.open;
    partial.feeds[id] = std::move(cut);
  }
  EpochHistory full = gen.g.Run();
  EpochHistory part = ComputeEpochs(gen.g.zero, partial);
  ASSERT_LE(part.epochs.size(), full.epochs.size()) << "seed " << seed;
  for (size_t i = 0; i < part.epochs.size(); ++i)
    ASSERT_EQ(part.epochs[i].hash, full.epochs[i].hash) << "seed " << seed << " epoch " << i;
  for (const auto& [id, p] : part.proposals) {
    auto f = full.proposals.at(id).state;
    if (p.state == ProposalState::kPassed || p.state == ProposalState::kFailed) {
      ASSERT_EQ(p.state, f) << "seed " << seed << ": a decided proposal flipped: " << p.why << " / "
                            << full.proposals.at(id).why << " round " << p.body.round << " epoch "
                            << (p.epoch ? *p.epoch : 99) << " part epochs " << part.epochs.size()
                            << " full " << full.epochs.size();
    }
  }
}

// Shuffling each feed's records (and duplicating some) changes nothing.
void CheckOrder(Generated& gen, uint64_t seed) {
  EpochHistory want = gen.g.Run();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 5; ++i) {
    testing::FakeSource shuffled;
    for (auto [id, feed] : gen.g.source.feeds) {
      std::shuffle(feed.records.begin(), feed.records.end(), rng);
      shuffled.feeds[id] = std::move(feed);
    }
    EpochHistory got = ComputeEpochs(gen.g.zero, shuffled);
    ASSERT_EQ(got.epochs.size(), want.epochs.size()) << "seed " << seed;
    ASSERT_EQ(got.current().hash, want.current().hash) << "seed " << seed;
    for (const auto& [id, p] : want.proposals)
      ASSERT_EQ(got.proposals.at(id).state, p.state) << "seed " << seed;
  }
}

TEST(GovernanceProperty, QuorumSafetyMonotonicityAndOrderOverSeededHistories) {
  int seeds = Seeds();
  int transitions = 0, forked = 0, duplicates = 0, leaves = 0, multi = 0;
  for (int s = 0; s < seeds; ++s) {
    uint64_t seed = 1'000'003ULL * static_cast<uint64_t>(s) + 11;
    Generated gen = Generate(seed);
    EpochHistory h = gen.g.Run();
    CheckChain(h, gen.g.source.feeds, seed);
    if (!gen.forked) CheckMonotone(gen, seed);
    if (s % 10 == 0) CheckOrder(gen, seed);
    if (::testing::Test::HasFatalFailure()) return;
    transitions += static_cast<int>(h.epochs.size()) - 1;
    multi += h.epochs.size() > 2;
    forked += gen.forks > 0;
    duplicates += gen.duplicates;
    leaves += gen.leaves;
  }
  // The generator must actually exercise what the property is about.
  EXPECT_GT(transitions, seeds / 5);
  EXPECT_GT(multi, seeds / 50);
  EXPECT_GT(forked, seeds / 20);
  EXPECT_GT(duplicates, seeds / 10);
  EXPECT_GT(leaves, seeds / 10);
  std::printf(
      "%d histories: %d epoch transitions, %d with 2+ transitions, %d with forks, %d "
      "duplicates, %d leaves\n",
      seeds, transitions, multi, forked, duplicates, leaves);
}

}  // namespace
}  // namespace keiretsu::protocol
