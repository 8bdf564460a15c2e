// PeerModel: what one session believes its peer holds, and what to send it
// next (docs/replication.md "Sync"). Pure bookkeeping: no sockets, no
// threads and no store reads; one per session, used on the session's
// strand. The records to send are read elsewhere: PlanRead says which,
// RunRead (on a worker, never the strand) reads them, and OnRead turns what
// was read into the batch, recorded as in flight. One read is outstanding
// at a time; a Have, an Ack or a Touch may arrive while it is, and OnRead
// applies its result on top of them (`through` only grows; a resend
// advances only if no newer one replaced it; an author whose records ran
// out stays in the work set if it was touched meanwhile).
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
//             two chains differ and proves the fork there. Our id at e,
//             when e is below our effective seq, is a store read: the
//             comparison waits for a read job of its own (a "check").
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
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

// The store reads of one step of a session's sending, planned by PeerModel
// on the strand and run by RunRead off it. Exactly one of its parts is set.
struct ReadJob {
  struct Segment {  // entries from..from+count-1 of `author`'s feed
    PublicKey author;
    uint64_t from = 0, count = 0;
    bool resend = false;
  };
  struct Stop {  // the evidence that stops `author`'s feed at `seq`
    PublicKey author;
    uint64_t seq = 0;
  };
  struct Check {  // our id of `author`'s entry `seq`, for a Have's comparison
    PublicKey author;
    uint64_t seq = 0;
  };
  std::vector<Segment> segments;  // an entries batch
  std::vector<Stop> stops;        // an evidence batch
  std::vector<Check> checks;      // chain comparisons, no batch
  protocol::KindSet peer_kinds;   // records of other kinds end a segment
};

// What RunRead found, parallel to the job's parts. A segment's records end
// before the first record of a kind the peer does not speak; a record not
// stored (or a failed read) ends it too.
struct ReadResult {
  std::vector<std::vector<Bytes>> records;                 // per segment
  std::vector<std::optional<storage::Evidence>> evidence;  // per stop
  std::vector<std::optional<EntryId>> ids;                 // per check
};

// Reads what `job` names from `ledger`. Thread-safe (the ledger's reads
// are); the daemon runs it on its read thread, never on a strand.
ReadResult RunRead(const node::Ledger& ledger, const ReadJob& job);

struct OutBatch {
  bool evidence = false;
  std::vector<Bytes> records;            // entries batch
  std::vector<storage::Evidence> items;  // evidence batch
};

class PeerModel {
 public:
  PeerModel() = default;

  // A complete Have from the peer; `ours` is a current snapshot of our feeds.
  void OnHave(const ReportedMap& have, const FeedMap& ours);
  // The peer sent us `author`'s entry `seq` from its feed: it holds 1..seq.
  void PeerHolds(const PublicKey& author, uint64_t seq);
  // The kinds the peer speaks (its hello): records of other kinds, and
  // everything after one in its feed, are never sent (PROTOCOL.md 13.2 §3).
  void SetPeerKinds(protocol::KindSet kinds) { peer_kinds_ = std::move(kinds); }
  // Our feed of `author` changed: look at it again on the next Next().
  void Touch(const PublicKey& author);

  // The reads for the next step: pending chain checks first, else the
  // next batch (up to kMaxBatchRecords records, or kMaxBatchEvidence
  // evidence items). nullopt when a read is outstanding, no Have came yet,
  // kMaxInFlightBatches are unacknowledged or nothing is to be sent.
  // Otherwise a read is outstanding until OnRead.
  std::optional<ReadJob> PlanRead(const FeedMap& ours);
  // The result of the outstanding read (its job handed back). Returns the
  // batch, recorded as in flight under `batch_no`, or nullopt when nothing
  // was read to send (a check job, or records no longer there).
  std::optional<OutBatch> OnRead(const ReadJob& job, ReadResult result, uint64_t batch_no);
  bool reading() const { return reading_; }
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

  bool EvidenceDue(const Track& t, const node::FeedState& o) const;
  void PlanEvidence(const FeedMap& ours, ReadJob& job);
  void PlanEntries(const FeedMap& ours, ReadJob& job);
  void StartResend(Track& t, uint64_t seq, const EntryId& peer_id);
  void AddWork(const PublicKey& author);

  bool have_received_ = false;
  bool reading_ = false;
  std::map<PublicKey, uint64_t> checks_;  // chain comparisons a read must serve
  std::set<PublicKey> retouched_;         // work added while reading_
  ReportedMap reported_;
  std::map<PublicKey, Track> tracks_;
  std::set<PublicKey> work_;  // authors that may have something to send
  PublicKey cursor_;          // round-robin position in work_
  std::deque<InFlight> in_flight_;
};

}  // namespace keiretsu::net
