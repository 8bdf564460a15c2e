#include "bench/src/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace keiretsu::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Pids of running daemons, for the signal handler (async-signal-safe:
// a fixed array of lock-free atomics; 0 marks a free slot).
constexpr size_t kMaxDaemons = 1024;
std::atomic<pid_t> g_daemons[kMaxDaemons];

void Register(pid_t pid) {
  for (auto& slot : g_daemons) {
    pid_t free = 0;
    if (slot.compare_exchange_strong(free, pid)) return;
  }
}
void Unregister(pid_t pid) {
  for (auto& slot : g_daemons) {
    pid_t mine = pid;
    if (slot.compare_exchange_strong(mine, 0)) return;
  }
}
extern "C" void KillDaemonsAndExit(int sig) {
  for (auto& slot : g_daemons)
    if (const pid_t pid = slot.load(); pid > 0) ::kill(pid, SIGKILL);
  for (auto& slot : g_daemons)
    if (const pid_t pid = slot.load(); pid > 0) ::waitpid(pid, nullptr, 0);
  ::_exit(128 + sig);
}

// Spawns argv with stdout to `out_fd` and stderr to `err_fd`.
Result<pid_t> Spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Internal("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// A "Vm...:  123 kB" line of a running process's status, in bytes; 0 if
// unreadable.
uint64_t StatusBytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(field.size())) * 1024;
  return 0;
}
uint64_t PeakRssOf(pid_t pid) {
  return StatusBytes(pid, "VmHWM:");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void KillDaemonsOnSignal() {
  struct sigaction sa {};
  sa.sa_handler = KillDaemonsAndExit;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

std::string TailOf(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += "\n  | " + l;
  return out;
}

Result<DaemonProcess> DaemonProcess::Start(const std::string& binary, const std::string& config,
                                           const std::string& log_path,
                                           std::chrono::seconds timeout) {
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot open " + log_path);
  auto pid = Spawn({binary, "--config", config}, fd, fd);
  ::close(fd);
  if (!pid.ok()) return pid.status();
  Register(*pid);
  DaemonProcess proc(*pid, log_path, "");
  const std::string marker = "keiretsud ready: api=";
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const std::string log = ReadFile(log_path);
    if (auto at = log.find(marker); at != std::string::npos) {
      const size_t from = at + marker.size();
      const size_t end = log.find_first_of(" \n", from);
      proc.api_address_ = log.substr(from, end - from);
      const std::string ops = " ops=";
      if (end != std::string::npos && log.compare(end, ops.size(), ops) == 0) {
        const size_t ops_from = end + ops.size();
        proc.ops_address_ = log.substr(ops_from, log.find_first_of(" \n", ops_from) - ops_from);
      }
      return proc;
    }
    int status = 0;
    if (::waitpid(proc.pid_, &status, WNOHANG) == proc.pid_) {
      Unregister(proc.pid_);
      proc.pid_ = -1;
      return Internal("keiretsud (" + config + ") exited before it was ready:" + TailOf(log_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Internal("keiretsud (" + config + ") not ready after " + std::to_string(timeout.count()) +
                  " s:" + TailOf(log_path));
}

DaemonProcess::DaemonProcess(DaemonProcess&& other) noexcept
    : pid_(other.pid_),
      log_path_(std::move(other.log_path_)),
      api_address_(std::move(other.api_address_)),
      ops_address_(std::move(other.ops_address_)) {
  other.pid_ = -1;
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    Unregister(pid_);
  }
}

uint64_t DaemonProcess::PeakRssBytes() const {
  return PeakRssOf(pid_);
}

uint64_t DaemonProcess::RssBytes() const {
  return StatusBytes(pid_, "VmRSS:");
}

double DaemonProcess::CpuSeconds() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields of the whole line, i.e. the 12th and 13th here.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 1; i <= 13 && rest >> field; ++i) {
    if (i == 12) utime = std::stoull(field);
    if (i == 13) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Status DaemonProcess::Stop(std::chrono::seconds timeout) {
  if (pid_ <= 0) return Status::Ok();
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      Unregister(pid_);
      pid_ = -1;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
      return Internal("keiretsud exited abnormally after SIGTERM:" + TailOf(log_path_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Internal("keiretsud did not stop within " + std::to_string(timeout.count()) +
                  " s of SIGTERM");
}

Result<ToolRun> RunTool(const std::vector<std::string>& argv, const std::string& log_path) {
  const std::string out_path = log_path + ".stdout";
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0 || err < 0) return Internal("cannot open " + log_path);
  const auto t0 = Clock::now();
  auto pid = Spawn(argv, out, err);
  ::close(out);
  ::close(err);
  if (!pid.ok()) return pid.status();
  // Peak RSS is sampled from /proc while the tool runs: posix_spawn's
  // child shares this process's memory until exec, so the rusage high-water
  // mark would report the benchmark's own size instead of the tool's.
  ToolRun run;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(*pid, &status, WNOHANG);
    if (done == *pid) break;
    if (done < 0) return Internal("wait for " + argv[0] + " failed");
    run.peak_rss_bytes = std::max(run.peak_rss_bytes, PeakRssOf(*pid));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.output = ReadFile(out_path);
  return run;
}

}  // namespace keiretsu::bench
