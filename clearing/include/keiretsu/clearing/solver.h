// The clearing solver (docs/CLEARING.md): the largest total set-off in one
// unit that leaves every firm's net position unchanged, split into one
// proposal per strongly connected component.
//
// Formulation: a circulation f on the obligation graph with
// 0 <= f(e) <= owed(e) on every edge, maximising sum f(e), i.e. a min-cost
// circulation with cost -1 per unit of flow, solved exactly by LEMON's
// network simplex. The legs with f(e) > 0 are then grouped by the strongly
// connected components of the graph they form (LEMON's
// stronglyConnectedComponents): every such leg lies inside one component,
// so each group is a circulation on its own and needs the consent of its
// own firms only.
//
// Deterministic: the result depends only on the set of obligations, never
// on their order (the solver sorts them by (debtor, creditor) before LEMON
// sees them), and on the LEMON version built in. Which optimum is returned
// when several exist is not part of any protocol rule: proposals are
// validated by the checks in checks.h, never by re-running the solver.
//
// Pure and thread-safe.
#pragma once

#include <span>
#include <vector>

#include "keiretsu/clearing/types.h"
#include "keiretsu/common/status.h"

namespace keiretsu::clearing {

// One strongly connected component's set-off: a proposal candidate.
struct Proposal {
  std::string unit;
  std::vector<PublicKey> firms;  // every firm on a leg, ascending
  std::vector<Leg> legs;         // ascending by (debtor, creditor); a circulation
  Amount total = 0;              // the sum of the legs' amounts
  friend bool operator==(const Proposal&, const Proposal&) = default;
};

struct Clearing {
  std::string unit;
  std::vector<Proposal> proposals;  // ascending by firms.front(); firm sets disjoint
  Amount total_owed = 0;            // the sum of every obligation of the input
  Amount cleared = 0;               // the sum of the proposals' totals: the optimum
  friend bool operator==(const Clearing&, const Clearing&) = default;
};

// Finds the largest set-off on `graph` and splits it by component. A graph
// without cycles yields no proposals (cleared == 0).
// Errors: INVALID_ARGUMENT when CheckObligationGraph refuses the graph;
// INTERNAL if LEMON does not report an optimum or a self-check of the
// result fails (a bug, never expected).
Result<Clearing> Solve(const ObligationGraph& graph);

// What could be cleared in one unit, for operators and reports.
struct UnitSummary {
  std::string unit;
  size_t firms = 0;        // firms owing or owed in the unit
  size_t obligations = 0;  // edges of the graph
  size_t components = 0;   // proposals: groups of cycles that clear together
  size_t legs = 0;         // legs over all proposals
  Amount total_owed = 0;
  Amount cleared = 0;
  // cleared / total_owed, the share of the unit's debt that clearing
  // removes; 0 when nothing is owed.
  double ClearedShare() const;
};

// Solves every graph and summarises each, ascending by unit.
// Errors: INVALID_ARGUMENT when two graphs share a unit or Solve refuses one
// (the message names the unit).
Result<std::vector<UnitSummary>> WhatCouldBeCleared(std::span<const ObligationGraph> graphs);

// `graph` without any obligation of the given firms: what to solve again
// when those firms stay silent on a proposal, so that the cycles that do
// not pass through them can still clear.
ObligationGraph WithoutFirms(const ObligationGraph& graph, std::span<const PublicKey> firms);

}  // namespace keiretsu::clearing
