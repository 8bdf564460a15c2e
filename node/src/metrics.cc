#include "keiretsu/node/metrics.h"

namespace keiretsu::node {

namespace {
class Nothing final : public Metrics {
 public:
  void CountEntries(bool, std::string_view, uint64_t) override {}
  void ObserveCommit(double, bool) override {}
  void ObserveWrite(double, bool) override {}
  void CountHandshakeFailure(std::string_view) override {}
  void CountApiCall(std::string_view, std::string_view) override {}
};
}  // namespace

Metrics& NoMetrics() {
  static Nothing nothing;
  return nothing;
}

}  // namespace keiretsu::node
