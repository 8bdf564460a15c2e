// Scenarios 6 and 7 (docs/PERFORMANCE.md): a node that caught up a large
// ledger from a peer; its peak memory, its export audited by keiretsu-audit,
// and its data directory's size after compaction against the raw size of
// the signed entries it holds.
#include <filesystem>

#include "bench/src/catchup_cluster.h"
#include "bench/src/scenario.h"
#include "keiretsu/storage/store.h"

namespace keiretsu::bench {
namespace {

struct DirSize {
  uint64_t total = 0;
  uint64_t sst = 0;
};

DirSize SizeOf(const std::string& dir) {
  DirSize out;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    out.total += f.file_size();
    if (f.path().extension() == ".sst") out.sst += f.file_size();
  }
  return out;
}

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

Result<Json> RunLargeLedger(const BenchEnv& env, const Limits& limits) {
  const std::string dir = env.work + "/large";
  KEIRETSU_ASSIGN_OR_RETURN(CatchUpCluster c, GenerateAndCatchUp(env, dir, env.large_entries));
  const uint64_t n = c.generated.entries;
  const double fresh_rss_after_catchup = static_cast<double>(c.fresh->PeakRssBytes());

  Progress("exporting " + std::to_string(n) + " entries from the node that caught up");
  const std::string export_file = dir + "/ledger.export";
  KEIRETSU_ASSIGN_OR_RETURN(
      ToolRun exported, RunTool({env.cli, "--node", c.fresh->api_address(), "--token", kBenchToken,
                                 "--timeout", "900", "export", "--out", export_file},
                                dir + "/export.log"));
  if (exported.exit_code != 0)
    return Internal("keiretsu export failed (exit " + std::to_string(exported.exit_code) + ")" +
                    TailOf(dir + "/export.log"));
  const double fresh_rss = static_cast<double>(c.fresh->PeakRssBytes());
  const double source_rss = static_cast<double>(c.source->PeakRssBytes());
  KEIRETSU_RETURN_IF_ERROR(c.fresh->Stop());
  KEIRETSU_RETURN_IF_ERROR(c.source->Stop());

  Progress("auditing the export with keiretsu-audit");
  KEIRETSU_ASSIGN_OR_RETURN(ToolRun audited,
                            RunTool({env.audit, export_file, "--json", "-q"}, dir + "/audit.log"));
  if (audited.exit_code != 0)
    return Internal("keiretsu-audit did not verify the export (exit " +
                    std::to_string(audited.exit_code) + ")" + TailOf(dir + "/audit.log"));
  const Json report = Json::parse(audited.output, nullptr, false);

  Progress("compacting the node's data directory");
  const DirSize before = SizeOf(c.fresh_data_dir);
  {
    KEIRETSU_ASSIGN_OR_RETURN(auto store,
                              storage::Store::Open({c.fresh_data_dir, c.network, false}));
    KEIRETSU_RETURN_IF_ERROR(store->Compact());
  }
  const DirSize after = SizeOf(c.fresh_data_dir);
  const double raw = static_cast<double>(c.generated.record_bytes);
  const double per_entry_raw = raw / static_cast<double>(n);
  const double footprint_ratio = static_cast<double>(after.total) / raw;

  Json out;
  Json& catchup = out["catchup_large"];
  catchup["entries"] = n;
  catchup["seconds"] = c.seconds;
  catchup["entries_per_s"] = static_cast<double>(n) / c.seconds;
  catchup["ratio_to_verify_all_cores"] =
      static_cast<double>(n) / c.seconds / limits.verify_per_s_all_cores;

  const double audit_rate = static_cast<double>(n) / audited.seconds;
  const double audit_ratio = audit_rate / limits.verify_per_s_all_cores;
  Json& a = out["audit"];
  a["entries"] = n;
  a["export_bytes"] = std::filesystem::file_size(export_file);
  a["export_seconds"] = exported.seconds;
  a["audit_seconds"] = audited.seconds;
  a["entries_per_s"] = audit_rate;
  a["ratio_to_verify_all_cores"] = audit_ratio;
  a["audit_peak_rss_mib"] = static_cast<double>(audited.peak_rss_bytes) / kMiB;
  if (!report.is_discarded() && report.contains("result")) a["audit_result"] = report["result"];
  a["goals"] = Json::array({Goal("ratio_to_verify_all_cores >= 0.95", audit_ratio >= 0.95)});

  Json& f = out["footprint"];
  f["entries"] = n;
  f["raw_signed_bytes_per_entry"] = per_entry_raw;
  f["disk_bytes_per_entry_before_compaction"] =
      static_cast<double>(before.total) / static_cast<double>(n);
  f["disk_bytes_per_entry_after_compaction"] =
      static_cast<double>(after.total) / static_cast<double>(n);
  f["sst_bytes_per_entry_after_compaction"] =
      static_cast<double>(after.sst) / static_cast<double>(n);
  f["ratio_to_raw"] = footprint_ratio;
  f["node_peak_rss_mib"] = fresh_rss / kMiB;
  f["node_peak_rss_mib_after_catchup"] = fresh_rss_after_catchup / kMiB;
  f["source_node_peak_rss_mib"] = source_rss / kMiB;
  f["goals"] = Json::array({Goal("ratio_to_raw <= 1.5", footprint_ratio <= 1.5),
                            Goal("node_peak_rss_mib < 300", fresh_rss / kMiB < 300)});
  return out;
}

}  // namespace keiretsu::bench
