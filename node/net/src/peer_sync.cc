#include "node/net/src/peer_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "keiretsu/net/limits.h"
#include "node/net/src/wire.h"

namespace keiretsu::net {

namespace {

PublicKey KeyFrom(const std::string& bytes) {
  Hash32 h{};
  std::memcpy(h.data(), bytes.data(), std::min(bytes.size(), h.size()));
  return PublicKey{h};
}
EntryId IdFrom(const std::string& bytes) {
  Hash32 h{};
  std::memcpy(h.data(), bytes.data(), std::min(bytes.size(), h.size()));
  return EntryId{h};
}
std::string Str(ByteView b) {
  return std::string(AsChars(b));
}

}  // namespace

PeerSync::PeerSync(const node::Ledger& ledger, SyncLedger& view, PeerRegistry& peers,
                   WriteGateKeeper& gate, SyncTiming timing, const PublicKey& firm, bool outbound,
                   std::string remote_host, protocol::KindSet peer_kinds)
    : ledger_(ledger),
      view_(view),
      peers_(peers),
      gate_(gate),
      timing_(timing),
      firm_(firm),
      outbound_(outbound),
      remote_host_(std::move(remote_host)) {
  // Never send the peer a kind it does not speak (PROTOCOL.md 13.2 §3).
  model_.SetPeerKinds(std::move(peer_kinds));
}

PeerSync::~PeerSync() = default;

std::chrono::milliseconds PeerSync::TickPeriod(const SyncTiming& t) {
  auto period = std::min({t.anti_entropy_interval, t.ping_interval, t.idle_timeout}) / 4;
  return std::clamp(period, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
}

void PeerSync::Start(TimePoint now) {
  started_ = true;
  last_recv_ = last_ping_ = last_have_ = now;
  SendHave(now);
  if (peer_head_reports_)
    for (FloodItem& item : gate_.HeadFloodBacklog(firm_)) Relay(std::move(item));
}

void PeerSync::Relay(FloodItem item) {
  if (closed_ || !peer_head_reports_) return;
  if (flood_out_.size() >= kMaxHeadFloodBacklog) flood_out_.pop_front();
  flood_out_.push_back(std::move(item));
  PumpFlood();
}

void PeerSync::PumpFlood() {
  // Room is kept in the queue for control messages and data batches.
  while (!closed_ && !flood_out_.empty() && outq_.size() + 24 < kMaxQueuedMessages) {
    v1::PeerMessage m;
    if (!flood_out_.front().is_report) {
      const FloodItem& q = flood_out_.front();
      m.mutable_head_query()->set_subject(Str(q.subject.View()));
      m.mutable_head_query()->set_nonce(Str(ByteView(q.nonce)));
      flood_out_.pop_front();
    } else {
      auto* reports = m.mutable_head_reports();
      while (!flood_out_.empty() && flood_out_.front().is_report &&
             static_cast<size_t>(reports->reports_size()) < kMaxHeadReportsPerMessage) {
        const FloodItem& r = flood_out_.front();
        auto* out = reports->add_reports();
        out->set_statement(Str(r.statement));
        out->set_signature(Str(ByteView(r.signature)));
        flood_out_.pop_front();
      }
    }
    Queue(m);
  }
}

void PeerSync::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  outq_.clear();
  flood_out_.clear();
  haves_queued_ = 0;
}

void PeerSync::Violation(const std::string& what) {
  if (closed_) return;
  peers_.Misbehaved(firm_, 1, what);
  Close("protocol violation: " + what);
}

std::optional<PeerSync::Outgoing> PeerSync::PopOutgoing() {
  if (outq_.empty()) return std::nullopt;
  Outgoing o = std::move(outq_.front());
  outq_.pop_front();
  if (o.have) --haves_queued_;
  if (!flood_out_.empty()) PumpFlood();
  return o;
}

void PeerSync::OnMessage(ByteView plaintext, TimePoint now) {
  if (closed_) return;
  last_recv_ = now;
  peers_.Seen(firm_);
  auto msg = DecodePeerMessage(plaintext);
  if (!msg.ok()) {
    Violation(msg.status().message());
    return;
  }
  Handle(*msg);
}

void PeerSync::OnTick(TimePoint now) {
  if (closed_ || !started_) return;
  if (now - last_recv_ > timing_.idle_timeout) {
    Close("idle: nothing received for " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(timing_.idle_timeout).count()) +
          " s");
    return;
  }
  if (now - last_ping_ >= timing_.ping_interval) {
    v1::PeerMessage m;
    m.mutable_ping()->set_nonce(++ping_nonce_);
    Queue(m);
    last_ping_ = now;
  }
  if (!view_.IsActiveMember(firm_)) {  // removed by governance (19.9)
    Close("firm " + view_.Name(firm_) + " is no longer an active member of the network");
    return;
  }
  if (peer_key_) {  // rotated since the handshake (PROTOCOL.md 13.2 "Key chain")
    const std::optional<PublicKey> in_force = view_.KeyInForce(firm_);
    if (in_force && *in_force != *peer_key_) {
      Close("firm " + view_.Name(firm_) + " rotated its key since this session was authenticated");
      return;
    }
  }
  if (now - last_have_ >= timing_.anti_entropy_interval) SendHave(now);
}

