#include "progress.h"

#include <unistd.h>

#include <iostream>

#include "keiretsu/graph/obligation_graph.h"

namespace keiretsu::cli {

bool ShowProgress(const Context& ctx) {
  return !ctx.json && ctx.err == &std::cerr && ::isatty(STDERR_FILENO) == 1;
}

Progress::Progress(const Context& ctx, std::string what, std::string unit)
    : out_(ShowProgress(ctx) ? ctx.err : nullptr),
      what_(std::move(what)),
      unit_(std::move(unit)),
      started_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  Done();
}

void Progress::Update(uint64_t done, uint64_t total, const std::string& note) {
  if (out_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (width_ > 0 && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  std::string line = what_ + ": " + graph::GroupThousands(std::to_string(done));
  if (total > 0) {
    line += " / " + graph::GroupThousands(std::to_string(total)) + " " + unit_ + " (" +
            std::to_string(std::min<uint64_t>(100, done * 100 / total)) + "%)";
  } else {
    line += " " + unit_;
  }
  const double seconds = std::chrono::duration<double>(now - started_).count();
  if (seconds >= 1 && done > 0)
    line +=
        ", " + graph::GroupThousands(std::to_string(static_cast<uint64_t>(done / seconds))) + "/s";
  if (!note.empty()) line += ", " + note;
  const size_t pad = width_ > line.size() ? width_ - line.size() : 0;
  *out_ << '\r' << line << std::string(pad, ' ') << std::flush;
  width_ = line.size();
}

void Progress::Done() {
  if (out_ == nullptr || width_ == 0) return;
  *out_ << '\r' << std::string(width_, ' ') << '\r' << std::flush;
  width_ = 0;
}

}  // namespace keiretsu::cli
