// The status page: one self-contained HTML document (inline style and
// script, inline SVG; nothing fetched from elsewhere). Everything from the
// ledger is escaped here (names, units, memos) or by Graphviz (the SVG).
#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "keiretsu/protocol/balance.h"
#include "node/ops/src/render.h"

namespace keiretsu::ops {

namespace {

const char kStyle[] = R"css(
:root{--fg:#1d2733;--muted:#66748a;--line:#e3e8ef;--bg:#f6f8fb;--card:#fff;--accent:#1f5fbf;
--ok:#1b7f4b;--warn:#b26a00;--bad:#b3261e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
header{background:#14202e;color:#fff;padding:14px 28px;display:flex;align-items:baseline;gap:18px;flex-wrap:wrap}
header h1{font-size:20px;margin:0;font-weight:600}
header .sub{color:#b8c4d4}
main{padding:20px 28px 40px;max-width:1400px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:0 0 18px}
h2{font-size:15px;margin:0 0 10px;font-weight:600}
h3{font-size:13px;margin:14px 0 6px;color:var(--muted);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;background:none;border:0;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.card .k{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:auto;min-width:50%}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{color:var(--muted);font-weight:600;font-size:12px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.zero{color:#c3cad5;text-align:center}
tr.total td{font-weight:600;border-top:2px solid var(--line)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#e3f4ea;color:var(--ok)}.warn{background:#fff1dc;color:var(--warn)}
.bad{background:#fde7e5;color:var(--bad)}.off{background:#edf0f4;color:var(--muted)}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.muted{color:var(--muted)}
.graph svg{max-width:100%;height:auto}
.note{color:var(--muted);font-style:italic}
.error{background:#fde7e5;border-color:#f3b8b3}
)css";

// Reloads the page's content in place (no flicker, scroll kept); without
// JavaScript the <noscript> meta refresh reloads the whole page.
const char kScript[] = R"js(
(function(){var every=REFRESH_MS;function tick(){fetch(location.pathname,{credentials:'same-origin',cache:'no-store'})
.then(function(r){if(!r.ok)throw new Error(r.status);return r.text();})
.then(function(t){var d=new DOMParser().parseFromString(t,'text/html');
['top','main'].forEach(function(id){var n=d.getElementById(id);if(n)document.getElementById(id).replaceWith(n);});})
.catch(function(){var u=document.getElementById('updated');if(u)u.textContent='not reachable; retrying';})
.finally(function(){setTimeout(tick,every);});}setTimeout(tick,every);})();
)js";

std::string Amount(const std::string& decimal) {
  return graph::GroupThousands(decimal);
}

std::string Ago(uint64_t now_ms, uint64_t then_ms) {
  if (then_ms == 0) return "never";
  if (then_ms >= now_ms) return "just now";
  uint64_t s = (now_ms - then_ms) / 1000;
  if (s < 120) return std::to_string(s) + " s ago";
  if (s < 7200) return std::to_string(s / 60) + " min ago";
  return std::to_string(s / 3600) + " h ago";
}

std::string Utc(uint64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string Bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

void Card(std::ostream& o, const std::string& value, const std::string& label,
          const std::string& cls = "") {
  o << "<div class=\"card\"><div class=\"v " << cls << "\">" << HtmlEscape(value)
    << "</div><div class=\"k\">" << HtmlEscape(label) << "</div></div>";
}

void Header(std::ostream& o, const NodeSnapshot& s) {
  const bool writable = s.write_block_reason.empty();
  o << "<header id=\"top\"><h1>" << HtmlEscape(s.self_name) << "</h1><span class=\"sub\">network "
    << HtmlEscape(s.network_name) << " · keiretsud " << HtmlEscape(s.version) << "</span>"
    << "<span class=\"badge " << (writable ? "ok\">writable" : "warn\">writes paused")
    << "</span><span class=\"sub\" id=\"updated\">updated " << Utc(s.taken_unix_ms)
    << "</span></header>";
}

void Cards(std::ostream& o, const NodeSnapshot& s) {
  size_t connected = 0;
  for (const auto& p : s.peers) connected += p.connected ? 1 : 0;
  const size_t forks = s.FeedsStopped(storage::StopReason::kFork);
  const size_t invalid = s.FeedsStopped(storage::StopReason::kInvalidEntry);
  o << "<section class=\"cards\">";
  Card(o, std::to_string(s.members.size()), "members");
  if (s.replication)
    Card(o, std::to_string(connected) + " / " + std::to_string(s.peers.size()), "peers connected",
         connected == s.peers.size() ? "" : "warn");
  else
    Card(o, "off", "replication");
  Card(o, std::to_string(s.pending_entries), "pending entries");
  Card(o, std::to_string(s.open_claims_total), "open claims");
  Card(o, std::to_string(forks) + " / " + std::to_string(invalid), "forks / invalid feeds",
       forks + invalid > 0 ? "bad" : "");
  if (s.disk) Card(o, Bytes(s.disk->free_bytes), "free on data disk");
  o << "</section>";
  if (!s.write_block_reason.empty())
    o << "<section class=\"error\">Writes are paused: " << HtmlEscape(s.write_block_reason)
      << "</section>";
  if (!s.error.empty())
    o << "<section class=\"error\">Part of this page could not be read: " << HtmlEscape(s.error)
      << "</section>";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += (static_cast<unsigned char>(c) < 0x20 && c != '\t') ? ' ' : c;
    }
  }
  return out;
}

std::vector<graph::ObligationGraph> SnapshotGraphs(const NodeSnapshot& s) {
  std::vector<graph::GraphFirm> firms;
  for (const MemberView& m : s.members) firms.push_back({m.key.Hex(), m.name, m.self});
  std::vector<graph::Position> positions;
  for (const node::BalanceRow& b : s.balances)
    positions.push_back(
        {b.firm.Hex(), b.counterparty.Hex(), b.unit, protocol::AmountToString(b.net)});
  auto graphs = graph::BuildGraphs(firms, positions);
  return graphs.ok() ? std::move(*graphs) : std::vector<graph::ObligationGraph>{};
}

namespace {

// Rows: debtors; columns: creditors; only firms with a debt in the unit.
void Matrix(std::ostream& o, const graph::ObligationGraph& g) {
  std::set<std::string> debtors, creditors;
  std::map<std::pair<std::string, std::string>, std::string> owed;
  std::map<std::string, std::string> names;
  for (const auto& f : g.firms) names[f.key_hex] = f.name.empty() ? f.key_hex.substr(0, 8) : f.name;
  for (const auto& d : g.debts) {
    debtors.insert(d.debtor);
    creditors.insert(d.creditor);
    owed[{d.debtor, d.creditor}] = d.amount;
  }
  auto by_name = [&](const std::set<std::string>& keys) {
    std::vector<std::string> v(keys.begin(), keys.end());
    std::sort(v.begin(), v.end(), [&](auto& a, auto& b) { return names[a] < names[b]; });
    return v;
  };
  const auto rows = by_name(debtors), cols = by_name(creditors);
  o << "<h3>" << HtmlEscape(g.unit) << "</h3><table class=\"matrix\" data-unit=\""
    << HtmlEscape(g.unit) << "\"><tr><th>owes ↓ / to →</th>";
  for (const auto& c : cols) o << "<th class=\"num\">" << HtmlEscape(names[c]) << "</th>";
  o << "</tr>";
  for (const auto& r : rows) {
    o << "<tr><th>" << HtmlEscape(names[r]) << "</th>";
    for (const auto& c : cols) {
      auto it = owed.find({r, c});
      if (it == owed.end()) {
        o << "<td class=\"zero\">·</td>";
        continue;
      }
      o << "<td class=\"num owed\" data-debtor=\"" << HtmlEscape(names[r]) << "\" data-creditor=\""
        << HtmlEscape(names[c]) << "\" data-amount=\"" << HtmlEscape(it->second) << "\">"
        << HtmlEscape(Amount(it->second)) << "</td>";
    }
    o << "</tr>";
  }
  o << "</table>";
}

void Balances(std::ostream& o, const std::vector<graph::ObligationGraph>& graphs,
              const std::vector<DrawnGraph>& drawn) {
  o << "<section id=\"obligations\"><h2>Who owes whom</h2>";
  if (graphs.empty()) o << "<p class=\"note\">No one owes anyone anything yet.</p>";
  for (const auto& g : graphs) {
    Matrix(o, g);
    for (const DrawnGraph& d : drawn) {
      if (d.unit != g.unit) continue;
      if (!d.svg.empty()) o << "<div class=\"graph\">" << d.svg << "</div>";
      if (!d.note.empty()) o << "<p class=\"note\">" << HtmlEscape(d.note) << "</p>";
    }
  }
  o << "</section>";
}

void Peers(std::ostream& o, const NodeSnapshot& s) {
  o << "<section id=\"peers\"><h2>Peers</h2>";
  if (!s.replication) {
    o << "<p class=\"note\">Replication is off (no [peer] listen address and no peers).</p>"
      << "</section>";
    return;
  }
  o << "<table><tr><th>peer</th><th>state</th><th>address</th><th class=\"num\">it lacks</th>"
       "<th class=\"num\">we lack</th><th class=\"num\">received</th><th class=\"num\">sent</th>"
       "<th class=\"num\">invalid</th><th>last seen</th><th>last error</th></tr>";
  for (const net::PeerStatus& p : s.peers) {
    const char* state = !p.connected ? "off\">disconnected"
                        : p.synced   ? "ok\">in sync"
                                     : "warn\">syncing";
    o << "<tr><td>" << HtmlEscape(p.name) << "</td><td><span class=\"badge " << state
      << "</span></td><td class=\"mono\">" << HtmlEscape(p.address) << "</td><td class=\"num\">"
      << p.peer_lacks << "</td><td class=\"num\">" << p.behind << "</td><td class=\"num\">"
      << p.entries_received << "</td><td class=\"num\">" << p.entries_sent
      << "</td><td class=\"num\">" << p.invalid_received << "</td><td>"
      << Ago(s.taken_unix_ms, p.last_seen_unix_ms) << "</td><td class=\"muted\">"
      << HtmlEscape(p.last_error) << "</td></tr>";
  }
  o << "</table></section>";
}

void Members(std::ostream& o, const NodeSnapshot& s) {
  o << "<section id=\"members\"><h2>Network " << HtmlEscape(s.network_name)
    << " <span class=\"mono muted\" title=\"network id\">" << s.network_id_hex.substr(0, 16)
    << "…</span></h2><table><tr><th>member</th><th>key</th><th class=\"num\">entries</th>"
       "<th class=\"num\">effective</th><th>feed</th></tr>";
  for (const MemberView& m : s.members) {
    const std::string key = m.key.Hex();
    std::string state = "<span class=\"badge ok\">open</span>";
    if (m.feed.stop_seq != 0)
      state = std::string("<span class=\"badge bad\">stopped at ") +
              std::to_string(m.feed.stop_seq) + ": " +
              (m.feed.stop_reason == storage::StopReason::kFork ? "fork" : "invalid entry") +
              "</span>";
    o << "<tr><td>" << HtmlEscape(m.name)
      << (m.self ? " <span class=\"badge off\">this node</span>" : "")
      << "</td><td class=\"mono\" title=\"" << key << "\">" << key.substr(0, 16)
      << "…</td><td class=\"num\">" << m.feed.head_seq << "</td><td class=\"num\">"
      << m.feed.effective_seq() << "</td><td>" << state << "</td></tr>";
  }
  o << "</table><p class=\"muted\">State digest <span class=\"mono\">" << s.state_digest_hex
    << "</span></p></section>";
}

void Claims(std::ostream& o, const NodeSnapshot& s) {
  o << "<section id=\"claims\"><h2>Open claims</h2>";
  if (s.open_claims.empty()) {
    o << "<p class=\"note\">No claim is waiting for an answer.</p></section>";
    return;
  }
  o << "<table><tr><th>since</th><th>creditor</th><th>debtor</th><th class=\"num\">amount</th>"
       "<th>unit</th><th>memo</th><th>claim</th></tr>";
  for (const ClaimView& c : s.open_claims)
    o << "<tr><td>" << Ago(s.taken_unix_ms, c.timestamp_ms) << "</td><td>"
      << HtmlEscape(s.NameOf(c.creditor)) << "</td><td>" << HtmlEscape(s.NameOf(c.debtor))
      << "</td><td class=\"num\">" << Amount(std::to_string(c.amount)) << "</td><td>"
      << HtmlEscape(c.unit) << "</td><td>" << HtmlEscape(c.memo) << "</td><td class=\"mono\">"
      << c.id_hex.substr(0, 12) << "</td></tr>";
  o << "</table>";
  if (s.open_claims_total > s.open_claims.size())
    o << "<p class=\"note\">The oldest " << s.open_claims.size() << " of " << s.open_claims_total
      << " are shown.</p>";
  o << "</section>";
}

// Governance (membership, key rotation) and clearing proposals arrive with
// protocol v2; this is where their tables go.
void Proposals(std::ostream& o) {
  o << "<section id=\"proposals\"><h2>Governance and clearing proposals</h2>"
       "<p class=\"note\">This node's protocol version has no proposals: membership and "
       "clearing votes arrive with protocol v2.</p></section>";
}

}  // namespace

std::string StatusPage(const NodeSnapshot& s, const std::vector<DrawnGraph>& drawn,
                       std::chrono::seconds refresh) {
  const auto graphs = SnapshotGraphs(s);
  std::ostringstream o;
  o << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
       "<title>"
    << HtmlEscape(s.self_name) << " · keiretsu " << HtmlEscape(s.network_name) << "</title>"
    << "<noscript><meta http-equiv=\"refresh\" content=\"" << refresh.count() << "\"></noscript>"
    << "<style>" << kStyle << "</style></head><body>";
  Header(o, s);
  o << "<main id=\"main\">";
  Cards(o, s);
  Balances(o, graphs, drawn);
  Peers(o, s);
  Claims(o, s);
  Members(o, s);
  Proposals(o);
  o << "</main><script>";
  std::string script = kScript;
  script.replace(script.find("REFRESH_MS"), 10, std::to_string(refresh.count() * 1000));
  o << script << "</script></body></html>\n";
  return o.str();
}

}  // namespace keiretsu::ops
