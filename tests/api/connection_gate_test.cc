// The API's connection gate (node/api/src/connection_gate.h) over real
// sockets: bytes relayed both ways, the total and per-address caps, slots
// freed when connections end, and the refusals of bad options.
#include "node/api/src/connection_gate.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "raw_tcp_client.h"
#include "temp_dir.h"

namespace keiretsu::api {
namespace {

using testing::RawTcpClient;

// A unix-socket server that echoes every connection until it closes; stands
// in for the gRPC server behind the gate.
class EchoBackend {
 public:
  explicit EchoBackend(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0)
      throw std::runtime_error("echo backend: " + std::string(std::strerror(errno)));
    thread_ = std::thread([this] { Run(); });
  }
  ~EchoBackend() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& t : conns_) t.join();
  }

 private:
  void Run() {
    for (;;) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      conns_.emplace_back([c] {
        char buf[4096];
        for (;;) {
          ssize_t n = ::read(c, buf, sizeof buf);
          if (n <= 0) break;
          if (::write(c, buf, static_cast<size_t>(n)) != n) break;
        }
        ::close(c);
      });
    }
  }
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::vector<std::thread> conns_;
};

class ConnectionGateTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::string backend_path = dir.Sub("grpc.sock");
  EchoBackend backend{backend_path};

  std::unique_ptr<ConnectionGate> Gate(size_t max_connections, size_t max_per_source) {
    ConnectionGateOptions o;
    o.listen = "127.0.0.1:0";
    o.backend_unix_path = backend_path;
    o.max_connections = max_connections;
    o.max_per_source = max_per_source;
    auto g = ConnectionGate::Start(o);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return std::move(g).value();
  }
  // Waits, up to 10 s, for the gate to have released connections (their
  // relays end asynchronously after the client closes).
  static bool OpenDropsTo(const ConnectionGate& g, size_t n) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (g.open_connections() > n) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::yield();
    }
    return true;
  }
};

TEST_F(ConnectionGateTest, RelaysBytesBothWays) {
  auto gate = Gate(4, 4);
  RawTcpClient c(gate->port());
  EXPECT_EQ(c.RoundTrip("hello through the gate"), "hello through the gate");
  const std::string big(200'000, 'k');  // many relay buffers' worth
  EXPECT_EQ(c.RoundTrip(big), big);
  EXPECT_EQ(gate->open_connections(), 1u);
  EXPECT_EQ(gate->refused_connections(), 0u);
}

TEST_F(ConnectionGateTest, RefusesConnectionsBeyondTheTotalCap) {
  auto gate = Gate(2, 2);
  RawTcpClient a(gate->port()), b(gate->port());
  ASSERT_EQ(a.RoundTrip("a"), "a");
  ASSERT_EQ(b.RoundTrip("b"), "b");
  RawTcpClient c(gate->port());  // the kernel accepts it; the gate closes it
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_EQ(gate->refused_connections(), 1u);
  EXPECT_EQ(gate->open_connections(), 2u);
  EXPECT_EQ(a.RoundTrip("still"), "still");  // the admitted ones are untouched
}

TEST_F(ConnectionGateTest, OneAddressCannotTakeAnothersPlace) {
  auto gate = Gate(10, 2);
  RawTcpClient a(gate->port(), "127.0.0.2"), b(gate->port(), "127.0.0.2");
  ASSERT_EQ(a.RoundTrip("a"), "a");
  ASSERT_EQ(b.RoundTrip("b"), "b");
  RawTcpClient flood(gate->port(), "127.0.0.2");
  EXPECT_TRUE(flood.ClosedByPeer());
  RawTcpClient other(gate->port(), "127.0.0.1");
  EXPECT_EQ(other.RoundTrip("partner"), "partner");
  EXPECT_EQ(gate->refused_connections(), 1u);
  EXPECT_EQ(gate->open_connections(), 3u);
}

TEST_F(ConnectionGateTest, AClosedConnectionFreesItsSlot) {
  auto gate = Gate(1, 1);
  {
    RawTcpClient a(gate->port());
    ASSERT_EQ(a.RoundTrip("first"), "first");
  }
  ASSERT_TRUE(OpenDropsTo(*gate, 0));
  RawTcpClient b(gate->port());
  EXPECT_EQ(b.RoundTrip("second"), "second");
  EXPECT_EQ(gate->refused_connections(), 0u);
}

TEST_F(ConnectionGateTest, ABackendThatIsDownClosesTheClientAndFreesTheSlot) {
  ConnectionGateOptions o;
  o.listen = "127.0.0.1:0";
  o.backend_unix_path = dir.Sub("nobody-listens.sock");
  auto gate = ConnectionGate::Start(o);
  ASSERT_TRUE(gate.ok());
  RawTcpClient c((*gate)->port());
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_TRUE(OpenDropsTo(**gate, 0));
}

TEST_F(ConnectionGateTest, StopClosesEveryConnectionAndTheListener) {
  auto gate = Gate(4, 4);
  const int port = gate->port();
  RawTcpClient c(port);
  ASSERT_EQ(c.RoundTrip("x"), "x");
  EXPECT_TRUE(gate->Responsive(std::chrono::seconds(5)));
  gate->Stop();
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_FALSE(gate->Responsive(std::chrono::milliseconds(100)));
  RawTcpClient late(port);
  EXPECT_EQ(late.RoundTrip("y"), "");
}

TEST_F(ConnectionGateTest, RefusesZeroCaps) {
  ConnectionGateOptions o;
  o.listen = "127.0.0.1:0";
  o.backend_unix_path = backend_path;
  o.max_connections = 0;
  auto g = ConnectionGate::Start(o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(g.status().message(), "the API's connection caps must be at least 1");
  o.max_connections = 4;
  o.max_per_source = 0;
  EXPECT_EQ(ConnectionGate::Start(o).status().code(), Code::kInvalidArgument);
}

TEST_F(ConnectionGateTest, RefusesAnAddressThatIsNotHostPort) {
  ConnectionGateOptions o;
  o.backend_unix_path = backend_path;
  o.listen = "127.0.0.1";
  auto g = ConnectionGate::Start(o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Code::kInvalidArgument);
  EXPECT_NE(g.status().message().find("is not host:port"), std::string::npos);
}

TEST_F(ConnectionGateTest, RefusesAPortInUse) {
  auto first = Gate(4, 4);
  ConnectionGateOptions o;
  o.listen = "127.0.0.1:" + std::to_string(first->port());
  o.backend_unix_path = backend_path;
  auto g = ConnectionGate::Start(o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Code::kUnavailable);
  EXPECT_NE(g.status().message().find("cannot listen on 127.0.0.1:"), std::string::npos);
}

}  // namespace
}  // namespace keiretsu::api