void PeerSync::OnNotify(const std::set<PublicKey>& authors) {
  if (ingesting_) {
    notify_after_ingest_.insert(authors.begin(), authors.end());
    return;
  }
  for (const PublicKey& a : authors) model_.Touch(a);
  Pump();
}

void PeerSync::FlushNotifyAfterIngest() {
  if (notify_after_ingest_.empty()) return;
  std::set<PublicKey> authors;
  authors.swap(notify_after_ingest_);
  OnNotify(authors);
}

void PeerSync::Queue(const v1::PeerMessage& m, bool have) {
  if (closed_) return;
  if (outq_.size() >= kMaxQueuedMessages) {
    Close("send queue full: peer is not reading");
    return;
  }
  auto bytes = EncodePeerMessage(m);
  if (!bytes.ok()) {
    Close(bytes.status().message());
    return;
  }
  outq_.push_back(Outgoing{std::move(bytes).value(), have});
  if (have) ++haves_queued_;
}

void PeerSync::SendHave(TimePoint now) {
  last_have_ = now;
  if (haves_queued_ > 0 || closed_) return;  // the queued one is fresh enough
  view_.RefreshFeeds();
  auto feeds = view_.Feeds();
  v1::PeerMessage m;
  auto* have = m.mutable_have();
  const uint32_t listen_port = view_.ListenPort();
  have->set_listen_port(listen_port);
  size_t left = feeds->size();
  for (const auto& [author, st] : *feeds) {
    auto* f = have->add_feeds();
    f->set_author(Str(author.View()));
    f->set_head_seq(st.head_seq);
    f->set_head_id(Str(st.head_id.View()));
    f->set_stop_seq(st.stop_seq);
    f->set_effective_id(Str(st.effective_id.View()));
    --left;
    if (static_cast<size_t>(have->feeds_size()) == kMaxHaveFeeds && left > 0) {
      Queue(m, true);
      m.Clear();
      have = m.mutable_have();
      have->set_listen_port(listen_port);
    }
  }
  have->set_last(true);
  Queue(m, true);
}

void PeerSync::Handle(v1::PeerMessage& m) {
  switch (m.msg_case()) {
    case v1::PeerMessage::kHave: OnHavePart(m.have()); break;
    case v1::PeerMessage::kEntries: {
      IngestJob r;
      r.batch = m.entries().batch();
      for (auto& se : *m.mutable_entries()->mutable_entries()) {
        r.records.emplace_back(se.record().begin(), se.record().end());
        r.from_feed.push_back(true);
      }
      OnBatch(std::move(r));
      break;
    }
    case v1::PeerMessage::kEvidence: {
      IngestJob r;
      r.batch = m.evidence().batch();
      for (const auto& ev : m.evidence().items()) {
        r.records.emplace_back(ev.first().begin(), ev.first().end());
        r.from_feed.push_back(false);
        if (!ev.second().empty()) {
          r.records.emplace_back(ev.second().begin(), ev.second().end());
          r.from_feed.push_back(false);
        }
      }
      OnBatch(std::move(r));
      break;
    }
    case v1::PeerMessage::kAck:
      if (!model_.Ack(m.ack().batch())) {
        Violation("Ack of batch " + std::to_string(m.ack().batch()) + ", not in flight");
        return;
      }
      Pump();
      break;
    case v1::PeerMessage::kPing: {
      v1::PeerMessage pong;
      pong.mutable_pong()->set_nonce(m.ping().nonce());
      Queue(pong);
      break;
    }
    case v1::PeerMessage::kHeadQuery: {
      protocol::HeadNonce nonce{};
      std::memcpy(nonce.data(), m.head_query().nonce().data(), nonce.size());
      gate_.OnHeadQuery(firm_, KeyFrom(m.head_query().subject()), nonce);
      break;
    }
    case v1::PeerMessage::kHeadReports:
      for (const auto& r : m.head_reports().reports()) {
        crypto::Signature sig{};
        std::memcpy(sig.data(), r.signature().data(), sig.size());
        gate_.OnHeadReport(firm_, AsBytes(r.statement()), sig);
      }
      break;
    case v1::PeerMessage::kPong:
    case v1::PeerMessage::MSG_NOT_SET: break;  // DecodePeerMessage refuses NOT_SET
  }
}

void PeerSync::OnHavePart(const v1::Have& have) {
  uint64_t strangers = 0;
  for (const auto& f : have.feeds()) {
    PublicKey author = KeyFrom(f.author());
    if (!view_.KnowsMember(author)) {  // not a member of any epoch
      ++strangers;
      continue;
    }
    have_accum_[author] =
        ReportedFeed{f.head_seq(), IdFrom(f.head_id()), f.stop_seq(), IdFrom(f.effective_id())};
  }
  if (strangers > 0 && peers_.Misbehaved(firm_, strangers, "Have lists feeds of non-members")) {
    Close("misbehaving peer");
    return;
  }
  if (!have.last()) return;
  if (!outbound_ && have.listen_port() != 0)
    peers_.LearnListenPort(firm_, remote_host_, have.listen_port());
  view_.RefreshFeeds();
  model_.OnHave(have_accum_, *view_.Feeds());
  peers_.HaveReceived(firm_, have_accum_);
  auto own = have_accum_.find(view_.self());
  gate_.CheckGate(
      firm_, own == have_accum_.end() ? std::nullopt : std::optional<ReportedFeed>(own->second));
  have_accum_.clear();
  MaybeLogSynced();
  Pump();
}

