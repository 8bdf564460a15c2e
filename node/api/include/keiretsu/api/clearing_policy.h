// The auto-accept policy for consent-based clearing (docs/API.md
// "Clearing", keiretsud's [clearing] table): a node may accept, without an
// operator, the clearing proposals its firm takes part in whose legs its
// own view allows, i.e. that together with the proposals the firm already
// accepted and still pending set off at most what is owed on every pair
// (clearing::JointlyWithinOwed on this node's current balances), and that
// expire within a bound (a proposal open for months ties the firm's debt
// down). Pure functions plus one runner; thread-safe (the ledger is).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "keiretsu/clearing/types.h"
#include "keiretsu/common/status.h"
#include "keiretsu/node/identity.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/clearing_outcome.h"

namespace keiretsu::api {

struct AutoAcceptPolicy {
  bool enabled = false;
  // Accept only proposals expiring at most this long after now.
  uint64_t max_expiry_ms = 7ull * 24 * 3600 * 1000;
};

// Every unit's obligation graph on `balances` (a row with net > 0: its
// counterparty owes its firm).
std::map<std::string, clearing::ObligationGraph> OwedGraphs(
    const std::vector<storage::BalanceRow>& balances);

// The pending proposals of `decided` that `self` takes part in and has not
// voted on, that expire after `now_ms` and at most policy.max_expiry_ms
// later, and that — each added to the ones `self` accepted and the ones
// chosen before it, in proposal-id order — stay within `owed`. In id order.
std::vector<EntryId> ProposalsToAutoAccept(
    const protocol::ClearingResult& decided, const PublicKey& self,
    const std::map<std::string, clearing::ObligationGraph>& owed, uint64_t now_ms,
    const AutoAcceptPolicy& policy);

// Serialises deciding and appending this process's clearing accepts:
// VoteClearing and RunAutoAccept hold it from their reads (proposals,
// balances) to their append, so two accepts never both pass the
// within-owed check on the same reads and together set off more than is
// owed. Never held while waiting for anything but the ledger.
std::mutex& ClearingVoteMutex();

// Applies the policy once (holding ClearingVoteMutex()): appends an accept of `identity`'s firm,
// dated `now_ms`, for every proposal ProposalsToAutoAccept returns. Returns how many were accepted.
// Errors: the ledger's (storage, a write gate); the accepts before the failing one stay written.
Result<size_t> RunAutoAccept(node::Ledger& ledger, const node::Identity& identity, uint64_t now_ms,
                             const AutoAcceptPolicy& policy);

}  // namespace keiretsu::api
