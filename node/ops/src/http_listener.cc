// HttpListener over libmicrohttpd: one internal polling thread serves every
// connection; a watchdog thread enforces the request deadline (libmicrohttpd's
// own timeout is an inactivity timeout, which a client trickling one byte at
// a time never reaches).
#include "node/ops/src/http_listener.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

namespace keiretsu::ops {

namespace {

using Clock = std::chrono::steady_clock;

// One TCP connection. `fd` is our duplicate of libmicrohttpd's socket, so
// the watchdog can shut the connection down without racing the library's
// close (the socket lives until both are closed).
struct Connection {
  int fd = -1;
  Clock::time_point started;  // of the request being read (or of idleness)
  bool in_request = false;    // headers complete: the handler has it
  bool expired = false;       // the watchdog ended it
};

// One request: the raw request target's length (the handler's `url` has
// the query cut off), and whether the handler saw it already.
struct Request {
  size_t target_bytes = 0;
  bool seen = false;
};

const char kTimeoutResponse[] =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    "Content-Length: 36\r\n\r\nrequest not received within timeout\n";

}  // namespace

struct HttpListener::Impl {
  HttpListenerOptions options;
  HttpHandler handler;
  std::string address;
  int listen_fd = -1;
  MHD_Daemon* daemon = nullptr;

  std::mutex mu;
  std::set<Connection*> connections;  // GUARDED_BY(mu)
  bool stopping = false;              // GUARDED_BY(mu)
  std::condition_variable wake;
  std::thread watchdog;

  ~Impl() { Stop(); }

  void Stop() {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      stopping = true;
    }
    wake.notify_all();
    if (watchdog.joinable()) watchdog.join();
    if (daemon != nullptr) {
      MHD_socket fd = MHD_quiesce_daemon(daemon);
      MHD_stop_daemon(daemon);  // closes every connection (CLOSED notifications)
      daemon = nullptr;
      if (fd != MHD_INVALID_SOCKET) listen_fd = fd;
    }
    if (listen_fd >= 0) ::close(listen_fd);
    listen_fd = -1;
  }

  // Ends every connection whose request has not arrived whole in time.
  void WatchdogLoop() {
    const auto tick = std::chrono::milliseconds(200);
    std::unique_lock lock(mu);
    while (!stopping) {
      wake.wait_for(lock, tick);  // a periodic check, not synchronisation
      const auto now = Clock::now();
      for (Connection* c : connections) {
        if (c->in_request || c->expired || now - c->started < options.timeout) continue;
        c->expired = true;
        (void)::send(c->fd, kTimeoutResponse, sizeof kTimeoutResponse - 1,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(c->fd, SHUT_RDWR);
        spdlog::debug("ops: closed a connection that sent no complete request within {}s",
                      options.timeout.count());
      }
    }
  }

  static void OnConnection(void* cls, MHD_Connection* connection, void** socket_context,
                           MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* c = new Connection();
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      c->fd = info != nullptr ? ::dup(info->connect_fd) : -1;
      c->started = Clock::now();
      *socket_context = c;
      if (c->fd < 0) {
        c->expired = true;  // cannot watch it: refuse it
        return;
      }
      std::lock_guard lock(self->mu);
      self->connections.insert(c);
      return;
    }
    auto* c = static_cast<Connection*>(*socket_context);
    if (c == nullptr) return;
    {
      std::lock_guard lock(self->mu);
      self->connections.erase(c);
    }
    if (c->fd >= 0) ::close(c->fd);
    delete c;
    *socket_context = nullptr;
  }

  // Beyond the cap a connection is closed as it arrives (libmicrohttpd's own
  // limit, one above, would leave it waiting in the listen backlog instead).
  static MHD_Result OnAccept(void* cls, const sockaddr* /*addr*/, socklen_t /*len*/) {
    auto* self = static_cast<Impl*>(cls);
    std::lock_guard lock(self->mu);
    if (self->connections.size() < self->options.max_connections) return MHD_YES;
    spdlog::debug("ops: {} connections open: closing a new one", self->connections.size());
    return MHD_NO;
  }

  static Connection* ConnectionOf(MHD_Connection* connection) {
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != nullptr ? static_cast<Connection*>(info->socket_context) : nullptr;
  }

  static void* OnRequestLine(void* /*cls*/, const char* uri, MHD_Connection* /*connection*/) {
    auto* r = new Request();
    r->target_bytes = uri != nullptr ? std::strlen(uri) : 0;
    return r;
  }

  static void OnCompleted(void* cls, MHD_Connection* connection, void** request,
                          MHD_RequestTerminationCode /*code*/) {
    delete static_cast<Request*>(*request);
    *request = nullptr;
    auto* self = static_cast<Impl*>(cls);
    if (Connection* c = ConnectionOf(connection)) {
      std::lock_guard lock(self->mu);
      c->in_request = false;  // the next request's deadline starts now
      c->started = Clock::now();
    }
  }

  static void Log(void* /*cls*/, const char* format, va_list args) {
    char line[512];
    std::vsnprintf(line, sizeof line, format, args);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    spdlog::debug("ops: {}", text);
  }

