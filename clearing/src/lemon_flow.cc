#include "lemon_flow.h"

#include <lemon/connectivity.h>
#include <lemon/maps.h>
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

namespace keiretsu::clearing::detail {
namespace {

using Graph = lemon::SmartDigraph;

// Builds `g` with nodes 0..node_count-1 and `arcs` in their order, so that
// LEMON's ids equal our indexes and its (deterministic) pivots depend only
// on the order the caller chose.
std::vector<Graph::Arc> Build(Graph* g, int32_t node_count, const std::vector<FlowArc>& arcs) {
  g->reserveNode(node_count);
  g->reserveArc(static_cast<int>(arcs.size()));
  std::vector<Graph::Node> nodes;
  nodes.reserve(static_cast<size_t>(node_count));
  for (int32_t i = 0; i < node_count; ++i) nodes.push_back(g->addNode());
  std::vector<Graph::Arc> out;
  out.reserve(arcs.size());
  for (const FlowArc& a : arcs)
    out.push_back(
        g->addArc(nodes[static_cast<size_t>(a.tail)], nodes[static_cast<size_t>(a.head)]));
  return out;
}

}  // namespace

// Why 64-bit values cannot overflow here (Value = Cost = int64_t):
// 1. Every supply is 0 (the default), so NetworkSimplex::init() gives every
//    node potential 0 and an artificial arc node -> root of cost 0 (the
//    "_supply[u] >= 0" branch); ART_COST (about 2^62) is never used. The
//    root's supply is 0 and every artificial arc points into it, so by flow
//    conservation at the root no artificial arc ever carries flow.
// 2. Every real arc's flow stays in [0, capacity] (LEMON's invariant), and
//    the residuals it forms are flow or capacity - flow, also in
//    [0, capacity] with capacity <= 2^62 < INT64_MAX: no capacity ever
//    reaches LEMON's `MAX`, so none is mistaken for infinite, and the pivot
//    step (at most one residual) fits too.
// 3. Potentials are sums of arc costs along paths of the spanning tree:
//    costs are -1 (real arcs) or 0 (artificial), so |potential| <= node
//    count < 2^31, and every reduced cost (cost + pi(u) - pi(v)) is at most
//    2^32 + 1 in absolute value.
// 4. totalCost() (a sum over all arcs) is never called; the caller sums the
//    flows in 128 bits.
// tests/clearing covers the boundary: capacities of exactly 2^62 clear exactly.
bool MaxCirculation(int32_t node_count, const std::vector<FlowArc>& arcs,
                    std::vector<int64_t>* flow) {
  flow->assign(arcs.size(), 0);
  if (arcs.empty()) return true;  // LEMON reports an empty network infeasible
  Graph g;
  const std::vector<Graph::Arc> ids = Build(&g, node_count, arcs);
  Graph::ArcMap<int64_t> upper(g);
  for (size_t i = 0; i < arcs.size(); ++i) upper[ids[i]] = arcs[i].capacity;
  lemon::NetworkSimplex<Graph, int64_t, int64_t> simplex(g);
  simplex.upperMap(upper).costMap(lemon::ConstMap<Graph::Arc, int64_t>(-1));
  if (simplex.run() != lemon::NetworkSimplex<Graph, int64_t, int64_t>::OPTIMAL) return false;
  for (size_t i = 0; i < arcs.size(); ++i) (*flow)[i] = simplex.flow(ids[i]);
  return true;
}

int32_t StronglyConnected(int32_t node_count, const std::vector<FlowArc>& arcs,
                          std::vector<int32_t>* component) {
  Graph g;
  Build(&g, node_count, arcs);
  Graph::NodeMap<int> comp(g);
  const int count = lemon::stronglyConnectedComponents(g, comp);
  component->assign(static_cast<size_t>(node_count), 0);
  for (int32_t i = 0; i < node_count; ++i)
    (*component)[static_cast<size_t>(i)] = comp[g.nodeFromId(i)];
  return count;
}

}  // namespace keiretsu::clearing::detail
