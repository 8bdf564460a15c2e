// The Replicator's shared core: start/stop, listening and dialling, the
// peer registry, statistics, bans and the write gate.
#include "keiretsu/net/replicator.h"

#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>
#include <set>

#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/head_report.h"
#include "node/net/src/backoff.h"
#include "node/net/src/core.h"
#include "node/net/src/session.h"

namespace keiretsu::net {

namespace {

constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

void LogException(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("replication task failed: {}", ex.what());
  } catch (...) {
    spdlog::error("replication task failed");
  }
}

bool ValidPort(const std::string& p) {
  if (p.empty() || p.size() > 5) return false;
  for (char c : p)
    if (c < '0' || c > '9') return false;
  return std::stoul(p) <= 65535;
}

// Entries `ours` holds beyond what a peer reported (its last Have).
uint64_t PeerLacks(const ReportedMap& reported, const FeedMap& ours) {
  uint64_t lacks = 0;
  for (const auto& [author, mine] : ours) {
    auto it = reported.find(author);
    const uint64_t theirs = it == reported.end() ? 0 : it->second.head;
    if (mine.head_seq > theirs) lacks += mine.head_seq - theirs;
  }
  return lacks;
}

// The metrics label of a failed handshake (or dial).
std::string_view HandshakeFailureReason(bool outbound, const Status& status) {
  switch (status.code()) {
    case Code::kUnauthenticated:
    case Code::kPermissionDenied: return "refused";
    case Code::kInvalidArgument:
    case Code::kCorruption: return "malformed";
    case Code::kUnavailable:
      if (status.message().find("timed out") != std::string::npos) return "timeout";
      return outbound && status.message().rfind("cannot ", 0) == 0 ? "dial-failed" : "closed";
    default: return "other";
  }
}
}  // namespace

size_t GateQuorum(size_t members) {
  return members <= 1 ? 0 : (members - 1) / 2 + 1;
}

std::string SourceOf(const asio::ip::address& address) {
  if (address.is_v4()) return address.to_string();
  const asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
  asio::ip::address_v6::bytes_type b = v6.to_bytes();
  std::fill(b.begin() + 8, b.end(), 0);
  return asio::ip::address_v6(b).to_string() + "/64";
}

std::optional<std::pair<std::string, std::string>> SplitHostPort(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return std::nullopt;  // an IPv6 literal must be bracketed
  }
  if (!ValidPort(port)) return std::nullopt;
  return std::make_pair(host, port);
}

// --- Running

Replicator::Core::Running::Running(Core& core) : core_(core) {
  std::lock_guard lock(core_.running_mu_);
  ++core_.running_;
}
Replicator::Core::Running::~Running() {
  std::lock_guard lock(core_.running_mu_);
  if (--core_.running_ == 0) core_.running_cv_.notify_all();
}

// --- Core

Replicator::Core::Core(node::Ledger& l, std::shared_ptr<node::Identity> id, ReplicatorOptions o,
                       const NetClock& clock)
    : ledger(l),
      identity(std::move(id)),
      genesis(l.genesis()),
      options(std::move(o)),
      clock_(clock),
      accept_strand_(asio::make_strand(io_)),
      rng_(options.random_seed != 0 ? options.random_seed : std::random_device{}()),
      gate_quorum_(GateQuorum(genesis.members().size())),
      flood_(identity->firm()) {
  for (const PeerConfig& p : options.peers) {
    Firm& f = FirmLocked(p.firm);
    f.configured = true;
    f.address = p.address;
  }
}

Replicator::Core::~Core() {
  Stop();
}

Status CheckPeerConfig(const node::Ledger& ledger, const PublicKey& self, const PeerConfig& peer) {
  const protocol::Genesis& genesis = ledger.genesis();
  if (ledger.KeyChain(peer.firm).empty())  // not a member of any epoch known here
    return InvalidArgument("peer " + peer.firm.Short() + " is not a member of the network");
  if (peer.firm == self)
    return InvalidArgument("peer " + FirmName(genesis, peer.firm) + " is this node itself");
  if (!SplitHostPort(peer.address))
    return InvalidArgument("peer " + FirmName(genesis, peer.firm) + ": address '" + peer.address +
                           "' is not host:port");
  return Status::Ok();
}

