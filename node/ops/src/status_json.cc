// /status.json: the snapshot for scripts (docs/OPERATIONS.md). Amounts that
// are sums are decimal strings, as in the API (they may exceed 64 bits).
#include <nlohmann/json.hpp>

#include "keiretsu/protocol/balance.h"
#include "node/ops/src/render.h"

namespace keiretsu::ops {

namespace {

using nlohmann::json;

json Members(const NodeSnapshot& s) {
  json out = json::array();
  for (const MemberView& m : s.members) {
    const char* stop = m.feed.stop_seq == 0                               ? ""
                       : m.feed.stop_reason == storage::StopReason::kFork ? "fork"
                                                                          : "invalid-entry";
    out.push_back({{"name", m.name},
                   {"public_key", m.key.Hex()},
                   {"self", m.self},
                   {"head_seq", m.feed.head_seq},
                   {"effective_seq", m.feed.effective_seq()},
                   {"stopped_at", m.feed.stop_seq},
                   {"stop_reason", stop}});
  }
  return out;
}

json Peers(const NodeSnapshot& s) {
  json out = json::array();
  for (const net::PeerStatus& p : s.peers)
    out.push_back({{"name", p.name},
                   {"public_key", p.firm.Hex()},
                   {"address", p.address},
                   {"connected", p.connected},
                   {"synced", p.synced},
                   {"last_seen_unix_ms", p.last_seen_unix_ms},
                   {"entries_received", p.entries_received},
                   {"entries_sent", p.entries_sent},
                   {"invalid_received", p.invalid_received},
                   {"we_lack", p.behind},
                   {"it_lacks", p.peer_lacks},
                   {"last_error", p.last_error}});
  return out;
}

// {"unit": [{"debtor": name, "creditor": name, "amount": "decimal"}]}
json Debts(const NodeSnapshot& s) {
  json out = json::object();
  for (const graph::ObligationGraph& g : SnapshotGraphs(s)) {
    json list = json::array();
    std::map<std::string, std::string> names;
    for (const auto& f : g.firms) names[f.key_hex] = f.name.empty() ? f.key_hex : f.name;
    for (const graph::Debt& d : g.debts)
      list.push_back(
          {{"debtor", names[d.debtor]}, {"creditor", names[d.creditor]}, {"amount", d.amount}});
    out[g.unit] = std::move(list);
  }
  return out;
}

json Claims(const NodeSnapshot& s) {
  json out = json::array();
  for (const ClaimView& c : s.open_claims)
    out.push_back({{"id", c.id_hex},
                   {"creditor", s.NameOf(c.creditor)},
                   {"debtor", s.NameOf(c.debtor)},
                   {"amount", c.amount},
                   {"unit", c.unit},
                   {"memo", c.memo},
                   {"timestamp_ms", c.timestamp_ms}});
  return out;
}

}  // namespace

std::string StatusJson(const NodeSnapshot& s) {
  json j = {{"taken_unix_ms", s.taken_unix_ms},
            {"version", s.version},
            {"commit", s.commit},
            {"firm", {{"name", s.self_name}, {"public_key", s.self.Hex()}}},
            {"network", {{"name", s.network_name}, {"id", s.network_id_hex}}},
            {"state_digest", s.state_digest_hex},
            {"writable", s.write_block_reason.empty()},
            {"write_block_reason", s.write_block_reason},
            {"members", Members(s)},
            {"replication", s.replication},
            {"peers", Peers(s)},
            {"debts", Debts(s)},
            {"open_claims", Claims(s)},
            {"open_claims_total", s.open_claims_total},
            {"pending_entries", s.pending_entries},
            {"proposals", json::array()},
            {"error", s.error}};
  if (s.disk)
    j["disk"] = {{"free_bytes", s.disk->free_bytes}, {"total_bytes", s.disk->total_bytes}};
  // Replaces invalid UTF-8 (a memo is bytes) instead of throwing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace keiretsu::ops
