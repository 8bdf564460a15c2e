#include "node/net/src/session.h"
#include "node/net/src/ledger_directory.h"

#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/experimental/as_tuple.hpp>
#include <cstring>

#include "keiretsu/net/frame.h"
#include "keiretsu/protocol/entry.h"

namespace keiretsu::net {

namespace {

constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);
// Handshake messages are at most 450 bytes (PROTOCOL.md 13.2.2: message 2
// with a hello naming 255 kinds); a stranger gets no more buffer
// (the full read buffer is allocated once the handshake is done).
// The largest handshake message: message 2 with a hello of 255 kinds and a
// key chain of 8 rotate records (PROTOCOL.md 13.2 §2).
constexpr size_t kHandshakeMaxFrame = 4096;
constexpr size_t kHandshakeBufferBytes = 2 * (kFrameHeaderBytes + kHandshakeMaxFrame);
constexpr size_t kReadBufferBytes = 2 * (kFrameHeaderBytes + kMaxFrameBytes);
constexpr size_t kWriteCoalesceBytes = 256 * 1024;

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

Session::Session(Replicator::Core& core, asio::ip::tcp::socket socket, bool outbound,
                 const PublicKey& firm, std::string address)
    : core_(core),
      socket_(std::move(socket)),
      outbound_(outbound),
      firm_(firm),
      address_(std::move(address)),
      deadline_(socket_.get_executor()),
      wake_(socket_.get_executor()),
      closed_signal_(socket_.get_executor()),
      tick_(socket_.get_executor()),
      rbuf_(kHandshakeBufferBytes),
      model_(core.ledger) {}

Session::~Session() {
  ReleaseSlot();
}

void Session::ReleaseSlot() {
  if (slot_source_.empty()) return;
  core_.ReleaseInbound(slot_source_);
  slot_source_.clear();
}

// No Nagle delay; and TCP_USER_TIMEOUT, so data left unacknowledged for the
// idle timeout (a cut link) fails the socket instead of being retransmitted
// for minutes.
void Session::TuneSocket() {
  std::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  const unsigned int ms = static_cast<unsigned int>(core_.options.idle_timeout.count());
  if (::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) != 0)
    spdlog::debug("TCP_USER_TIMEOUT not set: {}", std::strerror(errno));
}

void Session::ArmDeadline(std::chrono::milliseconds after, std::string reason) {
  deadline_.expires_after(after);
  deadline_.async_wait([self = shared_from_this(), reason = std::move(reason)](std::error_code ec) {
    if (!ec && !self->established_) self->Close(reason);
  });
}

std::shared_ptr<Session> Session::Outbound(Replicator::Core& core, const PublicKey& firm,
                                           const std::string& address) {
  asio::ip::tcp::socket socket(asio::make_strand(core.io()));
  std::shared_ptr<Session> s(new Session(core, std::move(socket), true, firm, address));
  s->initiator_ = core.self();
  s->remote_address_ = address;
  return s;
}

std::shared_ptr<Session> Session::Inbound(Replicator::Core& core, asio::ip::tcp::socket socket,
                                          std::string source) {
  std::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string("unknown")
                          : (ep.address().is_v6() ? "[" + ep.address().to_string() + "]"
                                                  : ep.address().to_string()) +
                                ":" + std::to_string(ep.port());
  std::shared_ptr<Session> s(new Session(core, std::move(socket), false, PublicKey{}, ""));
  s->remote_address_ = remote;
  if (!ec) s->remote_host_ = ep.address().to_string();
  s->slot_source_ = std::move(source);
  s->TuneSocket();
  return s;
}

void Session::CloseAsync(std::string reason) {
  asio::post(executor(),
             [self = shared_from_this(), reason = std::move(reason)] { self->Close(reason); });
}

void Session::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  deadline_.cancel();
  wake_.cancel();
  tick_.cancel();
  closed_signal_.cancel();
}

void Session::Violation(const std::string& what) {
  if (closed_) return;
  core_.Misbehaved(firm_, 1, what);
  Close("protocol violation: " + what);
}

