// OpsServer: the operations listener (docs/OPERATIONS.md "Operations
// listener"), an HTTP server apart from the gRPC API, built on
// libmicrohttpd:
//   GET /metrics      Prometheus text format (metrics_registry.h)
//   GET /healthz      "ok" (200) while the node runs; 503 while it drains
//   GET /status       a self-contained HTML page (no external scripts,
//                     fonts or styles) that refreshes itself
//   GET /status.json  the same state as JSON
//   GET /             redirects to /status
//
// It never takes the node down with it: it has its own threads, a cap on
// connections, timeouts, and refuses, changing nothing:
//   405  a method other than GET or HEAD (with `Allow: GET, HEAD`)
//   413  a request with a body
//   414  a request line longer than max_url_bytes
//   408  a request not complete within `timeout` (then closed)
//   401  no or wrong token when one is set (`WWW-Authenticate`)
//   404  any other path
// Connections beyond max_connections are closed at once. The token is
// accepted as `Authorization: Bearer <token>` (Prometheus'
// bearer_token_file) or as the password of HTTP Basic (a browser asks for
// it); it is compared in constant time and never logged.
//
// Thread-safety: Start and Stop from one thread; requests are served on
// the listener's own threads, which only read the node (snapshot.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "keiretsu/common/status.h"
#include "keiretsu/ops/metrics_registry.h"
#include "keiretsu/ops/snapshot.h"

namespace keiretsu::ops {

struct OpsOptions {
  // host:port (IPv6 as "[::1]:7702"); port 0 picks a free port (address()).
  std::string listen = "127.0.0.1:0";
  // Required from every client when non-empty. A secret: never logged.
  std::string token;
  // Connections at once; more are closed as they arrive.
  size_t max_connections = 32;
  // A request must arrive whole within this, and an idle connection is
  // closed after it.
  std::chrono::seconds timeout{10};
  // Longest request target (path and query) accepted.
  size_t max_url_bytes = 2048;
  // How often the status page reloads itself.
  std::chrono::seconds status_refresh{5};
};

class OpsServer {
 public:
  // Binds and starts serving. `sources.ledger` and `metrics` must outlive
  // the server. Errors: kInvalidArgument (bad address or options),
  // kUnavailable ("cannot listen on <address>: <reason>").
  static Result<std::unique_ptr<OpsServer>> Start(OpsOptions options, SnapshotSources sources,
                                                  const MetricsRegistry& metrics);
  ~OpsServer();  // Stop()
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  // The address bound: the configured host with the real port.
  const std::string& address() const;

  // /healthz answers 503 from now on (the node is stopping).
  void SetDraining();
  // Closes the listener and every connection; waits for requests being
  // served. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit OpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keiretsu::ops
