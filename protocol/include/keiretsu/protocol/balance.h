// Balance semantics: what an entry does to the books.
//
// For each ordered pair of firms (firm, counterparty) and unit, the ledger
// keeps `net`: what counterparty owes firm, minus what firm owes
// counterparty. net(a, b, u) == -net(b, a, u) always. Accept and Obligation
// move `amount` from the author's side (debtor) to the creditor's; Release
// moves it back, signed by the creditor. Sums are commutative, so balances
// are a pure function of the set of effective entries, whatever the order.
#pragma once

#include <optional>
#include <string>

#include "keiretsu/common/id32.h"
#include "keiretsu/protocol/effects.h"
#include "keiretsu/protocol/entry.h"

namespace keiretsu::protocol {

// The balance part of EffectsOf(entry): v1 kinds change at most one
// pair's balance; nullopt for those that change none (Claim, Decline).
std::optional<DebtChange> EffectOf(const Entry& entry);

// Decimal text of a 128-bit amount ("-1500").
std::string AmountToString(Amount128 v);

}  // namespace keiretsu::protocol
