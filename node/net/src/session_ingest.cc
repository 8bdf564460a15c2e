// The receiving half of a session: batch sequencing, ingest on the ingest
// thread (with a cheap pre-filter of records already held), acks and the
// misbehaviour count.
#include <spdlog/spdlog.h>

#include <memory>

#include "keiretsu/protocol/entry.h"
#include "node/net/src/session.h"

namespace keiretsu::net {

struct Session::IngestOutcome {
  uint64_t batch = 0;
  uint64_t applied = 0, invalid = 0;
  uint64_t over_local_bounds = 0;  // refused by this node's own limits
  std::string first_invalid;
  std::vector<std::pair<PublicKey, uint64_t>> holds;
  Status failure;
  // The store refused the commit for want of disk space: nothing was
  // applied; `job` goes back to the queue, unacknowledged.
  std::shared_ptr<Received> paused;
};

namespace {
// False while the local store refuses writes for want of disk space (below
// its reserve): ingest pauses, batches stay unacknowledged so the peer's flow
// control holds it back, and the session stays up. TickLoop tries again. Any
// other refusal (a commit that failed) lets Ingest run: the ledger reopens
// the store first, and if the fault lasts the session ends as this node's
// failure, never the peer's.
bool StoreWritable(Replicator::Core& core) {
  return core.ledger.store().Writable().code() != Code::kResourceExhausted;
}
}  // namespace

void Session::OnBatch(Received r) {
  if (r.batch != last_recv_batch_ + 1) {
    Violation("batch " + std::to_string(r.batch) + " out of sequence (expected " +
              std::to_string(last_recv_batch_ + 1) + ")");
    return;
  }
  last_recv_batch_ = r.batch;
  if (last_recv_batch_ - last_acked_batch_ > kMaxInFlightBatches) {
    Violation("more than " + std::to_string(kMaxInFlightBatches) + " unacknowledged batches");
    return;
  }
  ingest_queue_.push_back(std::move(r));
  MaybeStartIngest();
}

void Session::MaybeStartIngest() {
  if (ingesting_ || ingest_queue_.empty() || closed_ || !StoreWritable(core_)) return;
  ingesting_ = true;
  // Everything received so far goes into one Ingest: larger batches verify
  // in parallel better.
  auto job = std::make_shared<Received>();
  for (Received& r : ingest_queue_) {
    for (size_t i = 0; i < r.records.size(); ++i) {
      job->records.push_back(std::move(r.records[i]));
      job->from_feed.push_back(r.from_feed[i]);
    }
    job->batch = r.batch;
  }
  ingest_queue_.clear();
  asio::post(core_.ingest_pool(), [self = shared_from_this(), job] {
    IngestOutcome out = RunIngest(self->core_, *job);
    if (out.paused != nullptr) out.paused = job;
    asio::post(self->executor(),
               [self, out = std::move(out)]() mutable { self->OnIngested(std::move(out)); });
  });
}

Session::IngestOutcome Session::RunIngest(Replicator::Core& core, const Received& job) {
  IngestOutcome out;
  out.batch = job.batch;
  auto note_invalid = [&out](const Status& s) {
    ++out.invalid;
    if (out.first_invalid.empty()) out.first_invalid = s.message();
  };
  // Records this node already holds (or would ignore) are dropped before
  // Ingest: the ledger would verify their signatures only to find nothing
  // to do, and with several peers most pushed records are such duplicates.
  const FeedMap feeds = core.ledger.Feeds();
  std::vector<Bytes> todo;
  std::vector<std::pair<PublicKey, uint64_t>> todo_holds;  // parallel to todo; seq 0: evidence
  for (size_t i = 0; i < job.records.size(); ++i) {
    auto c = protocol::CheckRecord(job.records[i], core.genesis, /*verify_signature=*/false);
    if (!c.signed_entry) {
      note_invalid(c.status);
      continue;
    }
    const protocol::SignedEntry& se = *c.signed_entry;
    // A peer that sent an entry of its feed holds that feed up to it; only
    // records that pass the ledger's checks count (the signature is not
    // verified yet here).
    const uint64_t holds = job.from_feed[i] ? se.entry.seq : 0;
    auto f = feeds.find(se.entry.author);
    const node::FeedState st = f == feeds.end() ? node::FeedState{} : f->second;
    bool skip = false;
    if (se.entry.seq >= 1 && se.entry.seq <= st.head_seq) {
      auto held = core.ledger.GetEntry(se.id);
      skip = held.ok() && held->has_value();
    } else if (st.stop_seq != 0 && se.entry.seq >= st.stop_seq) {
      skip = true;  // the ledger would ignore it
    }
    if (skip) {
      if (holds != 0) out.holds.emplace_back(se.entry.author, holds);
      continue;
    }
    todo.push_back(job.records[i]);
    todo_holds.emplace_back(se.entry.author, holds);
  }
  std::vector<PublicKey> changed;
  if (!todo.empty()) {
    // Not fsynced: the Ack means committed (survives a crash of this
    // process); a power loss may lose the latest records, which the next
    // Have exchange fetches again, and the next synced Append makes them
    // durable (docs/replication.md "Sync").
    // Records of an EvidenceBatch (holds seq 0) are proofs: the ledger never
    // refuses them for their distance ahead (PROTOCOL.md 8.2 step 5).
    std::vector<bool> as_evidence(todo.size());
    for (size_t i = 0; i < todo.size(); ++i) as_evidence[i] = todo_holds[i].second == 0;
    const auto results = core.ledger.Ingest(todo, /*sync=*/false, as_evidence);
    for (size_t i = 0; i < results.size(); ++i) {
      const node::IngestResult& r = results[i];
      if (r.outcome != node::Outcome::kRejected && todo_holds[i].second != 0)
        out.holds.push_back(todo_holds[i]);
      switch (r.outcome) {
        case node::Outcome::kApplied:
          ++out.applied;
          changed.push_back(r.author);
          break;
        case node::Outcome::kForkProven:
        case node::Outcome::kFeedEnded: changed.push_back(r.author); break;
        case node::Outcome::kRejected:
          // Storage failures are ours, not the peer's.
          if (r.status.code() == Code::kResourceExhausted && !StoreWritable(core)) {
            out.paused = std::make_shared<Received>();  // replaced by the job
          } else if (r.status.code() == Code::kResourceExhausted) {
            // A local bound (a record far ahead of its feed's head, more
            // non-members' records than kept): this node's policy, not the
            // peer's fault; sync offers the record again later.
            ++out.over_local_bounds;
          } else if (r.status.code() == Code::kIOError || r.status.code() == Code::kCorruption ||
                     r.status.code() == Code::kInternal) {
            out.failure = r.status;
          } else {
            note_invalid(r.status);
          }
          break;
        case node::Outcome::kDuplicate:
        case node::Outcome::kPending:
        case node::Outcome::kIgnored: break;
      }
    }
  }
  core.RefreshFeeds();
  if (!changed.empty()) core.NotifyChanged(changed);
  return out;
}

void Session::OnIngested(IngestOutcome out) {
  ingesting_ = false;
  if (closed_) return;
  if (out.paused != nullptr) {
    ingest_queue_.push_front(std::move(*out.paused));
    return;
  }
  if (!out.failure.ok()) {
    spdlog::error("ingest of entries from peer {} failed: {}", core_.Name(firm_),
                  out.failure.ToString());
    Close("local storage failure: " + out.failure.message());
    return;
  }
  core_.CountReceived(firm_, out.applied);
  for (const auto& [author, seq] : out.holds) model_.PeerHolds(author, seq);
  if (out.over_local_bounds > 0)
    spdlog::debug("peer {}: {} record(s) over this node's local bounds were not kept",
                  core_.Name(firm_), out.over_local_bounds);
  if (out.invalid > 0 && core_.Misbehaved(firm_, out.invalid, out.first_invalid)) {
    Close("misbehaving peer: " + out.first_invalid);
    return;
  }
  last_acked_batch_ = out.batch;
  v1::PeerMessage ack;
  ack.mutable_ack()->set_batch(out.batch);
  Queue(ack);
  if (model_.have_received()) {
    auto own = model_.reported().find(core_.self());
    core_.CheckGate(firm_, own == model_.reported().end()
                               ? std::nullopt
                               : std::optional<ReportedFeed>(own->second));
  }
  MaybeLogSynced();
  MaybeStartIngest();
  Pump();
}

void Session::MaybeLogSynced() {
  if (synced_logged_ || !model_.have_received()) return;
  const uint64_t behind = PeerModel::Behind(model_.reported(), *core_.Feeds());
  if (behind > 0) return;
  synced_logged_ = true;
  spdlog::info("caught up with peer {}: state digest {}", core_.Name(firm_),
               core_.ledger.StateDigest().Short());
}

}  // namespace keiretsu::net
