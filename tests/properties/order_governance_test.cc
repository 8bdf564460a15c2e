// Property: order independence under protocol v2 governance (docs/PROTOCOL.md
// 19). Seeded random histories on a version-2 network of four founders:
// obligations in every direction (some to firms not yet admitted), early
// entries of candidate firms, admissions, removals, a leave, competing
// proposals and split votes in several rounds, stale proposals, key
// rotations, and forks next to governance entries. Each history is
// delivered in many arrival orders, in random batches, and what a peer
// declined (a record signed by a key this node could not attribute yet) is
// resent as anti-entropy would. In every order the ledger ends with the
// membership history, state digest and balances of protocol::RecomputeLedger
// over the same records.
//
// A second property at the ledger level: in seeded histories of two
// competing proposals of one epoch and round with random ballots, never do
// both pass, and the ledger agrees with the model on which (if any) does.
// (300 histories by default, KEIRETSU_GOV_QUORUM_HISTORIES for more: each
// opens a ledger; the 10,000-history property over the pure chain is
// tests/protocol/governance_property_test.cc.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "gov_network.h"
#include "temp_dir.h"

namespace keiretsu::node {
namespace {

using protocol::AdmitAction;
using protocol::Propose;
using protocol::RemoveAction;
using protocol::SetThresholdAction;
using protocol::Vote;
using testing::GovFirm;
using testing::SignAs;

int EnvInt(const char* name, int fallback) {
  const char* s = std::getenv(name);
  return s ? std::atoi(s) : fallback;
}

uint64_t Below(std::mt19937_64& rng, uint64_t n) {
  return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
}

protocol::LedgerModel Model(const testing::GovNet& net, const std::vector<Bytes>& records) {
  std::vector<protocol::ModelRecord> recs;
  for (const Bytes& r : records) recs.push_back(testing::ToModel(r));
  return protocol::RecomputeLedger(protocol::EpochZeroOf(net.genesis), recs);
}

// One random governance history.
class Generator {
 public:
  Generator(const testing::GovNet& net, uint64_t seed) : net_(net), rng_(seed) {
    firms_ = net.founders;
    for (uint32_t i = 0; i < 3; ++i)
      candidates_.push_back(GovFirm::Of("cand" + std::to_string(i), 40 + i, 140 + i));
  }

  std::vector<Bytes> Run(int steps) {
    for (int step = 0; step < steps; ++step) {
      const uint64_t roll = Below(rng_, 100);
      if (roll < 30) {
        Owe();
      } else if (roll < 38) {
        CandidateWrites();
      } else if (roll < 52) {
        ProposeSomething();
      } else if (roll < 84) {
        VoteSomething();
      } else if (roll < 90) {
        RotateSomeone();
      } else if (roll < 92) {
        LeaveOnce();
      } else if (roll < 96) {
        ForkSomeone();
      } else {
        StaleProposal();
      }
    }
    return records_;
  }

 private:
  // Firms that write honestly: founders that have not left or forked, and
  // admitted candidates.
  std::vector<GovFirm*> Writers() {
    std::vector<GovFirm*> out;
    for (size_t i = 0; i < firms_.size(); ++i)
      if (i != left_ && !forked_.contains(i)) out.push_back(&firms_[i]);
    protocol::LedgerModel m = Model(net_, records_);
    for (GovFirm& c : candidates_)
      if (m.history.current().IsActive(c.id)) out.push_back(&c);
    return out;
  }
  std::vector<GovFirm*> ActiveWriters(const protocol::Epoch& now) {
    std::vector<GovFirm*> out;
    for (GovFirm* f : Writers())
      if (now.IsActive(f->id)) out.push_back(f);
    return out;
  }
  void Add(const protocol::SignedEntry& se) { records_.push_back(se.record); }

