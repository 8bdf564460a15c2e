#include "keiretsu/net/frame.h"

#include <algorithm>
#include <string>

namespace keiretsu::net {

FrameDecode DecodeFrame(ByteView buffer, size_t max_frame) {
  FrameDecode out;
  if (buffer.size() < kFrameHeaderBytes) return out;
  const size_t length = static_cast<size_t>(buffer[0]) << 8 | buffer[1];
  // The size checks come first: a hostile length never makes us wait for,
  // or buffer, a body we would refuse anyway.
  if (length == 0) {
    out.error = InvalidArgument("frame of length 0");
    return out;
  }
  const size_t limit = std::min(max_frame, kMaxFrameBytes);
  if (length > limit) {
    out.error = ResourceExhausted("frame of " + std::to_string(length) +
                                  " bytes, more than the limit of " + std::to_string(limit));
    return out;
  }
  if (buffer.size() - kFrameHeaderBytes < length) return out;
  out.frame = buffer.subspan(kFrameHeaderBytes, length);
  out.consumed = kFrameHeaderBytes + length;
  return out;
}

Status AppendFrame(ByteView message, Bytes* out) {
  if (message.empty()) return InvalidArgument("empty frame");
  if (message.size() > kMaxFrameBytes)
    return InvalidArgument("message of " + std::to_string(message.size()) +
                           " bytes does not fit a frame");
  out->push_back(static_cast<uint8_t>(message.size() >> 8));
  out->push_back(static_cast<uint8_t>(message.size() & 0xff));
  out->insert(out->end(), message.begin(), message.end());
  return Status::Ok();
}

}  // namespace keiretsu::net
