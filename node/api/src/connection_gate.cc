// The API's TCP front door (connection_gate.h): accept, cap, relay.
#include "node/api/src/connection_gate.h"

#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

namespace keiretsu::api {
namespace {

using asio::ip::tcp;
using Unix = asio::local::stream_protocol;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr auto kLogEvery = std::chrono::seconds(10);
constexpr size_t kRelayBuffer = 16 * 1024;  // an HTTP/2 frame's default maximum

// One admitted connection: the client's TCP socket and ours to gRPC.
struct Relay {
  Relay(tcp::socket c, asio::io_context& io, asio::ip::address a)
      : client(std::move(c)), backend(io), source(std::move(a)) {}
  tcp::socket client;
  Unix::socket backend;
  asio::ip::address source;
  int pumps_left = 2;
  void Close() {
    std::error_code ignored;
    client.close(ignored);
    backend.close(ignored);
  }
};

// "host:port", IPv6 in brackets, to its parts.
bool SplitHostPort(const std::string& listen, std::string& host, std::string& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) return false;
  host = listen.substr(0, colon);
  port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return !host.empty();
}

}  // namespace

struct ConnectionGate::Impl {
  explicit Impl(ConnectionGateOptions o) : options(std::move(o)) {}
  ConnectionGateOptions options;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  std::thread thread;
  std::atomic<size_t> open{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<bool> stopped{false};
  // Gate thread only:
  std::map<asio::ip::address, size_t> per_source;
  std::set<std::shared_ptr<Relay>> relays;
  bool stopping = false;
  std::chrono::steady_clock::time_point last_refusal_log{};
  uint64_t refused_since_log = 0;
  std::chrono::steady_clock::time_point last_error_log{};

  void Refuse(tcp::socket& sock, const asio::ip::address& source, bool per_source_cap) {
    ++refused;
    ++refused_since_log;
    std::error_code ignored;
    sock.set_option(asio::socket_base::linger(true, 0), ignored);  // RST: no TIME_WAIT here
    sock.close(ignored);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log < kLogEvery) return;
    spdlog::warn(
        "api: refused {} connection(s) in the last {} s: {} open (at most {}), the latest from {} "
        "({}; [api] max_connections, max_connections_per_source)",
        refused_since_log, std::chrono::duration_cast<std::chrono::seconds>(kLogEvery).count(),
        open.load(), options.max_connections, source.to_string(),
        per_source_cap
            ? "its address holds " + std::to_string(options.max_per_source) + ", the most one may"
            : "the node holds the most it may");
    last_refusal_log = now;
    refused_since_log = 0;
  }

  void Release(const std::shared_ptr<Relay>& r) {
    auto it = per_source.find(r->source);
    if (it != per_source.end() && --it->second == 0) per_source.erase(it);
    relays.erase(r);
    --open;
  }

