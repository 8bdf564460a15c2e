// MetricsRegistry: the node's Prometheus metrics (docs/OPERATIONS.md
// "Metrics"). It is the node::Metrics the ledger, the replicator and the
// API report to (counters and histograms kept in a prometheus-cpp
// registry), and it writes the text exposition format, adding what is read
// from the node's state at scrape time (ops_server.cc). Prometheus headers
// stay inside node/ops/src.
//
// Thread-safety: every method is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "keiretsu/node/metrics.h"

namespace keiretsu::ops {

struct NodeSnapshot;

class MetricsRegistry final : public node::Metrics {
 public:
  // `version` and `commit` label keiretsu_build_info.
  MetricsRegistry(std::string version, std::string commit);
  ~MetricsRegistry() override;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // node::Metrics
  void CountEntries(bool own, std::string_view outcome, uint64_t count) override;
  void ObserveCommit(double seconds, bool synced) override;
  void ObserveWrite(double seconds, bool ok) override;
  void CountHandshakeFailure(std::string_view reason) override;
  void CountApiCall(std::string_view method, std::string_view code) override;

  // Every metric in the Prometheus text format (version 0.0.4): the
  // counters and histograms above, plus the state in `snapshot`.
  std::string Exposition(const NodeSnapshot& snapshot) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace keiretsu::ops
