// `keiretsu graph`: the obligation graph of one unit as Graphviz DOT or SVG,
// drawn by the same code as the node's status page (graph/).
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "keiretsu/graph/obligation_graph.h"
#include "output.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;
using Stub = v1::Ledger::Stub;

struct GraphArgs {
  std::string format = "svg";
  std::string unit;
  std::string out = "-";
};

struct Collected {
  std::vector<graph::GraphFirm> firms;
  std::vector<graph::Position> positions;
};

// Every firm the node knows of and every position, from GetStatus (firms
// with feeds) and ListBalances of each (every debt has an author among
// them: the debtor's obligation or accept, or the creditor's release).
Result<Collected> Collect(Client& client) {
  v1::GetStatusResponse status;
  KEIRETSU_RETURN_IF_ERROR(client.Call(&Stub::GetStatus, v1::GetStatusRequest(), &status));
  std::map<std::string, graph::GraphFirm> firms;
  auto note = [&](const v1::Firm& f) {
    auto& g = firms[f.public_key()];
    g.key_hex = f.public_key();
    if (!f.name().empty()) g.name = f.name();
  };
  note(status.firm());
  firms[status.firm().public_key()].self = true;
  Collected out;
  for (const v1::FeedHead& feed : status.feeds()) {
    note(feed.firm());
    v1::ListBalancesRequest req;
    req.set_firm(feed.firm().public_key());
    v1::ListBalancesResponse r;
    KEIRETSU_RETURN_IF_ERROR(client.Call(&Stub::ListBalances, req, &r));
    for (const v1::Balance& b : r.balances()) {
      note(b.firm());
      note(b.counterparty());
      out.positions.push_back(
          {b.firm().public_key(), b.counterparty().public_key(), b.unit(), b.net()});
    }
  }
  for (auto& [k, f] : firms) out.firms.push_back(f);
  return out;
}

Result<graph::ObligationGraph> PickUnit(const Collected& c, const std::string& unit) {
  KEIRETSU_ASSIGN_OR_RETURN(auto graphs, graph::BuildGraphs(c.firms, c.positions, unit));
  if (graphs.empty()) return graph::ObligationGraph{"(no balances yet)", c.firms, {}};
  if (graphs.size() > 1) {
    std::string units;
    for (const auto& g : graphs) units += (units.empty() ? "" : ", ") + g.unit;
    return InvalidArgument("balances are kept in " + std::to_string(graphs.size()) + " units (" +
                           units + "): choose one with --unit");
  }
  return graphs.front();
}

Status WriteOut(const std::string& path, const std::string& text) {
  std::string tmp = path + ".partial-" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return IOError("cannot create " + tmp);
    f << text;
    if (!f.flush()) return IOError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return IOError("cannot write " + path);
  }
  return Status::Ok();
}

Status Graph(Context& ctx, const GraphArgs& a) {
  if (a.format != "dot" && a.format != "svg")
    return InvalidArgument("--format must be dot or svg, not '" + Printable(a.format, 20) + "'");
  if (ctx.json && a.out == "-")
    return InvalidArgument("--json reports on the file written: give --out FILE");
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  KEIRETSU_ASSIGN_OR_RETURN(Collected c, Collect(*client));
  KEIRETSU_ASSIGN_OR_RETURN(graph::ObligationGraph g, PickUnit(c, a.unit));
  std::string text = graph::ToDot(g);
  if (a.format == "svg") {
    KEIRETSU_ASSIGN_OR_RETURN(std::string svg, graph::RenderSvg(text));
    text = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n" + svg;
  }
  if (a.out == "-") {
    *ctx.out << text;
    return Status::Ok();
  }
  KEIRETSU_RETURN_IF_ERROR(WriteOut(a.out, text));
  if (ctx.json)
    *ctx.out << FlatJson({{"file", a.out},
                          {"format", a.format},
                          {"unit", g.unit},
                          {"firms", std::to_string(g.firms.size())},
                          {"debts", std::to_string(g.debts.size())}})
             << '\n';
  else
    *ctx.err << "obligation graph of " << g.unit << " (" << g.debts.size() << " debts) written to "
             << a.out << '\n';
  return Status::Ok();
}

}  // namespace

void AddGraphCommands(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<GraphArgs>();
  auto* sub = app.add_subcommand(
      "graph", "Draw who owes whom in one unit, as Graphviz DOT or SVG (from ListBalances)");
  sub->add_option("--format", a->format, "dot or svg (default svg)");
  sub->add_option("--unit", a->unit,
                  "The unit to draw (needed when balances are kept in several units)");
  sub->add_option("--out", a->out, "File to write (default -: stdout)");
  sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Graph(ctx, *a); }; });
}

}  // namespace keiretsu::cli
