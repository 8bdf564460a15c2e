#include "node/net/src/peer_model.h"

#include <tuple>

#include "node/net/src/sync_host.h"

#include <algorithm>

#include "keiretsu/net/limits.h"
#include "keiretsu/protocol/entry.h"

namespace keiretsu::net {

namespace {
// The highest seq we may send the peer of a feed: what we hold that counts,
// and nothing at or beyond a stop the peer already holds (it would ignore it).
uint64_t Cap(const node::FeedState& o, uint64_t peer_stop) {
  uint64_t cap = o.effective_seq();
  if (peer_stop != 0) cap = std::min(cap, peer_stop - 1);
  return cap;
}
}  // namespace

void PeerModel::OnHave(const ReportedMap& have, const FeedMap& ours) {
  reported_ = have;
  have_received_ = true;
  std::set<PublicKey> authors;
  for (const auto& [a, f] : have) authors.insert(a);
  for (const auto& [a, f] : ours) authors.insert(a);
  for (const auto& [a, t] : tracks_) authors.insert(a);
  for (const PublicKey& author : authors) {
    Track& t = tracks_[author];
    auto h = have.find(author);
    const ReportedFeed p = h == have.end() ? ReportedFeed{} : h->second;
    uint64_t flying = 0, flying_stop = 0;
    for (const InFlight& f : in_flight_)
      for (const Sent& s : f.sent) {
        if (s.author != author) continue;
        if (s.evidence)
          flying_stop = flying_stop == 0 ? s.seq : std::min(flying_stop, s.seq);
        else
          flying = std::max(flying, s.seq);
      }
    t.through = std::max(p.head, flying);
    t.stop_known = p.stop;
    if (flying_stop != 0 && (t.stop_known == 0 || flying_stop < t.stop_known))
      t.stop_known = flying_stop;

    // Do the chains agree where both count? Checked at the peer's effective
    // seq when we hold that far; the peer checks the other case.
    auto o = ours.find(author);
    if (o != ours.end() && !t.resending()) {
      const uint64_t pe = p.effective_seq();
      if (pe >= 1 && pe <= o->second.effective_seq()) {
        std::optional<EntryId> mine = pe == o->second.effective_seq()
                                          ? std::optional<EntryId>(o->second.effective_id)
                                          : IdAt(author, pe);
        const bool answered = t.resent_at == pe && t.resent_id == p.effective_id;
        if (mine && *mine != p.effective_id && !answered) {
          t.resend_next = 1;
          t.resend_to = pe;
          t.resent_at = pe;
          t.resent_id = p.effective_id;
        }
      }
    }
    work_.insert(author);
  }
}

void PeerModel::PeerHolds(const PublicKey& author, uint64_t seq) {
  Track& t = tracks_[author];
  t.through = std::max(t.through, seq);
}

std::optional<EntryId> PeerModel::IdAt(const PublicKey& author, uint64_t seq) const {
  auto recs = ledger_.ReadFeed(author, seq, 1);
  if (!recs.ok() || recs->empty()) return std::nullopt;
  return protocol::IdOfRecord(recs->front());
}

bool PeerModel::EvidenceDue(const Track& t, const node::FeedState& o) const {
  return o.stop_seq != 0 && (t.stop_known == 0 || t.stop_known > o.stop_seq);
}

std::optional<OutBatch> PeerModel::NextEvidence(const FeedMap& ours, InFlight& flight) {
  OutBatch b;
  b.evidence = true;
  std::optional<std::vector<storage::Evidence>> all;
  for (const PublicKey& author : work_) {
    auto o = ours.find(author);
    if (o == ours.end()) continue;
    Track& t = tracks_[author];
    if (!EvidenceDue(t, o->second)) continue;
    if (!all) {
      auto listed = ledger_.ListEvidence();
      all = listed.ok() ? std::move(listed).value() : std::vector<storage::Evidence>{};
    }
    // Marked known even if the proof is missing from storage (it never is),
    // so a broken store cannot make us loop.
    t.stop_known = o->second.stop_seq;
    for (const auto& ev : *all) {
      if (ev.author == author && ev.seq == o->second.stop_seq) {
        b.items.push_back(ev);
        flight.sent.push_back({author, ev.seq, true});
        break;
      }
    }
    if (b.items.size() == kMaxBatchEvidence) break;
  }
  if (b.items.empty()) return std::nullopt;
  return b;
}

std::optional<OutBatch> PeerModel::NextEntries(const FeedMap& ours, InFlight& flight) {
  OutBatch b;
  auto it = work_.upper_bound(cursor_);
  for (size_t visits = work_.size(); visits > 0 && b.records.size() < kMaxBatchRecords; --visits) {
    if (it == work_.end()) it = work_.begin();
    if (it == work_.end()) break;
    const PublicKey author = *it;
    Track& t = tracks_[author];
    auto o = ours.find(author);
    uint64_t from = 1, to = 0;
    if (t.resending()) {
      from = t.resend_next;
      to = t.resend_to;
    } else if (o != ours.end()) {
      from = t.through + 1;
      to = Cap(o->second, t.stop_known);
    }
    if (from > to) {
      if (o == ours.end() || !EvidenceDue(t, o->second)) {
        it = work_.erase(it);
      } else {
        ++it;
      }
      continue;
    }
    const size_t room = kMaxBatchRecords - b.records.size();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(room, to - from + 1));
    auto recs = ledger_.ReadFeed(author, from, want);
    if (recs.ok()) {  // up to the first record of a kind the peer does not speak
      constexpr size_t kKindOffset = 113;
      auto unspoken = std::find_if(recs->begin(), recs->end(), [&](const Bytes& r) {
        return r.size() <= kKindOffset || !peer_kinds_.Has(r[kKindOffset]);
      });
      recs->erase(unspoken, recs->end());
    }
    if (!recs.ok() || recs->empty()) {  // not stored, or not for this peer: nothing to send
      it = work_.erase(it);
      continue;
    }
    const uint64_t got = recs->size();
    for (Bytes& r : *recs) b.records.push_back(std::move(r));
    if (t.resending()) {
      t.resend_next = from + got;
      flight.sent.push_back({author, 0, false});  // low seqs: `through` unchanged
    } else {
      t.through = from + got - 1;
      flight.sent.push_back({author, t.through, false});
    }
    cursor_ = author;
    ++it;
  }
  if (b.records.empty()) return std::nullopt;
  return b;
}

