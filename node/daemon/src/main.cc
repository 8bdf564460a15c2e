// keiretsud: a keiretsu ledger node.
//
//   keiretsud --config /etc/keiretsu/keiretsud.toml
//
// Logs go to stderr (one line per event, flushed at once). Once the API is
// listening it logs exactly one line containing
//   keiretsud ready: api=<host:port>[ ops=<host:port>]
// (the real ports when the config says port 0), which scripts wait for.
// SIGTERM or SIGINT stops it gracefully: in-flight calls finish (up to
// kShutdownGrace), the ledger is closed, it logs "stopped" and exits 0.
// Exit codes: 0 clean stop (or --help/--version), 1 refused to start (one
// line saying why), 2 bad command line.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstring>

#include "keiretsu/daemon/config.h"
#include "keiretsu/daemon/daemon.h"

#ifndef KEIRETSU_VERSION
#define KEIRETSU_VERSION "unknown"
#endif

namespace {

constexpr std::chrono::seconds kShutdownGrace{10};

void SetUpLogging() {
  auto logger = spdlog::stderr_logger_mt("keiretsud");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  // Each line reaches a pipe at once: scripts wait for the ready line.
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

// Blocks the stop signals in this thread before any other thread exists,
// so every thread inherits the mask and only sigwait() in main sees them.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a vanished client is an error value, not a signal
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"keiretsud " KEIRETSU_VERSION
               ": a keiretsu ledger node (signed reciprocal obligations between firms).\n"
               "Serves the partner gRPC API; see deploy/keiretsud.example.toml for the config."};
  std::string config_path;
  app.set_version_flag("--version", std::string("keiretsud ") + KEIRETSU_VERSION);
  app.add_option("-c,--config", config_path, "path of the config file (TOML)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  SetUpLogging();
  auto config = keiretsu::daemon::LoadConfig(config_path);
  if (!config.ok()) {
    spdlog::error("cannot start: {}", config.status().message());
    return 1;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  sigset_t stop_signals = BlockStopSignals();
  spdlog::info("keiretsud {} starting (config {})", KEIRETSU_VERSION, config->file);

  auto daemon = keiretsu::daemon::Daemon::Start(*config, KEIRETSU_VERSION);
  if (!daemon.ok()) {
    spdlog::error("cannot start: {}", daemon.status().message());
    return 1;
  }
  if ((*daemon)->ops_address().empty())
    spdlog::info("keiretsud ready: api={}", (*daemon)->api_address());
  else
    spdlog::info("keiretsud ready: api={} ops={}", (*daemon)->api_address(),
                 (*daemon)->ops_address());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("{} received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*daemon)->Stop(kShutdownGrace);
  daemon->reset();
  spdlog::info("stopped");
  return 0;
}
