// Streaming methods: Watch (log replay, then live), Export (optionally
// sealed with a signed checkpoint) and Import.
//
// Nothing here buffers without bound: Watch and Export read the store in
// small batches and ServerWriter::Write blocks while the client's flow
// control window is full, so a slow reader only slows its own stream;
// Import ingests in batches as chunks arrive.
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "node/api/src/governance_view.h"
#include "node/api/src/service.h"

namespace keiretsu::api {

namespace {
constexpr size_t kLogBatch = 128;     // log entries read per step of a Watch
constexpr size_t kFeedBatch = 256;    // records read per step of an Export
constexpr size_t kIngestBatch = 256;  // records per Ingest of an Import
constexpr size_t kMaxProblems = 10;   // rejection reasons an Import reports
// How long a caught-up watcher sleeps before looking at cancellation again;
// commits wake it at once.
constexpr std::chrono::milliseconds kWatchPoll{200};

grpc::Status Cancelled() {
  return grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled");
}

void FillFeedStopped(const FirmNames& names, const storage::Evidence& e, v1::FeedStopped* out) {
  names.Fill(e.author, out->mutable_firm());
  out->set_seq(e.seq);
  const bool fork = e.kind == storage::StopReason::kFork;
  out->set_reason(fork ? "fork" : "invalid-entry");
  for (const Bytes* rec : {&e.first, &e.second})
    if (!rec->empty())
      if (auto id = protocol::IdOfRecord(*rec)) out->add_entry_ids(id->Hex());
  if (!fork) out->set_detail(e.reason);
}
}  // namespace

grpc::Status LedgerService::Watch(grpc::ServerContext* ctx, const v1::WatchRequest* req,
                                  grpc::ServerWriter<v1::WatchEvent>* writer) {
  return DoWatch(
      ctx, *req, [writer] { writer->SendInitialMetadata(); },
      [writer](const v1::WatchEvent& ev) { return writer->Write(ev); });
}

grpc::Status LedgerService::DoWatch(grpc::ServerContext* ctx, const v1::WatchRequest& req,
                                    const std::function<void()>& started,
                                    const Sink<v1::WatchEvent>& write) {
  auto who = Authorize(ctx, Method::kWatch);
  if (!who.ok()) return ToGrpc(who.status());
  const uint64_t last = ledger_.LastCursor();
  uint64_t cursor = last;
  if (!req.cursor().empty()) {
    auto c = ParseCursor(req.cursor(), last);
    if (!c.ok()) return ToGrpc(c.status());
    cursor = *c;
  }
  auto ticket = watch_shares_.Acquire(*who);
  if (!ticket.ok()) {
    spdlog::info("api: {} Watch refused: {}", who->label, ticket.status().message());
    return ToGrpc(ticket.status());
  }
  // The headers say where the stream starts (events follow this cursor).
  ctx->AddInitialMetadata("keiretsu-watch-start", std::to_string(cursor));
  started();
  spdlog::debug("api: {} watches from cursor {}", who->label, cursor);
  const protocol::Genesis& g = ledger_.genesis();
  // Feeds that stop while the stream is open are sent as they happen (not
  // replayed from a cursor: GetStatus lists stopped feeds).
  uint64_t stops_seen = hub_->stops();
  // Epoch changes are sent live, like stops: the chain as it was when the
  // stream started is the baseline.
  std::vector<protocol::Epoch> epochs_seen = ledger_.Epochs();
  // Likewise clearing outcomes: a proposal can commit, be rejected, expire
  // or fall back to pending through entries that are no clearing entry (a
  // participant writing past the expiry, a fork proof).
  std::map<EntryId, protocol::ClearingState> clearings_seen = ClearingStates();
  for (;;) {
    if (ctx->IsCancelled()) return Cancelled();
    if (hub_->closed()) return grpc::Status::OK;  // server shutdown: a clean end
    for (const storage::Evidence& e : hub_->StopsAfter(stops_seen)) {
      v1::WatchEvent ev;
      ev.set_cursor(std::to_string(cursor));  // resuming from it skips and repeats nothing
      FillFeedStopped(FirmNames::Of(ledger_), e, ev.mutable_feed_stopped());
      if (!write(ev)) return Cancelled();
    }
    stops_seen = hub_->stops();
    auto batch = ledger_.ReadLog(cursor, kLogBatch);
    if (!batch.ok()) return ToGrpc(batch.status());
    if (batch->empty()) {
      // Caught up: every entry that decided a new epoch was sent, so its
      // epoch event follows it.
      if (grpc::Status s = SendEpochChanges(cursor, epochs_seen, write); !s.ok()) return s;
      if (grpc::Status s = SendClearingOutcomes(cursor, *who, clearings_seen, write); !s.ok())
        return s;
      hub_->WaitForChange(cursor, stops_seen, kWatchPoll);
      continue;
    }
    const FirmNames names = FirmNames::Of(ledger_);
    for (const node::AppliedEntry& a : *batch) {
      cursor = a.cursor;
      auto se = DecodeStored(a.record, g);
      if (!se.ok()) return ToGrpc(se.status());
      if (!who->MaySee(se->entry.author, protocol::Counterparty(se->entry.body))) continue;
      v1::WatchEvent ev;
      ev.set_cursor(std::to_string(a.cursor));
      // An entry that no longer counts (its feed stopped since, see
      // docs/PROTOCOL.md "Forks") is shown with effective=false and no
      // balance change: replays describe the ledger as it stands.
      bool effective = IsEffective(se->entry.author, se->entry.seq);
      FillEntryView(names, *se, effective, ev.mutable_entry());
      if (effective) {
        v1::BalanceChange change;
        if (FillBalanceChange(names, se->entry, &change)) *ev.add_changes() = std::move(change);
        v1::GovernanceEvent gov;
        if (FillGovernanceEvent(*se, &gov)) *ev.mutable_governance() = std::move(gov);
        v1::ClearingEvent clr;
        if (FillClearingEvent(*se, &clr)) *ev.mutable_clearing() = std::move(clr);
      }
      if (!write(ev)) return Cancelled();  // the client went away
    }
  }
}

grpc::Status LedgerService::SendEpochChanges(uint64_t cursor, std::vector<protocol::Epoch>& seen,
                                             const Sink<v1::WatchEvent>& write) {
  std::vector<protocol::Epoch> now = ledger_.Epochs();
  // An entry committed since the log was read may be what changed the
  // epoch: it is sent first, and the epoch on the next pass.
  if (ledger_.LastCursor() > cursor) return grpc::Status::OK;
  // The first epoch that differs from what was seen (a later fork proof can
  // also cut the chain back: then the new tail is reported).
  size_t same = 0;
  while (same < now.size() && same < seen.size() && now[same].hash == seen[same].hash) ++same;
  if (same == now.size() && same == seen.size()) return grpc::Status::OK;
  const GovernanceSnapshot g = GovernanceSnapshot::Of(ledger_);
  // The epochs new since `seen`; when a fork proof cut the chain back
  // (nothing new), the current epoch is announced again.
  const size_t from = same < now.size() ? std::max<size_t>(same, 1) : now.size() - 1;
  for (size_t i = from; i < now.size(); ++i) {
    v1::WatchEvent ev;
    ev.set_cursor(std::to_string(cursor));  // resuming from it skips and repeats nothing
    FillEpochEvent(g, now[i], ev.mutable_governance());
    if (!write(ev)) return Cancelled();
  }
  seen = std::move(now);
  return grpc::Status::OK;
}

grpc::Status LedgerService::Export(grpc::ServerContext* ctx, const v1::ExportRequest* req,
                                   grpc::ServerWriter<v1::ExportChunk>* writer) {
  return DoExport(ctx, *req, [writer](const v1::ExportChunk& c) { return writer->Write(c); });
}

grpc::Status LedgerService::DoExport(grpc::ServerContext* ctx, const v1::ExportRequest& req,
                                     const Sink<v1::ExportChunk>& write) {
  auto who = Authorize(ctx, Method::kExport);
  if (!who.ok()) return ToGrpc(who.status());
  const protocol::Genesis& g = ledger_.genesis();
  // One snapshot of the feed states decides everything exported: entries
  // 1..head_seq, the evidence those states account for, and the seal. The
  // store only ever grows, so every record the snapshot names is still
  // there however much is committed meanwhile; later entries and stops
  // belong to the next export (docs/PROTOCOL.md 14.1).
  const node::StateSnapshot snapshot = ledger_.DigestSnapshot();
  const std::map<PublicKey, storage::FeedState>& feeds = snapshot.feeds;
  const uint64_t exported_at = NowMs();
  v1::ExportChunk chunk;
  v1::ExportHeader* header = chunk.mutable_header();
  header->set_format_version(1);
  header->mutable_genesis()->set_canonical(g.canonical_bytes().data(), g.canonical_bytes().size());
  // The firm's id, which the seal names, also after a key rotation.
  header->set_exported_by(self().Hex());
  header->set_exported_at_unix_ms(exported_at);
  if (!write(chunk)) return Cancelled();
  uint64_t entries = 0;
  for (const auto& [author, st] : feeds) {
    uint64_t seq = 1;
    while (seq <= st.head_seq) {
      if (ctx->IsCancelled()) return Cancelled();
      size_t want = std::min<uint64_t>(kFeedBatch, st.head_seq - seq + 1);
      auto records = ledger_.ReadFeed(author, seq, want);
      if (!records.ok()) return ToGrpc(records.status());
      if (records->size() != want)
        return ToGrpc(Corruption("feed " + author.Short() + " has a gap at seq " +
                                 std::to_string(seq + records->size())));
      for (const Bytes& rec : *records) {
        chunk.Clear();
        chunk.mutable_entry()->set_record(rec.data(), rec.size());
        if (!write(chunk)) return Cancelled();
      }
      seq += want;
      entries += want;
    }
  }
  auto evidence = ledger_.ListEvidence();
  if (!evidence.ok()) return ToGrpc(evidence.status());
  uint64_t evidence_sent = 0;
  for (const storage::Evidence& e : *evidence) {
    // Only what the snapshot accounts for: a feed that stopped after the
    // snapshot was taken (or lower than it then stood) is the next
    // export's, and sending its proof here would contradict the seal.
    auto it = feeds.find(e.author);
    if (it == feeds.end() || it->second.stop_seq == 0 || e.seq < it->second.stop_seq) continue;
    if (ctx->IsCancelled()) return Cancelled();
    chunk.Clear();
    v1::Evidence* ev = chunk.mutable_evidence();
    ev->set_kind(e.kind == storage::StopReason::kFork ? v1::Evidence::KIND_FORK
                                                      : v1::Evidence::KIND_INVALID_ENTRY);
    ev->set_author(e.author.bytes.data(), e.author.bytes.size());
    ev->set_seq(e.seq);
    ev->set_first(e.first.data(), e.first.size());
    ev->set_second(e.second.data(), e.second.size());
    ev->set_reason(e.reason);
    if (!write(chunk)) return Cancelled();
    ++evidence_sent;
  }
  if (req.include_checkpoint()) {
    // The seal: signed by the exporter (exported_by), dated exactly
    // exported_at_unix_ms, over the same snapshot, so the auditor can prove
    // the file complete (a cut at a frame boundary removes it).
    auto seal = SignCheckpoint(snapshot, exported_at);
    if (!seal.ok()) return ToGrpc(seal.status());
    chunk.Clear();
    *chunk.mutable_checkpoint() = std::move(seal).value();
    if (!write(chunk)) return Cancelled();
  }
  spdlog::info("api: {} exported {} entries and {} evidence records{}", who->label, entries,
               evidence_sent, req.include_checkpoint() ? ", sealed" : "");
  return grpc::Status::OK;
}

namespace {
// Feeds an import's records to the ledger in batches and tallies outcomes.
class ImportTally {
 public:
  ImportTally(node::Ledger& ledger, v1::ImportResponse* resp) : ledger_(ledger), resp_(resp) {}

