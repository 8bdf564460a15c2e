// BuildGraphs and ToDot: net positions to arrows, arrows to DOT text.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "keiretsu/graph/obligation_graph.h"

namespace keiretsu::graph {

namespace {

bool IsDecimal(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0' || c == '-'; });
}

// Digits without leading zeros (the amount of an arrow).
std::string Magnitude(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  size_t first = s.find_first_not_of('0');
  return first == std::string_view::npos ? "0" : std::string(s.substr(first));
}

std::string Label(const GraphFirm& f) {
  return f.name.empty() ? f.key_hex.substr(0, 8) : f.name;
}

double PenWidth(const std::string& amount, long double max) {
  long double a = std::strtold(amount.c_str(), nullptr);
  if (max <= 1 || a <= 1) return 1.0;
  return 1.0 + 4.0 * static_cast<double>(std::log(a) / std::log(max));
}

}  // namespace

std::string GroupThousands(std::string_view decimal) {
  std::string sign;
  if (!decimal.empty() && decimal.front() == '-') {
    sign = "-";
    decimal.remove_prefix(1);
  }
  std::string out;
  for (size_t i = 0; i < decimal.size(); ++i) {
    if (i > 0 && (decimal.size() - i) % 3 == 0) out += ',';
    out += decimal[i];
  }
  return sign + out;
}

std::string DotEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  return out;
}

Result<std::vector<ObligationGraph>> BuildGraphs(const std::vector<GraphFirm>& firms,
                                                 const std::vector<Position>& positions,
                                                 std::string_view unit) {
  std::vector<GraphFirm> all = firms;
  std::set<std::string> known;
  for (const GraphFirm& f : firms) known.insert(f.key_hex);
  // (unit, debtor, creditor) -> amount; both sides of a pair agree, so the
  // second report of a pair overwrites the first with the same amount.
  std::map<std::string, std::map<std::pair<std::string, std::string>, std::string>> by_unit;
  if (!unit.empty()) by_unit[std::string(unit)];
  for (const Position& p : positions) {
    if (!IsDecimal(p.net))
      return InvalidArgument("balance of " + p.firm.substr(0, 8) + " with " +
                             p.counterparty.substr(0, 8) + " is not a decimal: '" +
                             DotEscape(p.net.substr(0, 40)) + "'");
    if (!unit.empty() && p.unit != unit) continue;
    for (const std::string* k : {&p.firm, &p.counterparty})
      if (known.insert(*k).second) all.push_back(GraphFirm{*k, "", false});
    if (IsZero(p.net)) continue;
    const bool firm_is_creditor = p.net.front() != '-';
    const std::string& debtor = firm_is_creditor ? p.counterparty : p.firm;
    const std::string& creditor = firm_is_creditor ? p.firm : p.counterparty;
    by_unit[p.unit][{debtor, creditor}] = Magnitude(p.net);
  }
  std::vector<ObligationGraph> out;
  for (auto& [u, debts] : by_unit) {
    ObligationGraph g;
    g.unit = u;
    g.firms = all;
    for (auto& [pair, amount] : debts) g.debts.push_back(Debt{pair.first, pair.second, amount});
    out.push_back(std::move(g));
  }
  return out;
}

std::string ToDot(const ObligationGraph& graph) {
  std::map<std::string, const GraphFirm*> by_key;
  for (const GraphFirm& f : graph.firms) by_key.emplace(f.key_hex, &f);
  auto name = [&](const std::string& key) {
    auto it = by_key.find(key);
    return it == by_key.end() ? key.substr(0, 8) : Label(*it->second);
  };
  long double max = 1;
  for (const Debt& d : graph.debts) max = std::max(max, std::strtold(d.amount.c_str(), nullptr));

  std::ostringstream dot;
  dot << "digraph \"obligations\" {\n"
      << "  graph [rankdir=LR, bgcolor=\"transparent\", fontname=\"Helvetica\", fontsize=12, "
         "labelloc=t, nodesep=0.5, ranksep=1.0, label=\"who owes whom: "
      << DotEscape(graph.unit) << "\"];\n"
      << "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef2f7\", color=\"#5b6b7f\", "
         "fontname=\"Helvetica\", fontsize=12, margin=\"0.2,0.08\"];\n"
      << "  edge [color=\"#6b7a90\", fontname=\"Helvetica\", fontsize=10, arrowsize=0.8];\n";
  for (const GraphFirm& f : graph.firms) {
    dot << "  \"" << DotEscape(f.key_hex) << "\" [label=\"" << DotEscape(Label(f))
        << "\", tooltip=\"" << DotEscape(Label(f) + " " + f.key_hex) << "\"";
    if (f.self) dot << ", fillcolor=\"#d7e8ff\", color=\"#1f5fbf\", penwidth=2";
    dot << "];\n";
  }
  for (const Debt& d : graph.debts) {
    std::string amount = GroupThousands(d.amount);
    char width[32];
    std::snprintf(width, sizeof width, "%.2f", PenWidth(d.amount, max));
    dot << "  \"" << DotEscape(d.debtor) << "\" -> \"" << DotEscape(d.creditor) << "\" [label=\""
        << DotEscape(amount) << "\", penwidth=" << width << ", tooltip=\""
        << DotEscape(name(d.debtor) + " owes " + name(d.creditor) + " " + amount + " " + graph.unit)
        << "\"];\n";
  }
  dot << "}\n";
  return dot.str();
}

}  // namespace keiretsu::graph
