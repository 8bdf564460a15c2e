// Argument errors, exit codes and node resolution of the `keiretsu` CLI,
// without a node: bad values must fail before anything is sent (the node
// address used is one that refuses connections, so reaching it would show
// as exit 5 instead of the expected code).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "cli_run.h"
#include "client.h"
#include "output.h"
#include "test_network.h"

namespace keiretsu::cli {
namespace {

using testing::RunKeiretsu;

// A loopback port nothing listens on: bound then closed, so connecting is
// refused at once.
std::string ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

class CliArgsTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::ClearNodeEnv(); }
  std::string node = ClosedPort();
  std::string id = std::string(64, 'a');

  testing::Ran RunApi(std::vector<std::string> args) {
    args.insert(args.end(), {"--node", node, "--token", "t0123456789abcdef", "--timeout", "5"});
    return RunKeiretsu(args);
  }
};

TEST_F(CliArgsTest, BadAmountsAreRefusedLocallyWithOneLine) {
  const std::vector<std::string> bad = {"-5",
                                        "0",
                                        "12abc",
                                        "1e3",
                                        " 5",
                                        "+5",
                                        "5.0",
                                        "",
                                        "0x10",
                                        "1000000000000001",
                                        "99999999999999999999999"};
  for (const char* cmd : {"claim", "owe", "release"}) {
    for (const std::string& amount : bad) {
      auto r = RunApi({cmd, "kobe", amount, "hours"});
      EXPECT_EQ(r.code, kExitInvalid) << cmd << " '" << amount << "': " << r.err;
      EXPECT_TRUE(r.OneErrorLine()) << r.err;
      EXPECT_EQ(r.err.rfind("keiretsu: amount", 0), 0u) << r.err;
      EXPECT_NE(r.err.find("(INVALID_ARGUMENT)"), std::string::npos) << r.err;
      EXPECT_EQ(r.out, "");
    }
  }
}

TEST_F(CliArgsTest, AmountParsingAcceptsExactlyPositiveIntegersUpToTheLimit) {
  EXPECT_EQ(*ParseAmount("1"), 1u);
  EXPECT_EQ(*ParseAmount("40"), 40u);
  EXPECT_EQ(*ParseAmount("1000000000000000"), 1'000'000'000'000'000u);
  EXPECT_FALSE(ParseAmount("1000000000000001").ok());
  EXPECT_EQ(*ParsePositive("18446744073709551615", "n"), UINT64_MAX);
  EXPECT_FALSE(ParsePositive("18446744073709551616", "n").ok());
  EXPECT_EQ(ParsePositive("007", "n").value(), 7u);
}

TEST_F(CliArgsTest, BadIdsAndPagingValuesAreRefusedLocally) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"accept", "1a2b"}, "claim id must be 64 hex"},
      {{"decline", std::string(64, 'g')}, "claim id must be 64 hex"},
      {{"accept", std::string(65, 'a')}, "claim id must be 64 hex"},
      {{"entry", "xyz"}, "entry id must be 64 hex"},
      {{"entries", "osaka", "--from", "0"}, "--from must be positive"},
      {{"entries", "osaka", "--limit", "-1"}, "--limit must be a positive"},
      {{"entries", "osaka", "--limit", "99999999999"}, "too large"},
      {{"watch", "--count", "0"}, "--count must be positive"},
      {{"watch", "--for", "soon"}, "--for must be a positive"},
  };
  for (const Case& c : cases) {
    auto r = RunApi(c.args);
    EXPECT_EQ(r.code, kExitInvalid) << c.args[0] << ": " << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
}

