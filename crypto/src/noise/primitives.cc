#include "primitives.h"

#include <sodium.h>

#include <array>
#include <cstring>
#include <string>

namespace keiretsu::crypto::noise_internal {
namespace {

static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeySize);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kNoiseTagSize);
static_assert(crypto_scalarmult_BYTES == kDhSize);
static_assert(crypto_scalarmult_SCALARBYTES == kDhSize);

// One incremental hash of any of the three kinds. The state is wiped on
// destruction: inside HMAC it is a function of the key.
class Hasher {
 public:
  explicit Hasher(HashFn::Kind kind) : kind_(kind) {
    switch (kind_) {
      case HashFn::Kind::kBlake2b: crypto_generichash_init(&st_.b2, nullptr, 0, 64); break;
      case HashFn::Kind::kSha256: crypto_hash_sha256_init(&st_.s256); break;
      case HashFn::Kind::kSha512: crypto_hash_sha512_init(&st_.s512); break;
    }
  }
  ~Hasher() { sodium_memzero(&st_, sizeof st_); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(ByteView d) {
    if (d.empty()) return;  // libsodium wants a non-null pointer
    switch (kind_) {
      case HashFn::Kind::kBlake2b: crypto_generichash_update(&st_.b2, d.data(), d.size()); break;
      case HashFn::Kind::kSha256: crypto_hash_sha256_update(&st_.s256, d.data(), d.size()); break;
      case HashFn::Kind::kSha512: crypto_hash_sha512_update(&st_.s512, d.data(), d.size()); break;
    }
  }
  void Final(uint8_t* out) {
    switch (kind_) {
      case HashFn::Kind::kBlake2b: crypto_generichash_final(&st_.b2, out, 64); break;
      case HashFn::Kind::kSha256: crypto_hash_sha256_final(&st_.s256, out); break;
      case HashFn::Kind::kSha512: crypto_hash_sha512_final(&st_.s512, out); break;
    }
  }

 private:
  HashFn::Kind kind_;
  union {
    crypto_generichash_state b2;
    crypto_hash_sha256_state s256;
    crypto_hash_sha512_state s512;
  } st_;
};

// The 96-bit ChaChaPoly nonce of the spec (section 12.3): 32 zero bits,
// then the 64-bit counter little-endian.
std::array<uint8_t, 12> ChaChaNonce(uint64_t n) {
  std::array<uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(n >> (8 * i));
  return nonce;
}

}  // namespace

std::optional<HashFn> HashFn::FromName(std::string_view name) {
  if (name == "BLAKE2b") return HashFn(Kind::kBlake2b);
  if (name == "SHA256") return HashFn(Kind::kSha256);
  if (name == "SHA512") return HashFn(Kind::kSha512);
  return std::nullopt;
}

void HashFn::Hash(ByteView a, ByteView b, uint8_t* out) const {
  Hasher h(kind_);
  h.Update(a);
  h.Update(b);
  h.Final(out);
}

void HashFn::Hmac(ByteView key, ByteView a, ByteView b, uint8_t* out, uint8_t* scratch) const {
  const size_t block = block_len();
  uint8_t* pad = scratch;            // block bytes: K0 ^ ipad, then K0 ^ opad
  uint8_t* inner = scratch + block;  // hash_len() bytes
  // K0: the key zero-padded to a block (hashed first if longer, which the
  // Noise keys never are, but HMAC says so).
  std::memset(pad, 0, block);
  if (key.size() > block) {
    Hash(key, {}, pad);
  } else if (!key.empty()) {
    std::memcpy(pad, key.data(), key.size());
  }
  for (size_t i = 0; i < block; ++i) pad[i] ^= 0x36;
  {
    Hasher h(kind_);
    h.Update({pad, block});
    h.Update(a);
    h.Update(b);
    h.Final(inner);
  }
  for (size_t i = 0; i < block; ++i) pad[i] ^= 0x36 ^ 0x5c;
  Hasher h(kind_);
  h.Update({pad, block});
  h.Update({inner, hash_len()});
  h.Final(out);
}

