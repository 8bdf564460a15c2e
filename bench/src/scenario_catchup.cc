// Scenario 2: catch-up replication (docs/PERFORMANCE.md).
#include "bench/src/catchup_cluster.h"
#include "bench/src/scenario.h"

namespace keiretsu::bench {

Result<Json> RunCatchUp(const BenchEnv& env, const Limits& limits) {
  const std::string dir = env.work + "/catchup";
  KEIRETSU_ASSIGN_OR_RETURN(CatchUpCluster c, GenerateAndCatchUp(env, dir, env.catchup_entries));
  KEIRETSU_RETURN_IF_ERROR(c.fresh->Stop());
  KEIRETSU_RETURN_IF_ERROR(c.source->Stop());
  const double rate = static_cast<double>(c.generated.entries) / c.seconds;
  const double ratio = rate / limits.verify_per_s_all_cores;
  Json j;
  j["entries"] = c.generated.entries;
  j["firms"] = env.writers;
  j["seconds"] = c.seconds;
  j["entries_per_s"] = rate;
  j["ratio_to_verify_all_cores"] = ratio;
  j["fresh_node_cpu_seconds"] = c.fresh_cpu_seconds;
  j["source_node_cpu_seconds"] = c.source_cpu_seconds;
  j["fresh_node_cpu_per_entry_us"] =
      c.fresh_cpu_seconds * 1e6 / static_cast<double>(c.generated.entries);
  j["state_digests_equal"] = true;
  j["goals"] = Json::array({Goal("ratio_to_verify_all_cores >= 0.85", ratio >= 0.85)});
  return j;
}

}  // namespace keiretsu::bench
