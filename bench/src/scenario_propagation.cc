// Scenario 4: live propagation over two hops (docs/PERFORMANCE.md).
// Nodes A, B and C in a line (A and C each dial B only). Clients write to A
// at a steady rate; a Watch stream on C reports each of A's entries as C
// stores it. Latency = C's Watch event for an entry minus A's reply for it,
// both read from one clock in this process.
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "bench/src/api_load.h"
#include "bench/src/bench_network.h"
#include "bench/src/daemon_process.h"
#include "bench/src/node_status.h"
#include "bench/src/scenario.h"

namespace keiretsu::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kClients = 8;

// Times by entry id (64 hex), written by several threads.
struct Times {
  std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> at;
  void Put(const std::string& id, Clock::time_point t) {
    std::lock_guard lock(mu);
    at.emplace(id, t);
  }
  size_t size() {
    std::lock_guard lock(mu);
    return at.size();
  }
};

}  // namespace

Result<Json> RunPropagation(const BenchEnv& env) {
  const std::string dir = env.work + "/propagation";
  std::filesystem::remove_all(dir);
  KEIRETSU_ASSIGN_OR_RETURN(BenchNetwork net, MakeBenchNetwork(env.writers, "bench-propagation"));
  // A and C each peer with B only, one of the other nine members: never the
  // majority the restore rule waits for (PROTOCOL.md 13.2.8), so it is off
  // (fresh data directories cannot have lost entries).
  KEIRETSU_ASSIGN_OR_RETURN(int port, FreeLoopbackPort());
  const std::string b_peer = "127.0.0.1:" + std::to_string(port);
  KEIRETSU_ASSIGN_OR_RETURN(std::string b_config,
                            WriteFirmDir(net, {1, b_peer, {}, {}, false, false}, dir + "/b"));
  KEIRETSU_ASSIGN_OR_RETURN(std::string a_config,
                            WriteFirmDir(net, {0, "", {1}, {b_peer}, false, false}, dir + "/a"));
  KEIRETSU_ASSIGN_OR_RETURN(std::string c_config,
                            WriteFirmDir(net, {2, "", {1}, {b_peer}, false, false}, dir + "/c"));
  KEIRETSU_ASSIGN_OR_RETURN(DaemonProcess b,
                            DaemonProcess::Start(env.keiretsud, b_config, dir + "/b.log"));
  KEIRETSU_ASSIGN_OR_RETURN(DaemonProcess a,
                            DaemonProcess::Start(env.keiretsud, a_config, dir + "/a.log"));
  KEIRETSU_ASSIGN_OR_RETURN(DaemonProcess c,
                            DaemonProcess::Start(env.keiretsud, c_config, dir + "/c.log"));
  ApiClient a_api(a.api_address()), b_api(b.api_address()), c_api(c.api_address());
  const bool linked = WaitUntil(
      [&] {
        auto sa = Summarise(a_api), sb = Summarise(b_api), sc = Summarise(c_api);
        return sa.ok() && sb.ok() && sc.ok() && sa->writable && sb->connected_peers == 2 &&
               sc->connected_peers == 1;
      },
      std::chrono::seconds(30));
  if (!linked) return Internal("A, B and C did not connect" + TailOf(dir + "/b.log"));

  // C's Watch stream, from now on.
  Times replies, arrivals;
  const std::string a_key = net.pk(0).Hex();
  grpc::ClientContext watch_ctx;
  watch_ctx.AddMetadata("authorization", std::string("Bearer ") + kBenchToken);
  keiretsu::v1::WatchRequest watch_req;
  auto stream = c_api.ledger->Watch(&watch_ctx, watch_req);
  std::thread watcher([&] {
    keiretsu::v1::WatchEvent ev;
    while (stream->Read(&ev))
      if (ev.entry().author() == a_key) arrivals.Put(ev.entry().id(), Clock::now());
  });

  Progress("propagation: " + std::to_string(env.propagation_rate) +
           " entries/s written at A, watched at C two hops away");
  const auto t_start = Clock::now();
  LoadResult load = OpenLoop(
      a.api_address(), kClients, env.propagation_rate, std::chrono::milliseconds(1000),
      env.load_seconds, [&](ApiClient& client, int index, uint64_t n) {
        keiretsu::v1::RecordObligationRequest req;
        req.set_creditor(net.names[1 + (static_cast<size_t>(index) + n) % (net.names.size() - 1)]);
        req.set_amount(1 + n % 50);
        req.set_unit("hours");
        req.set_memo("favour #" + std::to_string(n));
        keiretsu::v1::WriteResponse resp;
        auto ctx = Context();
        grpc::Status s = client.ledger->RecordObligation(ctx.get(), req, &resp);
        if (s.ok()) replies.Put(resp.entry().id(), Clock::now());
        return s;
      });
  const auto window_start = t_start + std::chrono::milliseconds(1000);
  const size_t written = replies.size();
  WaitUntil([&] { return arrivals.size() >= written; }, std::chrono::seconds(30));
  watch_ctx.TryCancel();
  watcher.join();
  if (load.errors > 0) return Internal("writes at A failed: " + load.first_error);

  std::vector<double> latencies;
  uint64_t missing = 0;
  {
    std::scoped_lock lock(replies.mu, arrivals.mu);
    for (const auto& [id, reply] : replies.at) {
      if (reply < window_start) continue;
      auto it = arrivals.at.find(id);
      if (it == arrivals.at.end()) {
        ++missing;
        continue;
      }
      latencies.push_back(std::chrono::duration<double, std::milli>(it->second - reply).count());
    }
  }
  std::sort(latencies.begin(), latencies.end());
  KEIRETSU_RETURN_IF_ERROR(c.Stop());
  KEIRETSU_RETURN_IF_ERROR(a.Stop());
  KEIRETSU_RETURN_IF_ERROR(b.Stop());
  if (latencies.empty()) return Internal("no entry of A's arrived at C");

  const double p99 = PercentileOf(latencies, 99);
  Json j;
  j["topology"] = "A - B - C (A and C dial B)";
  j["write_rate_target_per_s"] = env.propagation_rate;
  j["write_rate_achieved_per_s"] = load.rate();
  j["write_reply_p99_ms"] = load.Percentile(99);
  j["entries_measured"] = latencies.size();
  j["entries_missing_at_c"] = missing;
  j["p50_ms"] = PercentileOf(latencies, 50);
  j["p99_ms"] = p99;
  j["max_ms"] = latencies.back();
  j["goals"] = Json::array({Goal("p99_ms < 50", p99 < 50 && missing == 0)});
  return j;
}

}  // namespace keiretsu::bench