void HashFn::Hkdf(ByteView chaining_key, ByteView ikm, int num_outputs, SecureBuffer* out) const {
  const size_t len = hash_len();
  // temp_key, then the HMAC scratch area.
  SecureBuffer work(kMaxHashLen + kMaxBlockLen + kMaxHashLen);
  uint8_t* temp_key = work.data();
  uint8_t* scratch = work.data() + kMaxHashLen;
  Hmac(chaining_key, ikm, {}, temp_key, scratch);
  const ByteView tk(temp_key, len);
  // output_i = HMAC(temp_key, output_{i-1} || byte(i)), output_0 empty.
  ByteView previous;
  for (int i = 1; i <= num_outputs; ++i) {
    const uint8_t counter = static_cast<uint8_t>(i);
    uint8_t* dst = out->data() + (static_cast<size_t>(i) - 1) * len;
    Hmac(tk, previous, ByteView(&counter, 1), dst, scratch);
    previous = ByteView(dst, len);
  }
}

Status X25519(const SecureBuffer& private_key, const X25519Public& public_key, SecureBuffer* out) {
  EnsureSodium();
  if (crypto_scalarmult(out->data(), private_key.data(), public_key.bytes.data()) != 0) {
    out->Wipe();
    return Unauthenticated("low-order X25519 public key (the shared secret would be zero)");
  }
  return Status::Ok();
}

void CipherState::InitializeKey(const uint8_t* key) {
  std::memcpy(k_.data(), key, kKeySize);
  has_key_ = true;
  n_ = 0;
}

Result<Bytes> CipherState::EncryptWithAd(ByteView ad, ByteView plaintext) {
  if (!has_key_) {
    if (plaintext.size() > kNoiseMaxMessageSize)
      return InvalidArgument("Noise message longer than 65535 bytes");
    return Bytes(plaintext.begin(), plaintext.end());
  }
  if (n_ == kMaxNonce)
    return ResourceExhausted("Noise nonce space exhausted; a new handshake is needed");
  if (plaintext.size() > kNoiseMaxMessageSize - kNoiseTagSize)
    return InvalidArgument("Noise message longer than 65535 bytes");
  Bytes out(plaintext.size() + kNoiseTagSize);
  const auto nonce = ChaChaNonce(n_);
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), nullptr, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, nonce.data(), k_.data());
  ++n_;
  return out;
}

Result<Bytes> CipherState::DecryptWithAd(ByteView ad, ByteView ciphertext) {
  if (ciphertext.size() > kNoiseMaxMessageSize)
    return InvalidArgument("Noise message longer than 65535 bytes");
  if (!has_key_) return Bytes(ciphertext.begin(), ciphertext.end());
  if (n_ == kMaxNonce)
    return ResourceExhausted("Noise nonce space exhausted; a new handshake is needed");
  if (ciphertext.size() < kNoiseTagSize)
    return Corruption("ciphertext of " + std::to_string(ciphertext.size()) +
                      " bytes is shorter than its 16-byte tag (truncated)");
  Bytes out(ciphertext.size() - kNoiseTagSize);
  uint8_t empty_sink = 0;  // libsodium's output pointer for an empty plaintext
  const auto nonce = ChaChaNonce(n_);
  if (crypto_aead_chacha20poly1305_ietf_decrypt(
          out.empty() ? &empty_sink : out.data(), nullptr, nullptr, ciphertext.data(),
          ciphertext.size(), ad.data(), ad.size(), nonce.data(), k_.data()) != 0) {
    return Corruption("ciphertext failed authentication");
  }
  ++n_;
  return out;
}

void CipherState::Rekey() {
  if (!has_key_) return;
  const uint8_t zeros[kKeySize] = {};
  SecureBuffer next(kKeySize + kNoiseTagSize);
  const auto nonce = ChaChaNonce(kMaxNonce);
  crypto_aead_chacha20poly1305_ietf_encrypt(next.data(), nullptr, zeros, kKeySize, nullptr, 0,
                                            nullptr, nonce.data(), k_.data());
  std::memcpy(k_.data(), next.data(), kKeySize);
}

}  // namespace keiretsu::crypto::noise_internal
