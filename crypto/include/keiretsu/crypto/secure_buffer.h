// SecureBuffer: a fixed-size buffer for secrets (secret keys, session keys,
// handshake state), held in libsodium guarded memory: locked into RAM (never
// swapped), fenced by guard pages, and wiped when freed.
//
// Ownership: a SecureBuffer owns its memory; it moves but never copies, so a
// secret has exactly one home. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace keiretsu::crypto {

class SecureBuffer {
 public:
  // Allocates `size` zeroed bytes. Aborts if guarded memory cannot be had
  // (the process must not go on holding secrets in ordinary memory).
  explicit SecureBuffer(size_t size);
  ~SecureBuffer();
  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<uint8_t> span() { return {data_, size_}; }
  std::span<const uint8_t> span() const { return {data_, size_}; }

  // Overwrites the contents with zeros (the buffer stays allocated).
  void Wipe();

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Initialises libsodium once; safe to call from any thread, any number of
// times. Every crypto entry point calls it, so callers need not.
void EnsureSodium();

}  // namespace keiretsu::crypto
