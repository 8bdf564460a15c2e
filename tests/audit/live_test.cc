// The auditor against a live node: a real ledger behind the real API server
// on 127.0.0.1, its Export stream written to the export file format, then
// audited with --against: digest, heads and every firm's ListBalances.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "audit_fixture.h"
#include "keiretsu/api/server.h"
#include "keiretsu/v1/api.grpc.pb.h"

namespace keiretsu::audit {
namespace {

constexpr char kAuditorToken[] = "auditor-token-0123456789";

class LiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::FillLedger(net, *ledger, fb, 200, 3);
    testing::ForkFeed(net, *ledger, 2, ledger->Feed(net.pk(2)).head_seq - 3);
    api::ApiServerOptions o;
    o.listen = "127.0.0.1:0";
    o.tokens = {{kAuditorToken, api::Role::kAuditor, std::nullopt, "auditor"}};
    o.now_unix_ms = [] { return uint64_t{1'790'000'555'000}; };
    auto s = api::ApiServer::Start(*ledger, net.key(0), hub, nullptr, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server = std::move(s).value();
  }
  void TearDown() override { server->Shutdown(std::chrono::milliseconds(0)); }

  // The node's own Export stream, framed as the export file format.
  std::string ExportFromNode() {
    auto stub = v1::Ledger::NewStub(
        grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kAuditorToken);
    auto reader = stub->Export(&ctx, v1::ExportRequest());
    std::string out;
    v1::ExportChunk chunk;
    while (reader->Read(&chunk)) {
      std::string body = chunk.SerializeAsString();
      uint32_t n = static_cast<uint32_t>(body.size());
      for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((n >> shift) & 0xff));
      out += body;
    }
    grpc::Status st = reader->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }
  Options Against() {
    Options o;
    o.against = server->address();
    o.token = kAuditorToken;
    return o;
  }

  testing::TestNetwork net = testing::MakeNetwork(4);
  testing::TempDir dir;
  std::unique_ptr<node::Ledger> ledger = testing::OpenLedger(net, dir.Sub("db"));
  testing::FeedBuilder fb{net};
  std::shared_ptr<api::WatchHub> hub = std::make_shared<api::WatchHub>();
  std::unique_ptr<api::ApiServer> server;
};

TEST_F(LiveTest, NodesExportAuditsCleanAndMatchesItsListBalances) {
  std::string data = ExportFromNode();
  Report r = testing::AuditString(data, Against());
  EXPECT_EQ(r.exit_code(), kExitVerified) << testing::Dump(r);
  ASSERT_TRUE(r.live.has_value());
  EXPECT_TRUE(r.live->digest_matches);
  EXPECT_EQ(r.live->balance_differences, 0u);
  EXPECT_EQ(r.live->balances_compared, r.balances.size());  // every row, every firm
  EXPECT_GT(r.balances.size(), 0u);
  EXPECT_TRUE(r.sealed);  // the live digest proves the export complete
  EXPECT_EQ(r.state_digest, ledger->StateDigest());
  EXPECT_TRUE(testing::Names(r, net.pk(2), ledger->Feed(net.pk(2)).stop_seq, "fork"));
}

TEST_F(LiveTest, ANodeThatMovedOnDisagrees) {
  std::string data = ExportFromNode();
  auto more = fb.Next(1, testing::Owe(net.pk(3), 4321, "eur"));
  ASSERT_EQ(ledger->Ingest(std::vector<Bytes>{more.record}, true).at(0).outcome,
            node::Outcome::kApplied);
  Options o = Against();
  o.allow_unsealed = true;
  Report r = testing::AuditString(data, o);
  EXPECT_EQ(r.exit_code(), kExitDisagreement) << testing::Dump(r);
  EXPECT_TRUE(testing::HasKind(r, "live-digest"));
  EXPECT_TRUE(testing::Names(r, net.pk(1), more.entry.seq, "live-head")) << testing::Dump(r);
  ASSERT_TRUE(r.live.has_value());
  EXPECT_EQ(r.live->balance_differences, 2u);  // firm1 with firm3 and firm3 with firm1
}

TEST_F(LiveTest, WrongTokenOrNoNodeIsAnError) {
  std::string data = ExportFromNode();
  Options o = Against();
  o.token = "not-a-token-at-all-000";
  o.allow_unsealed = true;
  Report r = testing::AuditString(data, o);
  EXPECT_EQ(r.exit_code(), kExitError) << testing::Dump(r);
  o = Against();
  o.against = "127.0.0.1:1";
  o.allow_unsealed = true;
  r = testing::AuditString(data, o);
  EXPECT_EQ(r.exit_code(), kExitError) << testing::Dump(r);
}

}  // namespace
}  // namespace keiretsu::audit
