// The peer handshake's directory over the ledger: docs/PROTOCOL.md 13.2 §3.
#include "node/net/src/ledger_directory.h"

#include <algorithm>

#include "keiretsu/protocol/governance.h"

namespace keiretsu::net {

Result<PublicKey> LedgerDirectory::FirmOf(const PublicKey& key,
                                          const std::vector<Bytes>& chain) const {
  std::optional<PublicKey> firm = ledger_.FirmOfKey(key);
  if (!firm) {
    if (chain.empty())
      return PermissionDenied("peer key " + key.Short() +
                              " is not the key in force of any member of this network");
    // The chain's rotate records, each signed by the key its predecessor
    // committed to, lead from what this node knows to `key`.
    std::vector<protocol::KeySpan> known;
    PublicKey cur;
    Digest next;
    for (const Bytes& rec : chain) {
      auto c = protocol::CheckFeedLocal(rec, ledger_.genesis().network_id(),
                                        protocol::InceptionKeys{}, /*verify_signature=*/false);
      const protocol::Rotate* rot = c.fault == protocol::Fault::kNone
                                        ? std::get_if<protocol::Rotate>(&c.signed_entry->entry.body)
                                        : nullptr;
      if (!rot) return PermissionDenied("peer's key chain holds a record that is not a rotation");
      const PublicKey& author = c.signed_entry->entry.author;
      if (!firm) {
        firm = author;
        known = ledger_.KeyChain(author);
        if (known.empty())
          return PermissionDenied("peer's key chain is of " + author.Short() +
                                  ", not a member of this network");
        cur = known.back().key;
        next = known.back().next_key_digest;
      } else if (author != *firm) {
        return PermissionDenied("peer's key chain mixes firms");
      }
      if (std::any_of(known.begin(), known.end(),
                      [&](const protocol::KeySpan& k) { return k.key == rot->new_key; }))
        continue;  // a rotation this node already applied
      crypto::Signature sig;
      std::copy(rec.end() - 64, rec.end(), sig.begin());
      const protocol::SignedEntry& se = *c.signed_entry;
      if (next.IsZero() || protocol::NextKeyDigest(rot->new_key) != next ||
          !crypto::Verify(rot->new_key, protocol::SigningMessage(se.content()), sig))
        return PermissionDenied("peer's key chain for " + firm->Short() +
                                " is not signed by the keys its firm committed to");
      known.push_back({se.entry.seq, rot->new_key, rot->next_key_digest});
      cur = rot->new_key;
      next = rot->next_key_digest;
    }
    if (cur != key)
      return PermissionDenied("peer's key chain for " + firm->Short() + " does not lead to key " +
                              key.Short());
  }
  if (!ledger_.IsActiveMember(*firm))
    return PermissionDenied(
        "firm " + firm->Short() +
        " is not an active member of this network (removed, or never admitted)");
  return *firm;
}

std::vector<Bytes> LedgerDirectory::OwnChain() const {
  std::optional<PublicKey> firm = ledger_.FirmOfKey(self_);
  return firm ? ledger_.RotationRecords(*firm) : std::vector<Bytes>{};
}

}  // namespace keiretsu::net
