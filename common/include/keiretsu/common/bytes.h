// Byte strings and fixed-size byte arrays, and the big-endian integer
// encoding every canonical format of keiretsu uses (see docs/PROTOCOL.md).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keiretsu {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// A 32-byte value: public keys, entry ids, network ids, digests.
using Hash32 = std::array<uint8_t, 32>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Lower-case hex of `b`.
std::string ToHex(ByteView b);
// Parses hex (either case, even length); nullopt on any other character.
std::optional<Bytes> FromHex(std::string_view hex);
// Parses exactly 64 hex characters into a Hash32.
std::optional<Hash32> Hash32FromHex(std::string_view hex);

bool IsZero(const Hash32& h);

// Appends canonical big-endian encodings to a byte string.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Raw(ByteView b) { out_->insert(out_->end(), b.begin(), b.end()); }
  void Raw(std::string_view s) { Raw(AsBytes(s)); }

 private:
  Bytes* out_;
};

// Reads canonical big-endian encodings from a byte view. Every read checks
// the remaining length; after the first failure ok() is false and further
// reads return zeros, so a decoder can read a whole record and check once.
class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}
  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  Hash32 H32();
  // Reads `n` bytes; an empty view (and !ok()) when fewer remain.
  ByteView Raw(size_t n);

  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }

 private:
  bool Take(size_t n);
  ByteView in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace keiretsu
