// keiretsu-bench: the node against the machine's own limits, in one run.
//
// Measures the machine's limits (Ed25519, BLAKE2b, RocksDB synced writes,
// an empty gRPC call), then runs real keiretsud processes through each
// scenario of docs/PERFORMANCE.md and prints one JSON object on stdout:
// every figure, its ratio to the limit it is bounded by, and each goal with
// whether it was met. Progress goes to stderr. Run it through bench/run.sh,
// which builds in Release first.
#include <sys/utsname.h>
#include <unistd.h>

#include <sodium.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench/src/daemon_process.h"
#include "bench/src/scenario.h"

namespace keiretsu::bench {
namespace {

const auto kStart = std::chrono::steady_clock::now();

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

Json MachineJson(const std::string& work) {
  Json m;
  utsname u{};
  ::uname(&u);
  m["cpu"] = CpuModel();
  m["cores"] = std::thread::hardware_concurrency();
  m["kernel"] = std::string(u.sysname) + " " + u.release;
  m["memory_mib"] = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                    static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
  m["work_dir"] = work;
  std::ifstream load("/proc/loadavg");
  double l1 = 0;
  load >> l1;
  m["load_average_1m_at_start"] = l1;
  return m;
}

Json LimitsJson(const Limits& l) {
  Json j;
  j["ed25519_verify_per_s_all_cores"] = l.verify_per_s_all_cores;
  j["ed25519_verify_per_s_one_core"] = l.verify_per_s_one_core;
  j["ed25519_sign_per_s_one_core"] = l.sign_per_s_one_core;
  j["blake2b_mib_per_s_one_core"] = l.blake2b_mb_per_s;
  j["blake2b_entry_hashes_per_s_one_core"] = l.blake2b_entry_hashes_per_s;
  j["rocksdb_synced_writes_per_s"] = l.rocksdb_synced_writes_per_s;
  j["rocksdb_synced_entries_per_s_batches_of_256"] = l.rocksdb_synced_batched_entries_per_s;
  j["message_bytes"] = l.entry_bytes;
  return j;
}

}  // namespace

void Progress(const std::string& line) {
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - kStart).count();
  std::fprintf(stderr, "[bench %6.1fs] %s\n", t, line.c_str());
}

