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

}  // namespace

Session::Session(Replicator::Core& core, asio::ip::tcp::socket socket, bool outbound,
                 const PublicKey& firm, std::string address)
    : core_(core),
      socket_(std::move(socket)),
      outbound_(outbound),
      firm_(firm),
      address_(std::move(address)),
      deadline_(socket_.get_executor(), core.clock()),
      wake_(socket_.get_executor(), core.clock()),
      closed_signal_(socket_.get_executor(), core.clock()),
      tick_(socket_.get_executor(), core.clock()),
      rbuf_(kHandshakeBufferBytes) {}

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
  // A deadline armed again replaces this one (its wait returns false).
  const TimePoint at = core_.clock().Now() + after;
  asio::co_spawn(
      executor(),
      [self = shared_from_this(), at, reason = std::move(reason)]() -> asio::awaitable<void> {
        if (co_await self->deadline_.WaitUntil(at) && !self->established_) self->Close(reason);
      },
      asio::detached);
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
  deadline_.Cancel();
  wake_.Cancel();
  tick_.Cancel();
  closed_signal_.Cancel();
}

void Session::Violation(const std::string& what) {
  if (closed_) return;
  core_.Misbehaved(firm_, 1, what);
  Close("protocol violation: " + what);
}

void Session::AfterSync() {
  if (closed_ || !sync_) return;
  if (sync_->closed()) {
    Close(sync_->close_reason());
    return;
  }
  if (sync_->has_outgoing()) wake_.Cancel();
  // Store reads and writes run off the strand (the read thread, the ingest
  // thread); their results come back to it.
  if (auto read = sync_->TakeReadJob()) {
    auto shared = std::make_shared<ReadJob>(std::move(*read));
    asio::post(core_.read_pool(), [self = shared_from_this(), shared] {
      ReadResult result = self->core_.ReadBatch(*shared);
      asio::post(self->executor(), [self, shared, result = std::move(result)]() mutable {
        self->OnRead(std::move(*shared), std::move(result));
      });
    });
  }
  auto job = sync_->TakeIngestJob(StoreWritable(core_.ledger));
  if (!job) return;
  auto shared = std::make_shared<IngestJob>(std::move(*job));
  asio::post(core_.ingest_pool(), [self = shared_from_this(), shared] {
    IngestOutcome out = RunIngest(self->core_.ledger, *shared);
    self->core_.RefreshFeeds();
    if (!out.changed.empty()) self->core_.NotifyChanged(out.changed);
    asio::post(self->executor(), [self, shared, out = std::move(out)]() mutable {
      self->OnIngested(std::move(*shared), std::move(out));
    });
  });
}

void Session::OnRead(ReadJob job, ReadResult result) {
  if (closed_) return;
  sync_->OnRead(std::move(job), std::move(result));
  AfterSync();
}

void Session::OnIngested(IngestJob job, IngestOutcome out) {
  if (closed_) return;
  sync_->OnIngested(std::move(job), out);
  AfterSync();
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
  deadline_.Cancel();
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
  sync_ = std::make_unique<PeerSync>(
      core_.ledger, core_, core_, core_,
      SyncTiming{o.idle_timeout, o.ping_interval, o.anti_entropy_interval}, firm_, outbound_,
      remote_host_, std::move(peer_kinds_));
  sync_->SetPeerSpeaksHeadReports(peer_head_reports_);
  sync_->SetPeerKey(peer_key_);
  auto log_error = [](std::exception_ptr e) {
    if (e) spdlog::error("peer session coroutine failed with an exception");
  };
  // Started before the loops: co_spawn runs ReadLoop at once on this
  // strand, and the peer's first Have often arrived with the last handshake
  // message, so it would be handled by a session not started yet (which
  // then sent nothing until the next anti-entropy round).
  sync_->Start(core_.clock().Now());
  asio::co_spawn(executor(), ReadLoop(), log_error);
  asio::co_spawn(executor(), WriteLoop(), log_error);
  asio::co_spawn(executor(), TickLoop(), log_error);
  AfterSync();
  if (!closed_) {
    co_await closed_signal_.WaitUntil(TimePoint::max());
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
  peer_kinds_ = hs->remote_hello().kinds;
  peer_head_reports_ = hs->remote_hello().version >= kHelloVersionHeadReports;
  peer_key_ = hs->remote_key();
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
    auto plain = channel_->Open(*frame);
    if (!plain.ok()) {
      core_.Seen(firm_);
      Violation("transport message refused: " + plain.status().message());
      break;
    }
    sync_->OnMessage(*plain, core_.clock().Now());
    AfterSync();
  }
}

asio::awaitable<void> Session::WriteLoop() {
  auto self = shared_from_this();
  Replicator::Core::Running running(core_);
  while (!closed_) {
    if (!sync_->has_outgoing()) {
      co_await wake_.WaitUntil(TimePoint::max());
      continue;
    }
    Bytes out;
    uint64_t messages = 0;
    while (out.size() < kWriteCoalesceBytes) {
      auto next = sync_->PopOutgoing();
      if (!next) break;
      ++messages;
      Status s = channel_->Seal(next->plaintext, &out);
      if (!s.ok()) {
        Close("cannot encrypt: " + s.message());
        co_return;
      }
    }
    write_started_ = core_.clock().Now();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out), use_nothrow);
    write_started_ = TimePoint{};
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
  while (!closed_) {
    co_await tick_.WaitUntil(sync_->NextTick(core_.clock().Now()));
    if (closed_) break;
    const auto now = core_.clock().Now();
    if (WriteStalled(write_started_, now, o.write_timeout)) {
      Close("peer stopped reading (write stalled)");
      break;
    }
    sync_->OnTick(now);
    AfterSync();  // also resumes an ingest paused by a full disk
  }
}

void Session::Notify(const std::vector<PublicKey>& authors) {
  std::lock_guard lock(notify_mu_);
  notify_authors_.insert(authors.begin(), authors.end());
  if (notify_posted_) return;
  notify_posted_ = true;
  asio::post(executor(), [self = shared_from_this()] { self->DrainNotify(); });
}

void Session::Relay(std::vector<FloodItem> items) {
  asio::post(executor(), [self = shared_from_this(), items = std::move(items)]() mutable {
    if (self->closed_ || !self->sync_) return;
    for (FloodItem& item : items) self->sync_->Relay(std::move(item));
    self->AfterSync();
  });
}

void Session::DrainNotify() {
  std::set<PublicKey> authors;
  {
    std::lock_guard lock(notify_mu_);
    authors.swap(notify_authors_);
    notify_posted_ = false;
  }
  if (closed_ || !sync_) return;
  sync_->OnNotify(authors);
  AfterSync();
}

}  // namespace keiretsu::net
