// A second, independent optimum for the clearing scenario: the MTCS
// formulation (what is left owed, as a flow with supplies from the net
// positions, cost 1 per unit) solved by LEMON's cost scaling, where the
// solver under test maximises a circulation with the network simplex.
// Compiled as C++17 (LEMON 1.3.1's maps need it), so nothing newer here.
#pragma once

#include <cstdint>
#include <vector>

namespace keiretsu::bench {

struct OwedArc {
  int tail = 0;  // debtor
  int head = 0;  // creditor
  int64_t owed = 0;
};

// The largest total set-off: the total owed minus the least total that can
// remain owed with every node's net position unchanged. False if LEMON
// reports no optimum. REQUIRES: the total owed fits in int64_t.
bool MaxSetOffByCostScaling(int node_count, const std::vector<OwedArc>& arcs, int64_t* cleared);

}  // namespace keiretsu::bench
