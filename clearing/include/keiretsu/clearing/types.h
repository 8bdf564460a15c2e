// The value types of multilateral clearing (docs/CLEARING.md): what firms
// owe each other in one unit, and the legs of a set-off.
//
// Plain values: copy them freely; every function of the library that takes
// them is pure and thread-safe (it reads its arguments and nothing else).
#pragma once

#include <string>
#include <vector>

#include "keiretsu/common/id32.h"

namespace keiretsu::clearing {

// Amounts are signed 128-bit integers, the type the ledger's balances are
// summed in (protocol::Amount128; tests/clearing checks they are the same).
using Amount = __int128;

// Every amount the library takes in, owed or set off, lies in
// [1, kMaxAmount] = [1, 2^62] (about 4.6e18: 4,611 entries of the protocol's
// largest amount). Within it nothing the library computes can overflow:
// - the solver hands each owed amount to LEMON as a 64-bit capacity, and
//   every value LEMON's network simplex forms from it stays in [0, 2^62]
//   (the proof is in src/lemon_flow.cc);
// - every sum the library forms adds at most 2^64 such amounts, and
//   2^62 * 2^64 = 2^126 < 2^127, so no 128-bit sum can overflow.
// Anything outside is refused with INVALID_ARGUMENT, never rounded or capped.
inline constexpr Amount kMaxAmount = Amount{1} << 62;

// `debtor` owes `creditor` `owed` (> 0) in the graph's unit.
struct Obligation {
  PublicKey debtor;
  PublicKey creditor;
  Amount owed = 0;
};

// What firms owe each other in one unit: at most one obligation per ordered
// (debtor, creditor) pair; a pair may owe in both directions (the ledger
// nets each pair to one direction, but the library does not rely on it).
// The order of `obligations` carries no meaning.
struct ObligationGraph {
  std::string unit;
  std::vector<Obligation> obligations;
};

// One leg of a set-off: `debtor`'s debt to `creditor` shrinks by `amount`.
struct Leg {
  PublicKey debtor;
  PublicKey creditor;
  Amount amount = 0;
  friend bool operator==(const Leg&, const Leg&) = default;
};

// A set-off in one unit, as proposed or accepted: its legs must form a
// circulation (checks.h).
struct SetOff {
  std::string unit;
  std::vector<Leg> legs;
};

// Decimal text of an amount ("-1500"), for messages and reports.
std::string AmountText(Amount v);

}  // namespace keiretsu::clearing