std::string FirmName(const protocol::Genesis& genesis, const PublicKey& firm) {
  const protocol::Member* m = genesis.FindByKey(firm);
  return m != nullptr ? m->name : firm.Short();
}

Replicator::Core::Firm& Replicator::Core::FirmLocked(const PublicKey& firm) {
  auto& slot = firms_[firm];
  if (!slot) {
    slot = std::make_unique<Firm>();
    slot->firm = firm;
    slot->name = Name(firm);
  }
  return *slot;
}

std::shared_ptr<const FeedMap> Replicator::Core::Feeds() const {
  std::lock_guard lock(feeds_mu_);
  return feeds_ ? feeds_ : std::make_shared<const FeedMap>();
}

std::optional<PublicKey> Replicator::Core::KeyInForce(const PublicKey& firm) const {
  const std::vector<protocol::KeySpan> chain = ledger.KeyChain(firm);
  if (chain.empty()) return std::nullopt;
  return chain.back().key;
}

void Replicator::Core::RefreshFeeds() {
  std::lock_guard refresh(refresh_mu_);
  auto snapshot = std::make_shared<const FeedMap>(ledger.Feeds());
  std::lock_guard lock(feeds_mu_);
  feeds_ = std::move(snapshot);
}

Status Replicator::Core::Start() {
  if (stopping_) return FailedPrecondition("the replicator was stopped");
  if (started_.exchange(true)) return FailedPrecondition("the replicator is already running");
  if (!options.listen.empty()) {
    auto hp = SplitHostPort(options.listen);
    std::error_code ec;
    auto addr = asio::ip::make_address(hp->first, ec);
    asio::ip::tcp::endpoint ep(addr, static_cast<uint16_t>(std::stoul(hp->second)));
    acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(accept_strand_);
    acceptor_->open(ep.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(ep, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      stopping_ = true;
      return Unavailable("cannot listen for peers on " + options.listen + ": " + ec.message());
    }
    port_ = acceptor_->local_endpoint(ec).port();
  }
  size_t configured = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, f] : firms_) configured += f->configured ? 1 : 0;
    if (options.require_peer_before_write.value_or(configured > 0)) {
      gate_closed_ = true;
      ledger.SetWriteGate(GateReasonLocked());
      // This run's head query nonce: fresh at every start, so no report
      // from an earlier run counts (PROTOCOL.md 13.2.8). Always from the
      // operating system: a seeded random_seed repeats across restarts.
      protocol::HeadNonce nonce{};
      crypto::RandomBytes(nonce);
      (void)flood_.StartOwnQuery(nonce);
      spdlog::warn(
          "writes paused until {} of the other {} members report this firm's own feed head "
          "({} peers configured)",
          gate_quorum_, genesis.members().size() - 1, configured);
    }
  }
  RefreshFeeds();
  work_.emplace(io_.get_executor());
  for (unsigned i = 0; i < std::max(1u, options.io_threads); ++i)
    threads_.emplace_back([this] {
      try {
        io_.run();
      } catch (const std::exception& e) {
        spdlog::error("replication thread stopped: {}", e.what());
      }
    });
  if (acceptor_) asio::co_spawn(accept_strand_, AcceptLoop(), LogException);
  {
    std::lock_guard lock(mu_);
    for (auto& [k, f] : firms_)
      if (f->configured) StartDialer(*f);
  }
  spdlog::info("replication started: {}, {} peers configured",
               acceptor_ ? "listening on port " + std::to_string(port_.load()) : "not listening",
               configured);
  return Status::Ok();
}

ReadResult Replicator::Core::ReadBatch(const ReadJob& job) const {
  return reader_ ? reader_(ledger, job) : RunRead(ledger, job);
}

void Replicator::Core::Stop() {
  if (!started_) {
    stopping_ = true;
    return;
  }
  if (stopping_.exchange(true)) return;
  std::vector<std::shared_ptr<Session>> sessions;
  std::vector<std::shared_ptr<NetTimer>> timers;
  {
    std::lock_guard lock(mu_);
    for (auto& w : all_sessions_)
      if (auto s = w.lock()) sessions.push_back(std::move(s));
    for (auto& [k, f] : firms_)
      if (f->wake) timers.push_back(f->wake);
  }
  asio::post(accept_strand_, [this] {
    std::error_code ec;
    if (acceptor_) acceptor_->close(ec);
  });
  for (auto& t : timers) asio::post(t->get_executor(), [t] { t->Cancel(); });
  for (auto& s : sessions) s->CloseAsync("node stopping");
  sessions.clear();
  {
    std::unique_lock lock(running_mu_);
    if (!running_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return running_ == 0; }))
      spdlog::warn("replication: {} tasks still running at shutdown", running_);
  }
  ingest_.join();  // ingests in flight finish; their results are dropped
  reads_.join();   // so do reads
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  spdlog::info("replication stopped");
}

