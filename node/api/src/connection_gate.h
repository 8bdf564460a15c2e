// ConnectionGate: the API's TCP front door, which caps connections.
//
// gRPC 1.51 has no limit on the connections a server accepts, and once
// accept4 fails with EMFILE its listener never accepts again. So keiretsud
// owns the public listener: the gate accepts each TCP connection, admits it
// only while fewer than `max_connections` are open (and fewer than
// `max_per_source` from the same address), and relays the admitted
// connection's bytes, unchanged, to the gRPC server, which listens only on a
// unix socket in a private (0700) directory. TLS, HTTP/2 and every gRPC rule
// stay gRPC's: the gate sees ciphertext when TLS is on. A refused
// connection is closed at once; the refusal is logged (at most once every 10
// s, with counts) and counted. An accept that fails (EMFILE, ENFILE) is
// retried after 100 ms instead of ending the listener.
//
// Thread-safety: Start, Stop and the accessors may be called from any
// thread; the gate runs on one thread of its own. Stop (also the
// destructor) closes the listener and every relayed connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "keiretsu/common/status.h"

namespace keiretsu::api {

struct ConnectionGateOptions {
  std::string listen;             // host:port; port 0 picks one
  std::string backend_unix_path;  // where the gRPC server listens
  size_t max_connections = 1024;  // open at once, in all
  size_t max_per_source = 256;    // open at once from one IP address
};

class ConnectionGate {
 public:
  // Binds `listen` and starts accepting. Errors: kInvalidArgument (bad
  // address or a zero cap), kUnavailable (cannot bind).
  static Result<std::unique_ptr<ConnectionGate>> Start(ConnectionGateOptions options);
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  int port() const;                      // the bound port
  size_t open_connections() const;       // admitted and not yet closed
  uint64_t refused_connections() const;  // closed at accept for a cap
  // True when the gate's thread runs work posted to it within `timeout`
  // (the watchdog's check that the front door still turns).
  bool Responsive(std::chrono::milliseconds timeout) const;
  void Stop();

  struct Impl;

 private:
  explicit ConnectionGate(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace keiretsu::api
