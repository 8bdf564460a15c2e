// Effects: what an effective entry does (stratum 3, docs/PROTOCOL.md
// "Protocol v2"). Each kind's KindOps::Effects says what its entries do in
// this vocabulary; the ledger (node/src/ledger_apply.cc) and the auditor
// apply it and undo it with visitors that handle every alternative, so a
// new kind of effect is a compile error until both handle it.
//
// Kinds whose effects are not self-contained fit here too: a governance
// kind emits an effect that stratum 2 (the membership state) consumes; a
// clearing vote emits an effect an outcome engine collects, which yields
// DebtChanges for every leg once the set-off commits (see
// docs/ARCHITECTURE.md "Adding an entry kind").
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

// Balances accumulate in 128 bits: no realistic ledger can overflow them.
using Amount128 = __int128;

// "debtor's debt to creditor in `unit` changes by `delta`".
struct DebtChange {
  PublicKey debtor;
  PublicKey creditor;
  std::string unit;
  Amount128 delta = 0;  // > 0: more debt (Accept, Obligation); < 0: Release
};

// The entry is a claim against `debtor` (its author is the creditor): it is
// listed among the debtor's open claims until answered.
struct OpensClaim {
  PublicKey debtor;
};

// The entry (authored by the debtor) answers claim `claim`.
struct AnswersClaim {
  EntryId claim;
};

using Effect = std::variant<DebtChange, OpensClaim, AnswersClaim>;
using EffectList = std::vector<Effect>;

}  // namespace keiretsu::protocol
