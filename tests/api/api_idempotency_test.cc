// Idempotent writes: a request id makes a retry return the original entry
// (also after a restart, and under concurrent retries), and a reuse of the
// id for other content is ALREADY_EXISTS.
#include <future>
#include <thread>

#include "api_fixture.h"

namespace keiretsu::api {
namespace {

using namespace std::chrono_literals;

v1::RecordObligationRequest Obligation(const std::string& creditor, uint64_t amount,
                                       const std::string& request_id) {
  v1::RecordObligationRequest req;
  req.set_creditor(creditor);
  req.set_amount(amount);
  req.set_unit("hours");
  req.set_request_id(request_id);
  return req;
}

class ApiIdempotencyTest : public ApiTest {
 protected:
  grpc::Status Owe(const v1::RecordObligationRequest& req, v1::WriteResponse* resp,
                   v1::Ledger::Stub* via = nullptr) {
    return (via ? via : &stub())->RecordObligation(Ctx(kOperatorToken).get(), req, resp);
  }
};

TEST_F(ApiIdempotencyTest, ARetryWithTheSameIdReturnsTheOriginalEntry) {
  v1::WriteResponse first, again;
  ASSERT_TRUE(Owe(Obligation("firm1", 10, "job-1"), &first).ok());
  EXPECT_FALSE(first.replayed());
  auto before = Snap(ledger());
  // The same request, naming the firm by key instead of name: the same.
  auto s = Owe(Obligation(Hex(1), 10, "job-1"), &again);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.entry().id(), first.entry().id());
  EXPECT_EQ(again.entry().record(), first.entry().record());
  EXPECT_EQ(Snap(ledger()), before);
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 1u);
  // Another id writes another entry.
  ASSERT_TRUE(Owe(Obligation("firm1", 10, "job-2"), &again).ok());
  EXPECT_FALSE(again.replayed());
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 2u);
}

TEST_F(ApiIdempotencyTest, TheSameIdForOtherContentIsAlreadyExists) {
  v1::WriteResponse resp;
  ASSERT_TRUE(Owe(Obligation("firm1", 10, "job-1"), &resp).ok());
  auto before = Snap(ledger());
  auto s = Owe(Obligation("firm1", 11, "job-1"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_NE(s.error_message().find("request_id 'job-1': request id was already used for a "
                                   "different request"),
            std::string::npos)
      << s.error_message();
  // Another method with the same id is other content too.
  v1::ClaimRequest claim;
  claim.set_debtor("firm1");
  claim.set_amount(10);
  claim.set_unit("hours");
  claim.set_request_id("job-1");
  s = stub().Claim(Ctx(kOperatorToken).get(), claim, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_EQ(Snap(ledger()), before);
}

TEST_F(ApiIdempotencyTest, AMalformedIdIsInvalidArgumentAndWritesNothing) {
  auto before = Snap(ledger());
  v1::WriteResponse resp;
  auto s = Owe(Obligation("firm1", 10, "job 1\n"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("request_id 'job 1\\n' may only hold"), std::string::npos)
      << s.error_message();
  s = Owe(Obligation("firm1", 10, std::string(129, 'a')), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(Snap(ledger()), before);
}

TEST_F(ApiIdempotencyTest, AnAcceptRetriedAfterItCommittedIsReplayedNotRefused) {
  auto claim = fb.Next(1, protocol::Claim{net.pk(0), 7, "hours", ""});
  Put(claim);
  std::string claim_id = claim.id.Hex();
  v1::AcceptRequest req;
  req.set_claim_id(claim_id);
  req.set_request_id("accept-1");
  v1::WriteResponse first, again;
  ASSERT_TRUE(stub().Accept(Ctx(kOperatorToken).get(), req, &first).ok());
  auto s = stub().Accept(Ctx(kOperatorToken).get(), req, &again);
  ASSERT_TRUE(s.ok()) << Describe(s);  // before: FAILED_PRECONDITION "already answered"
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.entry().id(), first.entry().id());
  // Without an id the second accept is refused as before.
  req.clear_request_id();
  s = stub().Accept(Ctx(kOperatorToken).get(), req, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
}

TEST_F(ApiIdempotencyTest, ConcurrentRetriesWriteOneEntry) {
  constexpr int kCalls = 8;
  std::vector<std::future<v1::WriteResponse>> calls;
  for (int i = 0; i < kCalls; ++i)
    calls.push_back(std::async(std::launch::async, [&] {
      v1::WriteResponse resp;
      auto s = Owe(Obligation("firm2", 3, "burst"), &resp);
      EXPECT_TRUE(s.ok()) << Describe(s);
      return resp;
    }));
  std::set<std::string> ids;
  int fresh = 0;
  for (auto& c : calls) {
    v1::WriteResponse r = c.get();
    ids.insert(r.entry().id());
    fresh += r.replayed() ? 0 : 1;
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 1u);
}

TEST_F(ApiIdempotencyTest, RequestIdsSurviveARestart) {
  testing::TempDir data;
  std::string db = data.Sub("db");
  v1::WriteResponse first;
  {
    TestNode n(net, 0, {}, db);
    ASSERT_TRUE(Owe(Obligation("firm1", 10, "before-restart"), &first, n.stub.get()).ok());
  }
  TestNode n(net, 0, {}, db);
  v1::WriteResponse again;
  auto s = Owe(Obligation("firm1", 10, "before-restart"), &again, n.stub.get());
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.entry().id(), first.entry().id());
  EXPECT_EQ(n.ledger->Feed(net.pk(0)).head_seq, 1u);
}

}  // namespace
}  // namespace keiretsu::api
