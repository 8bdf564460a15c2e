// Compatibility with a v1 node (PROTOCOL.md 13.2 §3): a v1 node refuses a
// hello by closing the connection; the v2 node that dialled it dials again
// without a hello, and the session forms as v1.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "net_support.h"

namespace keiretsu::net {
namespace {

using namespace std::chrono_literals;

// Reads one frame body from a blocking socket; empty on error.
Bytes ReadOneFrame(asio::ip::tcp::socket& s) {
  uint8_t len[2];
  std::error_code ec;
  asio::read(s, asio::buffer(len, 2), ec);
  if (ec) return {};
  Bytes body(static_cast<size_t>(len[0]) << 8 | len[1]);
  asio::read(s, asio::buffer(body), ec);
  return ec ? Bytes{} : body;
}

TEST(HelloFallback, AV1PeerThatRefusesTheHelloIsDialledAgainWithoutOne) {
  testing::TestNetwork net = testing::MakeNetwork(2);
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = acceptor.local_endpoint().port();
  std::atomic<bool> done{false};
  size_t first_size = 0, second_size = 0;
  Status v1_handshake = Unavailable("not run");
  PublicKey remote;
  // The v1 node (firm 1): refuses a non-empty message 1 by closing; answers
  // an empty one with exactly the v1 identity.
  std::thread v1_node([&] {
    for (int attempt = 0; attempt < 8 && !done; ++attempt) {
      asio::ip::tcp::socket s(io);
      std::error_code ec;
      acceptor.accept(s, ec);
      if (ec) return;
      Bytes m1 = ReadOneFrame(s);
      if (first_size == 0) first_size = m1.size();
      if (m1.size() != 48) continue;  // a hello: a v1 node closes the connection
      second_size = m1.size();
      auto hs = PeerHandshake::Responder(net.genesis, net.key(1)).value();
      auto m2 = hs.Receive(m1);
      if (!m2.ok()) {
        v1_handshake = m2.status();
        return;
      }
      Bytes frame;
      (void)AppendFrame(**m2, &frame);
      asio::write(s, asio::buffer(frame), ec);
      auto done3 = hs.Receive(ReadOneFrame(s));
      v1_handshake = done3.status();
      if (done3.ok()) remote = hs.remote();
      done = true;
    }
  });
  testing::TestNode a(net, 0);
  auto o = testing::FastOptions();
  o.peers = {{net.pk(1), "127.0.0.1:" + std::to_string(port)}};
  a.Start(o);
  const bool formed = testing::WaitFor([&] { return done.load(); });
  if (!formed) acceptor.close();  // unblocks the fake node
  v1_node.join();
  ASSERT_TRUE(formed);
  EXPECT_GT(first_size, 48u);   // the first dial said hello
  EXPECT_EQ(second_size, 48u);  // the next one spoke v1: an empty message 1
  EXPECT_TRUE(v1_handshake.ok()) << v1_handshake.ToString();
  EXPECT_EQ(remote, net.pk(0));
  a.Stop();
}

}  // namespace
}  // namespace keiretsu::net
