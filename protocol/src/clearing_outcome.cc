// Clearing outcomes: docs/PROTOCOL.md 20.3-20.5.
#include "keiretsu/protocol/clearing_outcome.h"

#include "keiretsu/protocol/entry.h"

namespace keiretsu::protocol {
namespace {

// 20.4: where participant `feed` stands on proposal `id` with `expiry_ms`.
// Its first entry dated after the expiry, or its first vote for `id`,
// whichever comes first in seq order, decides; a vote dated after the
// expiry is such an entry itself.
ClearingStance StanceOf(const std::vector<ClearingFeedEntry>& feed, const EntryId& id,
                        uint64_t expiry_ms) {
  for (const ClearingFeedEntry& e : feed) {
    if (e.timestamp_ms > expiry_ms) return ClearingStance::kLapsed;
    const auto* v = std::get_if<ClearingVote>(&e.what);
    if (v && v->proposal_id == id)
      return v->decision == ClearingDecision::kAccept ? ClearingStance::kAccepted
                                                      : ClearingStance::kRejected;
  }
  return ClearingStance::kUndecided;
}

// 20.3: kVoid, kCommitted (stands for "valid"), or kPending (not known yet).
ClearingState Validity(const ClearingFeeds& feeds, const ClearingPropose& p) {
  bool known = true;
  for (const ClearingHead& h : p.participants) {
    auto it = feeds.find(h.firm);
    if (it == feeds.end() || h.head_seq > it->second.size()) {
      known = false;  // not (yet) a member, or its counted prefix is shorter
      continue;
    }
    if (h.head_seq > 0 && it->second[h.head_seq - 1].id != h.head_id) return ClearingState::kVoid;
  }
  if (!known) return ClearingState::kPending;
  for (const ClearingLeg& l : p.legs) {
    const ClearingHead& d = p.participants[l.debtor];
    const ClearingHead& c = p.participants[l.creditor];
    if (static_cast<Amount128>(l.amount) >
        OwedAtHeads(feeds, d.firm, d.head_seq, c.firm, c.head_seq, p.unit))
      return ClearingState::kVoid;
  }
  return ClearingState::kCommitted;
}

}  // namespace

ClearingFeedEntry ClearingEntryOf(const Entry& entry, const EntryId& id) {
  ClearingFeedEntry out;
  out.id = id;
  out.timestamp_ms = entry.timestamp_ms;
  if (const auto* p = std::get_if<ClearingPropose>(&entry.body)) {
    out.what = *p;
  } else if (const auto* v = std::get_if<ClearingVote>(&entry.body)) {
    out.what = *v;
  } else {
    for (Effect& e : EffectsOf(entry, id))
      if (auto* d = std::get_if<DebtChange>(&e)) out.what = std::move(*d);
  }
  return out;
}

std::string_view ClearingStateName(ClearingState s) {
  switch (s) {
    case ClearingState::kPending: return "pending";
    case ClearingState::kCommitted: return "committed";
    case ClearingState::kRejected: return "rejected";
    case ClearingState::kExpired: return "expired";
    case ClearingState::kVoid: return "void";
  }
  return "unknown";
}

Amount128 OwedAtHeads(const ClearingFeeds& feeds, const PublicKey& debtor, uint64_t d_seq,
                      const PublicKey& creditor, uint64_t c_seq, std::string_view unit) {
  Amount128 owed = 0;
  auto add = [&](const PublicKey& firm, uint64_t upto) {
    auto it = feeds.find(firm);
    if (it == feeds.end()) return;
    for (uint64_t s = 0; s < upto && s < it->second.size(); ++s) {
      const auto* d = std::get_if<DebtChange>(&it->second[s].what);
      if (!d || d->unit != unit) continue;
      if (d->debtor == debtor && d->creditor == creditor) owed += d->delta;
      if (d->debtor == creditor && d->creditor == debtor) owed -= d->delta;
    }
  };
  add(debtor, d_seq);
  add(creditor, c_seq);
  return owed;
}

ClearingResult DecideClearing(const ClearingFeeds& feeds) {
  ClearingResult out;
  for (const auto& [author, entries] : feeds)
    for (size_t i = 0; i < entries.size(); ++i)
      if (const auto* p = std::get_if<ClearingPropose>(&entries[i].what)) {
        ClearingOutcome o;
        o.proposal = entries[i].id;
        o.proposer = author;
        o.seq = i + 1;
        o.body = *p;
        out.proposals.emplace(o.proposal, std::move(o));
      }
  for (auto& [id, o] : out.proposals) {
    bool rejected = false, lapsed = false, all_accepted = true;
    for (const ClearingHead& h : o.body.participants) {
      auto it = feeds.find(h.firm);
      ClearingStance s = it == feeds.end() ? ClearingStance::kUndecided
                                           : StanceOf(it->second, id, o.body.expiry_ms);
      o.stances.push_back(s);
      rejected |= s == ClearingStance::kRejected;
      lapsed |= s == ClearingStance::kLapsed;
      all_accepted &= s == ClearingStance::kAccepted;
    }
    const ClearingState validity = Validity(feeds, o.body);
    if (validity == ClearingState::kVoid) {
      o.state = ClearingState::kVoid;
    } else if (rejected) {
      o.state = ClearingState::kRejected;
    } else if (lapsed) {
      o.state = ClearingState::kExpired;
    } else if (validity == ClearingState::kCommitted && all_accepted) {
      o.state = ClearingState::kCommitted;
      for (const ClearingLeg& l : o.body.legs)
        out.set_offs.push_back(DebtChange{o.body.participants[l.debtor].firm,
                                          o.body.participants[l.creditor].firm, o.body.unit,
                                          -static_cast<Amount128>(l.amount)});
    }
  }
  return out;
}

}  // namespace keiretsu::protocol
