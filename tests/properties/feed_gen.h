// Property-test support: a seeded generator of realistic multi-firm feeds,
// and an expected-state model kept by the generator itself, independent of
// the ledger code it is held against.
//
// The generator plays every firm: obligations, claims, accepts of earlier
// claims (by the claim's debtor, copying its terms), declines, releases of
// what a firm is owed, in several units, and now and then a second answer
// to one claim. Optionally (adversarial) one firm equivocates (signs two
// different entries at one seq and goes on down both branches), one forks
// from an entry it never publishes, and one signs an invalid entry mid-feed
// (a self-debt) and goes on chaining onto it. The model records which
// entries count (everything below a feed's stop point) and derives balances,
// open claims and answer rows from them with its own arithmetic, so a bug
// shared by the ledger's materialised state and its recomputation cannot
// hide.
//
// Header-only, deterministic for a given seed on every platform: it draws
// with Below() (plain modulo), not std::uniform_int_distribution, whose
// algorithm is the standard library's choice.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/digest.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/limits.h"
#include "test_network.h"

namespace keiretsu::testing {

// A uniform-enough draw in [0, n). REQUIRES: n > 0.
inline uint64_t Below(std::mt19937_64& rng, uint64_t n) {
  return rng() % n;
}

struct GenOptions {
  int firms = 6;
  size_t entries = 2400;  // signed entries in total, adversarial ones included
  uint64_t seed = 1;
  bool adversarial = false;  // a forking firm and a firm with an invalid entry
};

// What every honest node must end up with, whatever the arrival order.
struct Expected {
  // (firm, counterparty, unit) -> what counterparty owes firm; no zeros.
  std::map<std::tuple<PublicKey, PublicKey, std::string>, protocol::Amount128> balances;
  std::map<PublicKey, protocol::FeedHeadSummary> heads;  // per author with entries
  Digest digest;
  // Per debtor: its open claims (counted, with no counted answer of its
  // own), sorted by id; debtors with none are left out.
  std::map<PublicKey, std::vector<EntryId>> open_claims;
  // (debtor, claim id) -> the debtor's counted answer naming it; when it
  // answered more than once, the one with the lowest id (storage/store.h).
  std::map<std::pair<PublicKey, EntryId>, EntryId> answers;
};

struct Generated {
  std::vector<Bytes> records;  // every signed record, in publication order
  std::vector<bool> honest;    // per record: of a feed that never stops
  std::vector<int> firm;       // per record: its author's index
  Expected expected;

  // Adversarial runs: each fork's firm signed `a` and `b` at `seq`, the
  // lowest seq where it published two records; firm `bad_firm` signed
  // `bad_record` (invalid) at `bad_seq`.
  struct Fork {
    int firm = -1;
    uint64_t seq = 0;
    Bytes a, b;
  };
  std::vector<Fork> forks;
  int bad_firm = -1;
  uint64_t bad_seq = 0;
  Bytes bad_record;
  std::vector<FeedBuilder::Head> builder_heads;  // FeedBuilder's head per firm

  const Fork* ForkOf(int author) const {
    for (const Fork& f : forks)
      if (f.firm == author) return &f;
    return nullptr;
  }
};

class FeedGenerator {
 public:
  FeedGenerator(const TestNetwork& net, GenOptions opt)
      : net_(net), opt_(opt), rng_(opt.seed), fb_(net), feeds_(static_cast<size_t>(opt.firms)) {}

  Generated Run() {
    const int n = opt_.firms;
    if (opt_.adversarial) {
      hidden_fork_firm_ = n - 3;
      fork_firm_ = n - 2;
      out_.bad_firm = n - 1;
    }
    // The adversarial events happen at about 30%, 40% and 60% of the run, so
    // their feeds have entries before and after them.
    const size_t hidden_at = opt_.entries * 3 / 10, fork_at = opt_.entries * 2 / 5,
                 bad_at = opt_.entries * 3 / 5;
    bool hidden_done = false, fork_done = false;
    while (out_.records.size() < opt_.entries) {
      const size_t done = out_.records.size();
      if (opt_.adversarial && done >= hidden_at && !hidden_done) {
        HiddenFork(hidden_fork_firm_);
        hidden_done = true;
        continue;
      }
      if (opt_.adversarial && done >= fork_at && !fork_done) {
        Fork(fork_firm_);
        fork_done = true;
        continue;
      }
      if (opt_.adversarial && done >= bad_at && out_.bad_seq == 0) {
        Invalid(out_.bad_firm);
        continue;
      }
      int firm = static_cast<int>(Below(rng_, static_cast<uint64_t>(n)));
      if (firm == out_.bad_firm && out_.bad_seq != 0) {
        ContinueAfterInvalid(firm);  // chains onto its invalid entry
        continue;
      }
      Publish(firm, fb_.Next(firm, NextBody(firm)));
    }
    Finish();
    return std::move(out_);
  }