TEST_F(CliArgsTest, CommandLineShapeErrorsAreUsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                    // no command
      {"bogus"},                             // unknown command
      {"claim", "kobe", "5"},                // missing UNIT
      {"claim", "kobe", "5", "hours", "x"},  // one too many
      {"status", "--frobnicate"},            // unknown flag
      {"balance", "osaka"},                  // missing counterparty and unit
      {"export"},                            // --out is required
      {"status", "--timeout", "soon"},       // not a number
  };
  for (const auto& args : cases) {
    auto r = RunKeiretsu(args);
    EXPECT_EQ(r.code, kExitUsage) << (args.empty() ? "" : args[0]) << ": " << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_EQ(r.err.rfind("keiretsu: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
  }
  EXPECT_NE(RunKeiretsu({"bogus"}).err.find("unknown command 'bogus'"), std::string::npos);
}

TEST_F(CliArgsTest, HelpAndVersionSucceed) {
  auto help = RunKeiretsu({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
  auto sub = RunKeiretsu({"claim", "--help"});
  EXPECT_EQ(sub.code, 0);
  EXPECT_NE(sub.out.find("AMOUNT"), std::string::npos);
}

TEST_F(CliArgsTest, AnUnreachableNodeIsUnavailable) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"status"},
                                               {"balances"},
                                               {"claim", "kobe", "5", "hours"},
                                               {"watch", "--count", "1"}}) {
    auto r = RunApi(args);
    EXPECT_EQ(r.code, kExitUnavailable) << args[0] << ": " << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_NE(r.err.find(node), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(UNAVAILABLE)"), std::string::npos) << r.err;
  }
}

