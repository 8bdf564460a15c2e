// TakeSnapshot: the node's state for the operations listener.
#include "keiretsu/ops/snapshot.h"

#include <sys/statvfs.h>

#include <algorithm>

#include "keiretsu/protocol/entry.h"

namespace keiretsu::ops {

std::string NodeSnapshot::NameOf(const PublicKey& key) const {
  for (const MemberView& m : members)
    if (m.key == key) return m.name;
  return key.Short();
}

size_t NodeSnapshot::FeedsStopped(storage::StopReason reason) const {
  return static_cast<size_t>(std::count_if(
      members.begin(), members.end(),
      [&](const MemberView& m) { return m.feed.stop_seq != 0 && m.feed.stop_reason == reason; }));
}

namespace {

std::optional<DiskSpace> Disk(const std::string& path) {
  struct statvfs st {};
  if (path.empty() || ::statvfs(path.c_str(), &st) != 0) return std::nullopt;
  return DiskSpace{static_cast<uint64_t>(st.f_bavail) * st.f_frsize,
                   static_cast<uint64_t>(st.f_blocks) * st.f_frsize};
}

void AddError(NodeSnapshot& s, const Status& status) {
  if (!s.error.empty()) s.error += "; ";
  s.error += status.message();
}

// Every member's open claims, oldest first, the first kMaxClaimsShown kept.
void ReadClaims(const node::Ledger& ledger, NodeSnapshot& s) {
  for (const protocol::Member& m : ledger.genesis().members()) {
    auto records = ledger.ListOpenClaims(m.key);
    if (!records.ok()) {
      AddError(s, records.status());
      return;
    }
    s.open_claims_total += records->size();
    for (const Bytes& rec : *records) {
      protocol::RecordCheck c = protocol::CheckRecord(rec, ledger.genesis(), false);
      if (c.fault != protocol::Fault::kNone || !c.signed_entry) continue;
      const protocol::Entry& e = c.signed_entry->entry;
      const auto* claim = std::get_if<protocol::Claim>(&e.body);
      if (claim == nullptr) continue;
      s.open_claims.push_back(ClaimView{c.signed_entry->id.Hex(), e.author, claim->debtor,
                                        claim->amount, claim->unit, claim->memo, e.timestamp_ms});
    }
  }
  std::sort(s.open_claims.begin(), s.open_claims.end(),
            [](const ClaimView& a, const ClaimView& b) { return a.timestamp_ms < b.timestamp_ms; });
  if (s.open_claims.size() > kMaxClaimsShown) s.open_claims.resize(kMaxClaimsShown);
}

}  // namespace

NodeSnapshot TakeSnapshot(const SnapshotSources& src, uint64_t now_unix_ms) {
  NodeSnapshot s;
  const node::Ledger& ledger = *src.ledger;
  const protocol::Genesis& g = ledger.genesis();
  s.taken_unix_ms = now_unix_ms;
  s.version = src.version;
  s.commit = src.commit;
  s.self = src.self;
  s.network_name = g.network_name();
  s.network_id_hex = g.network_id().Hex();
  s.state_digest_hex = ledger.StateDigest().Hex();
  s.write_block_reason = ledger.WriteGate();
  const auto feeds = ledger.Feeds();
  for (const protocol::Member& m : g.members()) {
    auto it = feeds.find(m.key);
    s.members.push_back(MemberView{m.key, m.name, m.key == src.self,
                                   it == feeds.end() ? node::FeedState{} : it->second});
  }
  std::sort(s.members.begin(), s.members.end(),
            [](const MemberView& a, const MemberView& b) { return a.name < b.name; });
  s.self_name = s.NameOf(src.self);
  if (src.replicator != nullptr) {
    s.replication = true;
    s.peers = src.replicator->Peers();
    std::sort(s.peers.begin(), s.peers.end(),
              [](const net::PeerStatus& a, const net::PeerStatus& b) { return a.name < b.name; });
  }
  if (auto rows = ledger.ListAllBalances(); rows.ok())
    s.balances = std::move(*rows);
  else
    AddError(s, rows.status());
  ReadClaims(ledger, s);
  s.pending_entries = ledger.PendingCount();
  s.disk = Disk(src.data_dir);
  return s;
}

}  // namespace keiretsu::ops
