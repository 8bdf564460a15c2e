// The checks a set-off must pass, as pure functions: the rules a clearing
// proposal is validated by (is it a circulation, is every leg at most what
// is owed) and the guard of an auto-accept policy (does accepting it with
// the set-offs already accepted set off more than is owed on some pair).
//
// Each returns OK or the first defect found, one line naming the firms (by
// the first 8 hex characters of their keys) and amounts involved:
// - INVALID_ARGUMENT: the input is malformed in itself (empty, an amount
//   outside [1, kMaxAmount], a firm owing itself, a pair listed twice, legs
//   that are not a circulation, set-offs of different units);
// - FAILED_PRECONDITION: well-formed, but more than is owed (a leg on a pair
//   that owes nothing, a leg above what is owed, legs together above it);
//   the same set-off may pass against another (newer) graph.
// Pure and thread-safe; nothing is modified.
#pragma once

#include <span>

#include "keiretsu/clearing/types.h"
#include "keiretsu/common/status.h"

namespace keiretsu::clearing {

// OK when every obligation owes an amount in [1, kMaxAmount], no firm owes
// itself, and no (debtor, creditor) pair appears twice. An empty graph is
// valid. Solve() and the checks below run it on every graph they take.
Status CheckObligationGraph(const ObligationGraph& graph);

// OK when `legs` is a well-formed circulation: at least one leg; every
// amount in [1, kMaxAmount]; no leg from a firm to itself; no (debtor,
// creditor) pair twice; and for every firm, the legs it is debtor on sum to
// the legs it is creditor on, so no firm's net position changes. The order
// of the legs does not matter.
Status IsCirculation(std::span<const Leg> legs);

// OK when `set_off` is in `owed`'s unit, its legs are well formed (as in
// IsCirculation, except that balance is not checked here) and every leg's
// amount is at most what its debtor owes its creditor in `owed`.
Status LegsWithinOwed(const SetOff& set_off, const ObligationGraph& owed);

// For an auto-accept policy: OK when `candidate` passes LegsWithinOwed and,
// added to every set-off in `accepted` (already accepted, not yet settled),
// sets off at most what is owed on every pair. Every set-off must be in
// `owed`'s unit (filter by unit first). `accepted` may be empty; its
// set-offs must be well formed but are not required to be circulations.
Status JointlyWithinOwed(const SetOff& candidate, std::span<const SetOff> accepted,
                         const ObligationGraph& owed);

}  // namespace keiretsu::clearing
