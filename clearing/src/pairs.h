// Private helpers shared by the checks and the solver: the short names
// used in messages and a sorted index of what is owed per pair.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "keiretsu/clearing/types.h"

namespace keiretsu::clearing::detail {

using Pair = std::pair<PublicKey, PublicKey>;  // (debtor, creditor)

// "1a2b3c4d->5e6f7a8b", the pair as messages name it.
inline std::string PairText(const PublicKey& debtor, const PublicKey& creditor) {
  return debtor.Short() + "->" + creditor.Short();
}

// What each pair owes, ascending by pair, for binary search.
// REQUIRES: CheckObligationGraph(graph) is OK.
std::vector<std::pair<Pair, Amount>> OwedByPair(const ObligationGraph& graph);

// What `pair` owes in `owed` (from OwedByPair); 0 when nothing.
Amount OwedOn(const std::vector<std::pair<Pair, Amount>>& owed, const Pair& pair);

}  // namespace keiretsu::clearing::detail
