// The epoch chain: docs/PROTOCOL.md 19.8-19.10.
#include "keiretsu/protocol/epoch_chain.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace keiretsu::protocol {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One member's votes in one epoch: its ballot per round, and the highest
// round any of its votes names.
struct MemberVotes {
  std::map<uint32_t, EntryId> ballots;
  int64_t highest = -1;
};

MemberVotes VotesIn(const GovernanceFeed& feed, const Digest& hash) {
  std::vector<const GovernanceRecord*> votes;
  for (const GovernanceRecord& r : feed.records) {
    const auto* v = std::get_if<Vote>(&r.body);
    if (v && v->epoch_hash == hash) votes.push_back(&r);
  }
  std::sort(votes.begin(), votes.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
  MemberVotes out;
  for (const GovernanceRecord* r : votes) {
    const Vote& v = std::get<Vote>(r->body);
    // A vote below a round the member already voted in does not count.
    if (out.highest <= int64_t{v.round}) out.ballots.try_emplace(v.round, v.proposal_id);
    out.highest = std::max(out.highest, int64_t{v.round});
  }
  return out;
}

class Chain {
 public:
  Chain(const EpochZero& zero, GovernanceSource& source) : source_(source) {
    Epoch e0;
    e0.hash = GenesisEpochHash(zero.network);
    e0.threshold = zero.threshold;
    e0.members = zero.members;
    std::sort(e0.members.begin(), e0.members.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    for (const EpochMember& m : e0.members) Load(m);
    out_.epochs.push_back(std::move(e0));
  }

  EpochHistory Run() {
    while (Decide()) {
    }
    for (auto& [id, info] : out_.proposals) {
      if (info.epoch) continue;
      for (const Epoch& e : out_.epochs)
        if (e.hash == info.body.epoch_hash) info.epoch = e.number;
      info.why = info.epoch ? "its author was not an active member of that epoch"
                            : "names no epoch of the chain";
    }
    return std::move(out_);
  }

 private:
  void Load(const EpochMember& m) {
    GovernanceFeed& feed = feeds_[m.id] = source_.FeedOf(m.inception());
    for (const GovernanceRecord& r : feed.records) {
      const auto* p = std::get_if<Propose>(&r.body);
      if (!p) continue;
      ProposalInfo info;
      info.id = r.id;
      info.author = m.id;
      info.seq = r.seq;
      info.body = *p;
      out_.proposals.emplace(r.id, std::move(info));
    }
  }

  // The valid proposals of epoch e by round; marks the others void.
  std::map<uint32_t, std::vector<ProposalInfo*>> ProposalsOf(const Epoch& e) {
    std::map<uint32_t, std::vector<ProposalInfo*>> by_round;
    for (auto& [id, info] : out_.proposals) {
      if (info.body.epoch_hash != e.hash) continue;
      info.epoch = e.number;
      if (!e.IsActive(info.author)) {
        info.why = "its author is not an active member of epoch " + std::to_string(e.number);
        continue;
      }
      if (std::string why = InvalidAgainst(info.body, e); !why.empty()) {
        info.why = why;
        continue;
      }
      info.state = ProposalState::kPending;
      by_round[info.body.round].push_back(&info);
    }
    return by_round;
  }

  // Open active members undecided in a round nobody holds a ballot in.
  size_t UndecidedEmpty(const Epoch& e, int64_t round) const {
    size_t u = 0;
    for (const EpochMember& m : e.members)
      if (!m.removed && feeds_.at(m.id).open && votes_.at(m.id).highest <= round) ++u;
    return u;
  }
  size_t Undecided(const Epoch& e, uint32_t round) const {
    size_t u = 0;
    for (const EpochMember& m : e.members) {
      if (m.removed || !feeds_.at(m.id).open) continue;
      const MemberVotes& v = votes_.at(m.id);
      if (!v.ballots.contains(round) && v.highest <= int64_t{round}) ++u;
    }
    return u;
  }

  // Decides epoch back(); true when it has a successor (a new epoch).
  bool Decide() {
    const Epoch& e = out_.epochs.back();
    auto by_round = ProposalsOf(e);
    std::set<uint32_t> rounds;
    votes_.clear();
    for (const EpochMember& m : e.members) {
      MemberVotes& v = votes_[m.id] = VotesIn(feeds_.at(m.id), e.hash);
      if (m.removed) continue;
      for (const auto& [r, id] : v.ballots) rounds.insert(r);
      if (v.highest >= 0) rounds.insert(static_cast<uint32_t>(v.highest));
    }
    for (const auto& [r, ps] : by_round) rounds.insert(r);
    int64_t below = -1;  // every round up to `below` failed
    for (uint32_t r : rounds) {
      if (int64_t{r} - 1 > below && UndecidedEmpty(e, int64_t{r} - 1) >= e.threshold) break;
      ProposalInfo* winner = CountRound(e, r, by_round[r]);
      if (winner) return Advance(e, *winner, by_round);
      if (BestPossible(e, r, by_round[r]) + Undecided(e, r) >= e.threshold) break;
      for (ProposalInfo* p : by_round[r]) Fail(*p, "round " + std::to_string(r) + " failed");
      below = r;
    }
    return false;
  }

  ProposalInfo* CountRound(const Epoch& e, uint32_t r, std::vector<ProposalInfo*>& proposals) {
    std::map<EntryId, ProposalInfo*> by_id;
    for (ProposalInfo* p : proposals) by_id[p->id] = p;
    for (const EpochMember& m : e.members) {
      if (m.removed) continue;
      auto it = votes_.at(m.id).ballots.find(r);
      if (it == votes_.at(m.id).ballots.end()) continue;
      auto p = by_id.find(it->second);
      if (p != by_id.end()) ++p->second->supporters;
    }
    for (ProposalInfo* p : proposals)
      if (p->supporters >= e.threshold) return p;  // unique: 2k > n
    return nullptr;
  }

  // The most ballots of round r behind one id that is, or may yet become, a
  // proposal of (e, r): a valid one, or an id no member's prefix holds a
  // propose for (it may arrive later). Ids known to be something else
  // never can.
  size_t BestPossible(const Epoch& e, uint32_t r, const std::vector<ProposalInfo*>& valid) const {
    std::map<EntryId, size_t> named;
    for (const EpochMember& m : e.members) {
      if (m.removed) continue;
      auto it = votes_.at(m.id).ballots.find(r);
      if (it != votes_.at(m.id).ballots.end()) ++named[it->second];
    }
    size_t best = 0;
    for (const auto& [named_id, count] : named) {
      // A plain reference: clang 14 cannot capture a structured binding.
      const EntryId& id = named_id;
      bool is_valid = std::any_of(valid.begin(), valid.end(), [&](auto* p) { return p->id == id; });
      if (is_valid || !out_.proposals.contains(id)) best = std::max(best, count);
    }
    return best;
  }

  static void Fail(ProposalInfo& p, std::string why) {
    p.state = ProposalState::kFailed;
    p.why = std::move(why);
  }

  bool Advance(const Epoch& e, ProposalInfo& winner,
               std::map<uint32_t, std::vector<ProposalInfo*>>& by_round) {
    winner.state = ProposalState::kPassed;
    for (auto& [r, ps] : by_round)
      for (ProposalInfo* p : ps) {
        if (p == &winner) continue;
        if (r == winner.body.round) Fail(*p, "another proposal of its round passed");
        if (r > winner.body.round) {
          p->state = ProposalState::kVoid;
          p->why = "a proposal of a lower round passed first";
        }
      }
    Epoch next;
    next.number = e.number + 1;
    next.hash = NextEpochHash(e.hash, winner.id);
    next.threshold = winner.body.threshold;
    next.members = e.members;
    next.passed = winner.id;
    std::optional<EpochMember> admitted;
    if (const auto* a = std::get_if<AdmitAction>(&winner.body.action)) {
      admitted = EpochMember{a->inception_key, a->name, a->next_key_digest, next.number};
      next.members.push_back(*admitted);
      std::sort(next.members.begin(), next.members.end(),
                [](const auto& x, const auto& y) { return x.id < y.id; });
    } else if (const auto* rm = std::get_if<RemoveAction>(&winner.body.action)) {
      for (EpochMember& m : next.members)
        if (m.id == rm->member) {
          m.removed = true;
          m.removed_in_epoch = next.number;
          m.last_seq = rm->last_seq;
        }
    }
    out_.epochs.push_back(std::move(next));
    if (admitted) Load(*admitted);
    return true;
  }

  GovernanceSource& source_;
  std::map<PublicKey, GovernanceFeed> feeds_;
  std::map<PublicKey, MemberVotes> votes_;  // in the epoch being decided
  EpochHistory out_;
};

}  // namespace

std::string InvalidAgainst(const Propose& p, const Epoch& e) {
  size_t n = e.ActiveCount();
  size_t n_after = n;
  if (const auto* a = std::get_if<AdmitAction>(&p.action)) {
    for (const EpochMember& m : e.members) {
      if (m.id == a->inception_key) return "admits a firm that is or was a member";
      if (Lower(m.name) == Lower(a->name)) return "admits a name a member has or had";
    }
    n_after = n + 1;
  } else if (const auto* rm = std::get_if<RemoveAction>(&p.action)) {
    if (!e.IsActive(rm->member)) return "removes a firm that is not an active member";
    if (n == 1) return "removes the last member";
    n_after = n - 1;
  }
  if (2 * size_t{p.threshold} <= n_after || p.threshold > n_after)
    return "threshold " + std::to_string(p.threshold) + " is not above half of " +
           std::to_string(n_after) + " members and at most " + std::to_string(n_after);
  return "";
}

size_t Epoch::ActiveCount() const {
  return static_cast<size_t>(
      std::count_if(members.begin(), members.end(), [](const auto& m) { return !m.removed; }));
}

const EpochMember* Epoch::Find(const PublicKey& id) const {
  auto it = std::lower_bound(members.begin(), members.end(), id,
                             [](const EpochMember& m, const PublicKey& k) { return m.id < k; });
  return it != members.end() && it->id == id ? &*it : nullptr;
}

bool Epoch::IsActive(const PublicKey& id) const {
  const EpochMember* m = Find(id);
  return m && !m->removed;
}

std::string_view ProposalStateName(ProposalState state) {
  switch (state) {
    case ProposalState::kPending: return "pending";
    case ProposalState::kPassed: return "passed";
    case ProposalState::kFailed: return "failed";
    case ProposalState::kVoid: return "void";
  }
  return "unknown";
}

EpochZero EpochZeroOf(const Genesis& genesis) {
  EpochZero z;
  z.network = genesis.network_id();
  z.threshold = genesis.threshold();
  for (const Member& m : genesis.members())
    z.members.push_back({m.key, m.name, m.next_key_digest, 0});
  return z;
}

EpochHistory ComputeEpochs(const EpochZero& zero, GovernanceSource& source) {
  return Chain(zero, source).Run();
}

}  // namespace keiretsu::protocol
