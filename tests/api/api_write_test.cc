// Writes through the API: each appends one signed entry; each bad input
// gets its status code and a message a person understands, and leaves the
// ledger exactly as it was.
#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "api_fixture.h"
#include "keiretsu/protocol/limits.h"

namespace keiretsu::api {
namespace {

using protocol::Claim;

class ApiWriteTest : public ApiTest {
 protected:
  grpc::Status DoClaim(const std::string& debtor, uint64_t amount, const std::string& unit,
                       const std::string& memo, v1::WriteResponse* out = nullptr) {
    v1::ClaimRequest req;
    req.set_debtor(debtor);
    req.set_amount(amount);
    req.set_unit(unit);
    req.set_memo(memo);
    v1::WriteResponse resp;
    auto s = stub().Claim(Ctx(kOperatorToken).get(), req, out ? out : &resp);
    return s;
  }
  grpc::Status DoAccept(const std::string& claim_id, v1::WriteResponse* out = nullptr) {
    v1::AcceptRequest req;
    req.set_claim_id(claim_id);
    req.set_memo("ok");
    v1::WriteResponse resp;
    return stub().Accept(Ctx(kOperatorToken).get(), req, out ? out : &resp);
  }
  std::string Balance(int firm, int other, const std::string& unit = "hours") {
    return protocol::AmountToString(*ledger().GetBalance(net.pk(firm), net.pk(other), unit));
  }
  // Checks `s` has `code` and a message containing `text`, and that the
  // ledger did not change since `before`.
  void ExpectRefused(const grpc::Status& s, grpc::StatusCode code, const std::string& text,
                     const LedgerSnapshot& before) {
    EXPECT_EQ(s.error_code(), code) << Describe(s);
    EXPECT_NE(s.error_message().find(text), std::string::npos) << Describe(s);
    EXPECT_EQ(Snap(ledger()), before);
  }
};

// A client whose deadline passed before its write was signed gets
// DEADLINE_EXCEEDED and the node writes nothing: the write is held at the
// writability check (before the ledger) until the client has given up.
TEST_F(ApiWriteTest, AWriteWhoseDeadlinePassedBeforeItWasSignedWritesNothing) {
  std::promise<void> reached, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  node->peers.on_write_check = [&] {
    if (!first.exchange(false)) return;
    reached.set_value();
    released.wait();
  };
  const LedgerSnapshot before = Snap(ledger());
  v1::ClaimRequest req;
  req.set_debtor("firm1");
  req.set_amount(5);
  req.set_unit("hours");
  v1::WriteResponse resp;
  auto ctx = Ctx(kOperatorToken, std::chrono::milliseconds(300));
  const grpc::Status s = stub().Claim(ctx.get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << Describe(s);
  reached.get_future().wait();  // the handler ran: the refusal is the node's, not gRPC's
  // The client gave up at its deadline and reset the stream; the server's
  // copy of the deadline ends a moment later. A second call on the same
  // connection is answered only after the server read that reset (HTTP/2
  // frames are read in order), so from here the server sees the first call
  // as cancelled, whatever the clocks say.
  v1::GetStatusResponse st;
  ASSERT_TRUE(stub().GetStatus(Ctx(kOperatorToken).get(), {}, &st).ok());
  release.set_value();
  node->server->Shutdown(std::chrono::seconds(20));  // returns once the handler has
  EXPECT_EQ(Snap(ledger()), before);
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 0u);
}

TEST_F(ApiWriteTest, ClaimAppendsASignedEntry) {
  v1::WriteResponse resp;
  auto s = DoClaim("firm1", 40, "hours", "forklift loan", &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  const v1::EntryView& e = resp.entry();
  EXPECT_EQ(e.kind(), "claim");
  EXPECT_EQ(e.author(), Hex(0));
  EXPECT_EQ(e.author_name(), "firm0");
  EXPECT_EQ(e.counterparty(), Hex(1));
  EXPECT_EQ(e.counterparty_name(), "firm1");
  EXPECT_EQ(e.amount(), 40u);
  EXPECT_EQ(e.unit(), "hours");
  EXPECT_EQ(e.memo(), "forklift loan");
  EXPECT_EQ(e.seq(), 1u);
  EXPECT_TRUE(e.effective());
  EXPECT_EQ(e.prev(), std::string(64, '0'));
  // The record is the authority: it verifies and its id is the view's id.
  protocol::RecordCheck check = protocol::CheckRecord(AsBytes(e.record()), net.genesis);
  ASSERT_EQ(check.fault, protocol::Fault::kNone) << check.status.ToString();
  EXPECT_EQ(check.signed_entry->id.Hex(), e.id());
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 1u);
  EXPECT_EQ(Balance(0, 1), "0");  // a claim moves nothing until accepted
}

TEST_F(ApiWriteTest, FirmsByNameOrKeyInAnyCase) {
  ASSERT_TRUE(DoClaim(Hex(2), 1, "hours", "").ok());
  ASSERT_TRUE(DoClaim("FIRM1", 1, "hours", "").ok());
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 2u);
}

TEST_F(ApiWriteTest, UnknownFirmIsNotFound) {
  auto before = Snap(ledger());
  ExpectRefused(DoClaim("kobe", 5, "hours", ""), grpc::StatusCode::NOT_FOUND, "unknown firm 'kobe'",
                before);
  ExpectRefused(DoClaim(std::string(64, 'a'), 5, "hours", ""), grpc::StatusCode::NOT_FOUND,
                "unknown firm", before);
  ExpectRefused(DoClaim("", 5, "hours", ""), grpc::StatusCode::INVALID_ARGUMENT,
                "debtor is required", before);
}

TEST_F(ApiWriteTest, AmountsOutOfRangeAreRefused) {
  auto before = Snap(ledger());
  ExpectRefused(DoClaim("firm1", 0, "hours", ""), grpc::StatusCode::INVALID_ARGUMENT,
                "amount must be positive", before);
  ExpectRefused(DoClaim("firm1", protocol::kMaxAmount + 1, "hours", ""),
                grpc::StatusCode::INVALID_ARGUMENT, "exceeds the maximum", before);
  ExpectRefused(DoClaim("firm1", UINT64_MAX, "hours", ""), grpc::StatusCode::INVALID_ARGUMENT,
                "exceeds the maximum", before);
  v1::RecordObligationRequest ob;
  ob.set_creditor("firm1");
  ob.set_unit("hours");
  v1::WriteResponse resp;
  ExpectRefused(stub().RecordObligation(Ctx(kOperatorToken).get(), ob, &resp),
                grpc::StatusCode::INVALID_ARGUMENT, "amount must be positive", before);
  // The largest allowed amount is accepted.
  EXPECT_TRUE(DoClaim("firm1", protocol::kMaxAmount, "hours", "").ok());
}

TEST_F(ApiWriteTest, BadUnitMemoAndSelfClaimAreRefused) {
  auto before = Snap(ledger());
  ExpectRefused(DoClaim("firm1", 5, "", ""), grpc::StatusCode::INVALID_ARGUMENT, "unit", before);
  ExpectRefused(DoClaim("firm1", 5, "h ours", ""), grpc::StatusCode::INVALID_ARGUMENT, "unit",
                before);
  ExpectRefused(DoClaim("firm1", 5, "hours", std::string(protocol::kMaxMemoBytes + 1, 'm')),
                grpc::StatusCode::INVALID_ARGUMENT, "memo is 513 bytes", before);
  ExpectRefused(DoClaim("firm0", 5, "hours", ""), grpc::StatusCode::INVALID_ARGUMENT,
                "cannot owe itself", before);
  // A memo of exactly the limit is fine.
  EXPECT_TRUE(DoClaim("firm1", 5, "hours", std::string(protocol::kMaxMemoBytes, 'm')).ok());
}

TEST_F(ApiWriteTest, OversizedMessageIsResourceExhausted) {
  auto before = Snap(ledger());
  auto s = DoClaim("firm1", 5, "hours", std::string(5 << 20, 'm'));  // > 4 MiB default
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  EXPECT_EQ(Snap(ledger()), before);
}

TEST_F(ApiWriteTest, AcceptCopiesTheClaimsTerms) {
  auto claim = fb.Next(1, Claim{net.pk(0), 40, "hours", "forklift"});
  Put(claim);
  v1::WriteResponse resp;
  auto s = DoAccept(claim.id.Hex(), &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(resp.entry().kind(), "accept");
  EXPECT_EQ(resp.entry().claim_id(), claim.id.Hex());
  EXPECT_EQ(resp.entry().counterparty(), Hex(1));
  EXPECT_EQ(resp.entry().amount(), 40u);
  EXPECT_EQ(resp.entry().unit(), "hours");
  EXPECT_EQ(Balance(1, 0), "40");
  EXPECT_EQ(Balance(0, 1), "-40");

  v1::GetBalanceRequest req;
  req.set_firm("firm1");
  req.set_counterparty("firm0");
  req.set_unit("hours");
  v1::Balance b;
  ASSERT_TRUE(stub().GetBalance(Ctx(kOperatorToken).get(), req, &b).ok());
  EXPECT_EQ(b.net(), "40");
}

TEST_F(ApiWriteTest, DoubleAcceptIsRefused) {
  auto claim = fb.Next(1, Claim{net.pk(0), 40, "hours", ""});
  Put(claim);
  v1::WriteResponse first;
  ASSERT_TRUE(DoAccept(claim.id.Hex(), &first).ok());
  auto before = Snap(ledger());
  ExpectRefused(DoAccept(claim.id.Hex()), grpc::StatusCode::FAILED_PRECONDITION,
                "claim " + claim.id.Short() + " was already answered by entry " +
                    first.entry().id().substr(0, 8),
                before);
  EXPECT_EQ(Balance(1, 0), "40");
}

TEST_F(ApiWriteTest, ConcurrentAcceptsOfOneClaimLetOneThrough) {
  auto claim = fb.Next(1, Claim{net.pk(0), 7, "hours", ""});
  Put(claim);
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&] {
      auto s = DoAccept(claim.id.Hex());
      (s.ok() ? ok : refused)++;
      if (!s.ok()) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 5);
  EXPECT_EQ(Balance(1, 0), "7");
}

// Obligations, claims and releases are not serialised by the service (only
// answers are), so concurrent writers meet in the ledger's group commit:
// every write must still get its own seq on one unbroken chain, and every
// effect must count exactly once.
TEST_F(ApiWriteTest, ConcurrentWritesOfEveryKindChainAndCountOnce) {
  auto claim = fb.Next(1, Claim{net.pk(0), 5, "hours", ""});
  Put(claim);
  constexpr int kThreads = 12, kEach = 10;
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        v1::WriteResponse resp;
        grpc::Status s;
        if (t == 0 && i == 0) {
          s = DoAccept(claim.id.Hex(), &resp);  // an answer among the others
        } else if (i % 3 == 0) {
          s = DoClaim("firm2", 1, "hours", "c", &resp);
        } else if (i % 3 == 1) {
          v1::RecordObligationRequest ob;
          ob.set_creditor("firm1");
          ob.set_amount(2);
          ob.set_unit("hours");
          s = stub().RecordObligation(Ctx(kOperatorToken).get(), ob, &resp);
        } else {
          v1::RecordReleaseRequest rel;
          rel.set_debtor("firm2");
          rel.set_amount(3);
          rel.set_unit("hours");
          s = stub().RecordRelease(Ctx(kOperatorToken).get(), rel, &resp);
        }
        ASSERT_TRUE(s.ok()) << Describe(s);
        seqs[static_cast<size_t>(t)].push_back(resp.entry().seq());
      }
    });
  for (auto& th : threads) th.join();
  std::vector<uint64_t> all;
  for (const auto& v : seqs) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), size_t{kThreads * kEach});
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);  // 1..N, none twice
  auto feed = ledger().ReadFeed(net.pk(0), 1, all.size() + 1);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), all.size());
  EntryId prev{};
  for (size_t i = 0; i < feed->size(); ++i) {  // one unbroken chain, every signature good
    auto check = protocol::CheckRecord((*feed)[i], net.genesis);
    ASSERT_EQ(check.fault, protocol::Fault::kNone) << check.status.ToString();
    EXPECT_EQ(check.signed_entry->entry.seq, i + 1);
    EXPECT_EQ(check.signed_entry->entry.prev, prev) << "seq " << i + 1;
    prev = check.signed_entry->id;
  }
  // Per thread: i % 3 == 1 are obligations of 2 to firm1 (3 each for 10
  // writes), i % 3 == 2 releases of 3 from firm2 (3 each), and one accept of 5.
  const int obligations = kThreads * 3, releases = kThreads * 3;
  EXPECT_EQ(Balance(1, 0), std::to_string(obligations * 2 + 5));
  EXPECT_EQ(Balance(0, 2), "-" + std::to_string(releases * 3));
  testing::ExpectBalancesMatchRecompute(ledger());
}