  void Owe() {
    auto w = Writers();
    GovFirm* f = w[Below(rng_, w.size())];
    std::vector<PublicKey> others;
    for (const GovFirm& x : firms_)
      if (x.id != f->id) others.push_back(x.id);
    for (const GovFirm& x : candidates_)
      if (x.id != f->id) others.push_back(x.id);
    Add(SignAs(net_, *f, testing::Owe(others[Below(rng_, others.size())], 1 + Below(rng_, 50))));
  }
  // A candidate writes, admitted or not (entries before admission wait).
  void CandidateWrites() {
    GovFirm& c = candidates_[Below(rng_, candidates_.size())];
    Add(SignAs(net_, c, testing::Owe(firms_[Below(rng_, firms_.size())].id, 1 + Below(rng_, 9))));
  }
  uint32_t RoundOf(const protocol::LedgerModel& m) {
    uint32_t r = 0;
    for (const auto& [id, p] : m.history.proposals)
      if (p.body.epoch_hash == m.history.current().hash) r = std::max(r, p.body.round);
    return r + static_cast<uint32_t>(Below(rng_, 3) == 0);
  }
  void ProposeSomething() {
    protocol::LedgerModel m = Model(net_, records_);
    const protocol::Epoch& now = m.history.current();
    auto active = ActiveWriters(now);
    if (active.empty()) return;
    GovFirm* f = active[Below(rng_, active.size())];
    const size_t n = now.ActiveCount();
    Propose p{now.hash, RoundOf(m), 0, SetThresholdAction{}, ""};
    const uint64_t kind = Below(rng_, 3);
    size_t n_after = n;
    if (kind == 0) {
      std::vector<GovFirm*> outside;
      for (GovFirm& c : candidates_)
        if (!m.history.EverMember(c.id)) outside.push_back(&c);
      if (outside.empty()) return;
      GovFirm* c = outside[Below(rng_, outside.size())];
      p.action = AdmitAction{c->name, c->id, c->inception_next()};
      n_after = n + 1;
    } else if (kind == 1 && n > 2) {
      std::vector<const protocol::EpochMember*> members;
      for (const auto& x : now.members)
        if (!x.removed && x.id != f->id) members.push_back(&x);
      const protocol::EpochMember* x = members[Below(rng_, members.size())];
      uint64_t seq = 0;
      for (const GovFirm& g : firms_)
        if (g.id == x->id) seq = g.seq;
      for (const GovFirm& g : candidates_)
        if (g.id == x->id) seq = g.seq;
      p.action = RemoveAction{x->id, seq};
      n_after = n - 1;
    }
    // Mostly a valid threshold; sometimes one that makes the proposal void.
    p.threshold = static_cast<uint16_t>(n_after / 2 + 1 + Below(rng_, (n_after + 1) / 2));
    if (Below(rng_, 10) == 0) p.threshold = static_cast<uint16_t>(n_after / 2);
    if (p.threshold == 0) p.threshold = 1;
    Add(SignAs(net_, *f, p));
  }
  void VoteSomething() {
    protocol::LedgerModel m = Model(net_, records_);
    const protocol::Epoch& now = m.history.current();
    std::vector<const protocol::ProposalInfo*> open;
    for (const auto& [id, p] : m.history.proposals)
      if (p.body.epoch_hash == now.hash) open.push_back(&p);
    if (open.empty()) return;
    auto active = ActiveWriters(now);
    // Two to four members vote at once, mostly for one proposal.
    const size_t voters = std::min<size_t>(active.size(), 2 + Below(rng_, 3));
    std::shuffle(active.begin(), active.end(), rng_);
    const protocol::ProposalInfo* favourite = open[Below(rng_, open.size())];
    for (size_t i = 0; i < voters; ++i) {
      const protocol::ProposalInfo* p =
          Below(rng_, 4) == 0 ? open[Below(rng_, open.size())] : favourite;
      Add(SignAs(net_, *active[i], Vote{now.hash, p->body.round, p->id}));
    }
  }
  void RotateSomeone() {
    auto w = Writers();
    GovFirm* f = w[Below(rng_, w.size())];
    Add(testing::RotateFirm(net_, *f, next_key_++));
  }
  void LeaveOnce() {
    if (left_ != kNone) return;
    left_ = Below(rng_, firms_.size());
    if (forked_.contains(left_)) {
      left_ = kNone;
      return;
    }
    Add(SignAs(net_, firms_[left_], protocol::Leave{"done"}));
  }
  // Two entries at one seq, both signed by the key in force: one of them a
  // vote when there is something to vote for.
  void ForkSomeone() {
    if (forked_.size() >= 1) return;
    const size_t i = Below(rng_, firms_.size());
    if (i == left_) return;
    GovFirm& f = firms_[i];
    GovFirm twin = f;
    protocol::LedgerModel m = Model(net_, records_);
    const protocol::Epoch& now = m.history.current();
    protocol::Body other = testing::Owe(firms_[(i + 1) % firms_.size()].id, 77);
    for (const auto& [id, p] : m.history.proposals)
      if (p.body.epoch_hash == now.hash) other = Vote{now.hash, p.body.round, p.id};
    Add(SignAs(net_, f, testing::Owe(firms_[(i + 2) % firms_.size()].id, 5)));
    Add(SignAs(net_, twin, other));
    forked_.insert(i);
    // The firm goes on writing on its first branch: none of it counts.
    Add(SignAs(net_, f, testing::Owe(firms_[(i + 1) % firms_.size()].id, 3)));
  }
  // A proposal naming an epoch that is not the current one (void).
  void StaleProposal() {
    protocol::LedgerModel m = Model(net_, records_);
    if (m.history.epochs.size() < 2) return;
    auto w = Writers();
    GovFirm* f = w[Below(rng_, w.size())];
    Add(SignAs(net_, *f, Propose{m.history.epochs[0].hash, 0, 3, SetThresholdAction{}, "stale"}));
  }

