// The real keiretsud binary as an operator runs it: it becomes ready on a
// port it picked, serves, refuses a second instance on its data directory
// and an exposed key, and stops cleanly on SIGTERM/SIGINT with its data
// intact.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <regex>

#include "firm_dir.h"
#include "keiretsu/v1/api.grpc.pb.h"

extern char** environ;

namespace keiretsu::daemon {
namespace {

using namespace std::chrono_literals;

// A child process with stdout and stderr captured through one pipe.
class Process {
 public:
  explicit Process(std::vector<std::string> args) {
    args.insert(args.begin(), KEIRETSUD_PATH);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // posix_spawn, not fork: this test process runs gRPC threads.
    int rc = posix_spawn(&pid_, KEIRETSUD_PATH, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    out_fd_ = fds[0];
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
  }
  ~Process() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_fd_);
  }

  // Reads output until `re` matches a line or `timeout`; the match or nullopt.
  std::optional<std::smatch> WaitFor(const std::regex& re, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (; scanned_ < lines_.size(); ++scanned_) {
        std::smatch m;
        if (std::regex_search(lines_[scanned_], m, re)) {
          ++scanned_;
          return m;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left <= 0ms || !ReadSome(left)) return std::nullopt;
    }
  }
  // Waits for the exit; the exit code, or nullopt on timeout / signal death.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        while (ReadSome(50ms)) {
        }
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      ReadSome(50ms);
    }
    return std::nullopt;
  }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Everything printed so far.
  std::string Output() {
    std::string all;
    for (const auto& l : lines_) all += l + "\n";
    return all + output_;
  }

 private:
  bool ReadSome(std::chrono::milliseconds timeout) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = output_.find('\n', start)) != std::string::npos; start = nl + 1)
      lines_.push_back(output_.substr(start, nl - start));
    output_.erase(0, start);
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;  // the unfinished last line
  std::vector<std::string> lines_;
  size_t scanned_ = 0;
  std::optional<int> exit_code_;
};

const std::regex kReady(R"(keiretsud ready: api=(127\.0\.0\.1:\d+))");

class DaemonProcessTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);

  // Starts keiretsud on `f` and waits for its ready line; the API address.
  std::string StartReady(Process& p) {
    auto m = p.WaitFor(kReady, 30s);
    EXPECT_TRUE(m.has_value()) << p.Output();
    return m ? (*m)[1].str() : "";
  }
  grpc::Status Owe(const std::string& address, const std::string& creditor, uint64_t amount) {
    auto stub =
        v1::Ledger::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kOperatorToken);
    ctx.set_deadline(std::chrono::system_clock::now() + 20s);
    v1::RecordObligationRequest req;
    req.set_creditor(creditor);
    req.set_amount(amount);
    req.set_unit("hours");
    v1::WriteResponse resp;
    return stub->RecordObligation(&ctx, req, &resp);
  }
  // Lines of `output` that report a refusal to start.
  static int Refusals(const std::string& output) {
    int n = 0;
    for (size_t at = 0; (at = output.find("cannot start: ", at)) != std::string::npos; ++at) ++n;
    return n;
  }
};

