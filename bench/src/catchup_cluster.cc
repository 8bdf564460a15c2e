#include "bench/src/catchup_cluster.h"

#include <chrono>
#include <filesystem>

#include "bench/src/node_status.h"

namespace keiretsu::bench {

Result<CatchUpCluster> GenerateAndCatchUp(const BenchEnv& env, const std::string& dir,
                                          uint64_t entries) {
  std::filesystem::remove_all(dir);
  KEIRETSU_ASSIGN_OR_RETURN(BenchNetwork net, MakeBenchNetwork(env.writers + 1, "bench-catchup"));
  const int fresh_member = env.writers;
  KEIRETSU_ASSIGN_OR_RETURN(int port, FreeLoopbackPort());
  const std::string source_peer = "127.0.0.1:" + std::to_string(port);
  KEIRETSU_ASSIGN_OR_RETURN(std::string source_config,
                            WriteFirmDir(net, {0, source_peer, {}, {}}, dir + "/source"));
  KEIRETSU_ASSIGN_OR_RETURN(
      std::string fresh_config,
      WriteFirmDir(net, {fresh_member, "", {0}, {source_peer}}, dir + "/fresh"));

  CatchUpCluster out;
  out.genesis_path = dir + "/source/genesis.toml";
  out.network = net.genesis.network_id();
  out.fresh_data_dir = dir + "/fresh/data";
  Progress("generating " + std::to_string(entries) + " signed entries from " +
           std::to_string(env.writers) + " firms into the source node's data directory");
  uint64_t last_report = 0;
  KEIRETSU_ASSIGN_OR_RETURN(
      out.generated,
      GenerateLedger(net, env.writers, entries, dir + "/source/data", [&](uint64_t done, uint64_t) {
        if (done - last_report >= 200000 || done == entries) {
          Progress("  " + std::to_string(done) + " entries signed and stored");
          last_report = done;
        }
      }));

  KEIRETSU_ASSIGN_OR_RETURN(DaemonProcess source, DaemonProcess::Start(env.keiretsud, source_config,
                                                                       dir + "/source.log"));
  out.source.emplace(std::move(source));
  ApiClient source_api(out.source->api_address());
  KEIRETSU_ASSIGN_OR_RETURN(NodeSummary before, Summarise(source_api));
  if (before.entries != entries)
    return Internal("the source node holds " + std::to_string(before.entries) + " entries, not " +
                    std::to_string(entries));

  Progress("fresh node catching up " + std::to_string(entries) + " entries over TCP loopback");
  const double source_cpu0 = out.source->CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  KEIRETSU_ASSIGN_OR_RETURN(DaemonProcess fresh,
                            DaemonProcess::Start(env.keiretsud, fresh_config, dir + "/fresh.log"));
  out.fresh.emplace(std::move(fresh));
  ApiClient fresh_api(out.fresh->api_address());
  uint64_t held = 0, last_logged = 0;
  const auto timeout = std::chrono::seconds(60 + entries / 1000);  // >= 1,000 entries/s
  const bool done = WaitUntil(
      [&] {
        auto s = Summarise(fresh_api);
        if (s.ok()) held = s->entries;
        if (held - last_logged >= 100000) {
          Progress("  fresh node holds " + std::to_string(held) + " entries");
          last_logged = held;
        }
        return held == entries;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
      std::chrono::milliseconds(10));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.source_cpu_seconds = out.source->CpuSeconds() - source_cpu0;
  out.fresh_cpu_seconds = out.fresh->CpuSeconds();
  if (!done)
    return Internal("the fresh node held " + std::to_string(held) + " of " +
                    std::to_string(entries) + " entries after " + std::to_string(timeout.count()) +
                    " s" + TailOf(dir + "/fresh.log"));
  KEIRETSU_ASSIGN_OR_RETURN(NodeSummary src, Summarise(source_api));
  KEIRETSU_ASSIGN_OR_RETURN(NodeSummary got, Summarise(fresh_api));
  if (src.digest != got.digest)
    return Internal("after catch-up the state digests differ: source " + src.digest + ", fresh " +
                    got.digest);
  return out;
}

}  // namespace keiretsu::bench