 private:
  struct OpenClaim {
    EntryId id;
    int creditor = 0;
    uint64_t amount = 0;
    std::string unit, memo;
  };
  struct Effect {  // debtor owes creditor `delta` more of `unit`
    int debtor, creditor;
    std::string unit;
    protocol::Amount128 delta;
  };
  struct FeedModel {
    std::vector<EntryId> ids;                  // ids[s-1]: the id this feed counts at seq s
    std::vector<std::vector<Effect>> effects;  // effects[s-1]
    std::vector<protocol::Body> bodies;        // bodies[s-1]
    uint64_t stop = 0;                         // 0: never stops
  };

  std::string Unit() {
    static const char* const kUnits[] = {"hours", "EUR", "kWh", "pallets", "t.steel"};
    return kUnits[Below(rng_, 5)];
  }
  std::string Memo() {
    static const char* const kMemos[] = {
        "", "forklift loan", "Überstunden März", "night shift cover", "交換部品", "rush order #17"};
    return kMemos[Below(rng_, 6)];
  }
  uint64_t Amount() {
    switch (Below(rng_, 10)) {
      case 0: return 1;
      case 1: return protocol::kMaxAmount - Below(rng_, 1000);  // near the limit
      default: return 1 + Below(rng_, 1'000'000);
    }
  }
  int Other(int firm) {
    int o = static_cast<int>(Below(rng_, static_cast<uint64_t>(opt_.firms - 1)));
    return o >= firm ? o + 1 : o;
  }

  // A random, valid body for `firm`, updating the generator's view of open
  // claims and of what each firm is owed (releases stay within it).
  protocol::Body NextBody(int firm) {
    auto& mine = open_[firm];
    auto& done = answered_[firm];
    uint64_t roll = Below(rng_, 100);
    // Now and then a firm answers a claim a second time (each accept counts,
    // docs/PROTOCOL.md 7). Only firms whose feeds never stop do: a second
    // answer undone by a stop is answers_order_test's case.
    const bool again = roll < 2 && !done.empty() && !Adversary(firm);
    if ((roll < 25 && !mine.empty()) || again) {  // answer a claim addressed to this firm
      OpenClaim c;
      if (again) {
        c = done[Below(rng_, done.size())];
      } else {
        size_t k = Below(rng_, mine.size());
        c = mine[k];
        mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(k));
        done.push_back(c);
      }
      if (Below(rng_, 4) == 0) return protocol::Decline{c.id, net_.pk(c.creditor), Memo()};
      owed_[{firm, c.creditor, c.unit}] += c.amount;
      return protocol::Accept{c.id, net_.pk(c.creditor), c.amount, c.unit, c.memo};
    }
    if (roll < 50) {  // claim: no effect until accepted
      int debtor = Other(firm);
      OpenClaim c{EntryId{}, firm, Amount(), Unit(), Memo()};
      pending_claim_ = {debtor, c};
      return protocol::Claim{net_.pk(debtor), c.amount, c.unit, c.memo};
    }
    if (roll < 70) {  // release part of what someone owes this firm
      std::vector<std::pair<int, std::string>> debtors;
      for (const auto& [key, v] : owed_)
        if (std::get<1>(key) == firm && v > 0)
          debtors.emplace_back(std::get<0>(key), std::get<2>(key));
      if (!debtors.empty()) {
        auto [debtor, unit] = debtors[Below(rng_, debtors.size())];
        auto& due = owed_[{debtor, firm, unit}];
        uint64_t cap =
            static_cast<uint64_t>(std::min<protocol::Amount128>(due, protocol::kMaxAmount));
        uint64_t amount = Below(rng_, 3) == 0 ? cap : 1 + Below(rng_, cap);
        due -= amount;
        return protocol::Release{net_.pk(debtor), amount, unit, Memo()};
      }
    }
    int creditor = Other(firm);
    protocol::Obligation o{net_.pk(creditor), Amount(), Unit(), Memo()};
    owed_[{firm, creditor, o.unit}] += o.amount;
    return o;
  }

