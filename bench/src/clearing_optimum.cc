#include "bench/src/clearing_optimum.h"

#include <lemon/cost_scaling.h>
#include <lemon/smart_graph.h>

namespace keiretsu::bench {

bool MaxSetOffByCostScaling(int node_count, const std::vector<OwedArc>& arcs, int64_t* cleared) {
  using Graph = lemon::SmartDigraph;
  Graph g;
  std::vector<Graph::Node> nodes;
  for (int i = 0; i < node_count; ++i) nodes.push_back(g.addNode());
  Graph::ArcMap<int64_t> upper(g), cost(g);
  Graph::NodeMap<int64_t> supply(g, 0);
  int64_t total = 0;
  for (const OwedArc& a : arcs) {
    const Graph::Arc arc =
        g.addArc(nodes[static_cast<size_t>(a.tail)], nodes[static_cast<size_t>(a.head)]);
    upper[arc] = a.owed;
    cost[arc] = 1;
    supply[nodes[static_cast<size_t>(a.tail)]] += a.owed;  // net position: owes minus is owed
    supply[nodes[static_cast<size_t>(a.head)]] -= a.owed;
    total += a.owed;
  }
  lemon::CostScaling<Graph, int64_t, int64_t> scaling(g);
  scaling.upperMap(upper).costMap(cost).supplyMap(supply);
  if (scaling.run() != lemon::CostScaling<Graph, int64_t, int64_t>::OPTIMAL) return false;
  *cleared = total - scaling.totalCost<int64_t>();
  return true;
}

}  // namespace keiretsu::bench
