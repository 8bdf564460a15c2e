// The peer handshake: in memory (every refusal, by the object), then over
// real TCP against a running Replicator (wrong network, non-member, wrong
// firm, replay, deadline, broken transport frames).
#include <gtest/gtest.h>

#include "keiretsu/crypto/hash.h"
#include "net_support.h"

namespace keiretsu::net {
namespace {

using namespace std::chrono_literals;
using testing::PeerClient;
using testing::TestNode;
using testing::WaitFor;

struct Pair {
  PeerHandshake i, r;
};

class HandshakeTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);
  testing::TestNetwork other = testing::MakeNetwork(3, "another-keiretsu");  // same keys

  // Runs the handshake; returns the first error (and which message failed).
  Status Run(PeerHandshake& i, PeerHandshake& r, int* failed_at = nullptr) {
    auto fail = [&](int at, Status s) {
      if (failed_at) *failed_at = at;
      return s;
    };
    auto m1 = i.Start();
    if (!m1.ok()) return fail(1, m1.status());
    auto m2 = r.Receive(*m1);
    if (!m2.ok()) return fail(1, m2.status());
    auto m3 = i.Receive(**m2);
    if (!m3.ok()) return fail(2, m3.status());
    auto done = r.Receive(**m3);
    if (!done.ok()) return fail(3, done.status());
    return Status::Ok();
  }
};

TEST_F(HandshakeTest, MembersAuthenticateEachOther) {
  auto i = PeerHandshake::Initiator(net.genesis, net.key(0), net.pk(1)).value();
  auto r = PeerHandshake::Responder(net.genesis, net.key(1)).value();
  ASSERT_TRUE(Run(i, r).ok());
  ASSERT_TRUE(i.complete() && r.complete());
  EXPECT_EQ(i.remote(), net.pk(1));
  EXPECT_EQ(r.remote(), net.pk(0));
  SecureChannel a(i.Split().value()), b(r.Split().value());
  Bytes frame;
  ASSERT_TRUE(a.Seal(Bytes{42}, &frame).ok());
  EXPECT_EQ(b.Open(ByteView(frame).subspan(2)).value(), Bytes{42});
  EXPECT_EQ(i.Receive(Bytes(64)).status().code(), Code::kFailedPrecondition);
}

TEST_F(HandshakeTest, WrongNetworkFailsAtTheFirstMessage) {
  auto i = PeerHandshake::Initiator(other.genesis, net.key(0), net.pk(1)).value();
  auto r = PeerHandshake::Responder(net.genesis, net.key(1)).value();
  int at = 0;
  Status s = Run(i, r, &at);
  EXPECT_EQ(s.code(), Code::kUnauthenticated) << s.ToString();
  EXPECT_EQ(at, 1);
  EXPECT_EQ(r.Receive(Bytes(48)).status().code(), Code::kFailedPrecondition);  // final
}

TEST_F(HandshakeTest, PskAndPrologueAreDerivedFromTheNetworkId) {
  Bytes prologue = NoisePrologue(net.id());
  ASSERT_EQ(prologue.size(), 17u + 32u);
  EXPECT_EQ(std::string(AsChars(ByteView(prologue).first(17))), "keiretsu/v1/noise");
  Bytes in(kPskTag.begin(), kPskTag.end());
  in.insert(in.end(), net.id().bytes.begin(), net.id().bytes.end());
  EXPECT_EQ(NetworkPsk(net.id()), crypto::Blake2b256(in));
  EXPECT_NE(NetworkPsk(net.id()), NetworkPsk(other.id()));
}

TEST_F(HandshakeTest, NonMembersAreRefusedOnBothSides) {
  auto stranger = testing::FirmKey(9);
  {  // a stranger dials a member: refused at message 3
    auto i = PeerHandshake::Initiator(net.genesis, stranger, net.pk(1)).value();
    auto r = PeerHandshake::Responder(net.genesis, net.key(1)).value();
    int at = 0;
    Status s = Run(i, r, &at);
    EXPECT_EQ(s.code(), Code::kPermissionDenied);
    EXPECT_EQ(at, 3);
    EXPECT_NE(s.message().find("not a member"), std::string::npos) << s.message();
  }
  {  // a member dials a stranger: refused at message 2
    auto i = PeerHandshake::Initiator(net.genesis, net.key(0), net.pk(1)).value();
    auto r = PeerHandshake::Responder(net.genesis, stranger).value();
    int at = 0;
    EXPECT_EQ(Run(i, r, &at).code(), Code::kPermissionDenied);
    EXPECT_EQ(at, 2);
  }
}

