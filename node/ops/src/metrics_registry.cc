// MetricsRegistry: prometheus-cpp's registry for what the node reports as it
// happens, and metric families built from a NodeSnapshot for what is read
// when scraped. Names follow Prometheus conventions: keiretsu_ prefix, base
// units (seconds, bytes), _total on counters.
#include "keiretsu/ops/metrics_registry.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <map>

#include "keiretsu/ops/snapshot.h"
#include "keiretsu/protocol/balance.h"

namespace keiretsu::ops {

namespace pm = prometheus;

namespace {

// Outcomes the ledger reports (node::OutcomeName), each with its counters.
constexpr std::array<std::string_view, 7> kOutcomes = {
    "applied", "duplicate", "pending", "fork-proven", "feed-ended", "ignored", "rejected"};

const pm::Histogram::BucketBoundaries& LatencyBuckets() {
  static const pm::Histogram::BucketBoundaries b = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  return b;
}

}  // namespace

struct MetricsRegistry::Impl {
  Impl(std::string v, std::string c)
      : version(std::move(v)),
        commit(std::move(c)),
        registry(std::make_shared<pm::Registry>()),
        entries(pm::BuildCounter()
                    .Name("keiretsu_ledger_entries_total")
                    .Help("Entries the ledger decided on, by origin (own: this node's writes; "
                          "ingest: from peers and imports) and outcome")
                    .Register(*registry)),
        commits(pm::BuildHistogram()
                    .Name("keiretsu_store_commit_duration_seconds")
                    .Help("Time of one atomic store commit (synced=\"true\": the write-ahead log "
                          "was synced to disk)")
                    .Register(*registry)),
        writes(pm::BuildHistogram()
                   .Name("keiretsu_write_duration_seconds")
                   .Help("Time of one own write from the call to durable storage (queueing, "
                         "signing, group commit), by result")
                   .Register(*registry)),
        handshake_failures(pm::BuildCounter()
                               .Name("keiretsu_peer_handshake_failures_total")
                               .Help("Peer connections that failed before or during the "
                                     "handshake, by reason")
                               .Register(*registry)),
        api_calls(pm::BuildCounter()
                      .Name("keiretsu_api_requests_total")
                      .Help("gRPC API calls by method and status code")
                      .Register(*registry)) {
    for (size_t i = 0; i < kOutcomes.size(); ++i) {
      const std::string outcome(kOutcomes[i]);
      entry_counters[0][i] = &entries.Add({{"origin", "ingest"}, {"outcome", outcome}});
      entry_counters[1][i] = &entries.Add({{"origin", "own"}, {"outcome", outcome}});
    }
    commit_synced = &commits.Add({{"synced", "true"}}, LatencyBuckets());
    commit_unsynced = &commits.Add({{"synced", "false"}}, LatencyBuckets());
    write_ok = &writes.Add({{"result", "ok"}}, LatencyBuckets());
    write_error = &writes.Add({{"result", "error"}}, LatencyBuckets());
  }

