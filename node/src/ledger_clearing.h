// Private: the ledger's side of consent-based clearing (docs/PROTOCOL.md
// 20.5): the clearing view of every member's counted prefix, read from the
// ledger's entries, and the set-offs it commits. The outcome itself is
// protocol::DecideClearing, shared with the reference and the auditor.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "keiretsu/common/status.h"
#include "keiretsu/protocol/clearing_outcome.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/epoch_chain.h"

namespace keiretsu::node {

// Committed set-offs: proposal id -> the debt change of each of its legs.
using SetOffs = std::map<EntryId, std::vector<protocol::DebtChange>>;

// The clearing view of every member (of some epoch) of `h`, each with its
// counted prefix. `effective_seq` gives a feed's effective seq, `entry_at`
// a stored entry's record, `decode` stratum 1 of a stored record (no
// signature check). Errors: what `entry_at` returns; kCorruption when a
// stored entry does not decode.
Result<protocol::ClearingFeeds> ClearingFeedsOf(
    const protocol::EpochHistory& h, const std::function<uint64_t(const PublicKey&)>& effective_seq,
    const std::function<Result<Bytes>(const PublicKey&, uint64_t)>& entry_at,
    const std::function<protocol::RecordCheck(ByteView)>& decode);

// The committed proposals of `result`, with their legs.
SetOffs CommittedSetOffs(const protocol::ClearingResult& result);

// True for the kind bytes of the clearing kinds (10, 11).
bool IsClearingKind(uint8_t kind);

}  // namespace keiretsu::node
