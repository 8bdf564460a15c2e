// PeerSync: one peer session's protocol after the handshake, as a sans-I/O
// state machine (docs/replication.md "Sync"). Messages and time go in,
// messages to send, ingest jobs and a close decision come out; it owns no
// socket, timer or thread. The Asio Session drives it over a Noise channel;
// the simulator (tests/sim) drives it over simulated links.
//
// What it decides: the Have exchange (sending ours, collecting the peer's
// parts), pushing Entries/Evidence batches under flow control (PeerModel;
// the records are read by a read job it hands out, one at a time),
// sequencing received batches into ingest jobs and acknowledging them once
// ingested, answering pings, and, given "now", keepalive pings, the idle
// timeout, the anti-entropy Have and closing when the peer is no longer a
// member. Misbehaviour is reported to the PeerRegistry, the peer's reports
// of our own feed to the WriteGateKeeper, as are the flooded head queries and
// reports (which the node forwards to its other sessions through Relay).
//
// The driver's loop: call Start once, then OnMessage for each received
// plaintext, OnTick every TickPeriod(), OnNotify when our feeds changed;
// after each call send what PopOutgoing yields, start TakeIngestJob's job
// (RunIngest, off the session's thread in the daemon) and feed its outcome
// to OnIngested, start TakeReadJob's job (RunRead, likewise off the
// session's thread) and feed its result to OnRead; stop when closed().
// It never reads the store itself: a slow disk delays a read job, not the
// session's messages and timers.
//
// Thread-safety: none; one driver thread (a strand) at a time. RunIngest
// and RunRead are free functions the driver may run on another thread.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "keiretsu/node/ledger.h"
#include "node/net/src/clock.h"
#include "node/net/src/peer_model.h"
#include "node/net/src/sync_host.h"

namespace keiretsu::v1 {
class PeerMessage;
class Have;
}  // namespace keiretsu::v1

namespace keiretsu::net {

struct SyncTiming {
  std::chrono::milliseconds idle_timeout, ping_interval, anti_entropy_interval;
};

// Received records to commit: every batch received since the last job.
struct IngestJob {
  std::vector<Bytes> records;
  std::vector<bool> from_feed;  // an Entries record (vs. an evidence record)
  uint64_t batch = 0;           // the last batch it covers
};

struct IngestOutcome {
  uint64_t batch = 0;
  uint64_t applied = 0, invalid = 0;
  uint64_t over_local_bounds = 0;  // refused by this node's own limits
  std::string first_invalid;
  std::vector<std::pair<PublicKey, uint64_t>> holds;  // the peer holds author's feed to seq
  std::vector<PublicKey> changed;                     // our feeds it changed
  Status failure;                                     // a local storage failure
  // The store refused the commit for want of disk space: nothing was
  // applied; the job goes back to the queue, unacknowledged.
  bool paused = false;
};

// Commits `job` to `ledger` (not synced: an Ack means committed), dropping
// first the records the ledger already holds. Reads and writes the store:
// the daemon runs it on its ingest thread, never on a session's strand.
IngestOutcome RunIngest(node::Ledger& ledger, const IngestJob& job);
// False while the store refuses writes for want of disk space.
bool StoreWritable(node::Ledger& ledger);

// The driver's write timeout: a write started at `write_started` (the
// default TimePoint: none in progress) has not completed by `now`.
inline bool WriteStalled(TimePoint write_started, TimePoint now,
                         std::chrono::milliseconds write_timeout) {
  return write_started != TimePoint{} && now - write_started > write_timeout;
}

class PeerSync {
 public:
  struct Outgoing {
    Bytes plaintext;  // an encoded PeerMessage
    bool have = false;
  };

  // `ledger` is read only for its in-memory state digest (a log line); it
  // and the three interfaces must outlive this. `firm` is the authenticated peer;
  // `remote_host` its address when it dialled us (else empty).
  PeerSync(const node::Ledger& ledger, SyncLedger& view, PeerRegistry& peers, WriteGateKeeper& gate,
           SyncTiming timing, const PublicKey& firm, bool outbound, std::string remote_host,
           protocol::KindSet peer_kinds);
  ~PeerSync();
  PeerSync(const PeerSync&) = delete;
  PeerSync& operator=(const PeerSync&) = delete;