  // `as_evidence`: half of a proof from the export's evidence section.
  void Add(const std::string& record, bool as_evidence = false) {
    batch_.emplace_back(record.begin(), record.end());
    as_evidence_.push_back(as_evidence);
    if (batch_.size() >= kIngestBatch) Flush();
  }
  void Flush() {
    if (batch_.empty()) return;
    for (const node::IngestResult& r : ledger_.Ingest(batch_, /*sync=*/true, as_evidence_)) {
      switch (r.outcome) {
        case node::Outcome::kApplied: resp_->set_applied(resp_->applied() + 1); break;
        case node::Outcome::kDuplicate: resp_->set_duplicates(resp_->duplicates() + 1); break;
        case node::Outcome::kPending: resp_->set_pending(resp_->pending() + 1); break;
        case node::Outcome::kIgnored: resp_->set_ignored(resp_->ignored() + 1); break;
        case node::Outcome::kForkProven:
          resp_->set_forks(resp_->forks() + 1);
          Problem(r);
          break;
        case node::Outcome::kFeedEnded:
          resp_->set_feeds_ended(resp_->feeds_ended() + 1);
          Problem(r);
          break;
        case node::Outcome::kRejected:
          resp_->set_rejected(resp_->rejected() + 1);
          Problem(r);
          break;
      }
    }
    batch_.clear();
    as_evidence_.clear();
  }