  static std::vector<Effect> EffectsOf(const TestNetwork& net, const protocol::Entry& e) {
    auto index = [&](const PublicKey& pk) {
      for (size_t i = 0; i < net.keys.size(); ++i)
        if (net.pk(static_cast<int>(i)) == pk) return static_cast<int>(i);
      return -1;
    };
    const int author = index(e.author);
    std::vector<Effect> out;
    if (const auto* o = std::get_if<protocol::Obligation>(&e.body))
      out.push_back({author, index(o->creditor), o->unit, o->amount});
    else if (const auto* a = std::get_if<protocol::Accept>(&e.body))
      out.push_back({author, index(a->creditor), a->unit, a->amount});
    else if (const auto* r = std::get_if<protocol::Release>(&e.body))
      out.push_back(
          {index(r->debtor), author, r->unit, -static_cast<protocol::Amount128>(r->amount)});
    return out;
  }

  // Records an entry of `firm`'s counted chain (FeedBuilder-signed, or the
  // fork firm's main branch) and its effects.
  void Publish(int firm, const protocol::SignedEntry& se) {
    auto& f = feeds_[static_cast<size_t>(firm)];
    f.ids.push_back(se.id);
    f.effects.push_back(EffectsOf(net_, se.entry));
    f.bodies.push_back(se.entry.body);
    out_.records.push_back(se.record);
    out_.honest.push_back(!Adversary(firm));
    out_.firm.push_back(firm);
    if (pending_claim_) {  // the claim just signed becomes answerable by its debtor
      auto [debtor, c] = *pending_claim_;
      c.id = se.id;
      open_[debtor].push_back(c);
      pending_claim_.reset();
    }
  }
  // Records a signed entry that never counts (a fork branch, an invalid
  // entry or what follows it). Claims in it are still answerable: an accept
  // is self-contained, so the answering firm's accept does count.
  void PublishUncounted(int firm, const protocol::SignedEntry& se) {
    out_.records.push_back(se.record);
    out_.honest.push_back(false);
    out_.firm.push_back(firm);
    if (pending_claim_) {
      auto [debtor, c] = *pending_claim_;
      c.id = se.id;
      open_[debtor].push_back(c);
      pending_claim_.reset();
    }
  }
  protocol::SignedEntry Raw(int firm, uint64_t seq, const EntryId& prev, protocol::Body body) {
    protocol::Entry e{net_.id(), net_.pk(firm),           seq,
                      prev,      1'790'000'000'000 + seq, std::move(body)};
    return FeedBuilder::SignRaw(e, net_.key(firm));
  }

  // The fork: branch A goes on through FeedBuilder (and is what the firm
  // keeps publishing); branch B is three entries signed from the same prev.
  // Neither branch counts from the fork seq on.
  void Fork(int firm) {
    auto head = fb_.head(firm);
    Generated::Fork f{firm, head.seq + 1, {}, {}};
    auto a = fb_.Next(firm, NextBody(firm));
    f.a = a.record;
    Publish(firm, a);
    BranchB(firm, f, head.id);
  }
  // A fork whose branch B starts from an entry never published: B's first
  // published record names a prev no node holds, and only the next seq's
  // pair proves the fork. Entries up to the withheld seq still count.
  void HiddenFork(int firm) {
    auto head = fb_.head(firm);
    Publish(firm, fb_.Next(firm, NextBody(firm)));
    auto withheld = Raw(firm, head.seq + 1, head.id,
                        protocol::Obligation{net_.pk(Other(firm)), 1, "hours", "withheld"});
    Generated::Fork f{firm, head.seq + 2, {}, {}};
    auto a = fb_.Next(firm, NextBody(firm));
    f.a = a.record;
    Publish(firm, a);
    BranchB(firm, f, withheld.id);
  }
  // Signs and publishes three branch-B entries from f.seq on, chained from
  // `prev`, and stops the firm's counted feed at f.seq.
  void BranchB(int firm, Generated::Fork f, EntryId prev) {
    for (uint64_t s = f.seq; s < f.seq + 3; ++s) {
      auto b = Raw(firm, s, prev, NextBody(firm));
      if (s == f.seq) f.b = b.record;
      prev = b.id;
      PublishUncounted(firm, b);
    }
    feeds_[static_cast<size_t>(firm)].stop = f.seq;
    out_.forks.push_back(std::move(f));
  }
  bool Adversary(int firm) const {
    return firm == fork_firm_ || firm == hidden_fork_firm_ || firm == out_.bad_firm;
  }
  void Invalid(int firm) {
    auto head = fb_.head(firm);
    out_.bad_seq = head.seq + 1;
    auto bad = Raw(firm, out_.bad_seq, head.id,
                   protocol::Obligation{net_.pk(firm), 5, "hours", "self-debt"});
    out_.bad_record = bad.record;
    bad_head_ = {out_.bad_seq, bad.id};
    PublishUncounted(firm, bad);
    feeds_[static_cast<size_t>(firm)].stop = out_.bad_seq;
  }
  void ContinueAfterInvalid(int firm) {
    auto se = Raw(firm, bad_head_.seq + 1, bad_head_.id, NextBody(firm));
    bad_head_ = {se.entry.seq, se.id};
    PublishUncounted(firm, se);
  }