  // Copies one direction until it ends. The client's end of input (FIN) is
  // passed on as a half-close; anything else - gRPC closing, an error, a
  // reset - closes both sockets, which ends the other direction too.
  template <class From, class To>
  asio::awaitable<void> Pump(std::shared_ptr<Relay> r, From& from, To& to, bool upstream) {
    std::array<char, kRelayBuffer> buf;
    std::error_code end;
    for (;;) {
      auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), use_nothrow);
      if (rec) {
        end = rec;
        break;
      }
      auto [wec, m] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_nothrow);
      if (wec) {
        end = wec;
        break;
      }
    }
    if (upstream && end == asio::error::eof) {
      std::error_code ignored;
      to.shutdown(asio::socket_base::shutdown_send, ignored);
    } else {
      r->Close();
    }
    if (--r->pumps_left == 0) Release(r);
  }

  asio::awaitable<void> Serve(std::shared_ptr<Relay> r) {
    auto [ec] =
        co_await r->backend.async_connect(Unix::endpoint(options.backend_unix_path), use_nothrow);
    if (ec) {
      if (!stopping)
        spdlog::error("api: cannot reach the gRPC server at {}: {}", options.backend_unix_path,
                      ec.message());
      r->Close();
      r->pumps_left = 0;
      Release(r);
      co_return;
    }
    asio::co_spawn(io, Pump(r, r->client, r->backend, /*upstream=*/true), asio::detached);
    co_await Pump(r, r->backend, r->client, /*upstream=*/false);
  }

  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(use_nothrow);
      if (stopping) co_return;
      if (ec) {
        // EMFILE, ENFILE, ENOBUFS...: the connection waits in the backlog;
        // try again shortly rather than give up the listener for good.
        const auto now = std::chrono::steady_clock::now();
        if (now - last_error_log >= kLogEvery) {
          spdlog::warn("api: accepting a connection failed: {}; retrying every {} ms", ec.message(),
                       kAcceptRetry.count());
          last_error_log = now;
        }
        retry.expires_after(kAcceptRetry);
        co_await retry.async_wait(use_nothrow);
        if (stopping) co_return;
        continue;
      }
      std::error_code gone;
      const tcp::endpoint remote = sock.remote_endpoint(gone);
      if (gone) continue;  // reset before we looked
      const asio::ip::address source = remote.address();
      const auto held = per_source.find(source);
      const size_t from_source = held == per_source.end() ? 0 : held->second;
      if (from_source >= options.max_per_source || open.load() >= options.max_connections) {
        Refuse(sock, source, from_source >= options.max_per_source);
        continue;
      }
      ++per_source[source];
      ++open;
      sock.set_option(tcp::no_delay(true), gone);
      auto r = std::make_shared<Relay>(std::move(sock), io, source);
      relays.insert(r);
      asio::co_spawn(io, Serve(r), asio::detached);
    }
  }
};

ConnectionGate::ConnectionGate(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ConnectionGate::~ConnectionGate() {
  Stop();
}

Result<std::unique_ptr<ConnectionGate>> ConnectionGate::Start(ConnectionGateOptions options) {
  if (options.max_connections == 0 || options.max_per_source == 0)
    return InvalidArgument("the API's connection caps must be at least 1");
  if (options.backend_unix_path.empty())
    return InvalidArgument("the API's connection gate needs the gRPC server's unix socket");
  std::string host, port;
  if (!SplitHostPort(options.listen, host, port))
    return InvalidArgument("API listen address '" + options.listen + "' is not host:port");
  auto impl = std::make_shared<Impl>(std::move(options));
  std::error_code ec;
  tcp::resolver resolver(impl->io);
  auto found = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || found.empty())
    return InvalidArgument("API listen address '" + impl->options.listen +
                           "': " + (ec ? ec.message() : "no such host"));
  const tcp::endpoint at = *found.begin();
  impl->acceptor.open(at.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(at, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Unavailable("cannot listen on " + impl->options.listen + ": " + ec.message() +
                       " (address in use, or not an address of this host?)");
  Impl* g = impl.get();
  asio::co_spawn(impl->io, g->AcceptLoop(), asio::detached);
  impl->thread = std::thread([g] { g->io.run(); });
  return std::unique_ptr<ConnectionGate>(new ConnectionGate(std::move(impl)));
}

int ConnectionGate::port() const {
  std::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

size_t ConnectionGate::open_connections() const {
  return impl_->open.load();
}

uint64_t ConnectionGate::refused_connections() const {
  return impl_->refused.load();
}

bool ConnectionGate::Responsive(std::chrono::milliseconds timeout) const {
  if (impl_->stopped.load()) return false;
  auto ran = std::make_shared<std::promise<void>>();
  std::future<void> done = ran->get_future();
  asio::post(impl_->io, [ran] { ran->set_value(); });
  return done.wait_for(timeout) == std::future_status::ready;
}

void ConnectionGate::Stop() {
  if (impl_ == nullptr || impl_->stopped.exchange(true)) return;
  Impl* g = impl_.get();
  // On the gate's thread: no new connections, every relay closed. The
  // coroutines then end by themselves and run() returns.
  asio::post(g->io, [g] {
    g->stopping = true;
    std::error_code ignored;
    g->acceptor.close(ignored);
    g->retry.cancel();
    for (const auto& r : g->relays) r->Close();
  });
  if (g->thread.joinable()) g->thread.join();
}

}  // namespace keiretsu::api
