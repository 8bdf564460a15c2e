// Child processes of the benchmark: keiretsud nodes started from their
// config (stopped with SIGTERM, always reaped), and one-shot tool runs
// (keiretsu export, keiretsu-audit) with their output captured.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "keiretsu/common/status.h"

namespace keiretsu::bench {

class DaemonProcess {
 public:
  // Starts `binary --config config`, logging to `log_path`, and waits for
  // its ready line. Errors: the process ended or did not get ready in time
  // (the log's tail is in the message).
  static Result<DaemonProcess> Start(const std::string& binary, const std::string& config,
                                     const std::string& log_path,
                                     std::chrono::seconds timeout = std::chrono::seconds(60));
  DaemonProcess(DaemonProcess&& other) noexcept;
  DaemonProcess& operator=(DaemonProcess&&) = delete;
  DaemonProcess(const DaemonProcess&) = delete;
  ~DaemonProcess();  // SIGKILL if still running (a failed run must not leak nodes)

  const std::string& api_address() const { return api_address_; }
  // The operations listener's address (/metrics), empty when the config
  // has no [ops] section.
  const std::string& ops_address() const { return ops_address_; }
  pid_t pid() const { return pid_; }
  // Peak resident set size so far (VmHWM), in bytes; 0 if unreadable.
  uint64_t PeakRssBytes() const;
  // Resident set size now (VmRSS), in bytes; 0 if unreadable.
  uint64_t RssBytes() const;
  // CPU time (user + system) used so far, in seconds; 0 if unreadable.
  double CpuSeconds() const;
  // SIGTERM, then waits; errors when it does not exit 0 in `timeout`.
  Status Stop(std::chrono::seconds timeout = std::chrono::seconds(60));

 private:
  DaemonProcess(pid_t pid, std::string log_path, std::string api)
      : pid_(pid), log_path_(std::move(log_path)), api_address_(std::move(api)) {}
  pid_t pid_ = -1;
  std::string log_path_;
  std::string api_address_;
  std::string ops_address_;
};

// From the first call on, SIGINT and SIGTERM to this process SIGKILL every
// keiretsud it started that is still running, then end it (exit status
// 128 + the signal): an interrupted benchmark leaves no node behind.
void KillDaemonsOnSignal();

struct ToolRun {
  int exit_code = -1;
  std::string output;  // stdout
  double seconds = 0;  // wall time
  uint64_t peak_rss_bytes = 0;
};
// Runs `argv` to completion with stdout captured and stderr to `log_path`.
Result<ToolRun> RunTool(const std::vector<std::string>& argv, const std::string& log_path);

// The last `lines` lines of a text file, for error messages.
std::string TailOf(const std::string& path, int lines = 15);

}  // namespace keiretsu::bench