Status Replicator::Core::AddPeer(const PeerConfig& peer) {
  KEIRETSU_RETURN_IF_ERROR(CheckPeerConfig(ledger, self(), peer));
  std::lock_guard lock(mu_);
  Firm& f = FirmLocked(peer.firm);
  if (f.configured) return InvalidArgument("peer " + f.name + " is already configured");
  f.configured = true;
  f.address = peer.address;
  if (started_ && !stopping_) StartDialer(f);
  return Status::Ok();
}

// Called with mu_ held, possibly on an io thread: the dialer is posted, as
// co_spawn could run its first step (which takes mu_) inline.
void Replicator::Core::StartDialer(Firm& f) {
  f.wake = std::make_shared<NetTimer>(asio::make_strand(io_), clock_);
  asio::post(f.wake->get_executor(),
             [this, &f] { asio::co_spawn(f.wake->get_executor(), DialLoop(&f), LogException); });
}

void Replicator::Core::Wake(Firm& f) {
  if (auto t = f.wake) asio::post(t->get_executor(), [t] { t->Cancel(); });
}

bool Replicator::Core::Track(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  if (all_sessions_.size() > 4 * kMaxSessions)
    std::erase_if(all_sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
  all_sessions_.push_back(s);
  return true;
}

asio::awaitable<void> Replicator::Core::DialLoop(Firm* f) {
  Running running(*this);
  for (;;) {
    TimePoint at{};
    std::string address;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      at = NextDialAt(f->session != nullptr, f->next_dial, f->banned_until, clock_.Now());
      address = f->configured ? f->address : f->learned;
    }
    if (at > clock_.Now()) {
      co_await f->wake->WaitUntil(at);  // or woken (Wake) sooner
      continue;
    }
    auto s = Session::Outbound(*this, f->firm, address);
    if (!Track(s)) break;
    co_await asio::co_spawn(s->executor(), s->Run(), asio::use_awaitable);
    std::lock_guard lock(mu_);
    const double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    const RedialPlan next =
        AfterDialledSession(f->failures, s->established() && s->peer_answered(), clock_.Now(),
                            options.redial_min, options.redial_max, r);
    f->failures = next.failures;
    f->next_dial = next.next_dial;
  }
}

asio::awaitable<void> Replicator::Core::AcceptLoop() {
  Running running(*this);
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_->async_accept(
        asio::any_io_executor(asio::make_strand(io_)), use_nothrow);
    if (stopping_ || ec == asio::error::operation_aborted) break;
    if (ec) {  // e.g. out of file descriptors: pause instead of spinning
      spdlog::warn("accepting a peer connection failed: {}", ec.message());
      NetTimer pause(accept_strand_, clock_);
      co_await pause.WaitUntil(clock_.Now() + kAcceptPause);
      continue;
    }
    std::error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    const std::string source = ignored ? std::string("unknown") : SourceOf(remote.address());
    if (!AdmitInbound(source)) {  // a flood of half-open handshakes
      socket.close(ignored);
      options.metrics->CountHandshakeFailure("too-many-handshakes");
      continue;
    }
    auto s = Session::Inbound(*this, std::move(socket), source);
    if (!Track(s)) break;
    asio::co_spawn(s->executor(), s->Run(), LogException);
  }
}