TEST_F(ApiWriteTest, AcceptOfAClaimAddressedToAnotherFirmIsRefused) {
  auto claim = fb.Next(1, Claim{net.pk(2), 40, "hours", ""});  // firm1 claims from firm2
  Put(claim);
  auto before = Snap(ledger());
  ExpectRefused(DoAccept(claim.id.Hex()), grpc::StatusCode::FAILED_PRECONDITION,
                "claim " + claim.id.Short() + " is addressed to firm2, not this firm (firm0)",
                before);
  v1::DeclineRequest d;
  d.set_claim_id(claim.id.Hex());
  v1::WriteResponse resp;
  ExpectRefused(stub().Decline(Ctx(kOperatorToken).get(), d, &resp),
                grpc::StatusCode::FAILED_PRECONDITION, "is addressed to firm2", before);
}

TEST_F(ApiWriteTest, AcceptOfUnknownOrMalformedIdsIsRefused) {
  auto other = fb.Next(1, testing::Owe(net.pk(0), 3));
  Put(other);
  auto before = Snap(ledger());
  ExpectRefused(DoAccept(std::string(64, 'b')), grpc::StatusCode::NOT_FOUND, "no claim bbbbbbbb",
                before);
  ExpectRefused(DoAccept("1a2b"), grpc::StatusCode::INVALID_ARGUMENT, "64 hex", before);
  ExpectRefused(DoAccept(other.id.Hex()), grpc::StatusCode::INVALID_ARGUMENT,
                "is an obligation, not a claim", before);
}

