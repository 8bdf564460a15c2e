// The v2 hashes and the key rule the governance kinds share:
// docs/PROTOCOL.md 19.1 and 19.3.
#include <string>
#include <string_view>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/governance.h"

namespace keiretsu::protocol {
namespace {
constexpr std::string_view kNextKeyTag = "keiretsu/v2/next-key";
constexpr std::string_view kEpochTag = "keiretsu/v2/epoch";
}  // namespace

Status CheckKeyAndNext(const PublicKey& key, const Digest& next, std::string_view what) {
  if (!crypto::IsValidPublicKey(key))
    return InvalidArgument(std::string(what) + " is not a usable Ed25519 public key");
  if (next.IsZero()) return InvalidArgument("next_key_digest must not be zero");
  if (next == NextKeyDigest(key))
    return InvalidArgument("next_key_digest commits to " + std::string(what) +
                           " itself: the next key must be a new key");
  return Status::Ok();
}

Digest NextKeyDigest(const PublicKey& key) {
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(kNextKeyTag));
  h.Update(key.View());
  return Digest{h.Final()};
}

Digest GenesisEpochHash(const NetworkId& network) {
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(kEpochTag));
  h.Update(network.View());
  return Digest{h.Final()};
}

Digest NextEpochHash(const Digest& previous, const EntryId& passed_proposal) {
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(kEpochTag));
  h.Update(previous.View());
  h.Update(passed_proposal.View());
  return Digest{h.Final()};
}

}  // namespace keiretsu::protocol