bool Replicator::Core::Register(const std::shared_ptr<Session>& s, std::string* why) {
  std::shared_ptr<Session> loser;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      *why = "node stopping";
      return false;
    }
    Firm& f = FirmLocked(s->firm());
    if (clock_.Now() < f.banned_until) {
      *why = "firm " + f.name + " is backed off for misbehaviour";
      spdlog::info("refused peer {} from {}: backed off for misbehaviour", f.name,
                   s->remote_address());
      return false;
    }
    size_t live = 0;
    for (const auto& [k, other] : firms_) live += other->session ? 1 : 0;
    if (!f.session && live >= kMaxSessions) {
      *why = "too many peer sessions";
      return false;
    }
    if (f.session) {
      // Both ends apply the same rule, so they keep the same connection.
      const bool keep_new =
          f.session->initiator() == s->initiator() || s->initiator() < f.session->initiator();
      if (!keep_new) {
        *why = "duplicate connection to " + f.name;
        return false;
      }
      loser = f.session;
    }
    f.session = s;
    f.outbound = s->outbound();
    if (!f.configured) f.address = f.learned.empty() ? s->remote_address() : f.learned;
    f.have_received = false;
    f.last_seen_ms = clock_.UnixMs();
    f.last_error.clear();
    spdlog::info("peer {} connected ({} {})", f.name, s->outbound() ? "dialled" : "accepted from",
                 s->remote_address());
  }
  if (loser) loser->CloseAsync("replaced by another connection to the same firm");
  return true;
}

void Replicator::Core::Unregister(const Session& s, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = firms_.find(s.firm());
  if (it == firms_.end() || it->second->session.get() != &s) return;
  Firm& f = *it->second;
  f.session.reset();
  f.last_error = reason;
  spdlog::info("peer {} disconnected: {}", f.name, reason);
  Wake(f);
}

void Replicator::Core::HandshakeFailed(const Session& s, const Status& status) {
  const bool auth =
      status.code() == Code::kUnauthenticated || status.code() == Code::kPermissionDenied;
  options.metrics->CountHandshakeFailure(HandshakeFailureReason(s.outbound(), status));
  std::lock_guard lock(mu_);
  if (s.outbound()) {
    Firm& f = FirmLocked(s.firm());
    f.last_error = status.message();
    if (s.hello_refused()) f.hello_refused = true;
    if (auth || f.failures == 0)
      spdlog::log(auth ? spdlog::level::warn : spdlog::level::info,
                  "cannot connect to peer {} at {}: {}", f.name, s.remote_address(),
                  status.ToString());
  } else if (auth) {
    spdlog::warn("refused connection from {}: {}", s.remote_address(), status.ToString());
  } else {
    spdlog::debug("connection from {} ended during the handshake: {}", s.remote_address(),
                  status.ToString());
  }
}

bool Replicator::Core::TakeHelloFallback(const PublicKey& firm) {
  std::lock_guard lock(mu_);
  Firm& f = FirmLocked(firm);
  const bool v1 = f.hello_refused;
  f.hello_refused = false;
  return !v1;
}

void Replicator::Core::NotifyChanged(const std::vector<PublicKey>& authors) {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, f] : firms_)
      if (f->session) sessions.push_back(f->session);
  }
  for (auto& s : sessions) s->Notify(authors);
}

void Replicator::Core::OnApplied(const std::vector<node::AppliedEntry>& applied) {
  if (!started_ || stopping_ || applied.empty()) return;
  RefreshFeeds();
  std::set<PublicKey> unique;
  for (const auto& a : applied) unique.insert(a.author);
  NotifyChanged(std::vector<PublicKey>(unique.begin(), unique.end()));
}

void Replicator::Core::Seen(const PublicKey& firm) {
  std::lock_guard lock(mu_);
  FirmLocked(firm).last_seen_ms = clock_.UnixMs();
}
void Replicator::Core::CountSent(const PublicKey& firm, uint64_t n) {
  std::lock_guard lock(mu_);
  FirmLocked(firm).sent += n;
}
void Replicator::Core::CountWritten(const PublicKey& firm, uint64_t messages, uint64_t bytes) {
  std::lock_guard lock(mu_);
  Firm& f = FirmLocked(firm);
  f.messages_sent += messages;
  f.bytes_sent += bytes;
}
void Replicator::Core::CountReceived(const PublicKey& firm, uint64_t n) {
  std::lock_guard lock(mu_);
  FirmLocked(firm).received += n;
}

bool Replicator::Core::Misbehaved(const PublicKey& firm, uint64_t count, const std::string& what) {
  std::lock_guard lock(mu_);
  Firm& f = FirmLocked(firm);
  f.invalid += count;
  f.strikes += count;
  spdlog::warn("peer {} sent invalid data ({} in total): {}", f.name, f.invalid, what);
  if (f.strikes < options.invalid_threshold) return false;
  f.strikes = 0;
  f.banned_until = clock_.Now() + options.misbehaviour_backoff;
  f.banned_until_unix_ms =
      clock_.UnixMs() + static_cast<uint64_t>(options.misbehaviour_backoff.count());
  spdlog::warn("peer {} dropped for misbehaviour; refused for {} ms", f.name,
               options.misbehaviour_backoff.count());
  return true;
}