asio::awaitable<void> Session::Run() {
  auto self = shared_from_this();
  Replicator::Core::Running running(core_);
  const auto& o = core_.options;
  Status s = Status::Ok();
  if (outbound_) {
    ArmDeadline(std::min(o.connect_timeout, o.handshake_timeout), "connect timed out");
    s = co_await Connect();
    if (s.ok() && closed_) s = Unavailable(close_reason_);
  }
  // Connected: the handshake gets its own deadline.
  if (s.ok()) ArmDeadline(o.handshake_timeout, "handshake timed out");
  if (s.ok()) s = co_await Handshake();
  ReleaseSlot();
  deadline_.cancel();
  if (s.ok() && closed_) s = Unavailable(close_reason_);
  if (!s.ok()) {
    Close(s.message());
    core_.HandshakeFailed(*this, s);
    co_return;
  }
  std::string why;
  if (!core_.Register(self, &why)) {
    Close(why);
    co_return;
  }
  established_ = true;
  last_recv_ = last_ping_ = last_have_ = Clock::now();
  auto log_error = [](std::exception_ptr e) {
    if (e) spdlog::error("peer session coroutine failed with an exception");
  };
  asio::co_spawn(executor(), ReadLoop(), log_error);
  asio::co_spawn(executor(), WriteLoop(), log_error);
  asio::co_spawn(executor(), TickLoop(), log_error);
  SendHave();
  if (!closed_) {
    closed_signal_.expires_at(Clock::time_point::max());
    co_await closed_signal_.async_wait(use_nothrow);
  }
  core_.Unregister(*this, close_reason_);
}

asio::awaitable<Status> Session::Connect() {
  auto hp = SplitHostPort(address_);
  if (!hp) co_return InvalidArgument("bad peer address " + address_);
  asio::ip::tcp::resolver resolver(executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(hp->first, hp->second, use_nothrow);
  if (rec) co_return Unavailable("cannot resolve " + address_ + ": " + rec.message());
  if (closed_) co_return Unavailable(close_reason_);
  auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, use_nothrow);
  if (cec) co_return Unavailable("cannot connect to " + address_ + ": " + cec.message());
  TuneSocket();
  co_return Status::Ok();
}

asio::awaitable<Result<Bytes>> Session::ReadFrame(size_t max_frame) {
  for (;;) {
    FrameDecode d = DecodeFrame(ByteView(rbuf_.data() + rbegin_, rend_ - rbegin_), max_frame);
    if (!d.error.ok()) co_return d.error;
    if (d.frame) {
      Bytes out(d.frame->begin(), d.frame->end());
      rbegin_ += d.consumed;
      co_return out;
    }
    if (rbegin_ > 0) {  // keep the partial frame at the front
      std::memmove(rbuf_.data(), rbuf_.data() + rbegin_, rend_ - rbegin_);
      rend_ -= rbegin_;
      rbegin_ = 0;
    }
    auto [ec, n] = co_await socket_.async_read_some(
        asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_), use_nothrow);
    if (ec)
      co_return Unavailable(ec == asio::error::eof ? "peer closed the connection" : ec.message());
    rend_ += n;
  }
}

