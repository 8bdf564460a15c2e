// The Noise building blocks below the handshake (Noise spec rev. 34,
// sections 4 and 5.1): the hash functions with their HMAC and HKDF, X25519,
// and the CipherState over ChaChaPoly. Private to the crypto module; the
// tests include it to run the published vectors and to reach corners (nonce
// exhaustion) that the public API keeps out of reach.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/noise.h"
#include "keiretsu/crypto/secure_buffer.h"

namespace keiretsu::crypto::noise_internal {

inline constexpr size_t kKeySize = 32;  // ChaChaPoly key
inline constexpr size_t kDhSize = 32;   // X25519 public key and shared secret
inline constexpr size_t kMaxHashLen = 64;
inline constexpr size_t kMaxBlockLen = 128;
// The reserved nonce: never used to encrypt a message (spec 5.1), only as
// the nonce of REKEY.
inline constexpr uint64_t kMaxNonce = UINT64_MAX;

// One of the spec's HASH functions. BLAKE2b is keiretsu's; SHA256 and
// SHA512 come nearly free from libsodium and let the tests run more of the
// published vectors.
class HashFn {
 public:
  enum class Kind { kBlake2b, kSha256, kSha512 };
  explicit HashFn(Kind kind) : kind_(kind) {}
  // "BLAKE2b", "SHA256" or "SHA512"; nullopt for anything else.
  static std::optional<HashFn> FromName(std::string_view name);

  size_t hash_len() const { return kind_ == Kind::kSha256 ? 32 : 64; }
  size_t block_len() const { return kind_ == Kind::kSha256 ? 64 : 128; }

  // HASH(a || b) into out[0, hash_len()).
  void Hash(ByteView a, ByteView b, uint8_t* out) const;
  // HMAC-HASH(key, a || b) into out[0, hash_len()) (RFC 2104). `scratch`
  // is secure memory of at least block_len() + hash_len() bytes for the
  // key-derived intermediates; passing it in keeps an HKDF to one
  // allocation of guarded memory instead of seven.
  void Hmac(ByteView key, ByteView a, ByteView b, uint8_t* out, uint8_t* scratch) const;
  // HKDF(chaining_key, ikm, num_outputs) as the spec defines it (section
  // 4.3): writes num_outputs (2 or 3) outputs of hash_len() bytes each,
  // back to back, into `out` (which must hold 3 * hash_len() bytes).
  void Hkdf(ByteView chaining_key, ByteView ikm, int num_outputs, SecureBuffer* out) const;

 private:
  Kind kind_;
};

// DH(private, public) for X25519 into out (32 bytes). Fails when the result
// is all zeros, which is what a low-order public key yields: continuing
// would mix a value any attacker can predict into the keys.
Status X25519(const SecureBuffer& private_key, const X25519Public& public_key, SecureBuffer* out);

// The spec's CipherState: a ChaChaPoly key (or none) and a 64-bit nonce.
// With no key, EncryptWithAd/DecryptWithAd pass the data through.
class CipherState {
 public:
  CipherState() : k_(kKeySize) {}
  CipherState(CipherState&&) noexcept = default;
  CipherState& operator=(CipherState&&) noexcept = default;

  // Sets the key to key[0, 32) and the nonce to 0.
  void InitializeKey(const uint8_t* key);
  bool HasKey() const { return has_key_; }
  void SetNonce(uint64_t n) { n_ = n; }
  uint64_t nonce() const { return n_; }

  // ENCRYPT(k, n++, ad, plaintext). Errors: kInvalidArgument if the result
  // would exceed kNoiseMaxMessageSize; kResourceExhausted once n reached
  // 2^64-1 (the spec's "further calls signal an error").
  Result<Bytes> EncryptWithAd(ByteView ad, ByteView plaintext);
  // DECRYPT(k, n, ad, ciphertext); n advances only on success (spec 5.1).
  // Errors: kCorruption (too short, or the tag does not verify; the message
  // says which), kInvalidArgument (over kNoiseMaxMessageSize),
  // kResourceExhausted (as above).
  Result<Bytes> DecryptWithAd(ByteView ad, ByteView ciphertext);
  // k = REKEY(k): the first 32 bytes of ENCRYPT(k, 2^64-1, "", 32 zeros).
  // The nonce is left alone, as the spec says. No-op without a key.
  void Rekey();

 private:
  SecureBuffer k_;
  bool has_key_ = false;
  uint64_t n_ = 0;
};

}  // namespace keiretsu::crypto::noise_internal
