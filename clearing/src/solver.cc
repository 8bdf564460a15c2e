#include "keiretsu/clearing/solver.h"

#include <algorithm>
#include <limits>

#include "keiretsu/clearing/checks.h"
#include "lemon_flow.h"

namespace keiretsu::clearing {
namespace {

// The firms of `graph`, ascending: node i of the network is firms[i].
std::vector<PublicKey> FirmsOf(const ObligationGraph& graph) {
  std::vector<PublicKey> firms;
  firms.reserve(graph.obligations.size() * 2);
  for (const Obligation& o : graph.obligations) {
    firms.push_back(o.debtor);
    firms.push_back(o.creditor);
  }
  std::sort(firms.begin(), firms.end());
  firms.erase(std::unique(firms.begin(), firms.end()), firms.end());
  return firms;
}

int32_t IndexOf(const std::vector<PublicKey>& firms, const PublicKey& firm) {
  return static_cast<int32_t>(std::lower_bound(firms.begin(), firms.end(), firm) - firms.begin());
}

// The obligations ascending by (debtor, creditor): the order LEMON sees, so
// the result does not depend on the order of the input.
std::vector<Obligation> Canonical(const ObligationGraph& graph) {
  std::vector<Obligation> sorted = graph.obligations;
  std::sort(sorted.begin(), sorted.end(), [](const Obligation& a, const Obligation& b) {
    return std::tie(a.debtor, a.creditor) < std::tie(b.debtor, b.creditor);
  });
  return sorted;
}

// Groups the legs (ascending by pair) by the component of their debtor, one
// proposal per component, ascending by first firm.
Result<std::vector<Proposal>> SplitByComponent(const std::string& unit,
                                               const std::vector<PublicKey>& firms,
                                               const std::vector<Leg>& legs,
                                               const std::vector<detail::FlowArc>& support) {
  std::vector<int32_t> component;
  const int32_t count =
      detail::StronglyConnected(static_cast<int32_t>(firms.size()), support, &component);
  std::vector<Proposal> proposals(static_cast<size_t>(count));
  for (size_t i = 0; i < legs.size(); ++i) {
    const auto c = static_cast<size_t>(component[static_cast<size_t>(support[i].tail)]);
    if (component[static_cast<size_t>(support[i].head)] != static_cast<int32_t>(c))
      return Internal("clearing: leg " + legs[i].debtor.Short() + "->" + legs[i].creditor.Short() +
                      " joins two components");
    proposals[c].legs.push_back(legs[i]);
    proposals[c].total += legs[i].amount;
  }
  std::erase_if(proposals, [](const Proposal& p) { return p.legs.empty(); });
  for (Proposal& p : proposals) {
    p.unit = unit;
    for (const Leg& leg : p.legs) {
      p.firms.push_back(leg.debtor);
      p.firms.push_back(leg.creditor);
    }
    std::sort(p.firms.begin(), p.firms.end());
    p.firms.erase(std::unique(p.firms.begin(), p.firms.end()), p.firms.end());
    if (Status s = IsCirculation(p.legs); !s.ok())
      return Internal("clearing: a component's legs fail the circulation check: " + s.message());
  }
  std::sort(proposals.begin(), proposals.end(),
            [](const Proposal& a, const Proposal& b) { return a.firms.front() < b.firms.front(); });
  return proposals;
}

}  // namespace

Result<Clearing> Solve(const ObligationGraph& graph) {
  KEIRETSU_RETURN_IF_ERROR(
      CheckObligationGraph(graph).WithContext("clearing '" + graph.unit + "'"));
  if (graph.obligations.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2))
    return InvalidArgument("clearing '" + graph.unit + "': too many obligations");
  Clearing out;
  out.unit = graph.unit;
  const std::vector<PublicKey> firms = FirmsOf(graph);
  const std::vector<Obligation> sorted = Canonical(graph);
  std::vector<detail::FlowArc> arcs;
  arcs.reserve(sorted.size());
  for (const Obligation& o : sorted) {
    out.total_owed += o.owed;
    // In [1, 2^62] (CheckObligationGraph), so exact as int64_t.
    arcs.push_back(
        {IndexOf(firms, o.debtor), IndexOf(firms, o.creditor), static_cast<int64_t>(o.owed)});
  }
  std::vector<int64_t> flow;
  if (!detail::MaxCirculation(static_cast<int32_t>(firms.size()), arcs, &flow))
    return Internal("clearing '" + graph.unit + "': the network simplex found no optimum");
  std::vector<Leg> legs;  // ascending by (debtor, creditor), as `sorted`
  std::vector<detail::FlowArc> support;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (flow[i] < 0 || flow[i] > arcs[i].capacity)
      return Internal("clearing '" + graph.unit + "': a flow outside its capacity");
    if (flow[i] == 0) continue;
    legs.push_back({sorted[i].debtor, sorted[i].creditor, Amount{flow[i]}});
    support.push_back(arcs[i]);
    out.cleared += flow[i];
  }
  KEIRETSU_ASSIGN_OR_RETURN(out.proposals, SplitByComponent(graph.unit, firms, legs, support));
  return out;
}

double UnitSummary::ClearedShare() const {
  if (total_owed == 0) return 0;
  return static_cast<double>(cleared) / static_cast<double>(total_owed);
}

Result<std::vector<UnitSummary>> WhatCouldBeCleared(std::span<const ObligationGraph> graphs) {
  std::vector<const ObligationGraph*> by_unit;
  for (const ObligationGraph& g : graphs) by_unit.push_back(&g);
  std::sort(by_unit.begin(), by_unit.end(),
            [](const auto* a, const auto* b) { return a->unit < b->unit; });
  std::vector<UnitSummary> out;
  for (size_t i = 0; i < by_unit.size(); ++i) {
    const ObligationGraph& g = *by_unit[i];
    if (i > 0 && by_unit[i - 1]->unit == g.unit)
      return InvalidArgument("unit '" + g.unit + "' is given twice: one graph per unit");
    KEIRETSU_ASSIGN_OR_RETURN(Clearing c, Solve(g));
    UnitSummary s;
    s.unit = g.unit;
    s.firms = FirmsOf(g).size();
    s.obligations = g.obligations.size();
    s.components = c.proposals.size();
    for (const Proposal& p : c.proposals) s.legs += p.legs.size();
    s.total_owed = c.total_owed;
    s.cleared = c.cleared;
    out.push_back(std::move(s));
  }
  return out;
}

ObligationGraph WithoutFirms(const ObligationGraph& graph, std::span<const PublicKey> firms) {
  ObligationGraph out{graph.unit, {}};
  auto silent = [&](const PublicKey& f) {
    return std::find(firms.begin(), firms.end(), f) != firms.end();
  };
  for (const Obligation& o : graph.obligations)
    if (!silent(o.debtor) && !silent(o.creditor)) out.obligations.push_back(o);
  return out;
}

}  // namespace keiretsu::clearing
