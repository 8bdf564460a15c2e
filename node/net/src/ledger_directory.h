// Private: the peer handshake's directory over the ledger (docs/PROTOCOL.md
// 13.2 §3 "Key chain"): a peer authenticates as an active member of the
// current epoch, under the key in force in its firm's key chain, which it
// may prove with rotate records this node has not seen yet.
#pragma once

#include "keiretsu/net/peer_handshake.h"
#include "keiretsu/node/ledger.h"

namespace keiretsu::net {

class LedgerDirectory final : public PeerDirectory {
 public:
  // `ledger` must outlive this; `self` is this node's key in force.
  LedgerDirectory(const node::Ledger& ledger, const PublicKey& self)
      : ledger_(ledger), self_(self) {}
  Result<PublicKey> FirmOf(const PublicKey& key, const std::vector<Bytes>& chain) const override;
  std::vector<Bytes> OwnChain() const override;

 private:
  const node::Ledger& ledger_;
  PublicKey self_;
};

}  // namespace keiretsu::net