Json Goal(const std::string& text, bool met) {
  Json j;
  j["goal"] = text;
  j["met"] = met;
  return j;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "keiretsu-bench: measure keiretsud against this machine's own limits (docs/PERFORMANCE.md).\n"
      "Prints one JSON object on stdout; progress on stderr. Exit status: 0 when every scenario "
      "ran (goals met or not), 1 when one could not run."};
  std::string bin_dir, work = "/tmp/keiretsu-bench", out_file;
  double load_s = 10;
  double limit_s = 1.5;
  std::vector<std::string> only;
  bool keep = false, quick = false;
  BenchEnv env;
  app.add_option("--bin-dir", bin_dir, "Build directory holding the binaries under test")
      ->required();
  app.add_option("--work-dir", work,
                 "Scratch directory (needs ~3 GB; must be new, empty, or an earlier run's)")
      ->capture_default_str();
  app.add_option("--out", out_file, "Also write the JSON to this file");
  app.add_option("--load-seconds", load_s, "Measured window of each API load")
      ->capture_default_str();
  app.add_option("--limit-seconds", limit_s, "Length of each limit measurement (best of 3)")
      ->capture_default_str();
  app.add_option("--catchup-entries", env.catchup_entries, "Entries in the catch-up ledger")
      ->capture_default_str();
  app.add_option("--large-entries", env.large_entries, "Entries in the audit/footprint ledger")
      ->capture_default_str();
  app.add_option("--propagation-rate", env.propagation_rate, "Entries/s written during propagation")
      ->capture_default_str();
  app.add_option("--clearing-firms", env.clearing_firms, "Firms in the clearing graph")
      ->capture_default_str();
  app.add_option("--clearing-edges", env.clearing_edges, "Obligations in the clearing graph")
      ->capture_default_str();
  app.add_option("--many-nodes", env.many_nodes, "Nodes in the many-nodes scenario")
      ->capture_default_str()
      ->check(CLI::Range(3, 500));
  app.add_option("--many-degree", env.many_degree, "Average peer links per node (many)")
      ->capture_default_str()
      ->check(CLI::Range(2, 16));
  app.add_option("--many-seed", env.many_seed, "Seed of the random chords of the peer graph (many)")
      ->capture_default_str();
  app.add_option("--many-writes", env.many_probes,
                 "Single writes timed to every node (many); rotated over 5 origins")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--many-burst", env.many_burst, "Entries each node writes at once (many)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--only", only,
                 "Run only these scenarios: catchup api propagation large clearing many")
      ->check(CLI::IsMember({"catchup", "api", "propagation", "large", "clearing", "many"}));
  app.add_flag("--quick", quick,
               "A short smoke run (10k/50k entries, 3 s loads): checks the suite, not the machine");
  app.add_flag("--keep", keep, "Keep the work directory (node logs, data, the export)");
  CLI11_PARSE(app, argc, argv);
  KillDaemonsOnSignal();
  if (sodium_init() < 0) {
    std::fprintf(stderr, "keiretsu-bench: libsodium failed to initialise\n");
    return 1;
  }
  if (quick) {  // smaller defaults; options given explicitly still win
    if (app.count("--catchup-entries") == 0) env.catchup_entries = 10000;
    if (app.count("--large-entries") == 0) env.large_entries = 50000;
    if (app.count("--load-seconds") == 0) load_s = 3;
    if (app.count("--limit-seconds") == 0) limit_s = 0.5;
  }
  env.keiretsud = bin_dir + "/node/daemon/keiretsud";
  env.cli = bin_dir + "/tools/cli/keiretsu";
  env.audit = bin_dir + "/tools/audit/keiretsu-audit";
  // Only the clearing scenario runs no node: it needs neither the binaries
  // nor the machine's crypto and disk limits.
  const bool runs_nodes =
      only.empty() ||
      std::any_of(only.begin(), only.end(), [](const std::string& s) { return s != "clearing"; });
  for (const std::string& b : {env.keiretsud, env.cli, env.audit})
    if (runs_nodes && ::access(b.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "keiretsu-bench: %s is missing; build first (bench/run.sh does)\n",
                   b.c_str());
      return 1;
    }
  env.work = work;
  env.load_seconds = std::chrono::milliseconds(static_cast<int64_t>(load_s * 1000));
  // Only a directory this program made (it leaves a marker) is emptied: a
  // mistyped --work-dir must not delete someone's files.
  const std::string marker = work + "/.keiretsu-bench";
  std::error_code ec;
  if (std::filesystem::exists(work) && !std::filesystem::is_empty(work, ec) &&
      !std::filesystem::exists(marker)) {
    std::fprintf(stderr,
                 "keiretsu-bench: %s is not empty and not an earlier benchmark's work directory; "
                 "choose another --work-dir\n",
                 work.c_str());
    return 1;
  }
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  std::ofstream(marker) << "keiretsu-bench work directory; deleted by the next run\n";
  auto wanted = [&](const std::string& s) {
    return only.empty() || std::find(only.begin(), only.end(), s) != only.end();
  };

  Json report;
  report["format"] = "keiretsu-bench/1";
  report["machine"] = MachineJson(work);
  report["parameters"] = {
      {"catchup_entries", env.catchup_entries},   {"large_entries", env.large_entries},
      {"firms_with_entries", env.writers},        {"load_seconds", load_s},
      {"propagation_rate", env.propagation_rate}, {"clearing_firms", env.clearing_firms},
      {"clearing_edges", env.clearing_edges},     {"many_nodes", env.many_nodes},
      {"many_degree", env.many_degree},           {"many_seed", env.many_seed},
      {"many_writes", env.many_probes},           {"many_burst", env.many_burst}};
  Limits limits;
  if (runs_nodes) {
    Progress("measuring the machine's limits");
    limits = MeasureLimits(limit_s, 3, work);
    report["limits"] = LimitsJson(limits);
    Progress("limits: verify " + std::to_string(static_cast<int>(limits.verify_per_s_all_cores)) +
             "/s on " + std::to_string(limits.cores) + " cores, sign " +
             std::to_string(static_cast<int>(limits.sign_per_s_one_core)) + "/s on one core");
  }

  int failures = 0;
  auto run = [&](const std::string& name, auto&& scenario, auto&& place) {
    if (!wanted(name)) return;
    Result<Json> r = scenario();
    if (!r.ok()) {
      Progress(name + " FAILED: " + r.status().ToString());
      report["errors"][name] = r.status().ToString();
      ++failures;
      return;
    }
    place(*r);
  };
  run(
      "catchup", [&] { return RunCatchUp(env, limits); },
      [&](Json& j) { report["catchup"] = std::move(j); });
  run(
      "api", [&] { return RunApi(env, limits, report["limits"]); },
      [&](Json& j) {
        report["api_writes"] = std::move(j["api_writes"]);
        report["balance_queries"] = std::move(j["balance_queries"]);
      });
  run(
      "propagation", [&] { return RunPropagation(env); },
      [&](Json& j) { report["propagation"] = std::move(j); });
  run(
      "large", [&] { return RunLargeLedger(env, limits); },
      [&](Json& j) {
        for (auto& [k, v] : j.items()) report[k] = std::move(v);
      });
  run(
      "many", [&] { return RunManyNodes(env); },
      [&](Json& j) { report["many_nodes"] = std::move(j); });
  run(
      "clearing", [&] { return RunClearing(env); },
      [&](Json& j) { report["clearing"] = std::move(j); });

  // Every goal, in one list, for a quick look.
  Json summary = Json::array();
  for (auto& [section, body] : report.items())
    if (body.is_object() && body.contains("goals"))
      for (const Json& g : body["goals"])
        summary.push_back({{"section", section}, {"goal", g["goal"]}, {"met", g["met"]}});
  report["goals"] = summary;
  report["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - kStart).count();

  const std::string text = report.dump(2);
  std::cout << text << std::endl;
  if (!out_file.empty()) std::ofstream(out_file) << text << "\n";
  if (!keep) std::filesystem::remove_all(work);
  Progress(failures == 0 ? "done" : std::to_string(failures) + " scenario(s) could not run");
  return failures == 0 ? 0 : 1;
}

}  // namespace keiretsu::bench

int main(int argc, char** argv) {
  return keiretsu::bench::Main(argc, argv);
}
