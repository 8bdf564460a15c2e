// Scenarios 3 and 5, and the empty gRPC call limit (docs/PERFORMANCE.md):
// one node, 32 client connections.
#include <filesystem>

#include "bench/src/api_load.h"
#include "bench/src/balance_queries.h"
#include "bench/src/bench_network.h"
#include "bench/src/daemon_process.h"
#include "bench/src/node_status.h"
#include "bench/src/scenario.h"

namespace keiretsu::bench {
namespace {

constexpr int kClients = 32;
constexpr auto kWarmup = std::chrono::milliseconds(1000);
constexpr int kBalancePairs = 4;

}  // namespace

Result<Json> RunApi(const BenchEnv& env, const Limits& limits, Json& limits_json) {
  const std::string dir = env.work + "/api";
  std::filesystem::remove_all(dir);
  KEIRETSU_ASSIGN_OR_RETURN(BenchNetwork net, MakeBenchNetwork(env.writers, "bench-api"));
  KEIRETSU_ASSIGN_OR_RETURN(std::string config, WriteFirmDir(net, {0, "", {}, {}}, dir + "/node"));
  KEIRETSU_ASSIGN_OR_RETURN(DaemonProcess node,
                            DaemonProcess::Start(env.keiretsud, config, dir + "/node.log"));
  ApiClient probe(node.api_address());
  if (!WaitUntil(
          [&] {
            auto s = Summarise(probe);
            return s.ok() && s->writable;
          },
          std::chrono::seconds(30)))
    return Internal("the node did not become writable" + TailOf(dir + "/node.log"));

  // 3. Writes: every call signs one entry and returns once it is synced.
  Progress("API writes: " + std::to_string(kClients) + " clients recording obligations for " +
           std::to_string(env.load_seconds.count() / 1000.0) + " s");
  const double cpu0 = node.CpuSeconds();
  LoadResult writes = ClosedLoop(
      node.api_address(), kClients, kWarmup, env.load_seconds,
      [&](ApiClient& c, int index, uint64_t n) {
        keiretsu::v1::RecordObligationRequest req;
        req.set_creditor(net.names[1 + (static_cast<size_t>(index) + n) % (net.names.size() - 1)]);
        req.set_amount(1 + n % 100);
        req.set_unit("hours");
        req.set_memo("favour #" + std::to_string(n) + " from client " + std::to_string(index));
        keiretsu::v1::WriteResponse resp;
        auto ctx = Context();
        return c.ledger->RecordObligation(ctx.get(), req, &resp);
      });
  const double write_cpu = node.CpuSeconds() - cpu0;
  KEIRETSU_ASSIGN_OR_RETURN(NodeSummary after, Summarise(probe));
  if (writes.errors > 0) return Internal("writes failed: " + writes.first_error);
  if (after.entries < writes.calls)
    return Internal("the node holds fewer entries than were acknowledged");

  // 5. Balance queries against the empty call (balance_queries.h).
  Progress("balance queries and empty calls: " + std::to_string(kClients) + " clients");
  KEIRETSU_ASSIGN_OR_RETURN(
      BalanceQueries bq,
      MeasureBalanceQueries(node.api_address(), net, kClients, kBalancePairs, env.load_seconds));
  const LoadResult& best_empty = bq.best_empty;
  KEIRETSU_RETURN_IF_ERROR(node.Stop());

  limits_json["grpc_empty_unary_per_s"] = best_empty.rate();
  limits_json["grpc_empty_unary_clients"] = kClients;
  const double write_rate = writes.rate();
  const double write_p99 = writes.Percentile(99);
  Json out;
  Json& w = out["api_writes"];
  w["clients"] = kClients;
  w["entries"] = writes.calls;
  w["entries_per_s"] = write_rate;
  w["p50_ms"] = writes.Percentile(50);
  w["p99_ms"] = write_p99;
  w["max_ms"] = writes.latencies_ms.empty() ? 0.0 : writes.latencies_ms.back();
  w["ratio_to_sign_one_core"] = write_rate / limits.sign_per_s_one_core;
  w["node_cpu_per_entry_us"] =
      write_cpu * 1e6 / static_cast<double>(std::max<uint64_t>(1, writes.calls));
  w["goals"] = Json::array(
      {Goal("entries_per_s >= 10000", write_rate >= 10000), Goal("p99_ms < 10", write_p99 < 10)});
  out["balance_queries"] = std::move(bq.json);
  return out;
}

}  // namespace keiretsu::bench
