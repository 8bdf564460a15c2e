// Genesis: rules, canonical bytes and network id (docs/PROTOCOL.md "Genesis").
#include "keiretsu/protocol/genesis.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/limits.h"
#include "protocol/src/text_rules.h"

namespace keiretsu::protocol {
namespace {

constexpr std::string_view kMagic = "keiretsu-genesis";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status CheckV1(const GenesisSpec& spec) {
  if (spec.version != 1) return InvalidArgument("genesis version must be 1 or 2");
  for (const Member& m : spec.members)
    if (!m.next_key_digest.IsZero())
      return InvalidArgument("member " + m.name + ": next_key_digest needs a version 2 genesis");
  return Status::Ok();
}

// Version 2: threshold n/2 < k <= n; every member commits to a next key
// that is not its current key, and no two to the same (PROTOCOL.md 19.2).
Status CheckV2(const GenesisSpec& spec) {
  size_t n = spec.members.size();
  if (2 * size_t{spec.threshold} <= n || spec.threshold > n)
    return InvalidArgument("threshold " + std::to_string(spec.threshold) +
                           " must be above half the members (" + std::to_string(n) +
                           ") and at most all of them");
  for (size_t i = 0; i < n; ++i) {
    const Member& m = spec.members[i];
    if (m.next_key_digest.IsZero())
      return InvalidArgument("member " + m.name + " needs a next_key_digest");
    if (m.next_key_digest == NextKeyDigest(m.key))
      return InvalidArgument("member " + m.name +
                             ": next_key_digest commits to its current key; make a new next key");
    for (size_t j = 0; j < i; ++j)
      if (spec.members[j].next_key_digest == m.next_key_digest)
        return InvalidArgument("members " + spec.members[j].name + " and " + m.name +
                               " commit to the same next key");
  }
  return Status::Ok();
}

Status CheckSpec(const GenesisSpec& spec) {
  if (!IsValidName(spec.network_name, kMaxNetworkNameBytes))
    return InvalidArgument("network name must be 1-64 characters of A-Z a-z 0-9 . _ -");
  // The TOML form carries it as a (signed 64-bit) integer: keep the two
  // forms able to express the same genesis.
  if (spec.created_unix > static_cast<uint64_t>(INT64_MAX))
    return InvalidArgument("created_unix must be at most 2^63-1");
  if (spec.members.empty()) return InvalidArgument("a genesis needs at least one member");
  if (spec.members.size() > kMaxMembers)
    return InvalidArgument("more than " + std::to_string(kMaxMembers) + " members");
  for (size_t i = 0; i < spec.members.size(); ++i) {
    const Member& m = spec.members[i];
    if (!IsValidName(m.name, kMaxFirmNameBytes))
      return InvalidArgument("member name '" + m.name +
                             "' must be 1-64 characters of A-Z a-z 0-9 . _ -");
    if (!crypto::IsValidPublicKey(m.key))
      return InvalidArgument("member " + m.name +
                             " has a public key that is not a usable Ed25519 point");
    for (size_t j = 0; j < i; ++j) {
      if (spec.members[j].key == m.key)
        return InvalidArgument("members " + spec.members[j].name + " and " + m.name +
                               " have the same public key");
      if (Lower(spec.members[j].name) == Lower(m.name))
        return InvalidArgument("member name '" + m.name + "' is used twice");
    }
  }
  if (spec.admission_quorum < 1 || spec.admission_quorum > spec.members.size())
    return InvalidArgument("admission quorum must be between 1 and the number of members");
  return spec.version == 2 ? CheckV2(spec) : CheckV1(spec);
}

}  // namespace

bool IsValidName(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max && IsNameChars(s);
}

Genesis::Genesis(GenesisSpec spec) : spec_(std::move(spec)) {
  std::sort(spec_.members.begin(), spec_.members.end(),
            [](const Member& a, const Member& b) { return a.key < b.key; });
  ByteWriter w(&bytes_);
  w.Raw(kMagic);
  w.U8(spec_.version);
  w.U8(static_cast<uint8_t>(spec_.network_name.size()));
  w.Raw(spec_.network_name);
  w.U64(spec_.created_unix);
  w.U16(spec_.version == 2 ? spec_.threshold : spec_.admission_quorum);
  w.U16(static_cast<uint16_t>(spec_.members.size()));
  for (const Member& m : spec_.members) {
    w.Raw(m.key.View());
    if (spec_.version == 2) w.Raw(m.next_key_digest.View());
    w.U8(static_cast<uint8_t>(m.name.size()));
    w.Raw(m.name);
  }
  network_id_ = NetworkId{crypto::Blake2b256(bytes_)};
}

Result<Genesis> Genesis::Create(GenesisSpec spec) {
  KEIRETSU_RETURN_IF_ERROR(CheckSpec(spec));
  return Genesis(std::move(spec));
}

Result<Genesis> Genesis::Decode(ByteView bytes) {
  ByteReader r(bytes);
  if (AsChars(r.Raw(kMagic.size())) != kMagic) return InvalidArgument("not a keiretsu genesis");
  uint8_t version = r.U8();
  if (r.ok() && version != 1 && version != 2)
    return InvalidArgument("unsupported genesis version " + std::to_string(version));
  GenesisSpec spec;
  spec.version = version;
  spec.network_name = std::string(AsChars(r.Raw(r.U8())));
  spec.created_unix = r.U64();
  (version == 2 ? spec.threshold : spec.admission_quorum) = r.U16();
  uint16_t count = r.U16();
  for (uint16_t i = 0; i < count && r.ok(); ++i) {
    Member m;
    m.key = PublicKey{r.H32()};
    if (version == 2) m.next_key_digest = Digest{r.H32()};
    m.name = std::string(AsChars(r.Raw(r.U8())));
    spec.members.push_back(std::move(m));
  }
  if (!r.ok()) return InvalidArgument("genesis truncated");
  if (r.remaining() != 0) return InvalidArgument("trailing bytes after the genesis");
  KEIRETSU_RETURN_IF_ERROR(CheckSpec(spec));
  Genesis g(std::move(spec));
  if (g.bytes_.size() != bytes.size() || !std::equal(bytes.begin(), bytes.end(), g.bytes_.begin()))
    return InvalidArgument("genesis is not in canonical form (members must be sorted by key)");
  return g;
}

uint16_t Genesis::threshold() const {
  if (spec_.version == 2) return spec_.threshold;
  return static_cast<uint16_t>(spec_.members.size() / 2 + 1);
}

const Member* Genesis::FindByKey(const PublicKey& key) const {
  auto it = std::lower_bound(spec_.members.begin(), spec_.members.end(), key,
                             [](const Member& m, const PublicKey& k) { return m.key < k; });
  return it != spec_.members.end() && it->key == key ? &*it : nullptr;
}

const Member* Genesis::FindByName(std::string_view name) const {
  std::string want = Lower(name);
  for (const Member& m : spec_.members)
    if (Lower(m.name) == want) return &m;
  return nullptr;
}

Result<PublicKey> Genesis::ResolveFirm(std::string_view name_or_key) const {
  if (auto key = PublicKey::FromHex(name_or_key)) {
    if (IsMember(*key)) return *key;
    return NotFound("no member has public key " + std::string(name_or_key));
  }
  if (const Member* m = FindByName(name_or_key)) return m->key;
  return NotFound("no member is named '" + std::string(name_or_key) + "'");
}

}  // namespace keiretsu::protocol