 private:
  void Problem(const node::IngestResult& r) {
    if (static_cast<size_t>(resp_->problems_size()) >= kMaxProblems) return;
    std::string where = r.seq != 0 ? r.author.Short() + "/" + std::to_string(r.seq) + ": " : "";
    resp_->add_problems(std::string(node::OutcomeName(r.outcome)) + ": " + where +
                        r.status.message());
  }
  node::Ledger& ledger_;
  v1::ImportResponse* resp_;
  std::vector<Bytes> batch_;
  std::vector<bool> as_evidence_;  // parallel to batch_
};

Status CheckHeader(const v1::ExportChunk& first, const protocol::Genesis& ours) {
  if (!first.has_header()) return InvalidArgument("an import must start with the export's header");
  const v1::ExportHeader& h = first.header();
  if (h.format_version() != 1)
    return InvalidArgument("export format version " + std::to_string(h.format_version()) +
                           " is not supported (this node reads version 1)");
  const std::string& canonical = h.genesis().canonical();
  if (canonical.size() == ours.canonical_bytes().size() &&
      std::equal(canonical.begin(), canonical.end(), ours.canonical_bytes().begin(),
                 [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; }))
    return Status::Ok();
  auto theirs = protocol::Genesis::Decode(AsBytes(canonical));
  if (!theirs.ok())
    return InvalidArgument("the export's genesis does not decode: " + theirs.status().message());
  return FailedPrecondition("the export is from network " + theirs->network_name() + " (" +
                            theirs->network_id().Short() + "), this node serves " +
                            ours.network_name() + " (" + ours.network_id().Short() + ")");
}
}  // namespace

grpc::Status LedgerService::Import(grpc::ServerContext* ctx,
                                   grpc::ServerReader<v1::ExportChunk>* reader,
                                   v1::ImportResponse* resp) {
  // gRPC's typed reader reports a chunk that does not parse as the end of
  // the stream; the strict handler (service_calls.cc) serves this method
  // instead. This path remains for the typed interface only.
  return DoImport(
      ctx, [reader](v1::ExportChunk* c) -> Result<bool> { return reader->Read(c); }, resp);
}

namespace {
// What a failed import reports: where it stopped and what it did before.
grpc::Status ImportStopped(uint64_t index, const Status& why, const v1::ImportResponse& done) {
  return ToGrpc(
      Status(why.code(), "import stopped at chunk " + std::to_string(index) + ": " + why.message() +
                             "; nothing from it on was read; chunks before it were ingested: " +
                             std::to_string(done.applied()) + " applied, " +
                             std::to_string(done.duplicates()) + " duplicates, " +
                             std::to_string(done.pending()) + " pending, " +
                             std::to_string(done.rejected()) + " rejected"));
}
}  // namespace

grpc::Status LedgerService::DoImport(grpc::ServerContext* ctx, const ChunkSource& read,
                                     v1::ImportResponse* resp) {
  auto who = Authorize(ctx, Method::kImport);
  if (!who.ok()) return ToGrpc(who.status());
  v1::ExportChunk chunk;
  auto first = read(&chunk);
  if (!first.ok())
    return ToGrpc(
        Status(first.status().code(), "chunk 1 (the header): " + first.status().message()));
  if (!*first) return ToGrpc(InvalidArgument("the import stream is empty"));
  Status header = CheckHeader(chunk, ledger_.genesis());
  if (!header.ok()) return ToGrpc(header);
  ImportTally tally(ledger_, resp);
  uint64_t index = 1;
  // Every record goes through Ledger::Ingest: the same checks as
  // replication (network, membership, signature, chain, rules). A chunk
  // that is malformed stops the import with INVALID_ARGUMENT; the records
  // before it are ingested first (each passed every check on its own) and
  // the message says how many, so the caller knows where to resume.
  for (;;) {
    ++index;
    if (ctx->IsCancelled()) return Cancelled();
    auto more = read(&chunk);
    Status bad;
    if (!more.ok()) {
      bad = more.status();
    } else if (!*more) {
      break;
    } else {
      switch (chunk.item_case()) {
        case v1::ExportChunk::kEntry: tally.Add(chunk.entry().record()); break;
        case v1::ExportChunk::kEvidence:
          // Evidence is re-proven from its signed records, never trusted.
          if (!chunk.evidence().first().empty()) tally.Add(chunk.evidence().first(), true);
          if (!chunk.evidence().second().empty()) tally.Add(chunk.evidence().second(), true);
          break;
        case v1::ExportChunk::kCheckpoint: break;  // informational; verified by the audit tool
        case v1::ExportChunk::kHeader:
          bad = InvalidArgument("a second header; send one export per import");
          break;
        case v1::ExportChunk::ITEM_NOT_SET: bad = InvalidArgument("the chunk is empty"); break;
      }
    }
    if (!bad.ok()) {
      tally.Flush();
      spdlog::info("api: {} import stopped at chunk {}: {}", who->label, index, bad.message());
      return ImportStopped(index, bad, *resp);
    }
  }
  tally.Flush();
  resp->set_state_digest(ledger_.StateDigest().Hex());
  spdlog::info("api: {} imported: {} applied, {} duplicates, {} pending, {} rejected", who->label,
               resp->applied(), resp->duplicates(), resp->pending(), resp->rejected());
  return grpc::Status::OK;
}

}  // namespace keiretsu::api
