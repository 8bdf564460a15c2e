// Id32<Tag>: a strongly typed 32-byte value, so a PublicKey can never be
// passed where an EntryId is expected. Compared bytewise (lexicographic),
// which is also the canonical order of keys in every encoding.
#pragma once

#include <compare>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "keiretsu/common/bytes.h"

namespace keiretsu {

template <typename Tag>
struct Id32 {
  Hash32 bytes{};

  static Id32 FromBytes(const Hash32& h) { return Id32{h}; }
  static std::optional<Id32> FromHex(std::string_view hex) {
    auto h = Hash32FromHex(hex);
    if (!h) return std::nullopt;
    return Id32{*h};
  }
  std::string Hex() const { return ToHex(bytes); }
  // The first 8 hex characters, for logs and tables.
  std::string Short() const { return Hex().substr(0, 8); }
  bool IsZero() const { return keiretsu::IsZero(bytes); }
  ByteView View() const { return bytes; }

  friend auto operator<=>(const Id32& a, const Id32& b) = default;
  friend bool operator==(const Id32& a, const Id32& b) = default;
};

struct PublicKeyTag {};
struct EntryIdTag {};
struct NetworkIdTag {};
struct DigestTag {};

using PublicKey = Id32<PublicKeyTag>;  // an Ed25519 public key: a firm's identity
using EntryId = Id32<EntryIdTag>;      // BLAKE2b-256 of an entry's signed bytes
using NetworkId = Id32<NetworkIdTag>;  // BLAKE2b-256 of the genesis' canonical bytes
using Digest = Id32<DigestTag>;        // any other BLAKE2b-256 digest

}  // namespace keiretsu

template <typename Tag>
struct std::hash<keiretsu::Id32<Tag>> {
  size_t operator()(const keiretsu::Id32<Tag>& id) const noexcept {
    size_t h;  // the bytes are already uniformly distributed
    std::memcpy(&h, id.bytes.data(), sizeof h);
    return h;
  }
};