  const std::string version, commit;
  std::shared_ptr<pm::Registry> registry;
  pm::Family<pm::Counter>& entries;
  pm::Family<pm::Histogram>& commits;
  pm::Family<pm::Histogram>& writes;
  pm::Family<pm::Counter>& handshake_failures;
  pm::Family<pm::Counter>& api_calls;
  // Fixed label sets, resolved once: the hot paths take no map lookup.
  pm::Counter* entry_counters[2][kOutcomes.size()] = {};
  pm::Histogram* commit_synced = nullptr;
  pm::Histogram* commit_unsynced = nullptr;
  pm::Histogram* write_ok = nullptr;
  pm::Histogram* write_error = nullptr;
};

MetricsRegistry::MetricsRegistry(std::string version, std::string commit)
    : impl_(std::make_unique<Impl>(std::move(version), std::move(commit))) {}
MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::CountEntries(bool own, std::string_view outcome, uint64_t count) {
  for (size_t i = 0; i < kOutcomes.size(); ++i)
    if (kOutcomes[i] == outcome) {
      impl_->entry_counters[own ? 1 : 0][i]->Increment(static_cast<double>(count));
      return;
    }
}

void MetricsRegistry::ObserveCommit(double seconds, bool synced) {
  (synced ? impl_->commit_synced : impl_->commit_unsynced)->Observe(seconds);
}

void MetricsRegistry::ObserveWrite(double seconds, bool ok) {
  (ok ? impl_->write_ok : impl_->write_error)->Observe(seconds);
}

void MetricsRegistry::CountHandshakeFailure(std::string_view reason) {
  impl_->handshake_failures.Add({{"reason", std::string(reason)}}).Increment();
}

void MetricsRegistry::CountApiCall(std::string_view method, std::string_view code) {
  impl_->api_calls.Add({{"method", std::string(method)}, {"code", std::string(code)}}).Increment();
}

namespace {

// Builds the families read from a snapshot.
class StateFamilies {
 public:
  pm::MetricFamily& Family(const std::string& name, const std::string& help, pm::MetricType type) {
    out_.push_back(pm::MetricFamily{name, help, type, {}});
    return out_.back();
  }
  void Gauge(const std::string& name, const std::string& help, double value) {
    Add(Family(name, help, pm::MetricType::Gauge), {}, value);
  }
  static void Add(pm::MetricFamily& f, std::vector<pm::ClientMetric::Label> labels, double value) {
    pm::ClientMetric m;
    m.label = std::move(labels);
    if (f.type == pm::MetricType::Counter)
      m.counter.value = value;
    else
      m.gauge.value = value;
    f.metric.push_back(std::move(m));
  }
  std::vector<pm::MetricFamily> Take() { return std::move(out_); }

