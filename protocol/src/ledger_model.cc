// The three strata from scratch: docs/PROTOCOL.md 19.12.
#include "keiretsu/protocol/ledger_model.h"

#include <set>

namespace keiretsu::protocol {
namespace {

// Walks each member's feed when the epoch chain first needs it.
class ModelSource final : public GovernanceSource {
 public:
  explicit ModelSource(std::span<const ModelRecord> records) {
    for (const ModelRecord& r : records) by_author_[r.author].push_back(&r);
  }

  GovernanceFeed FeedOf(const InceptionCommitment& member) override {
    std::vector<FeedRecord> feed;
    auto it = by_author_.find(member.id);
    if (it != by_author_.end())
      for (const ModelRecord* r : it->second) feed.push_back(r->feed);
    Walked& w = walked_[member.id];
    w.walk = WalkFeed(member, feed);
    GovernanceFeed out;
    out.open = w.walk.open();
    for (size_t i : w.walk.prefix) {
      const ModelRecord* r = it->second[i];
      w.prefix.push_back(r);
      if (r->governance) out.records.push_back({r->feed.seq, r->feed.id, *r->governance});
    }
    return out;
  }

  struct Walked {
    FeedWalk walk;
    std::vector<const ModelRecord*> prefix;  // the walk's prefix, in seq order
  };
  std::map<PublicKey, Walked> walked_;
  std::map<PublicKey, std::vector<const ModelRecord*>> by_author_;
};

void AddDebt(std::map<BalanceKey, Amount128>& balances, const DebtChange& d) {
  // net(creditor, debtor) grows with the debt; net(debtor, creditor) is its negative.
  auto add = [&](const PublicKey& firm, const PublicKey& other, Amount128 delta) {
    BalanceKey key{firm, other, d.unit};
    Amount128& v = balances[key];
    v += delta;
    if (v == 0) balances.erase(key);
  };
  add(d.creditor, d.debtor, d.delta);
  add(d.debtor, d.creditor, -d.delta);
}

}  // namespace

LedgerModel RecomputeLedger(const EpochZero& zero, std::span<const ModelRecord> records) {
  ModelSource source(records);
  LedgerModel out;
  out.history = ComputeEpochs(zero, source);
  const Epoch& now = out.history.current();
  std::vector<FeedHeadSummary> heads;
  for (const EpochMember& m : now.members) {
    ModelSource::Walked& w = source.walked_.at(m.id);
    CountedFeed& f = out.feeds[m.id];
    f.walk = w.walk;
    f.counted_seq = w.prefix.size();
    if (m.removed) f.counted_seq = std::min(f.counted_seq, m.last_seq);
    if (f.counted_seq > 0) f.counted_id = w.prefix[f.counted_seq - 1]->feed.id;
    for (uint64_t s = 0; s < f.counted_seq; ++s) {
      const auto& debt = w.prefix[s]->debt;
      if (debt && out.history.EverMember(debt->debtor) && out.history.EverMember(debt->creditor))
        AddDebt(out.balances, *debt);
    }
    heads.push_back({m.id, f.counted_seq, f.counted_id, w.walk.stop_seq});
  }
  out.state_digest = StateDigestV2(zero.network, now.number, now.hash, std::move(heads));
  for (const auto& [author, recs] : source.by_author_)
    if (!out.history.EverMember(author)) {
      std::set<EntryId> ids;
      for (const ModelRecord* r : recs) ids.insert(r->feed.id);
      out.pending_authors[author] = ids.size();
    }
  return out;
}

}  // namespace keiretsu::protocol
