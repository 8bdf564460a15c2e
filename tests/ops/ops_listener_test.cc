// The operations listener of a keiretsud started in-process: what it serves,
// and that every bad request gets the right HTTP status, changes nothing,
// and never stops the API from answering.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "firm_dir.h"
#include "keiretsu/daemon/daemon.h"
#include "keiretsu/v1/api.grpc.pb.h"
#include "node/ops/src/http_listener.h"
#include "raw_http.h"

namespace keiretsu::ops {
namespace {

using daemon::FirmDir;
using http_test::BodyOf;
using http_test::Exchange;
using http_test::HeaderOf;
using http_test::RawHttp;
using http_test::StatusOf;
namespace v1 = ::keiretsu::v1;

constexpr char kOpsToken[] = "ops-token-abcdef0123456789";
constexpr size_t kMaxConnections = 4;

std::string OpsSection(const std::string& token_file) {
  return "[ops]\nlisten = \"127.0.0.1:0\"\ntimeout_seconds = 1\nmax_connections = " +
         std::to_string(kMaxConnections) + "\nmax_url_bytes = 256\n" +
         (token_file.empty() ? "" : "token_file = \"" + token_file + "\"\n");
}

class OpsListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon::WriteText(firm.dir.Sub("ops.token"), std::string(kOpsToken) + "\n");
    ASSERT_EQ(::chmod(firm.dir.Sub("ops.token").c_str(), 0600), 0);
    firm.WriteConfig(OpsSection("ops.token"));
    auto c = daemon::LoadConfig(firm.config());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto d = daemon::Daemon::Start(*c, "test");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    node = std::move(*d);
    ops = node->ops_address();
    ASSERT_FALSE(ops.empty());
  }

  std::string Get(const std::string& path, const std::string& auth) {
    return Exchange(ops, "GET " + path + " HTTP/1.1\r\nHost: x\r\n" +
                             (auth.empty() ? "" : "Authorization: " + auth + "\r\n") +
                             "Connection: close\r\n\r\n");
  }
  std::string Get(const std::string& path) { return Get(path, std::string("Bearer ") + kOpsToken); }