 private:
  std::vector<pm::MetricFamily> out_;
};

void AddLedgerState(StateFamilies& s, const NodeSnapshot& snap) {
  s.Gauge("keiretsu_pending_entries",
          "Entries held until the entries they follow arrive (or kept as possible fork evidence)",
          static_cast<double>(snap.pending_entries));
  s.Gauge("keiretsu_open_claims", "Claims not yet accepted or declined, over all members",
          static_cast<double>(snap.open_claims_total));
  s.Gauge("keiretsu_writable", "1 when this node accepts writes, 0 when writes are paused",
          snap.write_block_reason.empty() ? 1 : 0);
  auto& stopped =
      s.Family("keiretsu_feeds_stopped",
               "Member feeds stopped by a proven fork or an invalid entry", pm::MetricType::Gauge);
  StateFamilies::Add(stopped, {{"reason", "fork"}},
                     static_cast<double>(snap.FeedsStopped(storage::StopReason::kFork)));
  StateFamilies::Add(stopped, {{"reason", "invalid-entry"}},
                     static_cast<double>(snap.FeedsStopped(storage::StopReason::kInvalidEntry)));
  auto& heads = s.Family("keiretsu_feed_head_seq", "Highest seq held of each member's feed",
                         pm::MetricType::Gauge);
  for (const MemberView& m : snap.members)
    StateFamilies::Add(heads, {{"firm", m.name}}, static_cast<double>(m.feed.head_seq));
  // What is owed in total per unit (each debt once: the creditor's side).
  std::map<std::string, double> owed;
  for (const node::BalanceRow& b : snap.balances)
    if (b.net > 0) owed[b.unit] += static_cast<double>(b.net);
  auto& debt = s.Family("keiretsu_debt_outstanding",
                        "Sum of what members owe each other, per unit (units are the ledger's "
                        "own, not a base unit)",
                        pm::MetricType::Gauge);
  for (const auto& [unit, sum] : owed) StateFamilies::Add(debt, {{"unit", unit}}, sum);
}

void AddPeerState(StateFamilies& s, const NodeSnapshot& snap) {
  int connected = 0;
  for (const net::PeerStatus& p : snap.peers) connected += p.connected ? 1 : 0;
  s.Gauge("keiretsu_peers_connected", "Peer sessions established now", connected);
  s.Gauge("keiretsu_peers_known", "Peers configured or seen during this run",
          static_cast<double>(snap.peers.size()));
  struct PerPeer {
    const char* name;
    const char* help;
    pm::MetricType type;
    double (*value)(const net::PeerStatus&);
  };
  static const PerPeer kPerPeer[] = {
      {"keiretsu_peer_up", "1 while a session with the peer is established", pm::MetricType::Gauge,
       [](const net::PeerStatus& p) { return p.connected ? 1.0 : 0.0; }},
      {"keiretsu_peer_entries_received_total", "Entries from the peer that this ledger applied",
       pm::MetricType::Counter,
       [](const net::PeerStatus& p) { return static_cast<double>(p.entries_received); }},
      {"keiretsu_peer_entries_sent_total", "Entries sent to the peer", pm::MetricType::Counter,
       [](const net::PeerStatus& p) { return static_cast<double>(p.entries_sent); }},
      {"keiretsu_peer_messages_sent_total",
       "Transport messages sent to the peer (entry batches, Haves, Acks, pings)",
       pm::MetricType::Counter,
       [](const net::PeerStatus& p) { return static_cast<double>(p.messages_sent); }},
      {"keiretsu_peer_sent_bytes_total",
       "Bytes sent to the peer after the handshake (framed, sealed)", pm::MetricType::Counter,
       [](const net::PeerStatus& p) { return static_cast<double>(p.bytes_sent); }},
      {"keiretsu_peer_invalid_received_total",
       "Records refused from the peer and protocol violations", pm::MetricType::Counter,
       [](const net::PeerStatus& p) { return static_cast<double>(p.invalid_received); }},
      {"keiretsu_peer_entries_to_receive",
       "Entries the peer holds (its last Have) that this node lacks: how far this node is "
       "behind it",
       pm::MetricType::Gauge,
       [](const net::PeerStatus& p) { return static_cast<double>(p.behind); }},
      {"keiretsu_peer_entries_to_send",
       "Entries this node holds that the peer lacked at its last Have: how far it is behind",
       pm::MetricType::Gauge,
       [](const net::PeerStatus& p) { return static_cast<double>(p.peer_lacks); }},
      {"keiretsu_peer_last_seen_timestamp_seconds",
       "Unix time of the last message from the peer (0: never)", pm::MetricType::Gauge,
       [](const net::PeerStatus& p) { return static_cast<double>(p.last_seen_unix_ms) / 1000; }},
  };
  for (const PerPeer& m : kPerPeer) {
    auto& f = s.Family(m.name, m.help, m.type);
    for (const net::PeerStatus& p : snap.peers)
      StateFamilies::Add(f, {{"peer", p.name}}, m.value(p));
  }
}

}  // namespace

std::string MetricsRegistry::Exposition(const NodeSnapshot& snap) const {
  std::vector<pm::MetricFamily> families = impl_->registry->Collect();
  StateFamilies s;
  auto& info = s.Family("keiretsu_build_info", "The running keiretsud's version and source commit",
                        pm::MetricType::Gauge);
  StateFamilies::Add(info, {{"version", impl_->version}, {"commit", impl_->commit}}, 1);
  AddLedgerState(s, snap);
  if (snap.replication) AddPeerState(s, snap);
  if (snap.disk) {
    s.Gauge("keiretsu_data_dir_free_bytes",
            "Space available to keiretsud on the data directory's file system",
            static_cast<double>(snap.disk->free_bytes));
    s.Gauge("keiretsu_data_dir_size_bytes", "Size of the data directory's file system",
            static_cast<double>(snap.disk->total_bytes));
  }
  for (auto& f : s.Take()) families.push_back(std::move(f));
  return pm::TextSerializer().Serialize(families);
}

}  // namespace keiretsu::ops
