// Access control, table-driven: every role (and no token, and a wrong one)
// against every method of keiretsu.v1.Ledger, through a real channel. The
// expected codes are written out by hand: they are the policy.
#include <set>
#include <thread>

#include "api_fixture.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "raw_tcp_client.h"

namespace keiretsu::api {
namespace {

using namespace std::chrono_literals;
using grpc::StatusCode;

constexpr StatusCode OK = StatusCode::OK;
constexpr StatusCode DENIED = StatusCode::PERMISSION_DENIED;
// Governance writes are called with malformed input here, so the operator's
// call is refused after authorization and changes nothing.
constexpr StatusCode INVALID = StatusCode::INVALID_ARGUMENT;
// Watch streams until the deadline when allowed.
constexpr StatusCode STREAMS = StatusCode::DEADLINE_EXCEEDED;

class ApiAccessTest : public ApiTest {
 protected:
  void SetUp() override {
    entry_ = fb.Next(1, testing::Owe(net.pk(0), 5));
    Put(entry_);
  }
  // A new claim firm1 makes against firm0, so each Accept/Decline has one.
  std::string FreshClaim() {
    auto c = fb.Next(1, protocol::Claim{net.pk(0), 3, "hours", ""});
    Put(c);
    return c.id.Hex();
  }

  using Run = std::function<grpc::Status(ApiAccessTest&, grpc::ClientContext*)>;
  struct Row {
    Method method;
    StatusCode op, auditor, partner;  // partner of firm1
    Run run;
  };
  std::vector<Row> Table();

