// NoiseHandshake: round trips, and every way a handshake must fail — wrong
// network, tampering, truncation, replay, low-order keys, misuse.
#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <vector>

#include "handshake_state.h"
#include "keiretsu/crypto/noise.h"
#include "keiretsu/crypto/signing.h"

namespace keiretsu::crypto {
namespace {

// A domain tag and a 32-byte network id, as keiretsu builds it.
Bytes Prologue(uint8_t network) {
  const std::string tag = "keiretsu-noise-v1";
  Bytes p(tag.begin(), tag.end());
  p.resize(tag.size() + 32, network);
  return p;
}
Bytes Psk(uint8_t fill) {
  return Bytes(kNoisePskSize, fill);
}

X25519KeyPair Copy(const X25519KeyPair& k) {
  return X25519KeyPair::FromPrivate(k.private_key().span()).value();
}

// Two sides and the transcript of their handshake.
struct Session {
  X25519KeyPair is = X25519KeyPair::Generate();
  X25519KeyPair rs = X25519KeyPair::Generate();
  std::optional<NoiseHandshake> init, resp;
  Bytes msg[3];

  explicit Session(const Bytes& iprologue = Prologue(1), const Bytes& rprologue = Prologue(1),
                   const Bytes& ipsk = Psk(7), const Bytes& rpsk = Psk(7)) {
    init.emplace(NoiseHandshake::Initiator(is, iprologue, ipsk).value());
    resp.emplace(NoiseHandshake::Responder(rs, rprologue, rpsk).value());
  }
  // Runs messages [0, n) untouched; returns the first error.
  Status Run(int n) {
    for (int i = 0; i < n; ++i) {
      NoiseHandshake& w = i % 2 == 0 ? *init : *resp;
      NoiseHandshake& r = i % 2 == 0 ? *resp : *init;
      auto m = w.WriteMessage(AsBytes("payload " + std::to_string(i + 1)));
      if (!m.ok()) return m.status();
      msg[i] = *m;
      auto p = r.ReadMessage(*m);
      if (!p.ok()) return p.status();
    }
    return Status::Ok();
  }
  NoiseHandshake& Writer(int i) { return i % 2 == 0 ? *init : *resp; }
  NoiseHandshake& Reader(int i) { return i % 2 == 0 ? *resp : *init; }
};

TEST(NoiseHandshake, RoundTripWithEd25519Identities) {
  SigningKey alice = SigningKey::Generate(), bob = SigningKey::Generate();
  X25519KeyPair a = X25519FromSigningKey(alice), b = X25519FromSigningKey(bob);
  // Each side can compute the other's expected static key from its identity.
  ASSERT_EQ(X25519FromEd25519Public(alice.public_key()).value(), a.public_key());
  ASSERT_EQ(X25519FromEd25519Public(bob.public_key()).value(), b.public_key());
  // Deterministic: the same seed gives the same static key.
  EXPECT_EQ(X25519FromSigningKey(SigningKey::FromSeed(alice.seed().span())).public_key(),
            a.public_key());

  auto init = NoiseHandshake::Initiator(a, Prologue(1), Psk(9)).value();
  auto resp = NoiseHandshake::Responder(b, Prologue(1), Psk(9)).value();
  EXPECT_TRUE(init.is_initiator() && init.writes_next());
  EXPECT_FALSE(resp.is_initiator() || resp.writes_next());

  auto m1 = init.WriteMessage(AsBytes("hello")).value();
  EXPECT_EQ(m1.size(), 32 + 5 + 16u);  // e, encrypted payload
  EXPECT_EQ(AsChars(resp.ReadMessage(m1).value()), "hello");
  EXPECT_FALSE(resp.remote_static().has_value());
  auto m2 = resp.WriteMessage(bob.public_key().View()).value();
  EXPECT_EQ(m2.size(), 32 + 48 + 32 + 16u);  // e, encrypted s, payload
  auto p2 = init.ReadMessage(m2).value();
  ASSERT_EQ(init.remote_static(), b.public_key());
  // The payload names an identity; the initiator checks it against rs.
  PublicKey claimed;
  std::copy(p2.begin(), p2.end(), claimed.bytes.begin());
  EXPECT_EQ(X25519FromEd25519Public(claimed).value(), *init.remote_static());
  auto m3 = init.WriteMessage(alice.public_key().View()).value();
  EXPECT_EQ(m3.size(), 48 + 32 + 16u);  // encrypted s, payload
  auto p3 = resp.ReadMessage(m3).value();
  ASSERT_EQ(resp.remote_static(), a.public_key());
  std::copy(p3.begin(), p3.end(), claimed.bytes.begin());
  EXPECT_EQ(X25519FromEd25519Public(claimed).value(), *resp.remote_static());

  ASSERT_TRUE(init.complete() && resp.complete());
  EXPECT_FALSE(init.writes_next() || resp.writes_next());
  EXPECT_EQ(init.handshake_hash().size(), 64u);
  EXPECT_EQ(init.handshake_hash(), resp.handshake_hash());

  auto ic = init.Split().value();
  auto rc = resp.Split().value();
  auto c = ic.send.Encrypt(AsBytes("to bob")).value();
  EXPECT_EQ(AsChars(rc.receive.Decrypt(c).value()), "to bob");
  c = rc.send.Encrypt(AsBytes("to alice")).value();
  EXPECT_EQ(AsChars(ic.receive.Decrypt(c).value()), "to alice");
  // A direction's key is not the other direction's.
  c = ic.send.Encrypt(AsBytes("x")).value();
  EXPECT_FALSE(ic.receive.Decrypt(c).ok());
}

TEST(NoiseHandshake, SessionsDifferEachTime) {
  Session a, b;
  ASSERT_TRUE(a.Run(3).ok());
  ASSERT_TRUE(b.Run(3).ok());
  EXPECT_NE(a.msg[0], b.msg[0]);  // fresh ephemeral keys
  EXPECT_NE(a.init->handshake_hash(), b.init->handshake_hash());
}

TEST(NoiseHandshake, WrongPrologueFailsAtMessageOne) {
  // psk0 keys message 1, and its tag covers h, which covers the prologue:
  // a peer of another network is refused before anyone reveals a static key.
  Session s(Prologue(1), Prologue(2));
  Status st = s.Run(1);
  EXPECT_EQ(st.code(), Code::kUnauthenticated) << st.ToString();
  EXPECT_NE(st.message().find("handshake message 1 failed authentication"), std::string::npos)
      << st.message();
  // The failed responder is dead: it will not send message 2 (its static key).
  EXPECT_TRUE(s.resp->failed());
  EXPECT_EQ(s.resp->WriteMessage({}).status().code(), Code::kFailedPrecondition);
}

TEST(NoiseHandshake, WrongPrologueFailsEvenWithEmptyPayload) {
  auto is = X25519KeyPair::Generate(), rs = X25519KeyPair::Generate();
  auto init = NoiseHandshake::Initiator(is, Prologue(1), Psk(7)).value();
  auto resp = NoiseHandshake::Responder(rs, Prologue(2), Psk(7)).value();
  auto m1 = init.WriteMessage({}).value();
  EXPECT_EQ(m1.size(), 48u);  // the 16-byte tag is there even with no payload
  EXPECT_EQ(resp.ReadMessage(m1).status().code(), Code::kUnauthenticated);
}

TEST(NoiseHandshake, WrongPskFailsAtMessageOne) {
  Session s(Prologue(1), Prologue(1), Psk(7), Psk(8));
  Status st = s.Run(1);
  EXPECT_EQ(st.code(), Code::kUnauthenticated) << st.ToString();
  EXPECT_NE(st.message().find("handshake message 1"), std::string::npos);
}

TEST(NoiseHandshake, TamperedByteInEachMessageIsRefused) {
  for (int m = 0; m < 3; ++m) {
    const size_t sizes[] = {32 + 7 + 16, 32 + 48 + 7 + 16, 48 + 7 + 16};
    for (size_t pos = 0; pos < sizes[m]; ++pos) {
      Session s;
      ASSERT_TRUE(s.Run(m).ok());
      Bytes msg = s.Writer(m).WriteMessage(AsBytes("payload")).value();
      ASSERT_EQ(msg.size(), sizes[m]);
      msg[pos] ^= 0x01;
      Status st = s.Reader(m).ReadMessage(msg).status();
      EXPECT_EQ(st.code(), Code::kUnauthenticated)
          << "message " << m + 1 << " byte " << pos << ": " << st.ToString();
      EXPECT_NE(st.message().find("handshake message " + std::to_string(m + 1)), std::string::npos);
    }
  }
}

TEST(NoiseHandshake, TruncatedOrExtendedMessagesAreRefused) {
  for (int m = 0; m < 3; ++m) {
    Session probe;
    ASSERT_TRUE(probe.Run(m + 1).ok());
    const Bytes full = probe.msg[m];
    for (size_t len = 0; len <= full.size(); ++len) {
      Session s;
      ASSERT_TRUE(s.Run(m).ok());
      Bytes msg = s.Writer(m).WriteMessage(AsBytes("payload " + std::to_string(m + 1))).value();
      if (len < msg.size()) {
        msg.resize(len);
      } else {
        msg.push_back(0);  // one byte too many
      }
      Status st = s.Reader(m).ReadMessage(msg).status();
      EXPECT_TRUE(st.code() == Code::kInvalidArgument || st.code() == Code::kUnauthenticated)
          << "message " << m + 1 << " length " << msg.size() << ": " << st.ToString();
    }
  }
}

TEST(NoiseHandshake, ReplayedMessageOneNeverCompletes) {
  Session original;
  ASSERT_TRUE(original.Run(3).ok());
  // Anyone can replay message 1 to a fresh responder: it cannot tell, and
  // answers with message 2 under its own fresh ephemeral key...
  auto rs2 = X25519KeyPair::Generate();
  auto resp2 = NoiseHandshake::Responder(rs2, Prologue(1), Psk(7)).value();
  ASSERT_TRUE(resp2.ReadMessage(original.msg[0]).ok());
  auto m2 = resp2.WriteMessage({}).value();
  EXPECT_NE(m2, original.msg[1]);
  // ...but message 3 needs ee with the initiator's ephemeral private key, so
  // neither the recorded message 3 nor anything else completes it.
  EXPECT_EQ(resp2.ReadMessage(original.msg[2]).status().code(), Code::kUnauthenticated);
  EXPECT_FALSE(resp2.complete());
  EXPECT_FALSE(resp2.remote_static().has_value());
  EXPECT_EQ(resp2.Split().status().code(), Code::kFailedPrecondition);
  // And the finished initiator takes no more handshake messages.
  EXPECT_EQ(original.init->ReadMessage(m2).status().code(), Code::kFailedPrecondition);
}

// Low-order points of Curve25519 (libsodium's list, incl. non-canonical u).
const char* const kLowOrder[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

TEST(NoiseHandshake, LowOrderEphemeralInMessageTwoIsRefused) {
  for (const char* hex : kLowOrder) {
    Session s;
    ASSERT_TRUE(s.Run(1).ok());
    Bytes m2 = FromHex(hex).value();
    m2.resize(32 + 48 + 16, 0xAB);
    Status st = s.init->ReadMessage(m2).status();
    EXPECT_EQ(st.code(), Code::kUnauthenticated) << hex;
    EXPECT_NE(st.message().find("remote ephemeral key is a low-order"), std::string::npos)
        << st.message();
  }
}

// A psk holder speaking the protocol by hand with the internal
// SymmetricState, so it can send keys no honest party would.
struct HandInitiator {
  noise_internal::Protocol protocol = noise_internal::ParseProtocolName(kNoiseProtocolName).value();
  noise_internal::SymmetricState ss{protocol};
  X25519KeyPair e = X25519KeyPair::Generate();

  Bytes Message1(ByteView e_pub, ByteView prologue, ByteView psk) {
    ss.MixHash(prologue);
    ss.MixKeyAndHash(psk);
    ss.MixHash(e_pub);
    ss.MixKey(e_pub);
    Bytes out(e_pub.begin(), e_pub.end());
    Bytes ct = ss.EncryptAndHash({}).value();
    out.insert(out.end(), ct.begin(), ct.end());
    return out;
  }
};

TEST(NoiseHandshake, HandInitiatorMatchesTheRealOne) {
  // Checks the helper: with a real key it writes what NoiseHandshake writes.
  HandInitiator hand;
  auto s = X25519KeyPair::Generate();
  auto real = NoiseHandshake::ForTest(true, s, hand.e, Prologue(1), Psk(7)).value();
  EXPECT_EQ(hand.Message1(hand.e.public_key().View(), Prologue(1), Psk(7)),
            real.WriteMessage({}).value());
}

TEST(NoiseHandshake, LowOrderEphemeralInMessageOneIsRefused) {
  for (const char* hex : kLowOrder) {
    HandInitiator hand;
    const Bytes bad_e = FromHex(hex).value();
    Bytes m1 = hand.Message1(bad_e, Prologue(1), Psk(7));
    auto rs = X25519KeyPair::Generate();
    auto resp = NoiseHandshake::Responder(rs, Prologue(1), Psk(7)).value();
    // Message 1 has no DH, so it reads; the first DH with it (ee, when
    // writing message 2) refuses, before the static key is encrypted.
    ASSERT_TRUE(resp.ReadMessage(m1).ok()) << hex;
    Status st = resp.WriteMessage({}).status();
    EXPECT_EQ(st.code(), Code::kUnauthenticated) << hex;
    EXPECT_NE(st.message().find("remote ephemeral key is a low-order"), std::string::npos);
    EXPECT_TRUE(resp.failed());
  }
}

TEST(NoiseHandshake, LowOrderStaticInMessageThreeIsRefused) {
  for (const char* hex : kLowOrder) {
    HandInitiator hand;
    auto rs = X25519KeyPair::Generate();
    auto resp = NoiseHandshake::Responder(rs, Prologue(1), Psk(7)).value();
    ASSERT_TRUE(
        resp.ReadMessage(hand.Message1(hand.e.public_key().View(), Prologue(1), Psk(7))).ok());
    Bytes m2 = resp.WriteMessage({}).value();
    // Read message 2 by hand: e, ee, s, es, payload.
    X25519Public re, their_s;
    std::copy(m2.begin(), m2.begin() + 32, re.bytes.begin());
    hand.ss.MixHash(re.View());
    hand.ss.MixKey(re.View());
    SecureBuffer dh(32);
    ASSERT_TRUE(noise_internal::X25519(hand.e.private_key(), re, &dh).ok());
    hand.ss.MixKey(dh.span());
    Bytes s_plain = hand.ss.DecryptAndHash(ByteView(m2).subspan(32, 48)).value();
    std::copy(s_plain.begin(), s_plain.end(), their_s.bytes.begin());
    ASSERT_EQ(their_s, rs.public_key());
    ASSERT_TRUE(noise_internal::X25519(hand.e.private_key(), their_s, &dh).ok());
    hand.ss.MixKey(dh.span());
    ASSERT_TRUE(hand.ss.DecryptAndHash(ByteView(m2).subspan(80)).ok());
    // Message 3 with a low-order static key: correctly encrypted, so only
    // the se DH can catch it.
    Bytes m3 = hand.ss.EncryptAndHash(FromHex(hex).value()).value();
    m3.resize(m3.size() + 16, 0);
    Status st = resp.ReadMessage(m3).status();
    EXPECT_EQ(st.code(), Code::kUnauthenticated) << hex;
    EXPECT_NE(st.message().find("remote static key is a low-order"), std::string::npos)
        << st.message();
    EXPECT_FALSE(resp.complete());
    // The key was decrypted before se failed; it must not be offered.
    EXPECT_FALSE(resp.remote_static().has_value());
  }
}

TEST(NoiseHandshake, MisuseIsRefused) {
  auto k = X25519KeyPair::Generate();
  EXPECT_EQ(NoiseHandshake::Initiator(k, {}, Bytes(31)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(NoiseHandshake::Responder(k, {}, Bytes(33)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(X25519KeyPair::FromPrivate(Bytes(31)).status().code(), Code::kInvalidArgument);

  Session s;
  EXPECT_EQ(s.resp->WriteMessage({}).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.init->ReadMessage(Bytes(48)).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.init->Split().status().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(s.Run(3).ok());  // out-of-turn calls did not spoil the sessions
  EXPECT_EQ(s.init->WriteMessage({}).status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(s.init->Split().ok());
  EXPECT_EQ(s.init->Split().status().code(), Code::kFailedPrecondition);
}

TEST(NoiseHandshake, MessageSizeLimitIsEnforced) {
  Session s;
  // Message 1 is e (32) + payload + tag (16): 65487 bytes of payload fit.
  auto m1 = s.init->WriteMessage(Bytes(65487, 1));
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  EXPECT_EQ(m1->size(), kNoiseMaxMessageSize);
  ASSERT_TRUE(s.resp->ReadMessage(*m1).ok());
  Session big;
  EXPECT_EQ(big.init->WriteMessage(Bytes(65488, 1)).status().code(), Code::kInvalidArgument);
  Session huge;
  EXPECT_EQ(huge.init->WriteMessage(Bytes(1 << 20, 1)).status().code(), Code::kInvalidArgument);
  Session in;
  ASSERT_TRUE(in.init->WriteMessage({}).ok());
  EXPECT_EQ(in.resp->ReadMessage(Bytes(65536, 0)).status().code(), Code::kInvalidArgument);
  // Message 2 and 3 limits as documented in noise.h.
  Session m2;
  ASSERT_TRUE(m2.Run(1).ok());
  EXPECT_EQ(m2.resp->WriteMessage(Bytes(65439, 0)).value().size(), kNoiseMaxMessageSize);
  Session m3;
  ASSERT_TRUE(m3.Run(2).ok());
  EXPECT_EQ(m3.init->WriteMessage(Bytes(65471, 0)).value().size(), kNoiseMaxMessageSize);
}

TEST(NoiseKeys, Ed25519ConversionRefusesBadPoints) {
  PublicKey zero;  // (0, y=0) has small order
  EXPECT_EQ(X25519FromEd25519Public(zero).status().code(), Code::kInvalidArgument);
  PublicKey identity;  // y = 1: the neutral element
  identity.bytes[0] = 1;
  EXPECT_FALSE(X25519FromEd25519Public(identity).ok());
  SigningKey k = SigningKey::Generate();
  EXPECT_TRUE(X25519FromEd25519Public(k.public_key()).ok());
}

TEST(NoiseKeys, StaticKeyIsTheClampedEd25519Scalar) {
  // As docs/noise-transport.md states: SHA-512(seed)[0..32), clamped.
  SigningKey k = SigningKey::Generate();
  uint8_t h[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(h, k.seed().data(), kSeedSize);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  X25519KeyPair x = X25519FromSigningKey(k);
  EXPECT_EQ(Bytes(x.private_key().data(), x.private_key().data() + 32), Bytes(h, h + 32));
  uint8_t pub[32];
  ASSERT_EQ(crypto_scalarmult_base(pub, h), 0);
  EXPECT_EQ(Bytes(x.public_key().bytes.begin(), x.public_key().bytes.end()), Bytes(pub, pub + 32));
}

TEST(NoiseKeys, FromPrivateIsDeterministic) {
  auto a = X25519KeyPair::Generate();
  auto b = Copy(a);
  EXPECT_EQ(a.public_key(), b.public_key());
  EXPECT_NE(a.public_key(), X25519KeyPair::Generate().public_key());
}

}  // namespace
}  // namespace keiretsu::crypto
