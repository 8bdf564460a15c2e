// The receiving half of a session's ingest: commits received records (with
// a cheap pre-filter of records already held). Runs on the Replicator's
// ingest thread (or as a simulator event), never on a session's strand.
#include <memory>

#include "keiretsu/protocol/entry.h"
#include "node/net/src/peer_sync.h"

namespace keiretsu::net {

// False while the local store refuses writes for want of disk space (below
// its reserve): ingest pauses, batches stay unacknowledged so the peer's flow
// control holds it back, and the session stays up; the next tick tries
// again. Any other refusal (a commit that failed) lets Ingest run: the
// ledger reopens the store first, and if the fault lasts the session ends
// as this node's failure, never the peer's.
bool StoreWritable(node::Ledger& ledger) {
  return ledger.store().Writable().code() != Code::kResourceExhausted;
}

IngestOutcome RunIngest(node::Ledger& ledger, const IngestJob& job) {
  IngestOutcome out;
  out.batch = job.batch;
  auto note_invalid = [&out](const Status& s) {
    ++out.invalid;
    if (out.first_invalid.empty()) out.first_invalid = s.message();
  };
  // Records this node already holds (or would ignore) are dropped before
  // Ingest: the ledger would verify their signatures only to find nothing
  // to do, and with several peers most pushed records are such duplicates.
  const FeedMap feeds = ledger.Feeds();
  std::vector<Bytes> todo;
  std::vector<std::pair<PublicKey, uint64_t>> todo_holds;  // parallel to todo; seq 0: evidence
  for (size_t i = 0; i < job.records.size(); ++i) {
    auto c = protocol::CheckRecord(job.records[i], ledger.genesis(), /*verify_signature=*/false);
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
      auto held = ledger.GetEntry(se.id);
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
  if (todo.empty()) return out;
  // Not fsynced: the Ack means committed (survives a crash of this
  // process); a power loss may lose the latest records, which the next
  // Have exchange fetches again, and the next synced Append makes them
  // durable (docs/replication.md "Sync").
  // Records of an EvidenceBatch (holds seq 0) are proofs: the ledger never
  // refuses them for their distance ahead (PROTOCOL.md 8.2 step 5).
  std::vector<bool> as_evidence(todo.size());
  for (size_t i = 0; i < todo.size(); ++i) as_evidence[i] = todo_holds[i].second == 0;
  const auto results = ledger.Ingest(todo, /*sync=*/false, as_evidence);
  for (size_t i = 0; i < results.size(); ++i) {
    const node::IngestResult& r = results[i];
    if (r.outcome != node::Outcome::kRejected && todo_holds[i].second != 0)
      out.holds.push_back(todo_holds[i]);
    switch (r.outcome) {
      case node::Outcome::kApplied:
        ++out.applied;
        out.changed.push_back(r.author);
        break;
      case node::Outcome::kForkProven:
      case node::Outcome::kFeedEnded: out.changed.push_back(r.author); break;
      case node::Outcome::kRejected:
        // Storage failures are ours, not the peer's.
        if (r.status.code() == Code::kResourceExhausted && !StoreWritable(ledger)) {
          out.paused = true;
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
  return out;
}

}  // namespace keiretsu::net