  protocol::SignedEntry entry_;
};

std::vector<ApiAccessTest::Row> ApiAccessTest::Table() {
  return {
      {Method::kGetStatus, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::GetStatusResponse r;
         return t.stub().GetStatus(c, {}, &r);
       }},
      {Method::kGetBalance, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::GetBalanceRequest q;
         q.set_firm("firm0");
         q.set_counterparty("firm1");
         q.set_unit("hours");
         v1::Balance r;
         return t.stub().GetBalance(c, q, &r);
       }},
      {Method::kListBalances, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::ListBalancesResponse r;
         return t.stub().ListBalances(c, {}, &r);
       }},
      {Method::kClaim, OK, DENIED, DENIED,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::ClaimRequest q;
         q.set_debtor("firm1");
         q.set_amount(1);
         q.set_unit("hours");
         v1::WriteResponse r;
         return t.stub().Claim(c, q, &r);
       }},
      {Method::kAccept, OK, DENIED, DENIED,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::AcceptRequest q;
         q.set_claim_id(t.FreshClaim());
         v1::WriteResponse r;
         return t.stub().Accept(c, q, &r);
       }},
      {Method::kDecline, OK, DENIED, DENIED,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::DeclineRequest q;
         q.set_claim_id(t.FreshClaim());
         v1::WriteResponse r;
         return t.stub().Decline(c, q, &r);
       }},
      {Method::kRecordObligation, OK, DENIED, DENIED,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::RecordObligationRequest q;
         q.set_creditor("firm1");
         q.set_amount(1);
         q.set_unit("hours");
         v1::WriteResponse r;
         return t.stub().RecordObligation(c, q, &r);
       }},
      {Method::kRecordRelease, OK, DENIED, DENIED,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::RecordReleaseRequest q;
         q.set_debtor("firm1");
         q.set_amount(1);
         q.set_unit("hours");
         v1::WriteResponse r;
         return t.stub().RecordRelease(c, q, &r);
       }},
      {Method::kWriteBatch, OK, DENIED, DENIED,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::WriteBatchRequest q;
         v1::RecordReleaseRequest* rel = q.add_items()->mutable_release();
         rel->set_debtor("firm1");
         rel->set_amount(1);
         rel->set_unit("hours");
         v1::WriteBatchResponse r;
         return t.stub().WriteBatch(c, q, &r);
       }},
      {Method::kListPendingClaims, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::ListPendingClaimsResponse r;
         return t.stub().ListPendingClaims(c, {}, &r);
       }},
      {Method::kListEntries, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::ListEntriesRequest q;
         q.set_author("firm1");
         v1::ListEntriesResponse r;
         return t.stub().ListEntries(c, q, &r);
       }},
      {Method::kGetEntry, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::GetEntryRequest q;
         q.set_id(t.entry_.id.Hex());
         v1::EntryView r;
         return t.stub().GetEntry(c, q, &r);
       }},
      {Method::kWatch, STREAMS, STREAMS, STREAMS,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         c->set_deadline(std::chrono::system_clock::now() + 300ms);
         v1::WatchRequest q;
         auto stream = t.stub().Watch(c, q);
         v1::WatchEvent ev;
         while (stream->Read(&ev)) {
         }
         return stream->Finish();
       }},
      {Method::kExport, OK, OK, DENIED,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         auto stream = t.stub().Export(c, v1::ExportRequest());
         v1::ExportChunk ch;
         while (stream->Read(&ch)) {
         }
         return stream->Finish();
       }},
      {Method::kImport, OK, DENIED, DENIED,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::ImportResponse r;
         auto stream = t.stub().Import(c, &r);
         v1::ExportChunk header;
         header.mutable_header()->set_format_version(1);
         const Bytes& g = t.net.genesis.canonical_bytes();
         header.mutable_header()->mutable_genesis()->set_canonical(g.data(), g.size());
         stream->Write(header);
         stream->WritesDone();
         return stream->Finish();
       }},
      {Method::kGetCheckpoint, OK, OK, OK,  // partners: heads and digest, as GetStatus
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::Checkpoint r;
         return t.stub().GetCheckpoint(c, {}, &r);
       }},
      {Method::kPropose, INVALID, DENIED, DENIED,  // no action
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::WriteResponse r;
         return t.stub().Propose(c, v1::ProposeRequest(), &r);
       }},
      {Method::kVote, INVALID, DENIED, DENIED,  // not an id
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::VoteRequest q;
         q.set_proposal_id("zz");
         v1::WriteResponse r;
         return t.stub().Vote(c, q, &r);
       }},
      {Method::kLeave, INVALID, DENIED, DENIED,  // memo over 512 bytes
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::LeaveRequest q;
         q.set_memo(std::string(513, 'm'));
         v1::WriteResponse r;
         return t.stub().Leave(c, q, &r);
       }},
      {Method::kRotate, INVALID, DENIED, DENIED,  // no key
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::WriteResponse r;
         return t.stub().Rotate(c, v1::RotateRequest(), &r);
       }},
      {Method::kListMembers, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::ListMembersResponse r;
         return t.stub().ListMembers(c, {}, &r);
       }},
      {Method::kListProposals, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::ListProposalsResponse r;
         return t.stub().ListProposals(c, {}, &r);
       }},
      {Method::kFindClearing, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::FindClearingResponse r;
         return t.stub().FindClearing(c, {}, &r);
       }},
      {Method::kProposeClearing, INVALID, DENIED, DENIED,  // no unit
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::WriteResponse r;
         return t.stub().ProposeClearing(c, {}, &r);
       }},
      {Method::kListClearings, OK, OK, OK,
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::ListClearingsResponse r;
         return t.stub().ListClearings(c, {}, &r);
       }},
      {Method::kVoteClearing, INVALID, DENIED, DENIED,  // no proposal id
       [](ApiAccessTest& t, grpc::ClientContext* c) {
         v1::WriteResponse r;
         return t.stub().VoteClearing(c, {}, &r);
       }},
  };
}

TEST_F(ApiAccessTest, TheTableCoversEveryMethod) {
  std::set<Method> seen;
  for (const Row& row : Table()) seen.insert(row.method);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kMethodCount));
  // And the service has no method the table does not know.
  EXPECT_EQ(v1::Ledger::service_full_name(), std::string("keiretsu.v1.Ledger"));
  const auto* svc = v1::GetStatusRequest::descriptor()->file()->FindServiceByName("Ledger");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->method_count(), kMethodCount);
}

TEST_F(ApiAccessTest, EveryRoleAgainstEveryMethod) {
  struct Who {
    const char* token;
    StatusCode Row::*expect;
  };
  for (const Who who : {Who{kOperatorToken, &Row::op}, Who{kAuditorToken, &Row::auditor},
                        Who{kPartner1Token, &Row::partner}}) {
    for (const Row& row : Table()) {
      SCOPED_TRACE(std::string(MethodName(row.method)) + " as " + who.token);
      auto before = Snap(ledger());
      auto ctx = Ctx(who.token);
      grpc::Status s = row.run(*this, ctx.get());
      StatusCode want = row.*who.expect;
      EXPECT_EQ(s.error_code(), want) << Describe(s);
      if (want == DENIED) {
        EXPECT_NE(s.error_message().find("may not call " + std::string(MethodName(row.method))),
                  std::string::npos)
            << Describe(s);
        // Accept/Decline set up a claim first; nothing else may change.
        if (row.method != Method::kAccept && row.method != Method::kDecline) {
          EXPECT_EQ(Snap(ledger()), before);
        }
      }
    }
  }
}

