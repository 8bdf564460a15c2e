#include "keiretsu/crypto/hash.h"

#include <sodium.h>

#include "keiretsu/crypto/secure_buffer.h"

namespace keiretsu::crypto {

Hash32 Blake2b256(ByteView data) {
  EnsureSodium();
  Hash32 out;
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
  return out;
}

struct Blake2b256Hasher::State {
  crypto_generichash_state st;
};

Blake2b256Hasher::Blake2b256Hasher() : state_(std::make_unique<State>()) {
  EnsureSodium();
  crypto_generichash_init(&state_->st, nullptr, 0, 32);
}
Blake2b256Hasher::~Blake2b256Hasher() = default;

void Blake2b256Hasher::Update(ByteView data) {
  crypto_generichash_update(&state_->st, data.data(), data.size());
}

Hash32 Blake2b256Hasher::Final() {
  Hash32 out;
  crypto_generichash_final(&state_->st, out.data(), out.size());
  return out;
}

}  // namespace keiretsu::crypto