  HttpResponse Refusal(unsigned status, std::string body) const {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body) + "\n";
    return r;
  }

  HttpResponse Decide(MHD_Connection* connection, const Request& req, const char* url,
                      const char* method) const {
    if (req.target_bytes > options.max_url_bytes)
      return Refusal(
          414, "request target longer than " + std::to_string(options.max_url_bytes) + " bytes");
    const bool head = std::strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!head && std::strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
      HttpResponse r = Refusal(405, "only GET and HEAD are served here");
      r.headers.push_back({"Allow", "GET, HEAD"});
      return r;
    }
    const char* length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char* chunked =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (chunked != nullptr || (length != nullptr && std::strcmp(length, "0") != 0))
      return Refusal(413, "requests with a body are not accepted");
    if (!options.token.empty()) {
      const char* auth =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
      if (auth == nullptr || !AuthorizationCarries(auth, options.token)) {
        HttpResponse r = Refusal(401, auth == nullptr ? "a token is required" : "wrong token");
        r.headers.push_back({"WWW-Authenticate", "Basic realm=\"keiretsu operations\""});
        return r;
      }
    }
    return handler(HttpRequest{url, head});
  }

  static MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url,
                              const char* method, const char* /*version*/,
                              const char* /*upload_data*/, size_t* upload_data_size,
                              void** request) {
    auto* self = static_cast<Impl*>(cls);
    auto* req = static_cast<Request*>(*request);
    if (req == nullptr) return MHD_NO;
    if (req->seen) {  // a body arrives after the response was queued: drop it
      *upload_data_size = 0;
      return MHD_YES;
    }
    req->seen = true;
    if (Connection* c = ConnectionOf(connection)) {
      std::lock_guard lock(self->mu);
      if (c->expired) return MHD_NO;
      c->in_request = true;
    }
    HttpResponse r;
    try {
      r = self->Decide(connection, *req, url, method);
    } catch (const std::exception& e) {
      spdlog::error("ops: serving {} failed: {}", url, e.what());
      r = self->Refusal(500, "internal error");
    }
    if (r.status >= 400 && r.status != 404)
      spdlog::debug("ops: {} {} refused: {}", method, url, r.status);
    return Queue(connection, r);
  }

  static MHD_Result Queue(MHD_Connection* connection, const HttpResponse& r) {
    MHD_Response* response = MHD_create_response_from_buffer(
        r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : r.headers)
      MHD_add_response_header(response, name.c_str(), value.c_str());
    MHD_Result ok = MHD_queue_response(connection, r.status, response);
    MHD_destroy_response(response);
    return ok;
  }
};

namespace {

struct Bound {
  int fd = -1;
  std::string address;
  bool ipv6 = false;
};

Result<Bound> Bind(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    return InvalidArgument("operations listen address '" + listen +
                           "' is not host:port (e.g. 127.0.0.1:7702)");
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return Unavailable("cannot listen on " + listen + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0) return Unavailable("cannot listen on " + listen + ": " + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return Unavailable("cannot listen on " + listen + ": " + why);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  const bool v6 = ss.ss_family == AF_INET6;
  uint16_t real = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                           : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return Bound{fd, listen.substr(0, colon) + ":" + std::to_string(real), v6};
}

}  // namespace

bool AuthorizationCarries(std::string_view presented, const std::string& token) {
  std::string candidate;
  if (presented.rfind("Bearer ", 0) == 0) {
    candidate = std::string(presented.substr(7));
  } else if (presented.rfind("Basic ", 0) == 0) {
    std::string_view b64 = presented.substr(6);
    std::string decoded(b64.size(), '\0');
    size_t n = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                          b64.data(), b64.size(), nullptr, &n, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
      return false;
    decoded.resize(n);
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    candidate = decoded.substr(colon + 1);
  } else {
    return false;
  }
  // Hashes of equal length compared in constant time: neither the token's
  // bytes nor its length leak through timing.
  unsigned char a[32], b[32];
  crypto_generichash(a, sizeof a, reinterpret_cast<const unsigned char*>(candidate.data()),
                     candidate.size(), nullptr, 0);
  crypto_generichash(b, sizeof b, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return crypto_verify_32(a, b) == 0;
}

HttpListener::HttpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpListener::~HttpListener() {
  Stop();
}
const std::string& HttpListener::address() const {
  return impl_->address;
}
void HttpListener::Stop() {
  impl_->Stop();
}

Result<std::unique_ptr<HttpListener>> HttpListener::Start(HttpListenerOptions options,
                                                          HttpHandler handler) {
  if (options.max_connections == 0 || options.timeout.count() <= 0 || options.max_url_bytes == 0)
    return InvalidArgument("operations listener: connections, timeout and URL limit must be > 0");
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  KEIRETSU_ASSIGN_OR_RETURN(Bound bound, Bind(options.listen));
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->handler = std::move(handler);
  impl->address = bound.address;
  impl->listen_fd = bound.fd;
  Impl* self = impl.get();
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (bound.ipv6) flags |= MHD_USE_IPv6;
  self->daemon = MHD_start_daemon(
      flags, 0, &Impl::OnAccept, self, &Impl::OnRequest, self, MHD_OPTION_EXTERNAL_LOGGER,
      &Impl::Log, self, MHD_OPTION_LISTEN_SOCKET, bound.fd, MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(self->options.max_connections + 1), MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned>(self->options.timeout.count()), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      static_cast<size_t>(32 * 1024), MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_NOTIFY_CONNECTION,
      &Impl::OnConnection, self, MHD_OPTION_URI_LOG_CALLBACK, &Impl::OnRequestLine, self,
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::OnCompleted, self, MHD_OPTION_END);
  if (self->daemon == nullptr)
    return Unavailable("cannot listen on " + self->options.listen +
                       ": the HTTP server (libmicrohttpd) did not start");
  self->watchdog = std::thread([self] { self->WatchdogLoop(); });
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(impl)));
}

}  // namespace keiretsu::ops