TEST_F(ApiAccessTest, NoTokenOrAWrongTokenIsUnauthenticatedEverywhere) {
  for (const char* token : {"", "not-a-configured-token-000", kOperatorToken + 1}) {
    for (const Row& row : Table()) {
      SCOPED_TRACE(std::string(MethodName(row.method)) + " with '" + token + "'");
      auto before = Snap(ledger());
      auto ctx = Ctx(token);
      grpc::Status s = row.run(*this, ctx.get());
      EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << Describe(s);
      if (row.method != Method::kAccept && row.method != Method::kDecline) {
        EXPECT_EQ(Snap(ledger()), before);
      }
    }
  }
}

// The standard health service needs no token (probes carry none), answers
// SERVING for the server and for keiretsu.v1.Ledger, NOT_FOUND for a service
// the node does not have, and NOT_SERVING once the server shuts down.
TEST_F(ApiAccessTest, HealthCheckNeedsNoTokenAndFollowsTheServerLifetime) {
  namespace health = ::grpc::health::v1;
  auto stub = health::Health::NewStub(
      grpc::CreateChannel(node->server->address(), grpc::InsecureChannelCredentials()));
  auto check = [&](const std::string& service, health::HealthCheckResponse* resp) {
    health::HealthCheckRequest req;
    req.set_service(service);
    auto ctx = Ctx("");
    return stub->Check(ctx.get(), req, resp);
  };
  health::HealthCheckResponse resp;
  grpc::Status s = check("", &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(resp.status(), health::HealthCheckResponse::SERVING);
  s = check("keiretsu.v1.Ledger", &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(resp.status(), health::HealthCheckResponse::SERVING);
  s = check("no.such.Service", &resp);
  EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);

  // A Watch opened before shutdown sees the switch to NOT_SERVING.
  health::HealthCheckRequest req;
  auto ctx = Ctx("");
  auto watch = stub->Watch(ctx.get(), req);
  ASSERT_TRUE(watch->Read(&resp));
  EXPECT_EQ(resp.status(), health::HealthCheckResponse::SERVING);
  std::thread stopper([&] { node->server->Shutdown(std::chrono::milliseconds(2000)); });
  bool saw_not_serving = false;
  while (watch->Read(&resp))
    if (resp.status() == health::HealthCheckResponse::NOT_SERVING) saw_not_serving = true;
  stopper.join();
  EXPECT_TRUE(saw_not_serving);
}

// The connection caps at the API's own listener: one address holding its
// share cannot keep a partner at another address out, the node's
// self-check still passes, and the refused connection is counted.
TEST_F(ApiAccessTest, AFloodFromOneAddressDoesNotLockOutAnother) {
  ApiServerOptions options;
  options.max_connections_per_source = 2;
  TestNode capped(net, 0, options);
  const std::string preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
  std::vector<std::unique_ptr<testing::RawTcpClient>> flood;
  for (int i = 0; i < 2; ++i) {
    flood.push_back(std::make_unique<testing::RawTcpClient>(capped.server->port(), "127.0.0.2"));
    // Admitted: gRPC's SETTINGS frame comes back through the relay.
    ASSERT_EQ(::write(flood.back()->fd(), preface.data(), preface.size()),
              static_cast<ssize_t>(preface.size()));
    char settings[9];
    ASSERT_EQ(::read(flood.back()->fd(), settings, sizeof settings), 9);
  }
  testing::RawTcpClient third(capped.server->port(), "127.0.0.2");
  EXPECT_TRUE(third.ClosedByPeer());
  EXPECT_EQ(capped.server->refused_connections(), 1u);

  v1::GetStatusResponse st;
  auto ctx = Ctx(kOperatorToken);
  grpc::Status s = capped.stub->GetStatus(ctx.get(), {}, &st);  // from 127.0.0.1
  EXPECT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(capped.server->SelfCheck(std::chrono::seconds(10)).ok());
  EXPECT_EQ(capped.server->open_connections(), 3u);
}

TEST_F(ApiAccessTest, ZeroConnectionCapsAreRefused) {
  ApiServerOptions options;
  options.max_connections = 0;
  options.listen = "127.0.0.1:0";
  auto s = ApiServer::Start(ledger(), net.key(0), std::make_shared<WatchHub>(), nullptr, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            "max_connections and max_connections_per_source must be at least 1");
}

}  // namespace
}  // namespace keiretsu::api
