#include "bench/src/node_status.h"

#include <thread>

namespace keiretsu::bench {

Result<NodeSummary> Summarise(ApiClient& client) {
  keiretsu::v1::GetStatusRequest req;
  keiretsu::v1::GetStatusResponse resp;
  auto ctx = Context();
  grpc::Status s = client.ledger->GetStatus(ctx.get(), req, &resp);
  if (!s.ok()) return Unavailable("GetStatus: " + s.error_message());
  NodeSummary out;
  for (const auto& feed : resp.feeds()) out.entries += feed.head_seq();
  for (const auto& peer : resp.peers()) out.connected_peers += peer.connected() ? 1 : 0;
  out.writable = resp.writable();
  out.digest = resp.state_digest();
  return out;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

}  // namespace keiretsu::bench
