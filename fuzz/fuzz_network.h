// The fixed network of the entry fuzz target and its corpus generator: four
// members whose keys come from fixed seeds, so the generator can sign valid
// entries that pass the fuzz target's signature checks.
//
// Also the input framing both share: an input is a sequence of records, each
// a 2-byte big-endian length and that many bytes; a trailing fragment
// shorter than its length is ignored.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/genesis.h"

namespace keiretsu::fuzz {

inline constexpr int kFuzzFirms = 4;
inline constexpr size_t kMaxFramedRecords = 64;

inline crypto::SigningKey FuzzKey(int i) {
  std::array<uint8_t, 32> seed{};
  seed.fill(static_cast<uint8_t>(0xa0 + i));
  return crypto::SigningKey::FromSeed(seed);
}

// The network's genesis. Aborts if the fixed spec were ever refused: the
// fuzz target cannot run without it.
inline protocol::Genesis FuzzGenesis() {
  protocol::GenesisSpec spec;
  spec.network_name = "fuzz-keiretsu";
  spec.created_unix = 1'790'000'000;
  spec.admission_quorum = 2;
  for (int i = 0; i < kFuzzFirms; ++i)
    spec.members.push_back({"fuzz-firm" + std::to_string(i), FuzzKey(i).public_key()});
  auto g = protocol::Genesis::Create(spec);
  if (!g.ok()) __builtin_trap();
  return std::move(g).value();
}

inline std::vector<Bytes> SplitFramed(ByteView data) {
  std::vector<Bytes> out;
  size_t pos = 0;
  while (pos + 2 <= data.size() && out.size() < kMaxFramedRecords) {
    size_t len = static_cast<size_t>(data[pos]) << 8 | data[pos + 1];
    pos += 2;
    if (len > data.size() - pos) break;
    out.emplace_back(data.begin() + static_cast<std::ptrdiff_t>(pos),
                     data.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  }
  return out;
}

inline void AppendFramed(Bytes& out, ByteView record) {
  out.push_back(static_cast<uint8_t>(record.size() >> 8));
  out.push_back(static_cast<uint8_t>(record.size() & 0xff));
  out.insert(out.end(), record.begin(), record.end());
}

}  // namespace keiretsu::fuzz