std::optional<OutBatch> PeerModel::Next(const FeedMap& ours, uint64_t batch_no) {
  if (!have_received_ || in_flight_.size() >= kMaxInFlightBatches) return std::nullopt;
  InFlight flight{batch_no, {}};
  // Evidence first: it stops the peer's copy of the feed, so the entries
  // that would follow are not needed.
  auto b = NextEvidence(ours, flight);
  if (!b) b = NextEntries(ours, flight);
  if (!b) return std::nullopt;
  in_flight_.push_back(std::move(flight));
  return b;
}

bool PeerModel::Ack(uint64_t n) {
  if (in_flight_.empty() || n < in_flight_.front().batch || n > in_flight_.back().batch)
    return false;
  while (!in_flight_.empty() && in_flight_.front().batch <= n) in_flight_.pop_front();
  return true;
}

RestoreGateDecision DecideRestoreGate(
    const std::map<PublicKey, std::optional<ReportedFeed>>& reports, size_t quorum,
    const node::FeedState& mine) {
  RestoreGateDecision d;
  d.enough_reports = reports.size() >= quorum;
  bool reached = true;
  for (const auto& [reporter, report] : reports) {
    if (!report) continue;
    d.highest = std::max(d.highest, report->head);
    if (report->stop != 0)
      reached = reached && mine.stop_seq != 0;  // wait for the proof that stops our feed
    else
      reached = reached && (mine.stop_seq != 0 || mine.head_seq >= report->head);
  }
  d.open = d.enough_reports && reached;
  return d;
}

namespace {
// The order of demand of a report: none < open by head < stopped.
std::tuple<int, uint64_t, uint64_t> Demand(const std::optional<ReportedFeed>& r) {
  if (!r) return {0, 0, 0};
  return {r->stop != 0 ? 2 : 1, r->head, r->stop};
}
}  // namespace

void MergeOwnReport(std::optional<ReportedFeed>& slot, const std::optional<ReportedFeed>& report) {
  if (Demand(report) > Demand(slot)) slot = report;
}

std::optional<ReportedFeed> ReportedOf(const protocol::HeadReport& r) {
  if (r.held == protocol::HeadHeld::kNone) return std::nullopt;
  return ReportedFeed{r.head_seq, r.head_id, r.stop_seq, r.effective_id};
}

uint64_t PeerModel::Behind(const ReportedMap& reported, const FeedMap& ours) {
  uint64_t behind = 0;
  for (const auto& [author, p] : reported) {
    auto o = ours.find(author);
    const node::FeedState mine = o == ours.end() ? node::FeedState{} : o->second;
    uint64_t lim = p.effective_seq();
    if (mine.stop_seq != 0) lim = std::min(lim, mine.stop_seq - 1);
    if (lim > mine.head_seq) behind += lim - mine.head_seq;
  }
  return behind;
}

}  // namespace keiretsu::net