TEST_F(HandshakeTest, ReachingAnotherFirmThanTheOneDialledIsRefused) {
  auto i = PeerHandshake::Initiator(net.genesis, net.key(0), net.pk(2)).value();
  auto r = PeerHandshake::Responder(net.genesis, net.key(1)).value();
  Status s = Run(i, r);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("dialled firm"), std::string::npos) << s.message();
  EXPECT_FALSE(i.complete());
  EXPECT_EQ(i.Split().status().code(), Code::kFailedPrecondition);
}

TEST_F(HandshakeTest, ConnectingToItselfIsRefused) {
  auto i = PeerHandshake::Initiator(net.genesis, net.key(0), net.pk(0)).value();
  auto r = PeerHandshake::Responder(net.genesis, net.key(0)).value();
  Status s = Run(i, r);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("itself"), std::string::npos) << s.message();
}

// A responder built from raw Noise, to send identity payloads PeerHandshake
// never would.
Status ForgedResponder(const testing::TestNetwork& net, const crypto::SigningKey& noise_key,
                       const std::function<Bytes(ByteView h1)>& payload) {
  auto i = PeerHandshake::Initiator(net.genesis, net.key(0), net.pk(1)).value();
  auto r = crypto::NoiseHandshake::Responder(crypto::X25519FromSigningKey(noise_key),
                                             NoisePrologue(net.id()), NetworkPsk(net.id()))
               .value();
  auto m1 = i.Start().value();
  EXPECT_TRUE(r.ReadMessage(m1).ok());
  Bytes h1 = r.handshake_hash();
  auto m2 = r.WriteMessage(payload(h1)).value();
  return i.Receive(m2).status();
}

Bytes Identity(const crypto::SigningKey& signer, const PublicKey& claimed, uint8_t msg,
               ByteView h) {
  Bytes m(kIdentityTag.begin(), kIdentityTag.end());
  m.push_back(msg);
  m.insert(m.end(), h.begin(), h.end());
  auto sig = signer.Sign(m);
  Bytes out(claimed.bytes.begin(), claimed.bytes.end());
  out.insert(out.end(), sig.begin(), sig.end());
  return out;
}

TEST_F(HandshakeTest, IdentityMustMatchTheStaticKeyAndBeSignedOverThisSession) {
  // Genuine: firm 1's static key, firm 1's signature over h1.
  EXPECT_TRUE(ForgedResponder(net, net.key(1), [&](ByteView h) {
                return Identity(net.key(1), net.pk(1), 2, h);
              }).ok());
  // Claims firm 1 (signing as firm 1) but the Noise static key is firm 2's.
  Status s = ForgedResponder(net, net.key(2),
                             [&](ByteView h) { return Identity(net.key(1), net.pk(1), 2, h); });
  EXPECT_EQ(s.code(), Code::kUnauthenticated);
  EXPECT_NE(s.message().find("static key"), std::string::npos) << s.message();
  // Right key, signature over another transcript (a replayed proof).
  s = ForgedResponder(net, net.key(1),
                      [&](ByteView) { return Identity(net.key(1), net.pk(1), 2, Bytes(64, 7)); });
  EXPECT_EQ(s.code(), Code::kUnauthenticated);
  EXPECT_NE(s.message().find("does not verify"), std::string::npos) << s.message();
  // Right key, signature for the other message number.
  s = ForgedResponder(net, net.key(1),
                      [&](ByteView h) { return Identity(net.key(1), net.pk(1), 3, h); });
  EXPECT_EQ(s.code(), Code::kUnauthenticated);
  // Wrong payload sizes.
  for (size_t n : {0u, 95u}) {
    s = ForgedResponder(net, net.key(1), [&](ByteView) { return Bytes(n, 1); });
    EXPECT_EQ(s.code(), Code::kUnauthenticated) << n;
  }
  // An identity followed by bytes that are not a hello.
  s = ForgedResponder(net, net.key(1), [&](ByteView h) {
    Bytes p = Identity(net.key(1), net.pk(1), 2, h);
    p.push_back(1);
    return p;
  });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("hello truncated"), std::string::npos) << s.message();
}

