#include "keiretsu/crypto/signing.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace keiretsu::crypto {

static_assert(crypto_sign_SEEDBYTES == kSeedSize);
static_assert(crypto_sign_BYTES == 64);
static_assert(crypto_sign_PUBLICKEYBYTES == 32);

SigningKey SigningKey::Generate() {
  EnsureSodium();
  SecureBuffer seed(kSeedSize);
  randombytes_buf(seed.data(), seed.size());
  return FromSeed(seed.span());
}

SigningKey SigningKey::FromSeed(std::span<const uint8_t> seed_bytes) {
  EnsureSodium();
  if (seed_bytes.size() != kSeedSize) std::abort();  // REQUIRES violated
  SecureBuffer seed(kSeedSize);
  std::memcpy(seed.data(), seed_bytes.data(), kSeedSize);
  SecureBuffer secret(crypto_sign_SECRETKEYBYTES);
  PublicKey pk;
  crypto_sign_seed_keypair(pk.bytes.data(), secret.data(), seed.data());
  return SigningKey(std::move(seed), std::move(secret), pk);
}

Signature SigningKey::Sign(ByteView message) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool IsValidPublicKey(const PublicKey& pk) {
  EnsureSodium();
  return crypto_core_ed25519_is_valid_point(pk.bytes.data()) == 1;
}

bool Verify(const PublicKey& pk, ByteView message, const Signature& sig) {
  EnsureSodium();
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), pk.bytes.data()) ==
         0;
}

void RandomBytes(std::span<uint8_t> out) {
  EnsureSodium();
  randombytes_buf(out.data(), out.size());
}

}  // namespace keiretsu::crypto