void Replicator::Core::HaveReceived(const PublicKey& firm, const ReportedMap& reported) {
  std::lock_guard lock(mu_);
  Firm& f = FirmLocked(firm);
  f.reported = reported;
  f.have_received = true;
}

bool Replicator::Core::AdmitInbound(const std::string& source) {
  std::lock_guard lock(inbound_mu_);
  size_t& mine = inbound_by_source_[source];
  if (inbound_total_ >= kMaxHandshakes || mine >= kMaxHandshakesPerSource) {
    if (mine == 0) inbound_by_source_.erase(source);
    return false;
  }
  ++mine;
  ++inbound_total_;
  return true;
}

void Replicator::Core::ReleaseInbound(const std::string& source) {
  std::lock_guard lock(inbound_mu_);
  auto it = inbound_by_source_.find(source);
  if (it == inbound_by_source_.end()) return;
  if (--it->second == 0) inbound_by_source_.erase(it);
  --inbound_total_;
}

void Replicator::Core::LearnListenPort(const PublicKey& firm, const std::string& host,
                                       uint32_t port) {
  std::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec || port == 0 || port > 65535) return;
  const std::string learned = (addr.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
  std::lock_guard lock(mu_);
  Firm& f = FirmLocked(firm);
  if (f.configured || f.learned == learned) return;
  f.learned = learned;
  f.address = learned;
  spdlog::info("peer {} listens on {}: it will be dialled back there", f.name, learned);
  if (!f.wake && started_ && !stopping_) StartDialer(f);
}

std::string Replicator::Core::GateReasonLocked() const {
  return "learning this firm's own feed head from peers: " + std::to_string(own_reports_.size()) +
         " of the " + std::to_string(gate_quorum_) + " reports needed (a majority of the other " +
         std::to_string(genesis.members().size() - 1) + " members) have arrived";
}

void Replicator::Core::CheckGate(const PublicKey& firm, const std::optional<ReportedFeed>& own) {
  std::lock_guard lock(mu_);
  GateReportLocked(firm, own, false);
}

std::optional<PublicKey> Replicator::Core::MemberKey(const PublicKey& firm) const {
  if (!ledger.IsActiveMember(firm)) return std::nullopt;
  const std::vector<protocol::KeySpan> chain = ledger.KeyChain(firm);
  if (chain.empty()) return std::nullopt;
  return chain.back().key;
}

std::vector<std::shared_ptr<Session>> Replicator::Core::SessionsLocked(
    const PublicKey* except) const {
  std::vector<std::shared_ptr<Session>> out;
  for (const auto& [k, f] : firms_)
    if (f->session && (except == nullptr || k != *except)) out.push_back(f->session);
  return out;
}

void Replicator::Core::OnHeadQuery(const PublicKey& firm, const PublicKey& subject,
                                   const protocol::HeadNonce& nonce) {
  if (!KnowsMember(subject)) return;  // bounds the table by the members
  RefreshFeeds();
  const auto feeds = Feeds();  // the view our Have gives
  std::vector<std::shared_ptr<Session>> others, upstream;
  FloodItem answer;
  {
    std::lock_guard lock(mu_);
    if (!flood_.OnQuery(firm, subject, nonce)) return;
    // Our answer, from the same feed states our Have states.
    auto it = feeds->find(subject);
    const protocol::HeadReport r = ReportOnFeed(genesis.network_id(), self(), subject, nonce,
                                                it == feeds->end() ? nullptr : &it->second);
    Bytes statement = protocol::EncodeHeadReportStatement(r);
    const crypto::Signature sig = protocol::SignHeadReport(statement, *identity->key());
    answer = ReportItem(r, statement, sig);
    (void)flood_.AddReport(r, std::move(statement), sig);
    others = SessionsLocked(&firm);
    upstream = ReportRouteLocked(subject, firm);
  }
  for (auto& s : others) s->Relay({QueryItem(subject, nonce)});
  for (auto& s : upstream) s->Relay({answer});
}

