// Framing of a peer link's byte stream (docs/replication.md "Framing"):
// every Noise message, handshake or transport, travels as
//
//   length (u16, big-endian, 1..65535) || message (length bytes)
//
// The decoder is pure and socket-free so it can be unit-tested and fuzzed;
// the session feeds it whatever the socket delivered.
#pragma once

#include <cstddef>
#include <optional>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/status.h"
#include "keiretsu/net/limits.h"

namespace keiretsu::net {

inline constexpr size_t kFrameHeaderBytes = 2;

struct FrameDecode {
  // Bytes to drop from the front of the buffer (header + body when a frame
  // was decoded, else 0).
  size_t consumed = 0;
  // The frame body, a view into the input buffer; nullopt when more bytes
  // are needed (or on error).
  std::optional<ByteView> frame;
  // Non-OK: the stream is unusable and the connection must be closed.
  // kInvalidArgument for a zero length, kResourceExhausted for a length over
  // `max_frame`. Checked from the 2-byte header alone, before waiting for
  // (or buffering) any of the body.
  Status error;
};

// Decodes the first frame of `buffer`. `max_frame` may be lowered below
// kMaxFrameBytes (e.g. during the handshake); it is never raised above it.
FrameDecode DecodeFrame(ByteView buffer, size_t max_frame = kMaxFrameBytes);

// Appends length || message to `out`. Errors: kInvalidArgument when
// `message` is empty or longer than kMaxFrameBytes (nothing appended).
Status AppendFrame(ByteView message, Bytes* out);

}  // namespace keiretsu::net