TEST_F(ApiWriteTest, DeclineAnswersWithoutMovingBalances) {
  auto claim = fb.Next(1, Claim{net.pk(0), 40, "hours", ""});
  Put(claim);
  v1::DeclineRequest d;
  d.set_claim_id(claim.id.Hex());
  d.set_reason("never borrowed a forklift");
  v1::WriteResponse resp;
  ASSERT_TRUE(stub().Decline(Ctx(kOperatorToken).get(), d, &resp).ok());
  EXPECT_EQ(resp.entry().kind(), "decline");
  EXPECT_EQ(resp.entry().memo(), "never borrowed a forklift");
  EXPECT_EQ(Balance(1, 0), "0");
  auto before = Snap(ledger());
  ExpectRefused(DoAccept(claim.id.Hex()), grpc::StatusCode::FAILED_PRECONDITION, "already answered",
                before);
}

TEST_F(ApiWriteTest, ObligationAndReleaseMoveBalances) {
  v1::RecordObligationRequest ob;
  ob.set_creditor("firm1");
  ob.set_amount(100);
  ob.set_unit("hours");
  v1::WriteResponse resp;
  ASSERT_TRUE(stub().RecordObligation(Ctx(kOperatorToken).get(), ob, &resp).ok());
  EXPECT_EQ(Balance(1, 0), "100");
  Put(fb.Next(2, testing::Owe(net.pk(0), 30)));  // firm2 owes firm0 30
  v1::RecordReleaseRequest rel;
  rel.set_debtor("firm2");
  rel.set_amount(10);
  rel.set_unit("hours");
  ASSERT_TRUE(stub().RecordRelease(Ctx(kOperatorToken).get(), rel, &resp).ok());
  EXPECT_EQ(resp.entry().kind(), "release");
  EXPECT_EQ(Balance(0, 2), "20");
  EXPECT_EQ(resp.entry().seq(), 2u);
}

TEST_F(ApiWriteTest, WritesWaitWhileTheNodeIsNotWritable) {
  node->peers.Set({}, "learning this firm's own head from peers");
  auto before = Snap(ledger());
  ExpectRefused(DoClaim("firm1", 5, "hours", ""), grpc::StatusCode::UNAVAILABLE,
                "cannot write yet: learning this firm's own head", before);
  node->peers.Set({}, "");
  EXPECT_TRUE(DoClaim("firm1", 5, "hours", "").ok());
}

}  // namespace
}  // namespace keiretsu::api
