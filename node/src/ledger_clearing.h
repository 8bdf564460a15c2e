// Private: the ledger's side of consent-based clearing (docs/PROTOCOL.md
// 20.5): the clearing view of every member's counted prefix, read from the
// ledger's entries, and the set-offs it commits. The outcome itself is
// protocol::DecideClearing, shared with the reference and the auditor.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <vector>

#include "keiretsu/common/status.h"
#include "keiretsu/protocol/clearing_outcome.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/epoch_chain.h"

namespace keiretsu::node {

// Committed set-offs: proposal id -> the debt change of each of its legs.
using SetOffs = std::map<EntryId, std::vector<protocol::DebtChange>>;

// The clearing view that decides every proposal: the counted prefix of
// each member (of some epoch of `h`) among `proposers` (a superset of the
// authors with a clearing proposal in their effective prefix) and among the
// participants of the proposals found there. protocol::DecideClearing
// reads no other feed, so it decides on this view exactly as on every
// member's. `effective_seq` gives a feed's effective seq, `entry_at` a
// stored entry's record, `decode` stratum 1 of a stored record (no
// signature check). Errors: what `entry_at` returns; kCorruption when a
// stored entry does not decode.
Result<protocol::ClearingFeeds> ClearingFeedsOf(
    const protocol::EpochHistory& h, const std::function<uint64_t(const PublicKey&)>& effective_seq,
    const std::function<Result<Bytes>(const PublicKey&, uint64_t)>& entry_at,
    const std::function<protocol::RecordCheck(ByteView)>& decode,
    const std::set<PublicKey>& proposers);

// The committed proposals of `result`, with their legs.
SetOffs CommittedSetOffs(const protocol::ClearingResult& result);

}  // namespace keiretsu::node
