#include "keiretsu/crypto/secure_buffer.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace keiretsu::crypto {

void EnsureSodium() {
  // sodium_init is itself thread-safe and idempotent; a static makes the
  // common path a load.
  static const bool ready = [] {
    if (sodium_init() < 0) {
      std::fputs("keiretsu: libsodium failed to initialise\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)ready;
}

SecureBuffer::SecureBuffer(size_t size) : size_(size) {
  EnsureSodium();
  data_ = static_cast<uint8_t*>(sodium_malloc(size == 0 ? 1 : size));
  if (data_ == nullptr) {
    std::fputs("keiretsu: cannot allocate secure memory for a secret\n", stderr);
    std::abort();
  }
  sodium_memzero(data_, size_);
}

SecureBuffer::~SecureBuffer() {
  if (data_ != nullptr) sodium_free(data_);  // wipes before freeing
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SecureBuffer::Wipe() {
  if (data_ != nullptr) sodium_memzero(data_, size_);
}

}  // namespace keiretsu::crypto
