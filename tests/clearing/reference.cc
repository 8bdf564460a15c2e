#include "reference.h"

#include <lemon/cycle_canceling.h>
#include <lemon/smart_graph.h>

namespace keiretsu::clearing::testing {

bool MaxCirculationByCycleCanceling(int node_count, const std::vector<ReferenceArc>& arcs,
                                    __int128* total) {
  *total = 0;
  if (arcs.empty()) return true;  // LEMON reports an empty network infeasible
  using Graph = lemon::SmartDigraph;
  Graph g;
  std::vector<Graph::Node> nodes;
  for (int i = 0; i < node_count; ++i) nodes.push_back(g.addNode());
  Graph::ArcMap<int64_t> upper(g), cost(g);
  std::vector<Graph::Arc> ids;
  for (const ReferenceArc& a : arcs) {
    ids.push_back(g.addArc(nodes[static_cast<size_t>(a.tail)], nodes[static_cast<size_t>(a.head)]));
    upper[ids.back()] = a.capacity;
    cost[ids.back()] = -1;
  }
  using Canceling = lemon::CycleCanceling<Graph, int64_t, int64_t>;
  Canceling canceling(g);
  canceling.upperMap(upper).costMap(cost);
  if (canceling.run(Canceling::CANCEL_AND_TIGHTEN) != Canceling::OPTIMAL) return false;
  for (const Graph::Arc& a : ids) *total += canceling.flow(a);
  return true;
}

}  // namespace keiretsu::clearing::testing
