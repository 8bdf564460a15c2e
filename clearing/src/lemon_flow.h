// The only door to LEMON: plain vectors in, plain vectors out. Compiled as
// C++17 (see clearing/CMakeLists.txt), so this header uses nothing newer.
#pragma once

#include <cstdint>
#include <vector>

namespace keiretsu::clearing::detail {

// An arc of a network on nodes 0..node_count-1.
struct FlowArc {
  int32_t tail = 0;
  int32_t head = 0;
  int64_t capacity = 0;  // REQUIRES: 1 <= capacity <= 2^62
};

// A circulation of the largest total flow with 0 <= flow <= capacity on
// every arc (LEMON's network simplex, cost -1 per unit). `flow[i]` is the
// flow on `arcs[i]`. False if LEMON reports anything but an optimum (a bug:
// the zero flow is always feasible and every capacity is finite).
// REQUIRES: every arc's nodes are in range and tail != head.
bool MaxCirculation(int32_t node_count, const std::vector<FlowArc>& arcs,
                    std::vector<int64_t>* flow);

// The strongly connected components of the digraph `arcs` (capacities
// ignored): `component[v]` for every node, numbered from 0; returns how
// many there are. Deterministic for a given arc order.
int32_t StronglyConnected(int32_t node_count, const std::vector<FlowArc>& arcs,
                          std::vector<int32_t>* component);

}  // namespace keiretsu::clearing::detail
