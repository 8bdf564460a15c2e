// The pure pieces of the peer wire: the frame decoder, the rekeying secure
// channel, message validation, redial backoff and address parsing.
#include <gtest/gtest.h>

#include "keiretsu/net/frame.h"
#include "keiretsu/net/peer_handshake.h"
#include "keiretsu/v1/peer.pb.h"
#include "node/net/src/backoff.h"
#include "node/net/src/core.h"
#include "node/net/src/wire.h"
#include "test_network.h"

namespace keiretsu::net {
namespace {

Bytes Framed(size_t length, uint8_t fill = 0xab) {
  Bytes b{static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length & 0xff)};
  b.insert(b.end(), length, fill);
  return b;
}

TEST(FrameDecoder, NeedsTheWholeHeader) {
  for (Bytes b : {Bytes{}, Bytes{0x00}}) {
    FrameDecode d = DecodeFrame(b);
    EXPECT_TRUE(d.error.ok());
    EXPECT_FALSE(d.frame);
    EXPECT_EQ(d.consumed, 0u);
  }
}

TEST(FrameDecoder, WaitsForAPartialBody) {
  Bytes b = Framed(100);
  for (size_t cut : {2u, 3u, 50u, 101u}) {
    FrameDecode d = DecodeFrame(ByteView(b).first(cut));
    EXPECT_TRUE(d.error.ok()) << cut;
    EXPECT_FALSE(d.frame) << cut;
    EXPECT_EQ(d.consumed, 0u);
  }
  FrameDecode d = DecodeFrame(b);
  ASSERT_TRUE(d.frame);
  EXPECT_EQ(d.frame->size(), 100u);
  EXPECT_EQ(d.consumed, 102u);
  EXPECT_EQ((*d.frame)[0], 0xab);
}

TEST(FrameDecoder, DecodesFramesOneAfterAnother) {
  Bytes stream = Framed(1, 1);
  Bytes second = Framed(3, 2);
  stream.insert(stream.end(), second.begin(), second.end());
  stream.push_back(0x00);  // the start of a third header
  FrameDecode a = DecodeFrame(stream);
  ASSERT_TRUE(a.frame);
  EXPECT_EQ(*a.frame->begin(), 1);
  FrameDecode b = DecodeFrame(ByteView(stream).subspan(a.consumed));
  ASSERT_TRUE(b.frame);
  EXPECT_EQ(b.frame->size(), 3u);
  FrameDecode c = DecodeFrame(ByteView(stream).subspan(a.consumed + b.consumed));
  EXPECT_FALSE(c.frame);
  EXPECT_TRUE(c.error.ok());
}

TEST(FrameDecoder, RefusesZeroLength) {
  FrameDecode d = DecodeFrame(Bytes{0, 0, 1, 2});
  EXPECT_EQ(d.error.code(), Code::kInvalidArgument);
  EXPECT_FALSE(d.frame);
  EXPECT_EQ(d.consumed, 0u);
}

TEST(FrameDecoder, AcceptsTheMaximumAndChecksLimitsFromTheHeaderAlone) {
  Bytes max = Framed(kMaxFrameBytes);
  FrameDecode d = DecodeFrame(max);
  ASSERT_TRUE(d.frame);
  EXPECT_EQ(d.frame->size(), kMaxFrameBytes);
  // A lower limit (the handshake's) refuses from the 2 header bytes alone,
  // without waiting for the body.
  FrameDecode small = DecodeFrame(Bytes{0x02, 0x01}, 512);
  EXPECT_EQ(small.error.code(), Code::kResourceExhausted);
  EXPECT_NE(small.error.message().find("513"), std::string::npos) << small.error.message();
  EXPECT_TRUE(DecodeFrame(Bytes{0x02, 0x00}, 512).error.ok());
  // A limit above the wire maximum is clamped to it (the header cannot
  // express more anyway).
  EXPECT_TRUE(DecodeFrame(Bytes{0xff, 0xff}, 1 << 20).error.ok());
}

TEST(FrameEncoder, RoundTripsAndRefusesBadSizes) {
  Bytes out;
  ASSERT_TRUE(AppendFrame(Bytes{7, 8, 9}, &out).ok());
  EXPECT_EQ(out, (Bytes{0, 3, 7, 8, 9}));
  EXPECT_EQ(AppendFrame(Bytes{}, &out).code(), Code::kInvalidArgument);
  EXPECT_EQ(AppendFrame(Bytes(kMaxFrameBytes + 1), &out).code(), Code::kInvalidArgument);
  EXPECT_EQ(out.size(), 5u);  // nothing appended on error
}

// Two ends of a completed handshake between firms 0 and 1.
struct ChannelPair {
  testing::TestNetwork net = testing::MakeNetwork(2);
  std::optional<SecureChannel> a, b;
  explicit ChannelPair(uint64_t rekey, uint64_t rekey_b = 0) {
    auto i = PeerHandshake::Initiator(net.genesis, net.key(0), net.pk(1)).value();
    auto r = PeerHandshake::Responder(net.genesis, net.key(1)).value();
    auto m1 = i.Start().value();
    auto m2 = r.Receive(m1).value().value();
    auto m3 = i.Receive(m2).value().value();
    EXPECT_FALSE(r.Receive(m3).value().has_value());
    a.emplace(i.Split().value(), rekey);
    b.emplace(r.Split().value(), rekey_b != 0 ? rekey_b : rekey);
  }
};

Bytes Body(const Bytes& frame) {
  return Bytes(frame.begin() + 2, frame.end());
}

TEST(SecureChannel, RoundTripsAcrossRekeys) {
  ChannelPair p(3);  // rekey after every 3 messages per direction
  for (int i = 0; i < 10; ++i) {
    Bytes frame;
    Bytes msg{static_cast<uint8_t>(i), 1, 2};
    ASSERT_TRUE(p.a->Seal(msg, &frame).ok());
    auto got = p.b->Open(Body(frame));
    ASSERT_TRUE(got.ok()) << i << " " << got.status().ToString();
    EXPECT_EQ(*got, msg);
  }
  EXPECT_EQ(p.a->sent(), 10u);
  EXPECT_EQ(p.b->received(), 10u);
}

TEST(SecureChannel, BothEndsMustRekeyAtTheSameBoundary) {
  // The sender rekeys after every message, the receiver never: the first
  // message (before any rekey) still opens, the second does not. So the
  // rekey really changes the key, and the interval is part of the protocol.
  ChannelPair p(1, kRekeyInterval);
  Bytes f1, f2;
  ASSERT_TRUE(p.a->Seal(Bytes{1}, &f1).ok());
  ASSERT_TRUE(p.a->Seal(Bytes{2}, &f2).ok());
  EXPECT_TRUE(p.b->Open(Body(f1)).ok());
  EXPECT_EQ(p.b->Open(Body(f2)).status().code(), Code::kCorruption);
}

TEST(SecureChannel, RefusesTamperedReorderedReplayedAndTruncated) {
  ChannelPair p(kRekeyInterval);
  Bytes f1, f2;
  ASSERT_TRUE(p.a->Seal(Bytes{1, 2, 3}, &f1).ok());
  ASSERT_TRUE(p.a->Seal(Bytes{4, 5, 6}, &f2).ok());
  EXPECT_EQ(p.b->Open(Body(f2)).status().code(), Code::kCorruption);  // reordered
  Bytes tampered = Body(f1);
  tampered[0] ^= 1;
  EXPECT_EQ(p.b->Open(tampered).status().code(), Code::kCorruption);
  Bytes truncated = Body(f1);
  truncated.pop_back();
  EXPECT_EQ(p.b->Open(truncated).status().code(), Code::kCorruption);
  ASSERT_TRUE(p.b->Open(Body(f1)).ok());  // failures did not advance the nonce
  EXPECT_EQ(p.b->Open(Body(f1)).status().code(), Code::kCorruption);  // replayed
  ASSERT_TRUE(p.b->Open(Body(f2)).ok());
}

TEST(SecureChannel, RefusesOversizedPlaintext) {
  ChannelPair p(kRekeyInterval);
  Bytes out;
  EXPECT_EQ(p.a->Seal(Bytes(kMaxMessageBytes + 1), &out).code(), Code::kInvalidArgument);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(p.a->Seal(Bytes(kMaxMessageBytes), &out).ok());
  EXPECT_EQ(out.size(), 2 + kMaxFrameBytes);
}

std::string S(size_t n, char c = 'x') {
  return std::string(n, c);
}

TEST(WireMessages, AcceptsWellFormedMessages) {
  v1::PeerMessage have;
  auto* f = have.mutable_have()->add_feeds();
  f->set_author(S(32));
  f->set_head_seq(3);
  f->set_head_id(S(32));
  f->set_effective_id(S(32));
  v1::PeerMessage entries;
  entries.mutable_entries()->set_batch(1);
  for (int i = 0; i < 48; ++i) entries.mutable_entries()->add_entries()->set_record(S(1024));
  v1::PeerMessage ping;
  ping.mutable_ping();
  for (const auto& m : {have, entries, ping}) {
    auto bytes = EncodePeerMessage(m);
    ASSERT_TRUE(bytes.ok());
    EXPECT_TRUE(DecodePeerMessage(*bytes).ok()) << m.DebugString().substr(0, 100);
  }
}

void ExpectRefused(const v1::PeerMessage& m, const std::string& needle) {
  auto bytes = m.SerializeAsString();
  auto r = DecodePeerMessage(AsBytes(bytes));
  ASSERT_FALSE(r.ok()) << needle;
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(WireMessages, RefusesEveryLimit) {
  v1::PeerMessage m;
  ExpectRefused(m, "no known kind");
  m.mutable_entries()->set_batch(1);
  ExpectRefused(m, "0 records");
  for (int i = 0; i < 49; ++i) m.mutable_entries()->add_entries()->set_record("r");
  ExpectRefused(m, "49 records");
  m.mutable_entries()->clear_entries();
  m.mutable_entries()->add_entries()->set_record(S(1025));
  ExpectRefused(m, "1025 bytes");
  m.mutable_entries()->clear_entries();
  m.mutable_entries()->add_entries()->set_record("");
  ExpectRefused(m, "0 bytes");
  m.mutable_entries()->clear_entries();
  m.mutable_entries()->add_entries()->set_record("r");
  m.mutable_entries()->set_batch(0);
  ExpectRefused(m, "batch number 0");

  v1::PeerMessage h;
  h.mutable_have()->add_feeds()->set_author(S(31));
  ExpectRefused(h, "32 bytes");
  h.mutable_have()->clear_feeds();
  for (size_t i = 0; i <= kMaxHaveFeeds; ++i) {
    auto* f = h.mutable_have()->add_feeds();
    f->set_author(S(32));
    f->set_head_id(S(32));
    f->set_effective_id(S(32));
  }
  ExpectRefused(h, "513 feeds");

  v1::PeerMessage e;
  e.mutable_evidence()->set_batch(1);
  auto* ev = e.mutable_evidence()->add_items();
  ev->set_kind(v1::Evidence::KIND_FORK);
  ev->set_author(S(32));
  ev->set_first("a");
  ExpectRefused(e, "evidence record of 0 bytes");  // a fork needs two records
  ev->set_kind(v1::Evidence::KIND_UNSPECIFIED);
  ev->set_second("b");
  ExpectRefused(e, "unknown kind");
  ev->set_kind(v1::Evidence::KIND_INVALID_ENTRY);
  ExpectRefused(e, "second record");

  Bytes garbage{0xff, 0xff, 0xff};
  EXPECT_EQ(DecodePeerMessage(garbage).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(DecodePeerMessage(Bytes(kMaxMessageBytes + 1)).status().code(), Code::kInvalidArgument);
}

TEST(RedialBackoff, DoublesUpToTheCeilingWithJitter) {
  using std::chrono::milliseconds;
  const milliseconds min(100), max(3000);
  EXPECT_EQ(RedialDelay(1, min, max, 0.0), milliseconds(50));
  EXPECT_EQ(RedialDelay(1, min, max, 0.999999), milliseconds(99));
  EXPECT_EQ(RedialDelay(2, min, max, 0.0), milliseconds(100));
  EXPECT_EQ(RedialDelay(3, min, max, 0.0), milliseconds(200));
  EXPECT_EQ(RedialDelay(6, min, max, 0.0), milliseconds(1500));  // 3200 capped to 3000
  EXPECT_EQ(RedialDelay(1000, min, max, 0.5), milliseconds(2250));
  for (unsigned f = 1; f < 40; ++f) {
    EXPECT_GE(RedialDelay(f, min, max, 0.3), milliseconds(50));
    EXPECT_LE(RedialDelay(f, min, max, 0.3), max);
  }
}

TEST(Addresses, SplitsHostAndPort) {
  EXPECT_EQ(SplitHostPort("127.0.0.1:7421"),
            std::make_pair(std::string("127.0.0.1"), std::string("7421")));
  EXPECT_EQ(SplitHostPort("[::1]:80"), std::make_pair(std::string("::1"), std::string("80")));
  EXPECT_EQ(SplitHostPort("firm-b.example:0"),
            std::make_pair(std::string("firm-b.example"), std::string("0")));
  for (const char* bad :
       {"", "7421", ":7421", "host:", "host:65536", "host:12a", "::1:80", "[::1:80", "[]:80"})
    EXPECT_FALSE(SplitHostPort(bad)) << bad;
}

}  // namespace
}  // namespace keiretsu::net
