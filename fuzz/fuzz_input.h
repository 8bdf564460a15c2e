// Shared by the handshake fuzzers: how a fuzz input becomes a handshake
// message, and the one property every stage checks.
#pragma once

#include <cstdlib>

#include "keiretsu/common/bytes.h"

namespace keiretsu::fuzz {

// The message to feed: the raw input, or (xor_mode) the genuine message
// with the input XORed over it and any excess appended, which keeps most
// inputs close to valid and so reaches the deeper checks.
inline Bytes MessageFrom(ByteView in, const Bytes& genuine, bool xor_mode) {
  if (!xor_mode) return Bytes(in.begin(), in.end());
  Bytes msg = genuine;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i < msg.size())
      msg[i] ^= in[i];
    else
      msg.push_back(in[i]);
  }
  return msg;
}

// A message other than the genuine one was accepted: authentication broke.
inline void Check(bool accepted, const Bytes& msg, const Bytes& genuine) {
  if (accepted && msg != genuine) std::abort();
}

}  // namespace keiretsu::fuzz
