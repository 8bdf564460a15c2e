// Private: the ledger's governance helpers (docs/PROTOCOL.md 19): what it
// keeps per member feed, how it asks protocol::ComputeEpochs for the epoch
// chain, and which entries count. Pure functions over the ledger's caches.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/epoch_chain.h"

namespace keiretsu::node {

using GovFeed = Ledger::GovFeed;

// A member feed with no entries yet: its key chain is its inception.
GovFeed NewGovFeed(const protocol::InceptionCommitment& member);
// The same, the commitment taken from `h` (zero digest when not a member).
GovFeed NewGovFeed(const protocol::EpochHistory& h, const PublicKey& author);

// The span in force just before `seq` (the key records at seq verify under,
// unless a rotate at seq takes it). `keys` is non-empty.
const protocol::KeySpan& SpanBefore(const std::vector<protocol::KeySpan>& keys, uint64_t seq);

// Why a rotate that chains onto a feed with key chain `keys` breaks 19.5
// (signed by the key it replaces; a key or next key used before), or empty.
std::string RotationProblem(const std::vector<protocol::KeySpan>& keys, const protocol::Rotate& r,
                            bool by_next_key);

// The end of `author`'s counted prefix under `h` for a feed effective up to
// `eff` (19.11): 0 for a non-member, cut at last_seq when removed.
uint64_t CountedSeq(const protocol::EpochHistory& h, const PublicKey& author, uint64_t eff);
// Whether effective entry `e` has its effects under `h`: within its
// author's counted prefix, and every firm it names a member of some epoch.
bool EntryCounts(const protocol::EpochHistory& h, const protocol::Entry& e);

// The epoch chain (protocol::ComputeEpochs) from the ledger's caches:
// `feed` gives a member's governance view, `not_stopped` whether its feed
// has no stop (a leave is in the GovFeed).
std::shared_ptr<const protocol::EpochHistory> ComputeHistory(
    const protocol::EpochZero& zero,
    const std::function<const GovFeed&(const protocol::InceptionCommitment&)>& feed,
    const std::function<bool(const PublicKey&)>& not_stopped);

// The members whose ballot supports proposal `p` (19.8), in id order.
std::vector<PublicKey> VotersOf(const protocol::ProposalInfo& p, const protocol::EpochHistory& h,
                                const std::map<PublicKey, GovFeed>& feeds);

}  // namespace keiretsu::node
