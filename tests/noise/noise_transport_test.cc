// TransportCipher and the CipherState under it: tampering, reordering,
// truncation, rekeying, the nonce encoding and the nonce limit. The
// encodings are checked against libsodium called directly, so a wrong nonce
// layout or REKEY cannot pass by agreeing with itself.
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstring>

#include "keiretsu/crypto/noise.h"
#include "primitives.h"

namespace keiretsu::crypto {
namespace {

using noise_internal::CipherState;

struct Link {
  TransportCiphers a, b;  // a = initiator's, b = responder's
};

Link Connect() {
  auto is = X25519KeyPair::Generate(), rs = X25519KeyPair::Generate();
  const Bytes psk(32, 3), prologue = {1, 2, 3};
  auto init = NoiseHandshake::Initiator(is, prologue, psk).value();
  auto resp = NoiseHandshake::Responder(rs, prologue, psk).value();
  for (int i = 0; i < 3; ++i) {
    NoiseHandshake& w = i % 2 == 0 ? init : resp;
    NoiseHandshake& r = i % 2 == 0 ? resp : init;
    auto m = w.WriteMessage({}).value();
    EXPECT_TRUE(r.ReadMessage(m).ok());
  }
  return Link{init.Split().value(), resp.Split().value()};
}

TEST(NoiseTransport, TamperedCiphertextIsRejectedAndNonceKept) {
  Link l = Connect();
  const Bytes ct = l.a.send.Encrypt(AsBytes("pay 5 to bob")).value();
  ASSERT_EQ(ct.size(), 12 + kNoiseTagSize);
  for (size_t pos = 0; pos < ct.size(); ++pos) {
    Bytes bad = ct;
    bad[pos] ^= 0x80;
    auto r = l.b.receive.Decrypt(bad);
    EXPECT_EQ(r.status().code(), Code::kCorruption) << "byte " << pos;
    EXPECT_EQ(l.b.receive.nonce(), 0u) << "a failure must not advance the nonce";
  }
  EXPECT_EQ(AsChars(l.b.receive.Decrypt(ct).value()), "pay 5 to bob");
  EXPECT_EQ(l.b.receive.nonce(), 1u);
}

TEST(NoiseTransport, ReorderedAndReplayedMessagesAreRejected) {
  Link l = Connect();
  const Bytes m0 = l.a.send.Encrypt(AsBytes("first")).value();
  const Bytes m1 = l.a.send.Encrypt(AsBytes("second")).value();
  Status st = l.b.receive.Decrypt(m1).status();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("transport message 0 failed authentication"), std::string::npos)
      << st.message();
  EXPECT_EQ(AsChars(l.b.receive.Decrypt(m0).value()), "first");
  EXPECT_EQ(l.b.receive.Decrypt(m0).status().code(), Code::kCorruption);  // replay
  EXPECT_EQ(AsChars(l.b.receive.Decrypt(m1).value()), "second");
}

TEST(NoiseTransport, TruncatedMessagesAreRejected) {
  Link l = Connect();
  const Bytes ct = l.a.send.Encrypt(AsBytes("some bytes")).value();
  for (size_t len = 0; len < ct.size(); ++len) {
    auto r = l.b.receive.Decrypt(ByteView(ct).first(len));
    EXPECT_EQ(r.status().code(), Code::kCorruption) << "length " << len;
  }
  EXPECT_TRUE(l.b.receive.Decrypt(ct).ok());
}

TEST(NoiseTransport, EmptyAndMaximalMessages) {
  Link l = Connect();
  auto e = l.a.send.Encrypt({}).value();
  EXPECT_EQ(e.size(), kNoiseTagSize);
  EXPECT_TRUE(l.b.receive.Decrypt(e).value().empty());
  const Bytes big(kNoiseMaxTransportPayload, 0x5a);
  auto c = l.a.send.Encrypt(big).value();
  EXPECT_EQ(c.size(), kNoiseMaxMessageSize);
  EXPECT_EQ(l.b.receive.Decrypt(c).value(), big);
  EXPECT_EQ(l.a.send.Encrypt(Bytes(kNoiseMaxTransportPayload + 1)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(l.b.receive.Decrypt(Bytes(kNoiseMaxMessageSize + 1)).status().code(),
            Code::kInvalidArgument);
}

TEST(NoiseTransport, RekeyKeepsTalkingAndRetiresOldKey) {
  Link l = Connect();
  ASSERT_TRUE(l.b.receive.Decrypt(l.a.send.Encrypt(AsBytes("before")).value()).ok());
  l.a.send.Rekey();
  EXPECT_EQ(l.a.send.nonce(), 1u);  // REKEY keeps n
  const Bytes after = l.a.send.Encrypt(AsBytes("after")).value();
  // The receiver still on the old key cannot read it...
  EXPECT_EQ(l.b.receive.Decrypt(after).status().code(), Code::kCorruption);
  // ...and once it rekeys too (the failure left its nonce alone), it can.
  l.b.receive.Rekey();
  EXPECT_EQ(AsChars(l.b.receive.Decrypt(after).value()), "after");
  // The other direction is unaffected by this direction's rekey.
  ASSERT_TRUE(l.a.receive.Decrypt(l.b.send.Encrypt(AsBytes("back")).value()).ok());
}

// libsodium ChaChaPoly with the nonce built independently.
Bytes Reference(const uint8_t key[32], uint64_t n, ByteView plaintext) {
  uint8_t nonce[12] = {};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(n >> (8 * i));
  Bytes out(plaintext.size() + 16);
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), nullptr, plaintext.data(), plaintext.size(),
                                            nullptr, 0, nullptr, nonce, key);
  return out;
}

TEST(NoiseCipherState, NonceIsFourZeroBytesThenLittleEndianCounter) {
  uint8_t key[32];
  for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i * 7);
  CipherState cs;
  cs.InitializeKey(key);
  EXPECT_EQ(cs.EncryptWithAd({}, AsBytes("abc")).value(), Reference(key, 0, AsBytes("abc")));
  cs.SetNonce(0x0102030405060708ull);
  EXPECT_EQ(cs.EncryptWithAd({}, AsBytes("abc")).value(),
            Reference(key, 0x0102030405060708ull, AsBytes("abc")));
  EXPECT_EQ(cs.nonce(), 0x0102030405060709ull);
}

