#include "keiretsu/common/bytes.h"

#include <algorithm>

namespace keiretsu {

std::string ToHex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 0xf]);
  }
  return s;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  Bytes out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

std::optional<Hash32> Hash32FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto bytes = FromHex(hex);
  if (!bytes) return std::nullopt;
  Hash32 h{};
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

bool IsZero(const Hash32& h) {
  return std::all_of(h.begin(), h.end(), [](uint8_t b) { return b == 0; });
}

void ByteWriter::U16(uint16_t v) {
  U8(static_cast<uint8_t>(v >> 8));
  U8(static_cast<uint8_t>(v));
}
void ByteWriter::U32(uint32_t v) {
  U16(static_cast<uint16_t>(v >> 16));
  U16(static_cast<uint16_t>(v));
}
void ByteWriter::U64(uint64_t v) {
  U32(static_cast<uint32_t>(v >> 32));
  U32(static_cast<uint32_t>(v));
}

bool ByteReader::Take(size_t n) {
  if (!ok_ || remaining() < n) {
    ok_ = false;
    return false;
  }
  return true;
}

uint8_t ByteReader::U8() {
  if (!Take(1)) return 0;
  return in_[pos_++];
}
uint16_t ByteReader::U16() {
  if (!Take(2)) return 0;
  uint16_t v = static_cast<uint16_t>(in_[pos_] << 8 | in_[pos_ + 1]);
  pos_ += 2;
  return v;
}
uint32_t ByteReader::U32() {
  if (!Take(4)) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | in_[pos_++];
  return v;
}
uint64_t ByteReader::U64() {
  if (!Take(8)) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | in_[pos_++];
  return v;
}
Hash32 ByteReader::H32() {
  Hash32 h{};
  if (!Take(32)) return h;
  std::copy_n(in_.begin() + static_cast<std::ptrdiff_t>(pos_), 32, h.begin());
  pos_ += 32;
  return h;
}
ByteView ByteReader::Raw(size_t n) {
  if (!Take(n)) return {};
  ByteView v = in_.subspan(pos_, n);
  pos_ += n;
  return v;
}

}  // namespace keiretsu
