// PeerModel: what one session believes its peer holds, and what to send it
// next (docs/replication.md "Sync"). Pure bookkeeping over the local ledger:
// no sockets, no threads; one per session, used on the session's strand.
//
// Per author the model keeps `through`, the highest seq the peer holds or
// has been sent in this session. It starts from the peer's Have and grows as
// batches are sent and as the peer sends us its records. At every Have it is
// reset to max(reported head, highest seq still in flight): acknowledged
// batches are reflected in a Have sent after their Ack (the peer acks only
// after committing, and both travel in order), unacknowledged ones may not
// be.
//
// What is sent for an author, given our state `o` and the peer's `p`:
//   evidence  when o stopped and p has not stopped at or below o's stop;
//   entries   (through, cap], cap = o.head bounded below each known stop;
//   resend    entries [1, e] once, when the ids at e = min(effective seqs)
//             differ: the peer's ledger then finds the first seq where the
//             two chains differ and proves the fork there.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "keiretsu/node/ledger.h"

namespace keiretsu::net {

using FeedMap = std::map<PublicKey, node::FeedState>;

// One author's feed as a peer reported it.
struct ReportedFeed {
  uint64_t head = 0;
  EntryId head_id;
  uint64_t stop = 0;
  EntryId effective_id;

  uint64_t effective_seq() const { return stop == 0 ? head : std::min(head, stop - 1); }
};
using ReportedMap = std::map<PublicKey, ReportedFeed>;

struct OutBatch {
  bool evidence = false;
  std::vector<Bytes> records;            // entries batch
  std::vector<storage::Evidence> items;  // evidence batch
};

class PeerModel {
 public:
  // Records and evidence are read from `ledger`, which must outlive this.
  explicit PeerModel(const node::Ledger& ledger) : ledger_(ledger) {}

  // A complete Have from the peer; `ours` is a current snapshot of our feeds.
  void OnHave(const ReportedMap& have, const FeedMap& ours);
  // The peer sent us `author`'s entry `seq` from its feed: it holds 1..seq.
  void PeerHolds(const PublicKey& author, uint64_t seq);
  // The kinds the peer speaks (its hello): records of other kinds, and
  // everything after one in its feed, are never sent (PROTOCOL.md 13.2 §3).
  void SetPeerKinds(protocol::KindSet kinds) { peer_kinds_ = std::move(kinds); }
  // Our feed of `author` changed: look at it again on the next Next().
  void Touch(const PublicKey& author) { work_.insert(author); }

  // The next batch (records of up to kMaxBatchRecords, or up to
  // kMaxBatchEvidence evidence items), recorded as in flight under
  // `batch_no`; nullopt when there is nothing to send or no Have yet.
  std::optional<OutBatch> Next(const FeedMap& ours, uint64_t batch_no);
  // The peer acknowledged every batch <= n. False (and no change) when n
  // does not name a batch in flight: a protocol violation.
  bool Ack(uint64_t n);

  size_t in_flight() const { return in_flight_.size(); }
  bool have_received() const { return have_received_; }
  const ReportedMap& reported() const { return reported_; }
  // Entries the peer reported that `ours` lacks (and could still take).
  static uint64_t Behind(const ReportedMap& reported, const FeedMap& ours);

 private:
  protocol::KindSet peer_kinds_ = protocol::KindSet::All();
  struct Track {
    uint64_t through = 0;
    uint64_t stop_known = 0;                  // lowest stop the peer holds or was sent; 0: none
    uint64_t resend_next = 0, resend_to = 0;  // active while resend_next <= resend_to
    uint64_t resent_at = 0;                   // the mismatch (seq, peer id) a resend answered
    EntryId resent_id;
    bool resending() const { return resend_next != 0 && resend_next <= resend_to; }
  };
  struct Sent {
    PublicKey author;
    uint64_t seq = 0;  // highest entry seq, or the evidence's stop seq
    bool evidence = false;
  };
  struct InFlight {
    uint64_t batch = 0;
    std::vector<Sent> sent;
  };

  std::optional<EntryId> IdAt(const PublicKey& author, uint64_t seq) const;
  bool EvidenceDue(const Track& t, const node::FeedState& o) const;
  std::optional<OutBatch> NextEvidence(const FeedMap& ours, InFlight& flight);
  std::optional<OutBatch> NextEntries(const FeedMap& ours, InFlight& flight);

  const node::Ledger& ledger_;
  bool have_received_ = false;
  ReportedMap reported_;
  std::map<PublicKey, Track> tracks_;
  std::set<PublicKey> work_;  // authors that may have something to send
  PublicKey cursor_;          // round-robin position in work_
  std::deque<InFlight> in_flight_;
};

}  // namespace keiretsu::net