// --- Protocol v2: the hello (docs/PROTOCOL.md 13.2 §3).

TEST_F(HandshakeTest, PeersStateTheirVersionAndKinds) {
  auto i = PeerHandshake::Initiator(net.genesis, net.key(0), net.pk(1)).value();
  auto r = PeerHandshake::Responder(net.genesis, net.key(1)).value();
  ASSERT_TRUE(Run(i, r).ok());
  EXPECT_EQ(i.remote_hello(), PeerHello::Ours());
  EXPECT_EQ(r.remote_hello(), PeerHello::Ours());
  EXPECT_EQ(PeerHello::Ours().version, 3);  // protocol v2 + relayed head reports
}

TEST_F(HandshakeTest, TheHelloBytesAreFixed) {
  EXPECT_EQ(EncodeHello(PeerHello::Ours()),
            (Bytes{0x00, 0x03, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(DecodeHello(EncodeHello(PeerHello::Ours())).value(), PeerHello::Ours());
  PeerHello newer{4, protocol::KindSet::Of(std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 200})};
  EXPECT_EQ(DecodeHello(EncodeHello(newer)).value(), newer);
}

TEST_F(HandshakeTest, AHelloOfVersionOneIsRefused) {
  auto h = DecodeHello(Bytes{0x00, 0x01, 0x01, 1});
  EXPECT_EQ(h.status().code(), Code::kInvalidArgument);
  EXPECT_NE(h.status().message().find("version 1"), std::string::npos);
}
TEST_F(HandshakeTest, AHelloWithoutKindsIsRefused) {
  auto h = DecodeHello(Bytes{0x00, 0x02, 0x00});
  EXPECT_NE(h.status().message().find("no entry kinds"), std::string::npos);
}
TEST_F(HandshakeTest, AHelloWithUnsortedKindsIsRefused) {
  auto h = DecodeHello(Bytes{0x00, 0x02, 0x02, 2, 1});
  EXPECT_NE(h.status().message().find("ascending and distinct"), std::string::npos);
}
TEST_F(HandshakeTest, AHelloWithARepeatedKindIsRefused) {
  auto h = DecodeHello(Bytes{0x00, 0x02, 0x02, 3, 3});
  EXPECT_NE(h.status().message().find("ascending and distinct"), std::string::npos);
}
TEST_F(HandshakeTest, AHelloWithTrailingBytesIsRefused) {
  auto h = DecodeHello(Bytes{0x00, 0x02, 0x01, 1, 9});
  EXPECT_NE(h.status().message().find("1 trailing bytes"), std::string::npos);
}
TEST_F(HandshakeTest, ATruncatedHelloIsRefused) {
  EXPECT_NE(DecodeHello(Bytes{0x00}).status().message().find("hello truncated"), std::string::npos);
  EXPECT_NE(DecodeHello(Bytes{0x00, 0x02, 0x03, 1, 2}).status().message().find("kind list"),
            std::string::npos);
}

// A v1 initiator sends an empty message 1; a v2 responder answers with the
// exact 96-byte v1 identity and records the peer as version 1, kinds 1-5.
TEST_F(HandshakeTest, AVersionOneInitiatorIsAnsweredInVersionOne) {
  auto r = PeerHandshake::Responder(net.genesis, net.key(1)).value();
  auto i = crypto::NoiseHandshake::Initiator(crypto::X25519FromSigningKey(net.key(0)),
                                             NoisePrologue(net.id()), NetworkPsk(net.id()))
               .value();
  auto m1 = i.WriteMessage({}).value();
  auto m2 = r.Receive(m1).value().value();
  auto payload = i.ReadMessage(m2).value();
  EXPECT_EQ(payload.size(), kIdentityPayloadBytes);
  Bytes h2 = i.handshake_hash();
  auto m3 = i.WriteMessage(Identity(net.key(0), net.pk(0), 3, h2)).value();
  ASSERT_TRUE(r.Receive(m3).ok());
  ASSERT_TRUE(r.complete());
  EXPECT_EQ(r.remote_hello(), PeerHello::V1());
}

TEST_F(HandshakeTest, MessageOneMustBeEmptyOrAHelloAndMessageThreeCannotBeReplayed) {
  auto r = PeerHandshake::Responder(net.genesis, net.key(1)).value();
  auto noise = crypto::NoiseHandshake::Initiator(crypto::X25519FromSigningKey(net.key(0)),
                                                 NoisePrologue(net.id()), NetworkPsk(net.id()))
                   .value();
  auto m1 = noise.WriteMessage(Bytes{1}).value();
  auto refused = r.Receive(m1);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("handshake message 1"), std::string::npos);

  // Message 3 of one session, replayed into another: refused.
  auto i1 = PeerHandshake::Initiator(net.genesis, net.key(0), net.pk(1)).value();
  auto r1 = PeerHandshake::Responder(net.genesis, net.key(1)).value();
  auto a1 = i1.Start().value();
  auto a2 = r1.Receive(a1).value().value();
  auto a3 = i1.Receive(a2).value().value();
  auto r2 = PeerHandshake::Responder(net.genesis, net.key(1)).value();
  ASSERT_TRUE(r2.Receive(a1).ok());  // replayed message 1 is answered...
  EXPECT_EQ(r2.Receive(a3).status().code(), Code::kUnauthenticated);  // ...but cannot complete
  EXPECT_FALSE(r2.complete());
}

// --- Over TCP, against a running node (firm 1).

class TcpHandshakeTest : public HandshakeTest {
 protected:
  void SetUp() override { server.Start(Options()); }
  virtual ReplicatorOptions Options() { return testing::FastOptions(); }
  TestNode server{net, 1};
};

TEST_F(TcpHandshakeTest, TwoMembersConnect) {
  TestNode client(net, 0);
  auto o = testing::FastOptions();
  o.peers = {server.AsPeer()};
  client.Start(o);
  ASSERT_TRUE(WaitFor([&] {
    auto a = client.Peer(1), b = server.Peer(0);
    return a && b && a->synced && b->synced;
  }));
  auto a = client.Peer(1);
  EXPECT_TRUE(a->outbound);
  EXPECT_TRUE(a->configured);
  EXPECT_GT(a->last_seen_unix_ms, 0u);
  auto b = server.Peer(0);
  EXPECT_FALSE(b->outbound);
  EXPECT_FALSE(b->configured);
  EXPECT_EQ(b->invalid_received, 0u);
}

TEST_F(TcpHandshakeTest, WrongNetworkIsRefusedAtTheFirstMessage) {
  PeerClient c(server.port());
  ASSERT_TRUE(c.connected());
  Status s = c.Handshake(other.genesis, net.key(0), net.pk(1));
  // The server closed without sending message 2.
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_EQ(s.message(), "closed");
  EXPECT_FALSE(server.ConnectedTo(0));
}

TEST_F(TcpHandshakeTest, NonMemberIsRefusedBeforeAnyLedgerMessage) {
  PeerClient c(server.port());
  auto stranger = testing::FirmKey(9);
  ASSERT_TRUE(c.Handshake(net.genesis, stranger, net.pk(1)).ok());  // the server proved itself
  auto frame = c.ReadFrame(3s);  // but then closes instead of sending a Have
  EXPECT_FALSE(frame.ok());
  EXPECT_EQ(frame.status().message(), "closed");
  for (const auto& p : server.rep().Peers()) EXPECT_FALSE(p.connected);
}

TEST_F(TcpHandshakeTest, DiallingOneFirmAndReachingAnotherIsRefused) {
  TestNode client(net, 0);
  auto o = testing::FastOptions();
  o.peers = {{net.pk(2), "127.0.0.1:" + std::to_string(server.port())}};  // firm 1 answers
  client.Start(o);
  ASSERT_TRUE(WaitFor([&] {
    auto p = client.Peer(2);
    return p && p->last_error.find("dialled firm") != std::string::npos;
  }));
  EXPECT_FALSE(client.ConnectedTo(2));
  EXPECT_FALSE(client.ConnectedTo(1));
  EXPECT_FALSE(server.ConnectedTo(0));
}

TEST_F(TcpHandshakeTest, ReplayedHandshakeIsRefused) {
  std::vector<Bytes> recorded;
  {
    PeerClient c(server.port());
    ASSERT_TRUE(c.Handshake(net.genesis, net.key(0), net.pk(1), &recorded).ok());
    ASSERT_TRUE(c.Receive().ok());  // the server's Have: the session was real
  }
  ASSERT_EQ(recorded.size(), 2u);
  ASSERT_TRUE(WaitFor([&] { return !server.ConnectedTo(0); }));
  PeerClient replay(server.port());
  ASSERT_TRUE(replay.SendFrame(recorded[0]).ok());
  ASSERT_TRUE(replay.ReadFrame().ok());  // message 2, under a fresh ephemeral key
  ASSERT_TRUE(replay.SendFrame(recorded[1]).ok());
  auto next = replay.ReadFrame(3s);
  EXPECT_FALSE(next.ok());
  EXPECT_EQ(next.status().message(), "closed");
  EXPECT_FALSE(server.ConnectedTo(0));
}

TEST_F(TcpHandshakeTest, OversizedHandshakeFrameIsRefusedFromItsHeader) {
  PeerClient c(server.port());
  ASSERT_TRUE(c.SendRaw(Bytes{0xff, 0xff}).ok());  // announces 65535 bytes, sends none
  EXPECT_TRUE(c.WaitClosed(2s));                   // long before the 3 s deadline
}

class ShortDeadlineTest : public TcpHandshakeTest {
  ReplicatorOptions Options() override {
    auto o = testing::FastOptions();
    o.handshake_timeout = 300ms;
    return o;
  }
};

TEST_F(ShortDeadlineTest, SilentConnectionIsClosedAtTheHandshakeDeadline) {
  PeerClient c(server.port());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.WaitClosed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
}

// Each broken transport frame ends the session and counts against the firm.
TEST_F(TcpHandshakeTest, BrokenTransportFramesDropTheSession) {
  enum Kind { kTampered, kTruncated, kReordered, kGarbage };
  uint64_t expected_invalid = 0;
  for (Kind kind : {kTampered, kTruncated, kReordered, kGarbage}) {
    SCOPED_TRACE(kind);
    ASSERT_TRUE(WaitFor([&] { return !server.ConnectedTo(0); }));
    PeerClient c(server.port());
    ASSERT_TRUE(c.Handshake(net.genesis, net.key(0), net.pk(1)).ok());
    ASSERT_TRUE(c.Receive().ok());
    ASSERT_TRUE(WaitFor([&] { return server.ConnectedTo(0); }));
    v1::PeerMessage ping;
    ping.mutable_ping()->set_nonce(1);
    Bytes f1 = c.Seal(ping).value();
    Bytes f2 = c.Seal(ping).value();
    switch (kind) {
      case kTampered: f1.back() ^= 0x80; break;
      case kTruncated:  // one byte less, with the length prefix to match
        f1.pop_back();
        f1[1] = static_cast<uint8_t>(f1.size() - 2);
        break;
      case kReordered: std::swap(f1, f2); break;
      case kGarbage:
        f1 = Bytes(42, 0x5a);
        f1[0] = 0;
        f1[1] = 40;
        break;
    }
    ASSERT_TRUE(c.SendRaw(f1).ok());
    EXPECT_TRUE(c.WaitClosed());
    ++expected_invalid;
    ASSERT_TRUE(WaitFor([&] {
      auto p = server.Peer(0);
      return p && p->invalid_received == expected_invalid && !p->connected;
    }));
  }
}

}  // namespace
}  // namespace keiretsu::net
