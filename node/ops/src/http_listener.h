// Private: HttpListener, the operations listener's HTTP layer over
// libmicrohttpd. It does everything that protects the node from its
// clients (methods, sizes, deadlines, the connection cap, the token) and
// hands only well-formed, authorised GET/HEAD requests to a handler.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "keiretsu/common/status.h"

namespace keiretsu::ops {

struct HttpRequest {
  std::string path;  // without the query
  bool head = false;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpListenerOptions {
  std::string listen;  // host:port
  std::string token;   // empty: none required
  size_t max_connections = 32;
  std::chrono::seconds timeout{10};
  size_t max_url_bytes = 2048;
};

// Called on the listener's thread for each accepted request; must not
// block for long (other clients of the listener wait meanwhile).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpListener {
 public:
  // Binds `listen` and starts the listener's threads. Errors:
  // kInvalidArgument (not host:port, or options out of range),
  // kUnavailable ("cannot listen on <address>: <why>").
  static Result<std::unique_ptr<HttpListener>> Start(HttpListenerOptions options,
                                                     HttpHandler handler);
  ~HttpListener();  // Stop()
  const std::string& address() const;
  void Stop();

  struct Impl;

 private:
  explicit HttpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True when `presented` (an Authorization header value) carries `token`,
// as "Bearer <token>" or as the password of "Basic base64(user:token)".
// Compares in constant time for a given token length.
bool AuthorizationCarries(std::string_view presented, const std::string& token);

}  // namespace keiretsu::ops
