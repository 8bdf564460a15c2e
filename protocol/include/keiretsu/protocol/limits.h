// The protocol's fixed limits (v1). Every one is part of the validity rules
// in docs/PROTOCOL.md: changing one changes which entries are valid, so it
// needs a new protocol version, not an edit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace keiretsu::protocol {

// The protocol version this build speaks (docs/PROTOCOL.md "Protocol v2").
// Version 2 keeps every v1 byte; it adds the kind list to the handshake,
// keeps records of unknown kinds and authors pending, and checks records in
// strata. The entry content's own version byte stays 1.
inline constexpr uint16_t kProtocolVersion = 2;
inline constexpr uint8_t kEntryVersion = 1;
inline constexpr uint8_t kGenesisVersion = 1;

// Largest amount one entry may carry (10^15 units). Small enough that sums
// of any realistic feed stay far inside the 128-bit balance accumulators,
// and that every amount fits a JSON number without loss.
inline constexpr uint64_t kMaxAmount = 1'000'000'000'000'000ULL;

inline constexpr size_t kMaxMemoBytes = 512;  // UTF-8, may be empty
inline constexpr size_t kMinUnitBytes = 1;
inline constexpr size_t kMaxUnitBytes = 16;  // [A-Za-z0-9._-]

// A signed entry record (content + 64-byte signature) is never larger; the
// largest well-formed v1 entry is 781 bytes.
inline constexpr size_t kMaxEntryBytes = 1024;

inline constexpr size_t kMaxNetworkNameBytes = 64;
inline constexpr size_t kMaxFirmNameBytes = 64;
inline constexpr size_t kMaxMembers = 1024;

}  // namespace keiretsu::protocol
