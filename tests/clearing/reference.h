// An independent optimum for the clearing tests: LEMON's cycle-canceling
// algorithm on the same network the solver gives its network simplex.
// Compiled as C++17 (LEMON 1.3.1's maps need it), so nothing newer here.
#pragma once

#include <cstdint>
#include <vector>

namespace keiretsu::clearing::testing {

struct ReferenceArc {
  int tail = 0;
  int head = 0;
  int64_t capacity = 0;
};

// The largest total flow of a circulation with 0 <= flow <= capacity on
// every arc, by minimum-mean cycle canceling with cost -1 per unit; false if
// LEMON reports no optimum.
bool MaxCirculationByCycleCanceling(int node_count, const std::vector<ReferenceArc>& arcs,
                                    __int128* total);

}  // namespace keiretsu::clearing::testing
