// The outcome of consent-based clearing proposals (docs/PROTOCOL.md 20.3-
// 20.5): a pure function of the members' counted prefixes, so that the
// node, the auditor and the reference (RecomputeLedger) decide alike
// whatever the order records arrived in.
//
// The caller describes every member's counted prefix (19.11) — the entries
// that count, in seq order — with what the outcome needs of each entry;
// DecideClearing returns the state of every proposal found there and the
// balance changes of the committed ones. Pure and thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "keiretsu/common/id32.h"
#include "keiretsu/protocol/effects.h"
#include "keiretsu/protocol/kinds.h"

namespace keiretsu::protocol {

// One counted entry, as far as clearing is concerned.
struct ClearingFeedEntry {
  EntryId id;
  uint64_t timestamp_ms = 0;  // the header's author time
  // What the entry is: a counted debt change of kinds 1-5 (only when it
  // has its effect: every firm it names a member of some epoch), a
  // well-formed clearing proposal or vote, or anything else.
  std::variant<std::monostate, DebtChange, ClearingPropose, ClearingVote> what;
};

// A member's counted prefix: entries[i] is the entry at seq i + 1.
using ClearingFeeds = std::map<PublicKey, std::vector<ClearingFeedEntry>>;

// What one entry contributes, from its decoded body (DebtChange from the
// kind's effects; the caller decides whether the debt counts).
ClearingFeedEntry ClearingEntryOf(const Entry& entry, const EntryId& id);

enum class ClearingState : uint8_t {
  kPending,    // may still commit
  kCommitted,  // every participant accepted in time: its legs take effect
  kRejected,   // a participant's first vote is a reject
  kExpired,    // a participant that had not accepted wrote after the expiry
  kVoid,       // a named head is not in its feed, or a leg exceeds what is owed
};
std::string_view ClearingStateName(ClearingState s);  // "pending", "committed", ...

// Where a participant stands on one proposal (20.4).
enum class ClearingStance : uint8_t { kUndecided, kAccepted, kRejected, kLapsed };

struct ClearingOutcome {
  EntryId proposal;
  PublicKey proposer;
  uint64_t seq = 0;  // the proposal's seq in the proposer's feed
  ClearingPropose body;
  ClearingState state = ClearingState::kPending;
  std::vector<ClearingStance> stances;  // one per participant, in body order
};

struct ClearingResult {
  std::map<EntryId, ClearingOutcome> proposals;  // every proposal in a counted prefix
  // The balance changes of every committed set-off: one per leg, debtor to
  // creditor, delta = -amount; ordered by proposal id, then leg order.
  std::vector<DebtChange> set_offs;
};

// Decides every proposal in `feeds` (every member of some epoch, with its
// counted prefix; a firm missing from `feeds` is not a member).
ClearingResult DecideClearing(const ClearingFeeds& feeds);

// What `debtor` owes `creditor` in `unit` as of the two heads (20.3): the
// counted debt changes between the two in the debtor's entries 1..d_seq and
// the creditor's entries 1..c_seq. Negative when the creditor owes more.
Amount128 OwedAtHeads(const ClearingFeeds& feeds, const PublicKey& debtor, uint64_t d_seq,
                      const PublicKey& creditor, uint64_t c_seq, std::string_view unit);

}  // namespace keiretsu::protocol