TEST_F(CliArgsTest, ExitCodesFollowTheGrpcCode) {
  Endpoint e;
  e.address = "h:1";
  e.token = "t";
  struct Case {
    grpc::StatusCode code;
    int exit;
  };
  const std::vector<Case> cases = {
      {grpc::StatusCode::OK, 0},
      {grpc::StatusCode::NOT_FOUND, 2},
      {grpc::StatusCode::UNAUTHENTICATED, 3},
      {grpc::StatusCode::PERMISSION_DENIED, 3},
      {grpc::StatusCode::INVALID_ARGUMENT, 4},
      {grpc::StatusCode::FAILED_PRECONDITION, 4},
      {grpc::StatusCode::ALREADY_EXISTS, 4},
      {grpc::StatusCode::OUT_OF_RANGE, 4},
      {grpc::StatusCode::UNAVAILABLE, 5},
      {grpc::StatusCode::DEADLINE_EXCEEDED, 5},
      {grpc::StatusCode::ABORTED, 5},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, 6},
      {grpc::StatusCode::INTERNAL, 8},
      {grpc::StatusCode::UNKNOWN, 8},
      {grpc::StatusCode::UNIMPLEMENTED, 8},
      {grpc::StatusCode::DATA_LOSS, 8},
  };
  for (const Case& c : cases) {
    Status s = FromGrpc(grpc::Status(c.code, "two\nlines"), e);
    EXPECT_EQ(ExitCodeFor(s.code()), c.exit) << static_cast<int>(c.code);
    if (!s.ok()) {
      std::string line = ErrorLine(s);
      EXPECT_EQ(line.find('\n'), std::string::npos) << line;
      EXPECT_NE(line.find("two lines"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(ExitCodeFor(Code::kIOError), kExitLocalIO);
}

TEST_F(CliArgsTest, ANodesMessageIsKeptWithItsCode) {
  Endpoint e;
  e.token = "t";
  Status s = FromGrpc(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                   "claim 1a2b3c4d is addressed to kobe, not this firm"),
                      e);
  EXPECT_EQ(ErrorLine(s),
            "keiretsu: claim 1a2b3c4d is addressed to kobe, not this firm (FAILED_PRECONDITION)");
  e.token.clear();
  Status anon = FromGrpc(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing token"), e);
  EXPECT_NE(anon.message().find("KEIRETSU_TOKEN"), std::string::npos) << anon.message();
}

std::optional<std::string> NoEnv(const char*) {
  return std::nullopt;
}

TEST_F(CliArgsTest, EndpointPrecedenceIsFlagThenConfigThenEnvironment) {
  keiretsu::testing::TempDir dir;
  std::string config = dir.Sub("k.toml");
  testing::WriteFile(config,
                     "[api]\nlisten = \"0.0.0.0:7811\"\ntls_cert = \"/etc/k/node.crt\"\n"
                     "[[api.tokens]]\ntoken = \"auditor-token-1234\"\nrole = \"auditor\"\n"
                     "[[api.tokens]]\ntoken = \"operator-token-123\"\nrole = \"operator\"\n");
  auto env = [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "KEIRETSU_NODE") return "envhost:1";
    if (std::string(name) == "KEIRETSU_TOKEN") return "env-token";
    return std::nullopt;
  };
  NodeFlags f;
  auto defaults = ResolveEndpoint(f, NoEnv);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->address, kDefaultNode);
  EXPECT_EQ(defaults->token, "");

  auto from_env = ResolveEndpoint(f, env);
  EXPECT_EQ(from_env->address, "envhost:1");
  EXPECT_EQ(from_env->token, "env-token");

  f.config = config;
  auto from_config = ResolveEndpoint(f, env);
  ASSERT_TRUE(from_config.ok()) << from_config.status().ToString();
  EXPECT_EQ(from_config->address, "127.0.0.1:7811");    // wildcard listen dialled on loopback
  EXPECT_EQ(from_config->token, "operator-token-123");  // the operator's, not the first
  EXPECT_TRUE(from_config->tls);
  EXPECT_EQ(from_config->tls_ca_file, "/etc/k/node.crt");

  f.node = "flaghost:2";
  f.token = "flag-token";
  auto from_flags = ResolveEndpoint(f, env);
  EXPECT_EQ(from_flags->address, "flaghost:2");
  EXPECT_EQ(from_flags->token, "flag-token");

  NodeFlags half;
  half.tls_cert = "c.pem";
  EXPECT_EQ(ResolveEndpoint(half, NoEnv).status().code(), Code::kInvalidArgument);
  NodeFlags bad;
  bad.node = "no-port";
  EXPECT_EQ(ResolveEndpoint(bad, NoEnv).status().code(), Code::kInvalidArgument);
  NodeFlags missing;
  missing.config = dir.Sub("missing.toml");
  EXPECT_EQ(ResolveEndpoint(missing, NoEnv).status().code(), Code::kNotFound);
  testing::WriteFile(dir.Sub("broken.toml"), "[api\nlisten=");
  missing.config = dir.Sub("broken.toml");
  EXPECT_EQ(ResolveEndpoint(missing, NoEnv).status().code(), Code::kInvalidArgument);
}

TEST_F(CliArgsTest, ABadConfigFailsTheCommandWithOneLine) {
  keiretsu::testing::TempDir dir;
  testing::WriteFile(dir.Sub("k.toml"), "data_dir = \"x\"\n");
  auto r = RunKeiretsu({"status", "--config", dir.Sub("k.toml")});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_TRUE(r.OneErrorLine());
  EXPECT_NE(r.err.find("no [api] listen"), std::string::npos) << r.err;
}

TEST_F(CliArgsTest, DialAddressTurnsWildcardsIntoLoopback) {
  EXPECT_EQ(DialAddress("0.0.0.0:7701"), "127.0.0.1:7701");
  EXPECT_EQ(DialAddress("[::]:7701"), "[::1]:7701");
  EXPECT_EQ(DialAddress("10.1.2.3:7701"), "10.1.2.3:7701");
  EXPECT_EQ(DialAddress("node.example:1"), "node.example:1");
}

TEST_F(CliArgsTest, HostPortChecks) {
  EXPECT_TRUE(CheckHostPort("h:1", "x").ok());
  EXPECT_TRUE(CheckHostPort("[::1]:65535", "x").ok());
  for (const char* bad : {"h", ":1", "h:0", "h:65536", "h:", "::1:5", "h:1x", "[]:1"})
    EXPECT_FALSE(CheckHostPort(bad, "x").ok()) << bad;
}

TEST_F(CliArgsTest, OutputNeverPassesControlCharacters) {
  EXPECT_EQ(Printable("a\x1b[31mred\nx\x7f"), "a?[31mred?x?");
  EXPECT_EQ(Printable("abcdefghij", 8), "abcde...");
  EXPECT_EQ(Printable("\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5", 8), "\xe6\x97\xa5...");
  EXPECT_EQ(JsonString("q\"\\\n\x01"), "\"q\\\"\\\\\\n\\u0001\"");
  std::ostringstream out;
  Table t({"A", "LONGER"});
  t.Row({"xyz", "1"});
  t.Row({"q"});
  t.Print(out);
  EXPECT_EQ(out.str(), "A    LONGER\nxyz  1\nq\n");
}

}  // namespace
}  // namespace keiretsu::cli