asio::awaitable<Status> Session::Handshake() {
  // The key in force now (a rotation switches it; this handshake finishes
  // with the key it started with, held here).
  const std::shared_ptr<const crypto::SigningKey> own_key = core_.identity->key();
  auto hs = outbound_ ? PeerHandshake::Initiator(core_.genesis, *own_key, firm_)
                      : PeerHandshake::Responder(core_.genesis, *own_key);
  if (!hs.ok()) co_return hs.status();
  // Peers authenticate against the current membership and key chains.
  LedgerDirectory directory(core_.ledger, own_key->public_key());
  hs->SetDirectory(&directory);
  const bool say_hello = !outbound_ || core_.TakeHelloFallback(firm_);
  hs->SetSayHello(say_hello);
  auto write = [this](const Bytes& msg) -> asio::awaitable<Status> {
    Bytes frame;
    Status framed = AppendFrame(msg, &frame);
    if (!framed.ok()) co_return framed;
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(frame), use_nothrow);
    if (ec) co_return Unavailable("handshake write failed: " + ec.message());
    co_return Status::Ok();
  };
  if (outbound_) {
    auto m1 = hs->Start();
    if (!m1.ok()) co_return m1.status();
    Status w = co_await write(*m1);
    if (!w.ok()) co_return w;
  }
  bool answered = false;
  while (!hs->complete()) {
    auto msg = co_await ReadFrame(kHandshakeMaxFrame);
    if (!msg.ok()) {
      if (outbound_ && say_hello && !answered && msg.status().code() == Code::kUnavailable)
        hello_refused_ = true;
      co_return msg.status();
    }
    answered = true;
    auto reply = hs->Receive(*msg);
    if (!reply.ok()) co_return reply.status();
    if (*reply) {
      Status w = co_await write(**reply);
      if (!w.ok()) co_return w;
    }
  }
  firm_ = hs->remote();
  if (!outbound_) initiator_ = firm_;
  // Never send the peer a kind it does not speak (PROTOCOL.md 13.2 §3).
  model_.SetPeerKinds(hs->remote_hello().kinds);
  rbuf_.resize(kReadBufferBytes);  // keeps whatever followed the last handshake message
  auto ciphers = hs->Split();
  if (!ciphers.ok()) co_return ciphers.status();
  channel_.emplace(std::move(ciphers).value());
  co_return Status::Ok();
}

asio::awaitable<void> Session::ReadLoop() {
  auto self = shared_from_this();
  Replicator::Core::Running running(core_);
  while (!closed_) {
    auto frame = co_await ReadFrame(kMaxFrameBytes);
    if (closed_) break;
    if (!frame.ok()) {
      if (frame.status().code() == Code::kUnavailable)
        Close(frame.status().message());
      else
        Violation(frame.status().message());
      break;
    }
    last_recv_ = Clock::now();
    core_.Seen(firm_);
    auto plain = channel_->Open(*frame);
    if (!plain.ok()) {
      Violation("transport message refused: " + plain.status().message());
      break;
    }
    auto msg = DecodePeerMessage(*plain);
    if (!msg.ok()) {
      Violation(msg.status().message());
      break;
    }
    Handle(*msg);
  }
}

asio::awaitable<void> Session::WriteLoop() {
  auto self = shared_from_this();
  Replicator::Core::Running running(core_);
  while (!closed_) {
    if (outq_.empty()) {
      wake_.expires_at(Clock::time_point::max());
      co_await wake_.async_wait(use_nothrow);
      continue;
    }
    Bytes out;
    uint64_t messages = 0;
    while (!outq_.empty() && out.size() < kWriteCoalesceBytes) {
      ++messages;
      Status s = channel_->Seal(outq_.front().plaintext, &out);
      if (outq_.front().have) --haves_queued_;
      outq_.pop_front();
      if (!s.ok()) {
        Close("cannot encrypt: " + s.message());
        co_return;
      }
    }
    write_started_ = Clock::now();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out), use_nothrow);
    write_started_ = Clock::time_point{};
    if (ec) {
      Close("write failed: " + ec.message());
      break;
    }
    core_.CountWritten(firm_, messages, n);
  }
}

asio::awaitable<void> Session::TickLoop() {
  auto self = shared_from_this();
  Replicator::Core::Running running(core_);
  const auto& o = core_.options;
  auto period = std::min({o.anti_entropy_interval, o.ping_interval, o.idle_timeout}) / 4;
  period = std::clamp(period, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  while (!closed_) {
    tick_.expires_after(period);
    co_await tick_.async_wait(use_nothrow);
    if (closed_) break;
    const auto now = Clock::now();
    if (now - last_recv_ > o.idle_timeout) {
      Close(
          "idle: nothing received for " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(o.idle_timeout).count()) +
          " s");
      break;
    }
    if (write_started_ != Clock::time_point{} && now - write_started_ > o.write_timeout) {
      Close("peer stopped reading (write stalled)");
      break;
    }
    if (now - last_ping_ >= o.ping_interval) {
      v1::PeerMessage m;
      m.mutable_ping()->set_nonce(++ping_nonce_);
      Queue(m);
      last_ping_ = now;
    }
    if (!core_.ledger.IsActiveMember(firm_)) {  // removed by governance (19.9)
      Close("firm " + core_.Name(firm_) + " is no longer an active member of the network");
      break;
    }
    if (now - last_have_ >= o.anti_entropy_interval) SendHave();
    MaybeStartIngest();  // resumes an ingest paused by a full disk
  }
}