std::vector<std::shared_ptr<Session>> Replicator::Core::ReportRouteLocked(
    const PublicKey& subject, const PublicKey& from) const {
  if (auto up = flood_.Upstream(subject)) {
    auto it = firms_.find(*up);
    if (it != firms_.end() && it->second->session) return {it->second->session};
  }
  return SessionsLocked(&from);
}

void Replicator::Core::OnHeadReport(const PublicKey& firm, ByteView statement,
                                    const crypto::Signature& signature) {
  auto form = protocol::DecodeHeadReportStatement(statement);
  if (!form.ok()) {
    spdlog::debug("head report from peer {} dropped: {}", Name(firm), form.status().message());
    return;
  }
  const PublicKey subject = form->subject;
  std::optional<protocol::HeadNonce> nonce;
  {
    std::lock_guard lock(mu_);
    nonce = subject == self() ? flood_.own_nonce() : flood_.LatestNonce(subject);
  }
  if (!nonce) return;  // no query of ours, or none seen for its subject
  auto report =
      protocol::VerifyHeadReport(statement, signature, genesis.network_id(), subject, *nonce,
                                 [this](const PublicKey& f) { return MemberKey(f); });
  if (!report.ok()) {
    spdlog::debug("head report from peer {} dropped: {}", Name(firm), report.status().message());
    return;
  }
  std::vector<std::shared_ptr<Session>> others;
  {
    std::lock_guard lock(mu_);
    if (subject == self()) {
      GateReportLocked(report->reporter, ReportedOf(*report), true);
      return;
    }
    if (!flood_.AddReport(*report, Bytes(statement.begin(), statement.end()), signature)) return;
    others = ReportRouteLocked(subject, firm);
  }
  const FloodItem item = ReportItem(*report, Bytes(statement.begin(), statement.end()), signature);
  for (auto& s : others) s->Relay({item});
}

std::vector<FloodItem> Replicator::Core::HeadFloodBacklog(const PublicKey& firm) {
  std::lock_guard lock(mu_);
  return flood_.Backlog(firm);
}

void Replicator::Core::GateReportLocked(const PublicKey& firm,
                                        const std::optional<ReportedFeed>& own, bool relayed) {
  if (!gate_closed_) return;
  const bool first = !own_reports_.contains(firm);
  MergeOwnReport(own_reports_[firm], own);
  if (first)
    spdlog::info("{} {} holds this firm's own feed up to seq {}{} ({} of {} reports needed)",
                 relayed ? "member (relayed, signed)" : "peer", Name(firm), own ? own->head : 0,
                 own && own->stop != 0 ? " (stopped)" : "", own_reports_.size(), gate_quorum_);
  if (own_reports_.size() < gate_quorum_) {
    ledger.SetWriteGate(GateReasonLocked());
    return;
  }
  const node::FeedState mine = ledger.Feed(self());
  const RestoreGateDecision d = DecideRestoreGate(own_reports_, gate_quorum_, mine);
  const uint64_t highest = d.highest;
  if (!d.open) {
    if (gate_catchup_logged_.insert(firm).second) {
      spdlog::warn(
          "peers hold this firm's own feed up to seq {}, this node only up to {}: "
          "catching up before writing",
          highest, mine.head_seq);
    }
    ledger.SetWriteGate("learning this firm's own feed head from peers: catching up to seq " +
                        std::to_string(highest) + " (this node holds " +
                        std::to_string(mine.head_seq) + ")");
    return;
  }
  gate_closed_ = false;
  ledger.SetWriteGate("");
  spdlog::info(
      "own feed head learned from {} of the other {} members (highest seq {}, this node {}); "
      "writes enabled",
      own_reports_.size(), genesis.members().size() - 1, highest, mine.head_seq);
}

