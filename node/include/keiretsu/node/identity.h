// Identity: this node's own firm and the key it signs with now.
//
// A firm's id is its inception key and never changes; the key it signs
// with changes when it rotates (docs/PROTOCOL.md 19.5). Everything that
// writes or authenticates as this node (the API's writes, the peer
// handshake, checkpoints) asks the identity for the current key at the
// moment it needs it, so a rotation takes effect without a restart.
//
// Thread-safety: every method is thread-safe. key() hands out a shared
// pointer: a signer that took the key before an Adopt finishes with it.
#pragma once

#include <memory>
#include <mutex>

#include "keiretsu/common/id32.h"
#include "keiretsu/crypto/signing.h"

namespace keiretsu::node {

class Identity {
 public:
  // `firm`: the firm's id (its inception key); `key`: the key in force.
  Identity(const PublicKey& firm, std::shared_ptr<const crypto::SigningKey> key)
      : firm_(firm), key_(std::move(key)) {}
  // A firm that never rotated: its id is its key's public key.
  explicit Identity(crypto::SigningKey key)
      : Identity(key.public_key(), std::make_shared<const crypto::SigningKey>(std::move(key))) {}

  const PublicKey& firm() const { return firm_; }
  std::shared_ptr<const crypto::SigningKey> key() const {
    std::lock_guard lock(mu_);
    return key_;
  }
  PublicKey public_key() const { return key()->public_key(); }
  // From now on key() is `key` (after a rotate entry was committed).
  void Adopt(std::shared_ptr<const crypto::SigningKey> key) {
    std::lock_guard lock(mu_);
    key_ = std::move(key);
  }

 private:
  const PublicKey firm_;
  mutable std::mutex mu_;
  std::shared_ptr<const crypto::SigningKey> key_;  // GUARDED_BY(mu_)
};

}  // namespace keiretsu::node