void Session::Queue(const v1::PeerMessage& m, bool have) {
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
  wake_.cancel();
}

void Session::SendHave() {
  last_have_ = Clock::now();
  if (haves_queued_ > 0 || closed_) return;  // the queued one is fresh enough
  core_.RefreshFeeds();
  auto feeds = core_.Feeds();
  v1::PeerMessage m;
  auto* have = m.mutable_have();
  const uint32_t listen_port = core_.port();
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

void Session::Handle(v1::PeerMessage& m) {
  switch (m.msg_case()) {
    case v1::PeerMessage::kHave: OnHavePart(m.have()); break;
    case v1::PeerMessage::kEntries: {
      Received r;
      r.batch = m.entries().batch();
      for (auto& se : *m.mutable_entries()->mutable_entries()) {
        r.records.emplace_back(se.record().begin(), se.record().end());
        r.from_feed.push_back(true);
      }
      OnBatch(std::move(r));
      break;
    }
    case v1::PeerMessage::kEvidence: {
      Received r;
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
    case v1::PeerMessage::kPong:
    case v1::PeerMessage::MSG_NOT_SET: break;  // DecodePeerMessage refuses NOT_SET
  }
}

void Session::OnHavePart(const v1::Have& have) {
  uint64_t strangers = 0;
  for (const auto& f : have.feeds()) {
    PublicKey author = KeyFrom(f.author());
    if (core_.ledger.KeyChain(author).empty()) {  // not a member of any epoch
      ++strangers;
      continue;
    }
    have_accum_[author] =
        ReportedFeed{f.head_seq(), IdFrom(f.head_id()), f.stop_seq(), IdFrom(f.effective_id())};
  }
  if (strangers > 0 && core_.Misbehaved(firm_, strangers, "Have lists feeds of non-members")) {
    Close("misbehaving peer");
    return;
  }
  if (!have.last()) return;
  if (!outbound_ && have.listen_port() != 0)
    core_.LearnListenPort(firm_, remote_host_, have.listen_port());
  core_.RefreshFeeds();
  model_.OnHave(have_accum_, *core_.Feeds());
  core_.HaveReceived(firm_, have_accum_);
  auto own = have_accum_.find(core_.self());
  core_.CheckGate(
      firm_, own == have_accum_.end() ? std::nullopt : std::optional<ReportedFeed>(own->second));
  have_accum_.clear();
  MaybeLogSynced();
  Pump();
}

void Session::Notify(const std::vector<PublicKey>& authors) {
  std::lock_guard lock(notify_mu_);
  notify_authors_.insert(authors.begin(), authors.end());
  if (notify_posted_) return;
  notify_posted_ = true;
  asio::post(executor(), [self = shared_from_this()] { self->DrainNotify(); });
}

void Session::DrainNotify() {
  std::set<PublicKey> authors;
  {
    std::lock_guard lock(notify_mu_);
    authors.swap(notify_authors_);
    notify_posted_ = false;
  }
  for (const PublicKey& a : authors) model_.Touch(a);
  Pump();
}

void Session::Pump() {
  if (closed_ || !established_ || !model_.have_received()) return;
  std::shared_ptr<const FeedMap> feeds = core_.Feeds();
  // Room is kept in the queue for control messages (Have, Ack, Ping, Pong).
  while (model_.in_flight() < kMaxInFlightBatches && outq_.size() + 8 < kMaxQueuedMessages) {
    auto b = model_.Next(*feeds, next_batch_);
    if (!b) break;
    v1::PeerMessage m;
    uint64_t n = 0;
    if (b->evidence) {
      auto* eb = m.mutable_evidence();
      eb->set_batch(next_batch_);
      for (const storage::Evidence& ev : b->items) {
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
      for (const Bytes& r : b->records) e->add_entries()->set_record(Str(r));
      n = b->records.size();
    }
    ++next_batch_;
    Queue(m);
    core_.CountSent(firm_, n);
  }
}

}  // namespace keiretsu::net