TEST(NoiseCipherState, RekeyIsEncryptionOfZerosAtMaxNonce) {
  uint8_t key[32];
  for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(255 - i);
  CipherState cs;
  cs.InitializeKey(key);
  cs.SetNonce(5);
  cs.Rekey();
  const uint8_t zeros[32] = {};
  const Bytes k2 = Reference(key, UINT64_MAX, ByteView(zeros, 32));
  EXPECT_EQ(cs.nonce(), 5u);
  EXPECT_EQ(cs.EncryptWithAd({}, AsBytes("x")).value(), Reference(k2.data(), 5, AsBytes("x")));
}

TEST(NoiseCipherState, NonceLimitIsEnforced) {
  uint8_t key[32] = {9};
  CipherState enc, dec;
  enc.InitializeKey(key);
  dec.InitializeKey(key);
  // 2^64-2 is the last usable nonce; 2^64-1 is reserved for REKEY.
  enc.SetNonce(UINT64_MAX - 1);
  dec.SetNonce(UINT64_MAX - 1);
  auto last = enc.EncryptWithAd({}, AsBytes("last"));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(AsChars(dec.DecryptWithAd({}, *last).value()), "last");
  EXPECT_EQ(enc.EncryptWithAd({}, AsBytes("more")).status().code(), Code::kResourceExhausted);
  EXPECT_EQ(dec.DecryptWithAd({}, *last).status().code(), Code::kResourceExhausted);
}

TEST(NoiseCipherState, WithoutKeyDataPassesThrough) {
  CipherState cs;
  EXPECT_FALSE(cs.HasKey());
  EXPECT_EQ(AsChars(cs.EncryptWithAd(AsBytes("ad"), AsBytes("plain")).value()), "plain");
  EXPECT_EQ(cs.nonce(), 0u);
}

}  // namespace
}  // namespace keiretsu::crypto