  // The key the peer proved in the handshake. Once set, the session ends
  // when that key is no longer the firm's key in force here (the firm
  // rotated): the peer is dialled again and proves its new key.
  void SetPeerKey(const PublicKey& key) { peer_key_ = key; }
  // The handshake is done: sends our first Have.
  void Start(TimePoint now);
  // One received message plaintext (decoded and checked here).
  void OnMessage(ByteView plaintext, TimePoint now);
  // Periodic: idle timeout, ping, membership, anti-entropy Have.
  void OnTick(TimePoint now);
  // Our feeds of `authors` changed (a commit): push them. While an ingest
  // of this peer's records runs, the push waits for its outcome: the commit
  // may be that ingest's, and the entries must first be recorded as held by
  // the peer that sent them, or they would be pushed straight back to it.
  void OnNotify(const std::set<PublicKey>& authors);
  // The next ingest job, when one should start now (none running, something
  // received, the store writable).
  std::optional<IngestJob> TakeIngestJob(bool store_writable);
  // The outcome of the job TakeIngestJob gave (the job handed back).
  void OnIngested(IngestJob job, const IngestOutcome& out);
  // The read of the next outgoing batch, when one should start now (none
  // outstanding, something to send, room in the flow-control window).
  std::optional<ReadJob> TakeReadJob();
  // The result of the job TakeReadJob gave (the job handed back): the
  // batch it yields is queued, and the next read is planned.
  void OnRead(ReadJob job, ReadResult result);
  // A transport-level fault the driver found (an undecryptable frame):
  // reported as misbehaviour, and the session closes.
  void Violation(const std::string& what);
  void Close(const std::string& reason);
  // The node forwards a flooded head query or report to this peer
  // (PROTOCOL.md 13.2.8): queued behind this session's own messages, at
  // most kMaxHeadFloodBacklog waiting (the oldest dropped beyond).
  void Relay(FloodItem item);
  // Whether the peer speaks HeadQuery/HeadReports (its hello states version
  // >= kHelloVersionHeadReports); when not, nothing is relayed to it. Set
  // before Start; true by default.
  void SetPeerSpeaksHeadReports(bool speaks) { peer_head_reports_ = speaks; }

  std::optional<Outgoing> PopOutgoing();
  bool has_outgoing() const { return !outq_.empty(); }
  bool closed() const { return closed_; }
  const std::string& close_reason() const { return close_reason_; }
  bool have_received() const { return model_.have_received(); }
  bool ingesting() const { return ingesting_; }
  bool reading() const { return model_.reading(); }
  const PeerModel& model() const { return model_; }

  // How often OnTick should run for `timing`.
  static std::chrono::milliseconds TickPeriod(const SyncTiming& timing);
  // When the driver should call OnTick next, given the time now.
  TimePoint NextTick(TimePoint now) const { return now + TickPeriod(timing_); }

 private:
  void Handle(v1::PeerMessage& m);
  void OnHavePart(const v1::Have& have);
  void OnBatch(IngestJob r);
  void Queue(const v1::PeerMessage& m, bool have = false);
  void SendHave(TimePoint now);
  void Pump();
  void QueueBatch(const OutBatch& b);
  void CheckGate();
  void MaybeLogSynced();
  void PumpFlood();

  const node::Ledger& ledger_;
  SyncLedger& view_;
  PeerRegistry& peers_;
  WriteGateKeeper& gate_;
  const SyncTiming timing_;
  const PublicKey firm_;
  std::optional<PublicKey> peer_key_;
  const bool outbound_;
  const std::string remote_host_;
  bool started_ = false, closed_ = false;
  std::string close_reason_;

  std::deque<Outgoing> outq_;
  size_t haves_queued_ = 0;
  TimePoint last_recv_{}, last_ping_{}, last_have_{};
  uint64_t ping_nonce_ = 0;

  PeerModel model_;
  ReportedMap have_accum_;
  uint64_t next_batch_ = 1;            // our next outgoing batch number
  uint64_t last_recv_batch_ = 0;       // the peer's last batch received
  uint64_t last_acked_batch_ = 0;      // the peer's last batch we acked
  std::optional<ReadJob> read_ready_;  // planned, not yet taken by the driver
  std::deque<IngestJob> ingest_queue_;
  bool ingesting_ = false;
  std::set<PublicKey> notify_after_ingest_;  // OnNotify's authors while ingesting_
  void FlushNotifyAfterIngest();
  bool synced_logged_ = false;
  bool peer_head_reports_ = true;
  std::deque<FloodItem> flood_out_;  // head queries/reports waiting for queue room
};

}  // namespace keiretsu::net
