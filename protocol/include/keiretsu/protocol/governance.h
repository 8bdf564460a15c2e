// Protocol v2 governance and key rotation: what the propose, vote, leave
// and rotate kinds (keiretsu/protocol/kinds/, one description each) build
// on: the next-key digest, the epoch hash and the recovery window
// (docs/PROTOCOL.md 19.1).
#pragma once

#include <cstdint>
#include <string_view>

#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/protocol/kinds.h"

namespace keiretsu::protocol {

// The recovery window W (19.7): a rotate at t recovers the feed from the
// records its retired key signed at t..t+W-1, and no further.
inline constexpr uint64_t kRecoveryWindow = 256;

// D(k) = BLAKE2b-256("keiretsu/v2/next-key" || k).
Digest NextKeyDigest(const PublicKey& key);
// h(0) = BLAKE2b-256("keiretsu/v2/epoch" || network_id).
Digest GenesisEpochHash(const NetworkId& network);
// h(e+1) = BLAKE2b-256("keiretsu/v2/epoch" || h(e) || id(P)).
Digest NextEpochHash(const Digest& previous, const EntryId& passed_proposal);

// A key and the digest it commits to, as an inception or a rotation names
// them (19.3 rules 2 and 6): a usable key, and a non-zero digest that is
// not the key's own. `what` names the key in the error.
Status CheckKeyAndNext(const PublicKey& key, const Digest& next, std::string_view what);

}  // namespace keiretsu::protocol
