// libFuzzer target: the peer link's frame decoder and transport decryption
// (node/net: frame.h, SecureChannel), on arbitrary bytes.
//
// Input: byte 0 seeds how the rest is cut into socket reads (each read 1 to
// 256 bytes) and bit 7 picks the handshake frame limit (512) instead of the
// wire maximum. Properties checked, besides "never crash":
//  - decoding the stream read by read (as a session does, keeping partial
//    frames) yields exactly the frames and the error of decoding it whole;
//  - every frame is 1..limit bytes, and consumed == 2 + frame size;
//  - a frame that decrypts under the fixed session's keys is the genuine
//    first transport message (no forgery gets through).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "fuzz_network.h"
#include "keiretsu/net/frame.h"
#include "keiretsu/net/peer_handshake.h"

namespace {

using keiretsu::Bytes;
using keiretsu::ByteView;
using keiretsu::Status;
using namespace keiretsu::net;

struct Decoded {
  std::vector<Bytes> frames;
  Status error;
};

void Take(ByteView buffer, size_t limit, size_t* used, Decoded* out) {
  for (;;) {
    FrameDecode d = DecodeFrame(buffer.subspan(*used), limit);
    if (!d.error.ok()) {
      if (d.frame || d.consumed != 0) std::abort();
      out->error = d.error;
      return;
    }
    if (!d.frame) {
      if (d.consumed != 0) std::abort();
      return;
    }
    if (d.frame->empty() || d.frame->size() > limit || d.consumed != 2 + d.frame->size())
      std::abort();
    out->frames.emplace_back(d.frame->begin(), d.frame->end());
    *used += d.consumed;
  }
}

// A completed session between two fixed members with fixed ephemeral keys,
// so its transport keys (and genuine first message) are the same every run.
struct Fixture {
  keiretsu::protocol::Genesis genesis = keiretsu::fuzz::FuzzGenesis();
  keiretsu::crypto::SigningKey k0 = keiretsu::fuzz::FuzzKey(0), k1 = keiretsu::fuzz::FuzzKey(1);
  std::optional<SecureChannel> receiver;
  Bytes genuine_plain{0x2a, 0x02, 0x08, 0x01}, genuine_frame;

  Fixture() {
    auto e0 = keiretsu::crypto::X25519KeyPair::FromPrivate(Bytes(32, 3)).value();
    auto e1 = keiretsu::crypto::X25519KeyPair::FromPrivate(Bytes(32, 4)).value();
    auto i = PeerHandshake::ForTest(true, genesis, k0, k1.public_key(), e0).value();
    auto r = PeerHandshake::ForTest(false, genesis, k1, std::nullopt, e1).value();
    auto m2 = r.Receive(i.Start().value()).value().value();
    auto m3 = i.Receive(m2).value().value();
    if (!r.Receive(m3).ok()) std::abort();
    SecureChannel sender(i.Split().value());
    Bytes framed;
    if (!sender.Seal(genuine_plain, &framed).ok()) std::abort();
    genuine_frame.assign(framed.begin() + 2, framed.end());
    receiver.emplace(r.Split().value());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  if (size == 0) return 0;
  const size_t limit = (data[0] & 0x80) != 0 ? 512 : kMaxFrameBytes;
  uint32_t seed = data[0] | 1u;
  const ByteView stream(data + 1, size - 1);

  Decoded whole;
  size_t used = 0;
  Take(stream, limit, &used, &whole);

  Decoded pieces;
  Bytes buffer;
  size_t pos = 0, buffer_used = 0;
  while (pos < stream.size() && pieces.error.ok()) {
    seed = seed * 1103515245u + 12345u;  // cut points only; quality is irrelevant
    const size_t n = std::min<size_t>(1 + (seed >> 16) % 256, stream.size() - pos);
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(buffer_used));
    buffer_used = 0;
    buffer.insert(buffer.end(), stream.begin() + static_cast<std::ptrdiff_t>(pos),
                  stream.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    Take(buffer, limit, &buffer_used, &pieces);
  }
  if (pieces.frames != whole.frames || pieces.error.code() != whole.error.code()) std::abort();

  // Each frame as the next transport message of a live session. The
  // channel's nonce only advances on success, so every frame is tried as
  // message 0 until the genuine one appears.
  for (const Bytes& frame : whole.frames) {
    auto plain = fx.receiver->Open(frame);
    if (!plain.ok()) continue;
    if (frame != fx.genuine_frame || *plain != fx.genuine_plain) std::abort();
    fx = Fixture();  // a receiver that has not consumed message 0 yet
  }
  return 0;
}