void PeerSync::Pump() {
  if (closed_ || !started_ || !model_.have_received() || read_ready_) return;
  // Room is kept in the queue for control messages (Have, Ack, Ping, Pong).
  if (outq_.size() + 8 >= kMaxQueuedMessages) return;
  read_ready_ = model_.PlanRead(*view_.Feeds());
}

std::optional<ReadJob> PeerSync::TakeReadJob() {
  if (closed_ || !read_ready_) return std::nullopt;
  std::optional<ReadJob> job = std::move(read_ready_);
  read_ready_.reset();
  return job;
}

void PeerSync::OnRead(ReadJob job, ReadResult result) {
  if (closed_) return;
  auto b = model_.OnRead(job, std::move(result), next_batch_);
  if (b) QueueBatch(*b);
  Pump();
}

void PeerSync::QueueBatch(const OutBatch& b) {
  v1::PeerMessage m;
  uint64_t n = 0;
  if (b.evidence) {
    auto* eb = m.mutable_evidence();
    eb->set_batch(next_batch_);
    for (const storage::Evidence& ev : b.items) {
      auto* item = eb->add_items();
      item->set_kind(ev.kind == storage::StopReason::kFork ? v1::Evidence::KIND_FORK
                                                           : v1::Evidence::KIND_INVALID_ENTRY);
      item->set_author(Str(ev.author.View()));
      item->set_seq(ev.seq);
      item->set_first(Str(ev.first));
      item->set_second(Str(ev.second));
      item->set_reason(ev.reason.substr(0, 1024));
      n += ev.second.empty() ? 1 : 2;
    }
  } else {
    auto* e = m.mutable_entries();
    e->set_batch(next_batch_);
    for (const Bytes& r : b.records) e->add_entries()->set_record(Str(r));
    n = b.records.size();
  }
  ++next_batch_;
  Queue(m);
  peers_.CountSent(firm_, n);
}

void PeerSync::OnBatch(IngestJob r) {
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
}

std::optional<IngestJob> PeerSync::TakeIngestJob(bool store_writable) {
  if (ingesting_ || ingest_queue_.empty() || closed_ || !store_writable) return std::nullopt;
  ingesting_ = true;
  // Everything received so far goes into one job: larger batches verify in
  // parallel better.
  IngestJob job;
  for (IngestJob& r : ingest_queue_) {
    for (size_t i = 0; i < r.records.size(); ++i) {
      job.records.push_back(std::move(r.records[i]));
      job.from_feed.push_back(r.from_feed[i]);
    }
    job.batch = r.batch;
  }
  ingest_queue_.clear();
  return job;
}

void PeerSync::OnIngested(IngestJob job, const IngestOutcome& out) {
  ingesting_ = false;
  if (closed_) return;
  if (out.paused) {
    ingest_queue_.push_front(std::move(job));
    FlushNotifyAfterIngest();
    return;
  }
  if (!out.failure.ok()) {
    spdlog::error("ingest of entries from peer {} failed: {}", view_.Name(firm_),
                  out.failure.ToString());
    Close("local storage failure: " + out.failure.message());
    return;
  }
  peers_.CountReceived(firm_, out.applied);
  for (const auto& [author, seq] : out.holds) model_.PeerHolds(author, seq);
  FlushNotifyAfterIngest();
  if (out.over_local_bounds > 0)
    spdlog::debug("peer {}: {} record(s) over this node's local bounds were not kept",
                  view_.Name(firm_), out.over_local_bounds);
  if (out.invalid > 0 && peers_.Misbehaved(firm_, out.invalid, out.first_invalid)) {
    Close("misbehaving peer: " + out.first_invalid);
    return;
  }
  last_acked_batch_ = out.batch;
  v1::PeerMessage ack;
  ack.mutable_ack()->set_batch(out.batch);
  Queue(ack);
  if (model_.have_received()) CheckGate();
  MaybeLogSynced();
  Pump();
}

void PeerSync::CheckGate() {
  auto own = model_.reported().find(view_.self());
  gate_.CheckGate(firm_, own == model_.reported().end() ? std::nullopt
                                                        : std::optional<ReportedFeed>(own->second));
}

void PeerSync::MaybeLogSynced() {
  if (synced_logged_ || !model_.have_received()) return;
  const uint64_t behind = PeerModel::Behind(model_.reported(), *view_.Feeds());
  if (behind > 0) return;
  synced_logged_ = true;
  spdlog::info("caught up with peer {}: state digest {}", view_.Name(firm_),
               ledger_.StateDigest().Short());
}

}  // namespace keiretsu::net
