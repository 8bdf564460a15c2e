// Progress of a long command (export, import, `status --watch`, audit) on
// the terminal: one line on stderr, redrawn in place at most ten times a
// second, erased when done. Shown only when stderr is a terminal and the
// command is not in --json mode: scripts and pipes see nothing of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "cli.h"

namespace keiretsu::cli {

// True when `ctx` should show progress: not --json, and its error stream is
// the process' stderr on a terminal.
bool ShowProgress(const Context& ctx);

class Progress {
 public:
  // `what` names the work ("exporting"), `unit` what is counted ("entries").
  // Inactive (every call does nothing) unless ShowProgress(ctx).
  Progress(const Context& ctx, std::string what, std::string unit);
  ~Progress();  // Done()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool active() const { return out_ != nullptr; }
  // `done` of `total` (0: unknown) so far; `note` is appended.
  void Update(uint64_t done, uint64_t total = 0, const std::string& note = "");
  // Erases the line. Idempotent.
  void Done();

 private:
  std::ostream* out_ = nullptr;
  std::string what_, unit_;
  std::chrono::steady_clock::time_point started_, last_;
  size_t width_ = 0;  // of the line drawn last, to erase it
};

}  // namespace keiretsu::cli