  // Sums the counted entries' effects into the expected balances and heads.
  void Finish() {
    std::map<std::tuple<int, int, std::string>, protocol::Amount128> debt;
    std::vector<protocol::FeedHeadSummary> summaries;
    for (int i = 0; i < opt_.firms; ++i) {
      const auto& f = feeds_[static_cast<size_t>(i)];
      const uint64_t counted =
          f.stop == 0 ? f.ids.size() : std::min<uint64_t>(f.ids.size(), f.stop - 1);
      for (uint64_t s = 0; s < counted; ++s)
        for (const Effect& e : f.effects[s]) debt[{e.debtor, e.creditor, e.unit}] += e.delta;
      protocol::FeedHeadSummary h{net_.pk(i), counted, counted ? f.ids[counted - 1] : EntryId{},
                                  f.stop};
      if (!f.ids.empty() || f.stop != 0) {
        out_.expected.heads[net_.pk(i)] = h;
        summaries.push_back(h);
      }
      out_.builder_heads.push_back(fb_.head(i));
    }
    for (const auto& [key, v] : debt) {
      auto [debtor, creditor, unit] = key;
      if (v == 0) continue;
      out_.expected.balances[{net_.pk(creditor), net_.pk(debtor), unit}] += v;
      out_.expected.balances[{net_.pk(debtor), net_.pk(creditor), unit}] -= v;
    }
    std::erase_if(out_.expected.balances, [](const auto& kv) { return kv.second == 0; });
    ExpectClaims();
    out_.expected.digest = protocol::StateDigest(net_.id(), summaries);
  }

  // Open claims and answer rows from the counted entries alone.
  void ExpectClaims() {
    std::map<PublicKey, std::set<EntryId>> claims;  // debtor -> counted claims
    for (int i = 0; i < opt_.firms; ++i) {
      const auto& f = feeds_[static_cast<size_t>(i)];
      const uint64_t counted =
          f.stop == 0 ? f.ids.size() : std::min<uint64_t>(f.ids.size(), f.stop - 1);
      for (uint64_t s = 0; s < counted; ++s) {
        const protocol::Body& b = f.bodies[s];
        if (const auto* c = std::get_if<protocol::Claim>(&b)) claims[c->debtor].insert(f.ids[s]);
        const EntryId* answered = nullptr;
        if (const auto* a = std::get_if<protocol::Accept>(&b)) answered = &a->claim_id;
        if (const auto* d = std::get_if<protocol::Decline>(&b)) answered = &d->claim_id;
        if (answered) {
          auto [it, fresh] = out_.expected.answers.try_emplace({net_.pk(i), *answered}, f.ids[s]);
          if (!fresh) it->second = std::min(it->second, f.ids[s]);
        }
      }
    }
    for (const auto& [debtor, ids] : claims)
      for (const EntryId& id : ids)
        if (!out_.expected.answers.count({debtor, id}))
          out_.expected.open_claims[debtor].push_back(id);
  }

  const TestNetwork& net_;
  GenOptions opt_;
  std::mt19937_64 rng_;
  FeedBuilder fb_;
  std::vector<FeedModel> feeds_;
  std::map<int, std::vector<OpenClaim>> open_;      // debtor -> claims it may answer
  std::map<int, std::vector<OpenClaim>> answered_;  // debtor -> claims it answered
  // (debtor, creditor, unit) -> what the generator believes is owed; only
  // steers releases, the expected balances come from the counted effects.
  std::map<std::tuple<int, int, std::string>, protocol::Amount128> owed_;
  std::optional<std::pair<int, OpenClaim>> pending_claim_;
  FeedBuilder::Head bad_head_;
  int fork_firm_ = -1, hidden_fork_firm_ = -1;
  Generated out_;
};

}  // namespace keiretsu::testing