  static constexpr size_t kNone = ~size_t{0};
  const testing::GovNet& net_;
  std::mt19937_64 rng_;
  std::vector<GovFirm> firms_;
  std::vector<GovFirm> candidates_;
  std::vector<Bytes> records_;
  size_t left_ = kNone;
  std::set<size_t> forked_;
  uint32_t next_key_ = 1000;
};

using BalanceMap = std::map<protocol::BalanceKey, protocol::Amount128>;
BalanceMap Balances(const Ledger& l) {
  BalanceMap out;
  auto rows = l.ListAllBalances();
  EXPECT_TRUE(rows.ok());
  for (const auto& r : *rows) out[{r.firm, r.counterparty, r.unit}] = r.net;
  return out;
}

// Delivers `records` in random batches, then resends what was declined
// until a pass changes nothing (anti-entropy).
void Deliver(Ledger& l, std::vector<Bytes> records, std::mt19937_64& rng) {
  std::shuffle(records.begin(), records.end(), rng);
  std::vector<Bytes> declined;
  for (size_t at = 0; at < records.size();) {
    const size_t n = std::min<size_t>(records.size() - at, 1 + Below(rng, 8));
    std::vector<Bytes> batch(records.begin() + static_cast<std::ptrdiff_t>(at),
                             records.begin() + static_cast<std::ptrdiff_t>(at + n));
    auto rs = l.Ingest(batch, false);
    for (size_t i = 0; i < n; ++i)
      if (rs[i].outcome == Outcome::kRejected) declined.push_back(batch[i]);
    at += n;
  }
  for (int pass = 0; pass < 64 && !declined.empty(); ++pass) {
    std::shuffle(declined.begin(), declined.end(), rng);
    std::vector<Bytes> again;
    for (const Bytes& r : declined)
      if (l.Ingest(std::vector<Bytes>{r}, false)[0].outcome == Outcome::kRejected)
        again.push_back(r);
    if (again.size() == declined.size()) break;
    declined = std::move(again);
  }
}

void ExpectEpochs(const std::vector<protocol::Epoch>& got, const protocol::EpochHistory& want) {
  ASSERT_EQ(got.size(), want.epochs.size());
  for (size_t e = 0; e < got.size(); ++e) {
    EXPECT_EQ(got[e].hash, want.epochs[e].hash);
    EXPECT_EQ(got[e].threshold, want.epochs[e].threshold);
    ASSERT_EQ(got[e].members.size(), want.epochs[e].members.size());
    for (size_t i = 0; i < got[e].members.size(); ++i) {
      EXPECT_EQ(got[e].members[i].id, want.epochs[e].members[i].id);
      EXPECT_EQ(got[e].members[i].removed, want.epochs[e].members[i].removed);
      EXPECT_EQ(got[e].members[i].last_seq, want.epochs[e].members[i].last_seq);
    }
  }
}

TEST(OrderGovernance, RandomHistoriesGiveTheModelsStateInEveryArrivalOrder) {
  const testing::GovNet net = testing::MakeGovNet(4, 3);
  const int histories = EnvInt("KEIRETSU_GOV_HISTORIES", 12);
  const int orders = EnvInt("KEIRETSU_GOV_ORDERS", 20);
  size_t epochs_seen = 0, stops_seen = 0, removed_seen = 0;
  for (int h = 0; h < histories; ++h) {
    const uint64_t seed = 9000 + static_cast<uint64_t>(h);
    Generator gen(net, seed);
    const std::vector<Bytes> records = gen.Run(70);
    const protocol::LedgerModel want = Model(net, records);
    epochs_seen += want.history.epochs.size() - 1;
    for (const auto& [id, f] : want.feeds) stops_seen += f.walk.stop_seq != 0;
    for (const auto& m : want.history.current().members) removed_seen += m.removed;
    for (int o = 0; o < orders; ++o) {
      SCOPED_TRACE("history " + std::to_string(h) + " order " + std::to_string(o));
      std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(o));
      testing::TempDir dir;
      auto l = testing::OpenGovLedger(net, dir.path());
      Deliver(*l, records, rng);
      EXPECT_EQ(l->StateDigest(), want.state_digest);
      EXPECT_EQ(Balances(*l), want.balances);
      ExpectEpochs(l->Epochs(), want.history);
      if (::testing::Test::HasFailure()) return;  // one failing order says enough
    }
  }
  // The histories exercise what they claim to.
  EXPECT_GT(epochs_seen, static_cast<size_t>(histories));
  EXPECT_GT(stops_seen, 0u);
  EXPECT_GT(removed_seen, 0u);
}

// Two proposals of one epoch and round, random ballots from five members
// (k = 3): at most one passes, and the ledger names the one the model does.
TEST(OrderGovernance, TwoProposalsOfOneRoundNeverBothPass) {
  const testing::GovNet net = testing::MakeGovNet(5, 3);
  const int histories = EnvInt("KEIRETSU_GOV_QUORUM_HISTORIES", 300);
  const Digest h0 = protocol::GenesisEpochHash(net.id());
  size_t passed = 0;
  for (int h = 0; h < histories; ++h) {
    std::mt19937_64 rng(70'000 + static_cast<uint64_t>(h));
    std::vector<GovFirm> firms = net.founders;
    std::vector<Bytes> records;
    auto a = SignAs(net, firms[0], Propose{h0, 0, 3, SetThresholdAction{}, "a"});
    auto b = SignAs(net, firms[1], Propose{h0, 0, 4, SetThresholdAction{}, "b"});
    records.push_back(a.record);
    records.push_back(b.record);
    for (GovFirm& f : firms) {
      // Each member votes up to twice in the round: only its first counts.
      for (uint64_t v = Below(rng, 3); v > 0; --v)
        records.push_back(SignAs(net, f, Vote{h0, 0, Below(rng, 2) ? a.id : b.id}).record);
    }
    testing::TempDir dir;
    auto l = testing::OpenGovLedger(net, dir.path());
    std::shuffle(records.begin(), records.end(), rng);
    for (const Bytes& r : records) l->Ingest(std::vector<Bytes>{r}, false);
    const protocol::LedgerModel want = Model(net, records);
    size_t passes = 0;
    for (const ProposalView& p : l->Governance().proposals) {
      if (p.info.state != protocol::ProposalState::kPassed) continue;
      ++passes;
      EXPECT_GE(p.voters.size(), 3u);
      ASSERT_TRUE(want.history.proposals.contains(p.info.id));
      EXPECT_EQ(want.history.proposals.at(p.info.id).state, protocol::ProposalState::kPassed);
    }
    ASSERT_LE(passes, 1u) << "history " << h;
    EXPECT_EQ(l->Epochs().size(), want.history.epochs.size()) << "history " << h;
    passed += passes;
  }
  EXPECT_GT(passed, 0u);
}

}  // namespace
}  // namespace keiretsu::node
