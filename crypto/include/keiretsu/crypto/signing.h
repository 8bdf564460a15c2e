// Ed25519 identities (libsodium): a firm's key pair, signing, verification.
//
// A firm is its Ed25519 public key. The secret key lives only in a
// SecureBuffer (locked, guarded, wiped) inside a SigningKey and never leaves
// it; callers sign through SigningKey::Sign.
#pragma once

#include <array>
#include <memory>
#include <span>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/secure_buffer.h"

namespace keiretsu::crypto {

using Signature = std::array<uint8_t, 64>;
inline constexpr size_t kSeedSize = 32;

class SigningKey {
 public:
  // A new key pair from the operating system's randomness.
  static SigningKey Generate();
  // The key pair determined by a 32-byte seed (RFC 8032 "secret key").
  // REQUIRES: seed.size() == kSeedSize.
  static SigningKey FromSeed(std::span<const uint8_t> seed);

  SigningKey(SigningKey&&) noexcept = default;
  SigningKey& operator=(SigningKey&&) noexcept = default;

  const PublicKey& public_key() const { return public_key_; }
  // Ed25519 signature of `message`. Thread-safe (the key is only read).
  Signature Sign(ByteView message) const;
  // The 32-byte seed, for writing a key file. Stays in secure memory.
  const SecureBuffer& seed() const { return seed_; }

 private:
  SigningKey(SecureBuffer seed, SecureBuffer secret, PublicKey pk)
      : seed_(std::move(seed)), secret_(std::move(secret)), public_key_(pk) {}
  SecureBuffer seed_;    // 32 bytes
  SecureBuffer secret_;  // 64 bytes: libsodium's expanded secret key
  PublicKey public_key_;
};

// True when `pk` encodes a point on the main subgroup that is not of small
// order: the only keys that can sign anything under strict verification.
// Genesis refuses other member keys, so no lax verifier elsewhere can be
// fooled into accepting a forgery in a member's name.
bool IsValidPublicKey(const PublicKey& pk);

// True when `sig` is a valid Ed25519 signature of `message` by `pk`
// (libsodium's strict checks: canonical S, no small-order keys or R).
// Thread-safe; the hot path of ingest.
bool Verify(const PublicKey& pk, ByteView message, const Signature& sig);

// Fills `out` with bytes from the operating system's randomness (libsodium
// randombytes_buf). Thread-safe.
void RandomBytes(std::span<uint8_t> out);

}  // namespace keiretsu::crypto
