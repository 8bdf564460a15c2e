// The obligation graph: one picture per unit of who owes whom how much.
// A node per firm, an arrow from debtor to creditor labelled with what is
// owed (the net position between the two, so at most one arrow per pair).
//
// Built from net positions as the API (ListBalances) and the ledger
// (ListAllBalances) report them; rendered as Graphviz DOT text, and as SVG
// by Graphviz's layout library in this process (no `dot` subprocess).
//
// Everything that comes from the ledger (names, units, amounts) is escaped
// for DOT here; Graphviz escapes it again for SVG/XML, so the SVG can be
// embedded in an HTML page as it is.
//
// Thread-safety: the functions are pure except RenderSvg, which serialises
// every call on one process-wide mutex (libgvc is not thread-safe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "keiretsu/common/status.h"

namespace keiretsu::graph {

struct GraphFirm {
  std::string key_hex;  // the firm's id (64 hex); the node's DOT id
  std::string name;     // genesis member name; empty: shown as the key's first 8 hex
  bool self = false;    // this node's firm: drawn highlighted
};

// One net position, as either side reports it: `net` > 0 means the
// counterparty owes `firm`; < 0 means `firm` owes the counterparty.
struct Position {
  std::string firm;          // key hex
  std::string counterparty;  // key hex
  std::string unit;
  std::string net;  // signed decimal (balances can exceed 64 bits)
};

// One arrow: `debtor` owes `creditor` `amount` (a positive decimal).
struct Debt {
  std::string debtor;
  std::string creditor;
  std::string amount;
};

struct ObligationGraph {
  std::string unit;
  std::vector<GraphFirm> firms;  // every firm drawn (also those without debts)
  std::vector<Debt> debts;       // sorted by (debtor, creditor); one per pair
};

// The graphs of every unit found in `positions` (sorted by unit), or only
// of `unit` when it is non-empty (then exactly one graph, possibly without
// debts). A pair reported from both sides yields one arrow; zero positions
// none. Positions naming a firm not in `firms` add it, shown by key.
// Errors: kInvalidArgument when a net is not a decimal integer.
Result<std::vector<ObligationGraph>> BuildGraphs(const std::vector<GraphFirm>& firms,
                                                 const std::vector<Position>& positions,
                                                 std::string_view unit = {});

// The graph as Graphviz DOT (digraph, left to right). Arrow widths grow
// with the amount (logarithmically); labels group digits by thousands.
std::string ToDot(const ObligationGraph& graph);

// Lays `dot` out with Graphviz's "dot" engine and renders it as SVG: an
// <svg> element without the XML prolog, ready to embed in HTML.
// Errors: kInvalidArgument (Graphviz cannot parse `dot`), kInternal (the
// layout or SVG renderer failed, e.g. plugins missing: see `dot -c`).
Result<std::string> RenderSvg(const std::string& dot);

// "1234567" -> "1,234,567"; a leading '-' is kept.
std::string GroupThousands(std::string_view decimal);

// `text` as the inside of a DOT double-quoted string: backslashes and
// quotes escaped, control characters replaced by spaces.
std::string DotEscape(std::string_view text);

}  // namespace keiretsu::graph