  // The API answers GetStatus within a second.
  bool ApiAnswers() {
    auto stub = v1::Ledger::NewStub(
        grpc::CreateChannel(node->api_address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + daemon::kOperatorToken);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::GetStatusResponse r;
    return stub->GetStatus(&ctx, v1::GetStatusRequest(), &r).ok();
  }

  // What a bad request must not change.
  std::pair<std::string, uint64_t> State() {
    return {node->ledger().StateDigest().Hex(), node->ledger().LastCursor()};
  }

  keiretsu::testing::TestNetwork net_ = keiretsu::testing::MakeNetwork(3);
  FirmDir firm{net_, 0};
  std::unique_ptr<daemon::Daemon> node;
  std::string ops;
};

TEST_F(OpsListenerTest, ServesHealthMetricsAndAStatusPageThatFetchesNothingElse) {
  std::string r = Get("/healthz");
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_EQ(BodyOf(r), "ok\n");

  r = Get("/metrics");
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(BodyOf(r).find("keiretsu_build_info{"), std::string::npos);
  EXPECT_NE(BodyOf(r).find("keiretsu_pending_entries 0"), std::string::npos);

  r = Get("/status");
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(HeaderOf(r, "Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  const std::string page = BodyOf(r);
  EXPECT_NE(page.find("<h1>firm0</h1>"), std::string::npos);
  for (const char* external : {"src=\"http", "href=\"http", "src=\"//", "@import", "url("})
    EXPECT_EQ(page.find(external), std::string::npos) << external;

  r = Get("/status.json");
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_NE(BodyOf(r).find("\"firm\":{\"name\":\"firm0\""), std::string::npos) << BodyOf(r);

  r = Get("/");
  EXPECT_EQ(StatusOf(r), 302);
  EXPECT_EQ(HeaderOf(r, "Location"), "/status");
  EXPECT_EQ(StatusOf(Get("/nothing-here")), 404);

  r = Exchange(ops, std::string("HEAD /status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                        kOpsToken + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(BodyOf(r), "");
}

TEST_F(OpsListenerTest, RefusesNoOrAWrongTokenAndAcceptsItAsBasicPassword) {
  const auto before = State();
  std::string r = Get("/metrics", "");
  EXPECT_EQ(StatusOf(r), 401);
  EXPECT_EQ(HeaderOf(r, "WWW-Authenticate"), "Basic realm=\"keiretsu operations\"");
  EXPECT_EQ(BodyOf(r).find("keiretsu_"), std::string::npos);
  EXPECT_EQ(StatusOf(Get("/status", "Bearer ops-token-abcdef012345678")), 401);  // one short
  EXPECT_EQ(StatusOf(Get("/status", std::string("Bearer ") + kOpsToken + "x")), 401);
  EXPECT_EQ(StatusOf(Get("/status", std::string("Token ") + kOpsToken)), 401);
  EXPECT_EQ(StatusOf(Get("/status", "Basic !!!notbase64")), 401);
  // "anyone:ops-token-abcdef0123456789" and "anyone:wrong" in base64.
  EXPECT_EQ(StatusOf(Get("/status", "Basic YW55b25lOm9wcy10b2tlbi1hYmNkZWYwMTIzNDU2Nzg5")), 200);
  EXPECT_EQ(StatusOf(Get("/status", "Basic YW55b25lOndyb25n")), 401);
  EXPECT_EQ(State(), before);
  EXPECT_TRUE(ApiAnswers());
}

TEST_F(OpsListenerTest, RefusesOtherMethodsBodiesAndLongTargets) {
  const auto before = State();
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    std::string r = Exchange(
        ops, std::string(method) + " /status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                 kOpsToken + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(StatusOf(r), 405) << method << ": " << r;
    EXPECT_EQ(HeaderOf(r, "Allow"), "GET, HEAD") << method;
  }
  std::string r =
      Exchange(ops, std::string("GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: ") + "Bearer " +
                        kOpsToken + "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_EQ(StatusOf(r), 413) << r;
  // Longer than max_url_bytes (256), also when the length is in the query.
  EXPECT_EQ(StatusOf(Get("/status" + std::string(300, 'a'))), 414);
  EXPECT_EQ(StatusOf(Get("/status?" + std::string(300, 'a'))), 414);
  // Far longer than the connection's memory: refused before any handler.
  int huge = StatusOf(Get("/" + std::string(64 * 1024, 'a')));
  EXPECT_TRUE(huge == 414 || huge == 431) << huge;
  EXPECT_EQ(StatusOf(Get("/status?" + std::string(200, 'a'))), 200) << "within the limit";
  EXPECT_EQ(State(), before);
  EXPECT_TRUE(ApiAnswers());
}

TEST_F(OpsListenerTest, ClosesASlowClientWith408WhileTheApiAndOthersAreServed) {
  const auto before = State();
  RawHttp slow(ops);
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  const auto start = std::chrono::steady_clock::now();
  std::string got;
  bool closed = false;
  // One byte every 100 ms: each keeps the connection active, so only the
  // request deadline (1 s here) can end it. Bounded at 10 s.
  while (!closed && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    if (!slow.Send("a")) break;
    got += slow.ReadUntilClosed(std::chrono::milliseconds(100), &closed);
    if (got.empty()) {
      EXPECT_EQ(StatusOf(Get("/healthz")), 200) << "others are served meanwhile";
    }
  }
  got += slow.ReadUntilClosed(std::chrono::seconds(2), &closed);
  EXPECT_EQ(StatusOf(got), 408) << got;
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(ApiAnswers());

  RawHttp idle(ops);  // sends nothing at all
  std::string idle_got = idle.ReadUntilClosed(std::chrono::seconds(5), &closed);
  EXPECT_TRUE(closed) << "an idle connection is closed after the timeout";
  EXPECT_EQ(State(), before);
}

TEST_F(OpsListenerTest, ClosesConnectionsBeyondTheCapAndRecovers) {
  std::vector<std::unique_ptr<RawHttp>> held;
  for (size_t i = 0; i < kMaxConnections; ++i) {
    held.push_back(std::make_unique<RawHttp>(ops));
    ASSERT_TRUE(held.back()->Send("G"));  // started, never finished
  }
  RawHttp extra(ops);
  extra.Send(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kOpsToken +
             "\r\n\r\n");
  bool closed = false;
  std::string got = extra.ReadUntilClosed(std::chrono::milliseconds(900), &closed);
  EXPECT_TRUE(closed && got.empty()) << "beyond the cap: closed without an answer: " << got;
  EXPECT_TRUE(ApiAnswers()) << "the API does not share the cap";
  held.clear();
  // Once the held connections are gone, the listener serves again.
  int status = 0;
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       status != 200 && std::chrono::steady_clock::now() < end;)
    status = StatusOf(Get("/healthz"));
  EXPECT_EQ(status, 200);
}

TEST_F(OpsListenerTest, StopsWithTheNode) {
  node->Stop(std::chrono::milliseconds(100));
  EXPECT_THROW(RawHttp{ops}, std::runtime_error);
}

TEST(OpsTokenTest, ComparesBearerAndBasicPasswordOnly) {
  const std::string token = "0123456789abcdef";
  EXPECT_TRUE(AuthorizationCarries("Bearer 0123456789abcdef", token));
  EXPECT_FALSE(AuthorizationCarries("Bearer 0123456789abcde", token));
  EXPECT_FALSE(AuthorizationCarries("Bearer 0123456789abcdefg", token));
  EXPECT_FALSE(AuthorizationCarries("bearer 0123456789abcdef", token));
  EXPECT_FALSE(AuthorizationCarries("0123456789abcdef", token));
  EXPECT_FALSE(AuthorizationCarries("", token));
  // base64("u:0123456789abcdef"), base64("0123456789abcdef") (no colon).
  EXPECT_TRUE(AuthorizationCarries("Basic dTowMTIzNDU2Nzg5YWJjZGVm", token));
  EXPECT_FALSE(AuthorizationCarries("Basic MDEyMzQ1Njc4OWFiY2RlZg==", token));
  EXPECT_FALSE(AuthorizationCarries("Basic %%%", token));
}

// Starting refuses, naming the problem, when the listener cannot be set up.
class OpsStartTest : public ::testing::Test {
 protected:
  keiretsu::testing::TestNetwork net_ = keiretsu::testing::MakeNetwork(2);

  Status StartWith(FirmDir& f, const std::string& section) {
    f.WriteConfig(section);
    auto c = daemon::LoadConfig(f.config());
    if (!c.ok()) return c.status();
    auto d = daemon::Daemon::Start(*c, "test");
    return d.ok() ? Status::Ok() : d.status();
  }
};

TEST_F(OpsStartTest, RefusesAnAddressInUseNamingIt) {
  FirmDir f(net_, 0);
  f.WriteConfig(OpsSection(""));
  auto c = daemon::LoadConfig(f.config());
  ASSERT_TRUE(c.ok());
  auto first = daemon::Daemon::Start(*c, "test");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  FirmDir g(net_, 1);
  const std::string taken = (*first)->ops_address();
  Status s = StartWith(g, "[ops]\nlisten = \"" + taken + "\"\n");
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("cannot listen on " + taken), std::string::npos) << s.ToString();
}

TEST_F(OpsStartTest, RefusesAnExposedMissingOrShortTokenFile) {
  FirmDir f(net_, 0);
  daemon::WriteText(f.dir.Sub("ops.token"), std::string(kOpsToken) + "\n");
  ASSERT_EQ(::chmod(f.dir.Sub("ops.token").c_str(), 0644), 0);
  Status s = StartWith(f, OpsSection("ops.token"));
  EXPECT_NE(s.message().find("is readable by group or others"), std::string::npos) << s.ToString();
  s = StartWith(f, OpsSection("missing.token"));
  EXPECT_NE(s.message().find("ops.token_file: cannot read"), std::string::npos) << s.ToString();
  daemon::WriteText(f.dir.Sub("short.token"), "short\n");
  ASSERT_EQ(::chmod(f.dir.Sub("short.token").c_str(), 0600), 0);
  s = StartWith(f, OpsSection("short.token"));
  EXPECT_NE(s.message().find("at least 16 characters"), std::string::npos) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(f.data())) << "refused before the data directory opened";
}

TEST_F(OpsStartTest, ConfigRefusesBadOpsOptions) {
  FirmDir f(net_, 0);
  for (const auto& [section, says] : std::vector<std::pair<std::string, std::string>>{
           {"[ops]\nlisten = \"nowhere\"\n", "ops.listen: must be host:port"},
           {"[ops]\nmax_connections = 0\n", "ops.max_connections: must be a whole number"},
           {"[ops]\ntimeout_seconds = \"10\"\n", "ops.timeout_seconds: must be a whole number"},
           {"[ops]\nmax_url_bytes = 1\n", "ops.max_url_bytes: must be a whole number"},
           {"[ops]\nlisten_on = \"127.0.0.1:1\"\n", "ops.listen_on: unknown key"}}) {
    Status s = StartWith(f, section);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << section;
    EXPECT_NE(s.message().find(says), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace keiretsu::ops
