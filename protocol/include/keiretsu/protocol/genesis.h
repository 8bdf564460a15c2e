// Genesis: the document that founds a keiretsu network: its name, founding
// members (name + Ed25519 public key) and policy. network_id is the
// BLAKE2b-256 of its canonical bytes, and every signature and handshake is
// bound to that id, so two networks never mix.
//
// A Genesis value is always valid: the only ways to get one (Create, Decode,
// ParseToml) check every rule, so code holding one need not check again.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"

namespace keiretsu::protocol {

struct Member {
  std::string name;  // 1-64 bytes of [A-Za-z0-9._-], unique (ignoring case)
  PublicKey key;
  // Version 2: D(next key) (docs/PROTOCOL.md 19.1), non-zero. Version 1:
  // zero (a v1 founder can never rotate).
  Digest next_key_digest{};
};

struct GenesisSpec {
  std::string network_name;       // 1-64 bytes of [A-Za-z0-9._-]
  uint64_t created_unix = 0;      // seconds; distinguishes re-founded networks
  uint16_t admission_quorum = 1;  // version 1 policy: 1..members (not used by v2 rules)
  uint8_t version = 1;            // 1 or 2 (docs/PROTOCOL.md 4 and 18.2)
  uint16_t threshold = 0;         // version 2: k with n/2 < k <= n; version 1: 0
  std::vector<Member> members;    // any order; stored sorted by key
};

class Genesis {
 public:
  // Checks the rules and builds the genesis. Errors: kInvalidArgument with
  // the rule broken (empty or bad name, duplicate key or name, quorum).
  static Result<Genesis> Create(GenesisSpec spec);
  // Parses canonical bytes (see docs/PROTOCOL.md "Genesis"). Rejects any
  // encoding that is not exactly canonical (unsorted members, trailing
  // bytes), so one genesis has one network id.
  static Result<Genesis> Decode(ByteView bytes);
  // Parses the human-editable TOML form (see deploy/ and docs/OPERATIONS.md).
  static Result<Genesis> ParseToml(std::string_view text);
  static Result<Genesis> LoadTomlFile(const std::string& path);

  const std::string& network_name() const { return spec_.network_name; }
  uint64_t created_unix() const { return spec_.created_unix; }
  uint16_t admission_quorum() const { return spec_.admission_quorum; }
  uint8_t version() const { return spec_.version; }
  // Epoch 0's threshold: the version-2 threshold, or floor(n/2)+1 for a
  // version-1 genesis whatever its admission_quorum (PROTOCOL.md 19.2).
  uint16_t threshold() const;
  const std::vector<Member>& members() const { return spec_.members; }  // sorted by key
  const NetworkId& network_id() const { return network_id_; }
  const Bytes& canonical_bytes() const { return bytes_; }

  bool IsMember(const PublicKey& key) const { return FindByKey(key) != nullptr; }
  const Member* FindByKey(const PublicKey& key) const;
  const Member* FindByName(std::string_view name) const;  // case-insensitive
  // Resolves a firm named by 64-hex public key or by member name.
  Result<PublicKey> ResolveFirm(std::string_view name_or_key) const;

  // The TOML form; ParseToml(ToToml()) gives back an equal genesis.
  std::string ToToml() const;

 private:
  explicit Genesis(GenesisSpec spec);
  GenesisSpec spec_;
  Bytes bytes_;
  NetworkId network_id_;
};

// True when `s` is 1..max bytes of [A-Za-z0-9._-].
bool IsValidName(std::string_view s, size_t max);

}  // namespace keiretsu::protocol
