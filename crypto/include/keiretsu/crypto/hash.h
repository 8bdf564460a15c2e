// BLAKE2b-256 (libsodium crypto_generichash, 32-byte output, no key): the
// one hash keiretsu uses for entry ids, network ids and state digests.
#pragma once

#include <memory>

#include "keiretsu/common/bytes.h"

namespace keiretsu::crypto {

// BLAKE2b-256 of `data`.
Hash32 Blake2b256(ByteView data);

// Incremental BLAKE2b-256, for digests over many pieces.
class Blake2b256Hasher {
 public:
  Blake2b256Hasher();
  ~Blake2b256Hasher();
  Blake2b256Hasher(const Blake2b256Hasher&) = delete;
  Blake2b256Hasher& operator=(const Blake2b256Hasher&) = delete;

  void Update(ByteView data);
  // REQUIRES: called once; the hasher is spent afterwards.
  Hash32 Final();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace keiretsu::crypto
