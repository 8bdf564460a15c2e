// Runs the `keiretsu` command line in-process (RunCli with string streams)
// or as the real executable, and captures exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"

namespace keiretsu::cli::testing {

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
  // The error output is exactly one line ending in a newline.
  bool OneErrorLine() const {
    return !err.empty() && err.back() == '\n' && err.find('\n') == err.size() - 1;
  }
};

inline Ran RunKeiretsu(std::vector<std::string> args) {
  args.insert(args.begin(), "keiretsu");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  Ran r;
  r.code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// The built executable, through the shell; stderr goes to a temp file.
inline Ran RunKeiretsuBinary(const std::string& args_for_shell) {
  char tmpl[] = "/tmp/keiretsu-cli-err-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ::close(fd);
  std::string cmd = std::string(KEIRETSU_CLI_BIN) + " " + args_for_shell + " 2>" + tmpl;
  Ran r;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream e(tmpl);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  std::remove(tmpl);
  return r;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Removes the node variables so tests see only what they pass.
inline void ClearNodeEnv() {
  ::unsetenv("KEIRETSU_NODE");
  ::unsetenv("KEIRETSU_TOKEN");
}

}  // namespace keiretsu::cli::testing