TEST_F(DaemonProcessTest, BecomesReadyServesAndStopsCleanlyOnSigterm) {
  FirmDir f(net, 0);
  std::string address;
  {
    Process p({"--config", f.config()});
    address = StartReady(p);
    ASSERT_FALSE(address.empty());
    EXPECT_NE(address, "127.0.0.1:0");
    auto s = Owe(address, "firm1", 9);
    ASSERT_TRUE(s.ok()) << s.error_message();
    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(20s), std::optional<int>(0)) << p.Output();
    std::string out = p.Output();
    EXPECT_NE(out.find("SIGTERM received: stopping"), std::string::npos) << out;
    EXPECT_NE(out.find(" stopped\n"), std::string::npos) << out;
    EXPECT_NE(out.find("network test-keiretsu (" + net.id().Hex() + ")"), std::string::npos);
    EXPECT_NE(out.find("firm firm0"), std::string::npos);
    EXPECT_NE(out.find("wrote obligation"), std::string::npos) << "debug log of each write";
    EXPECT_EQ(out.find(kOperatorToken), std::string::npos) << "a token was logged";
  }
  // The data survived, and the next start sees it (SIGINT stops it too).
  auto ledger = testing::OpenLedger(net, f.data());
  EXPECT_EQ(ledger->Feed(net.pk(0)).head_seq, 1u);
  EXPECT_EQ(protocol::AmountToString(*ledger->GetBalance(net.pk(1), net.pk(0), "hours")), "9");
  ledger.reset();
  Process again({"--config", f.config()});
  ASSERT_FALSE(StartReady(again).empty());
  EXPECT_NE(again.Output().find("1 feeds"), std::string::npos) << again.Output();
  again.Signal(SIGINT);
  EXPECT_EQ(again.Wait(20s), std::optional<int>(0)) << again.Output();
}

TEST_F(DaemonProcessTest, RefusesASecondInstanceOnTheSameDataDirectory) {
  FirmDir f(net, 0);
  Process first({"--config", f.config()});
  std::string address = StartReady(first);
  ASSERT_FALSE(address.empty());
  Process second({"--config", f.config()});
  EXPECT_EQ(second.Wait(30s), std::optional<int>(1)) << second.Output();
  EXPECT_NE(second.Output().find("the data directory is locked by another process"),
            std::string::npos)
      << second.Output();
  EXPECT_EQ(Refusals(second.Output()), 1);
  // The first one is unharmed.
  EXPECT_TRUE(Owe(address, "firm2", 1).ok());
  first.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(20s), std::optional<int>(0)) << first.Output();
}

TEST_F(DaemonProcessTest, RefusesAKeyFileOthersCanRead) {
  FirmDir f(net, 0);
  ASSERT_EQ(::chmod(f.key().c_str(), 0644), 0);
  Process p({"--config", f.config()});
  EXPECT_EQ(p.Wait(30s), std::optional<int>(1)) << p.Output();
  EXPECT_NE(p.Output().find("cannot start: key file " + f.key() + " has mode 0644"),
            std::string::npos)
      << p.Output();
  EXPECT_EQ(Refusals(p.Output()), 1);
  EXPECT_FALSE(std::filesystem::exists(f.data()));
}

TEST_F(DaemonProcessTest, RefusesABadConfig) {
  FirmDir f(net, 0, "[api.extra]\n");
  Process p({"--config", f.config()});
  EXPECT_EQ(p.Wait(30s), std::optional<int>(1)) << p.Output();
  EXPECT_NE(p.Output().find("cannot start: " + f.config() + ":"), std::string::npos) << p.Output();
  EXPECT_NE(p.Output().find("api.extra: unknown key"), std::string::npos) << p.Output();
  Process missing({"--config", f.dir.Sub("absent.toml")});
  EXPECT_EQ(missing.Wait(30s), std::optional<int>(1));
  EXPECT_NE(missing.Output().find("no such file"), std::string::npos) << missing.Output();
}

TEST_F(DaemonProcessTest, HelpVersionAndUsage) {
  Process version({"--version"});
  EXPECT_EQ(version.Wait(30s), std::optional<int>(0));
  EXPECT_TRUE(std::regex_search(version.Output(), std::regex(R"(^keiretsud \d+\.\d+\.\d+)")))
      << version.Output();
  Process help({"--help"});
  EXPECT_EQ(help.Wait(30s), std::optional<int>(0));
  EXPECT_NE(help.Output().find("--config"), std::string::npos) << help.Output();
  Process none({});
  EXPECT_EQ(none.Wait(30s), std::optional<int>(2)) << none.Output();
  EXPECT_NE(none.Output().find("--config is required"), std::string::npos) << none.Output();
}

}  // namespace
}  // namespace keiretsu::daemon