std::vector<PeerStatus> Replicator::Core::Peers() const {
  auto feeds = Feeds();
  std::lock_guard lock(mu_);
  std::vector<PeerStatus> out;
  const auto now = clock_.Now();
  for (const auto& [k, f] : firms_) {
    PeerStatus p;
    p.firm = f->firm;
    p.name = f->name;
    p.address = f->address;
    p.configured = f->configured;
    p.connected = f->session != nullptr;
    p.outbound = p.connected && f->outbound;
    p.last_seen_unix_ms = f->last_seen_ms;
    p.entries_sent = f->sent;
    p.entries_received = f->received;
    p.messages_sent = f->messages_sent;
    p.bytes_sent = f->bytes_sent;
    p.invalid_received = f->invalid;
    p.have_received = p.connected && f->have_received;
    p.behind = f->have_received ? PeerModel::Behind(f->reported, *feeds) : 0;
    p.peer_lacks = f->have_received ? PeerLacks(f->reported, *feeds) : 0;
    p.synced = p.have_received && p.behind == 0;
    p.banned_until_unix_ms = f->banned_until > now ? f->banned_until_unix_ms : 0;
    p.last_error = f->last_error;
    out.push_back(std::move(p));
  }
  return out;
}

// --- Replicator

Replicator::Replicator(std::unique_ptr<Core> core) : core_(std::move(core)) {}
Replicator::~Replicator() = default;

Result<std::unique_ptr<Replicator>> Replicator::Create(node::Ledger& ledger,
                                                       const crypto::SigningKey& key,
                                                       ReplicatorOptions options) {
  // Not owned: the caller keeps `key` alive for the Replicator's lifetime.
  // The firm is the one the ledger holds `key` in force for, else the key's.
  auto identity = std::make_shared<node::Identity>(
      ledger.FirmOfKey(key.public_key()).value_or(key.public_key()),
      std::shared_ptr<const crypto::SigningKey>(&key, [](auto*) {}));
  return Create(ledger, std::move(identity), std::move(options));
}

Result<std::unique_ptr<Replicator>> Replicator::Create(node::Ledger& ledger,
                                                       std::shared_ptr<node::Identity> identity,
                                                       ReplicatorOptions options) {
  if (identity == nullptr) return InvalidArgument("the Replicator needs this node's identity");
  const PublicKey key = identity->public_key();
  // A key this ledger does not know may be a firm admitted in an epoch it
  // has not learnt yet: it catches up from its peers, which authenticate it
  // against what they know. A removed member's key is refused.
  if (auto firm = ledger.FirmOfKey(key); firm && !ledger.IsActiveMember(*firm))
    return InvalidArgument("this node's key " + key.Short() +
                           " is the key of a firm removed from the network");
  if (!options.listen.empty()) {
    auto hp = SplitHostPort(options.listen);
    std::error_code ec;
    if (hp) (void)asio::ip::make_address(hp->first, ec);
    if (!hp || ec)
      return InvalidArgument("listen address '" + options.listen +
                             "' is not ip:port (e.g. 0.0.0.0:7421)");
  }
  using std::chrono::milliseconds;
  for (milliseconds d : {options.anti_entropy_interval, options.handshake_timeout,
                         options.connect_timeout, options.idle_timeout, options.ping_interval,
                         options.write_timeout, options.redial_min, options.redial_max})
    if (d <= milliseconds(0)) return InvalidArgument("replication intervals must be positive");
  if (options.redial_max < options.redial_min)
    return InvalidArgument("redial_max must not be less than redial_min");
  if (options.invalid_threshold == 0)
    return InvalidArgument("invalid_threshold must be at least 1");
  std::set<PublicKey> seen;
  for (const PeerConfig& p : options.peers) {
    KEIRETSU_RETURN_IF_ERROR(CheckPeerConfig(ledger, identity->firm(), p));
    if (!seen.insert(p.firm).second)
      return InvalidArgument("peer " + FirmName(ledger.genesis(), p.firm) + " is listed twice");
  }
  if (options.metrics == nullptr) options.metrics = &node::NoMetrics();
  return std::unique_ptr<Replicator>(
      new Replicator(std::make_unique<Core>(ledger, std::move(identity), std::move(options))));
}

Status Replicator::Start() {
  return core_->Start();
}
void Replicator::Stop() {
  core_->Stop();
}
uint16_t Replicator::port() const {
  return core_->port();
}
Status Replicator::AddPeer(const PeerConfig& peer) {
  return core_->AddPeer(peer);
}
void Replicator::OnApplied(const std::vector<node::AppliedEntry>& applied) {
  core_->OnApplied(applied);
}
std::vector<PeerStatus> Replicator::Peers() const {
  return core_->Peers();
}
std::string Replicator::WriteBlockReason() const {
  return core_->ledger.WriteGate();
}

}  // namespace keiretsu::net
