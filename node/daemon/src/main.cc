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
// line saying why), 2 bad command line, 3 the API stopped answering its
// self-check (docs/OPERATIONS.md "Watchdog"): a service manager restarts it.
// Under systemd (Type=notify) it sends READY=1 once serving, WATCHDOG=1
// after each passing self-check when the unit sets WatchdogSec, and
// STOPPING=1 when it begins to stop. It raises its open-files limit to the
// hard limit at start.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "keiretsu/daemon/config.h"
#include "keiretsu/daemon/daemon.h"
#include "node/daemon/src/systemd.h"

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
// so every thread inherits the mask and only the sigwait() below sees them.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a vanished client is an error value, not a signal
  return set;
}

// Every API connection holds a descriptor, as do RocksDB's files and the
// peer sessions: use all the process may have.
void RaiseOpenFilesLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t before = lim.rlim_cur;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) lim.rlim_cur = before;
  }
  if (lim.rlim_cur != before)
    spdlog::info("open files limit raised from {} to {} (the hard limit)", before, lim.rlim_cur);
  else
    spdlog::info("open files limit {} (hard limit {})", lim.rlim_cur, lim.rlim_max);
}

// Why main stops: a signal (exit 0) or an API that stopped answering
// (exit kExitApiDead, so a service manager restarts the node).
class StopRequest {
 public:
  void Request(int exit_code, std::string why) {
    std::lock_guard lock(mu_);
    if (exit_code_) return;
    exit_code_ = exit_code;
    why_ = std::move(why);
    cv_.notify_all();
  }
  std::pair<int, std::string> Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return exit_code_.has_value(); });
    return {*exit_code_, why_};
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<int> exit_code_;  // GUARDED_BY(mu_)
  std::string why_;               // GUARDED_BY(mu_)
};

constexpr int kExitApiDead = 3;

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

  RaiseOpenFilesLimit();

  namespace sd = keiretsu::daemon::systemd;
  StopRequest stop;
  keiretsu::daemon::DaemonHooks hooks;
  const auto watchdog = sd::WatchdogInterval();
  if (watchdog.count() > 0) {
    // Three self-checks per WatchdogSec: one late answer is not a restart.
    hooks.self_check_interval =
        std::max(std::chrono::milliseconds(100),
                 std::chrono::duration_cast<std::chrono::milliseconds>(watchdog / 3));
    hooks.api_alive = [] { sd::NotifyWatchdog(); };
    spdlog::info("systemd watchdog: {} ms; fed only while the API self-check passes",
                 std::chrono::duration_cast<std::chrono::milliseconds>(watchdog).count());
  }
  hooks.api_dead = [&stop](const keiretsu::Status& why) {
    stop.Request(kExitApiDead, "the API stopped answering (" + why.message() + ")");
  };
  auto daemon = keiretsu::daemon::Daemon::Start(*config, KEIRETSU_VERSION, std::move(hooks));
  if (!daemon.ok()) {
    spdlog::error("cannot start: {}", daemon.status().message());
    return 1;
  }
  if ((*daemon)->ops_address().empty())
    spdlog::info("keiretsud ready: api={}", (*daemon)->api_address());
  else
    spdlog::info("keiretsud ready: api={} ops={}", (*daemon)->api_address(),
                 (*daemon)->ops_address());
  sd::NotifyReady("serving the API on " + (*daemon)->api_address());

  // The signal waiter never returns on its own once the API died: it is
  // detached, and the process exits under it.
  std::thread([&stop, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stop.Request(0, sig == SIGTERM ? "SIGTERM received" : "SIGINT received");
  }).detach();
  auto [code, why] = stop.Wait();
  if (code == 0)
    spdlog::info("{}: stopping", why);
  else
    spdlog::error("{}: stopping with exit code {} so that the service manager restarts it", why,
                  code);
  sd::NotifyStopping();
  (*daemon)->Stop(code == 0 ? kShutdownGrace : std::chrono::seconds(1));
  daemon->reset();
  spdlog::info("stopped");
  return code;
}
