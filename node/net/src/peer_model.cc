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

void PeerModel::AddWork(const PublicKey& author) {
  work_.insert(author);
  if (reading_) retouched_.insert(author);
}

void PeerModel::Touch(const PublicKey& author) {
  AddWork(author);
}

void PeerModel::StartResend(Track& t, uint64_t seq, const EntryId& peer_id) {
  t.resend_next = 1;
  t.resend_to = seq;
  t.resent_at = seq;
  t.resent_id = peer_id;
}

void PeerModel::OnHave(const ReportedMap& have, const FeedMap& ours) {
  reported_ = have;
  have_received_ = true;
  checks_.clear();  // this Have's comparisons replace the last one's
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
    // seq when we hold that far; the peer checks the other case. Our id
    // there is in the snapshot when it is our effective seq, else a read.
    auto o = ours.find(author);
    if (o != ours.end() && !t.resending()) {
      const uint64_t pe = p.effective_seq();
      if (pe >= 1 && pe < o->second.effective_seq()) {
        checks_[author] = pe;
      } else if (pe >= 1 && pe == o->second.effective_seq()) {
        const bool answered = t.resent_at == pe && t.resent_id == p.effective_id;
        if (o->second.effective_id != p.effective_id && !answered)
          StartResend(t, pe, p.effective_id);
      }
    }
    AddWork(author);
  }
}

void PeerModel::PeerHolds(const PublicKey& author, uint64_t seq) {
  Track& t = tracks_[author];
  t.through = std::max(t.through, seq);
}

bool PeerModel::EvidenceDue(const Track& t, const node::FeedState& o) const {
  return o.stop_seq != 0 && (t.stop_known == 0 || t.stop_known > o.stop_seq);
}

void PeerModel::PlanEvidence(const FeedMap& ours, ReadJob& job) {
  for (const PublicKey& author : work_) {
    auto o = ours.find(author);
    if (o == ours.end()) continue;
    if (!EvidenceDue(tracks_[author], o->second)) continue;
    job.stops.push_back({author, o->second.stop_seq});
    if (job.stops.size() == kMaxBatchEvidence) break;
  }
}

void PeerModel::PlanEntries(const FeedMap& ours, ReadJob& job) {
  size_t planned = 0;
  auto it = work_.upper_bound(cursor_);
  for (size_t visits = work_.size(); visits > 0 && planned < kMaxBatchRecords; --visits) {
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
    const uint64_t want = std::min<uint64_t>(kMaxBatchRecords - planned, to - from + 1);
    job.segments.push_back({author, from, want, t.resending()});
    planned += static_cast<size_t>(want);
    cursor_ = author;
    ++it;
  }
}

std::optional<ReadJob> PeerModel::PlanRead(const FeedMap& ours) {
  if (!have_received_ || reading_) return std::nullopt;
  ReadJob job;
  job.peer_kinds = peer_kinds_;
  if (!checks_.empty()) {
    for (const auto& [author, seq] : checks_) job.checks.push_back({author, seq});
    checks_.clear();
  } else {
    if (in_flight_.size() >= kMaxInFlightBatches) return std::nullopt;
    // Evidence first: it stops the peer's copy of the feed, so the entries
    // that would follow are not needed.
    PlanEvidence(ours, job);
    if (job.stops.empty()) PlanEntries(ours, job);
    if (job.stops.empty() && job.segments.empty()) return std::nullopt;
  }
  reading_ = true;
  retouched_.clear();
  return job;
}

std::optional<OutBatch> PeerModel::OnRead(const ReadJob& job, ReadResult result,
                                          uint64_t batch_no) {
  reading_ = false;
  InFlight flight{batch_no, {}};
  OutBatch b;
  for (size_t i = 0; i < job.checks.size() && i < result.ids.size(); ++i) {
    const ReadJob::Check& c = job.checks[i];
    auto rep = reported_.find(c.author);
    if (rep == reported_.end() || rep->second.effective_seq() != c.seq) continue;  // a newer Have
    Track& t = tracks_[c.author];
    const bool answered = t.resent_at == c.seq && t.resent_id == rep->second.effective_id;
    if (t.resending() || answered || !result.ids[i] || *result.ids[i] == rep->second.effective_id)
      continue;
    StartResend(t, c.seq, rep->second.effective_id);
    work_.insert(c.author);
  }
  if (!job.stops.empty()) {
    b.evidence = true;
    for (size_t i = 0; i < job.stops.size(); ++i) {
      const ReadJob::Stop& s = job.stops[i];
      // Marked known even if the proof is missing from storage (it never
      // is), so a broken store cannot make us loop.
      Track& t = tracks_[s.author];
      if (t.stop_known == 0 || t.stop_known > s.seq) t.stop_known = s.seq;
      if (i < result.evidence.size() && result.evidence[i]) {
        b.items.push_back(std::move(*result.evidence[i]));
        flight.sent.push_back({s.author, s.seq, true});
      }
    }
  }
  for (size_t i = 0; i < job.segments.size(); ++i) {
    const ReadJob::Segment& seg = job.segments[i];
    std::vector<Bytes> recs =
        i < result.records.size() ? std::move(result.records[i]) : std::vector<Bytes>{};
    if (recs.empty()) {  // not stored, or not for this peer: nothing to send
      if (!retouched_.contains(seg.author)) work_.erase(seg.author);
      continue;
    }
    const uint64_t last = seg.from + recs.size() - 1;
    for (Bytes& r : recs) b.records.push_back(std::move(r));
    Track& t = tracks_[seg.author];
    if (seg.resend) {
      if (t.resending() && t.resend_next == seg.from) t.resend_next = last + 1;
      flight.sent.push_back({seg.author, 0, false});  // low seqs: `through` unchanged
    } else {
      t.through = std::max(t.through, last);
      flight.sent.push_back({seg.author, last, false});
    }
  }
  retouched_.clear();
  if (b.items.empty() && b.records.empty()) return std::nullopt;
  in_flight_.push_back(std::move(flight));
  return b;
}

ReadResult RunRead(const node::Ledger& ledger, const ReadJob& job) {
  ReadResult out;
  for (const ReadJob::Check& c : job.checks) {
    auto recs = ledger.ReadFeed(c.author, c.seq, 1);
    out.ids.push_back(recs.ok() && !recs->empty()
                          ? std::optional<EntryId>(protocol::IdOfRecord(recs->front()))
                          : std::nullopt);
  }
  if (!job.stops.empty()) {
    auto listed = ledger.ListEvidence();
    for (const ReadJob::Stop& s : job.stops) {
      std::optional<storage::Evidence> found;
      if (listed.ok())
        for (const auto& ev : *listed)
          if (ev.author == s.author && ev.seq == s.seq) {
            found = ev;
            break;
          }
      out.evidence.push_back(std::move(found));
    }
  }
  for (const ReadJob::Segment& seg : job.segments) {
    auto recs = ledger.ReadFeed(seg.author, seg.from, static_cast<size_t>(seg.count));
    if (!recs.ok()) {
      out.records.emplace_back();
      continue;
    }
    // Up to the first record of a kind the peer does not speak.
    constexpr size_t kKindOffset = 113;
    auto unspoken = std::find_if(recs->begin(), recs->end(), [&](const Bytes& r) {
      return r.size() <= kKindOffset || !job.peer_kinds.Has(r[kKindOffset]);
    });
    recs->erase(unspoken, recs->end());
    out.records.push_back(std::move(recs).value());
  }
  return out;
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
