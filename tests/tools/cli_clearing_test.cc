// `keiretsu clearing find|propose|list|vote` against a real API server in
// process: one node (firm1) of a three-founder version-2 network over the
// cycle firm1 -> firm2 -> firm3 -> firm1 of 10 hours each, the other
// founders' votes ingested as if replicated. Find, propose, vote and list
// end to end (table and --json); each bad argument refused with one error
// line before anything is sent, and nothing written.
#include <gtest/gtest.h>

#include "api_fixture.h"
#include "cli_run.h"
#include "gov_network.h"
#include "keiretsu/node/identity.h"

namespace keiretsu::cli {
namespace {

using api::kOperatorToken;
using keiretsu::testing::GovFirm;
using keiretsu::testing::GovLedgerKey;
using keiretsu::testing::SignAs;
using testing::RunKeiretsu;

class CliClearingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ClearNodeEnv();
    ledger_ = keiretsu::testing::OpenGovLedger(net_, dir_.Sub("db"));
    api::ApiServerOptions options;
    options.listen = "127.0.0.1:0";
    options.now_unix_ms = [this] { return clock_ms_.fetch_add(1000) + 1000; };
    options.tokens = {{kOperatorToken, api::Role::kOperator, std::nullopt, "operator"}};
    auto s = api::ApiServer::Start(*ledger_, identity_, hub_, nullptr, std::move(options));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    Put(SignAs(net_, F(0), protocol::Obligation{F(1).id, 10, "hours", ""}));
    Put(SignAs(net_, F(1), protocol::Obligation{F(2).id, 10, "hours", ""}));
    Put(SignAs(net_, F(2), protocol::Obligation{F(0).id, 10, "hours", ""}));
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::milliseconds(0));
  }
  GovFirm& F(int i) { return net_.founders[static_cast<size_t>(i)]; }
  void Put(const protocol::SignedEntry& e) {
    auto r = ledger_->Ingest(std::span(&e.record, 1), true);
    ASSERT_EQ(r.at(0).outcome, node::Outcome::kApplied) << r.at(0).status.ToString();
  }
  testing::Ran Keiretsu(std::vector<std::string> args) {
    args.insert(args.end(), {"--node", server_->address(), "--token", kOperatorToken});
    return RunKeiretsu(std::move(args));
  }
  // A refused command: exit code, one error line naming `words`, nothing
  // written.
  void ExpectRefused(std::vector<std::string> args, int code, const std::string& words) {
    const api::LedgerSnapshot before = api::Snap(*ledger_);
    auto r = Keiretsu(std::move(args));
    EXPECT_EQ(r.code, code) << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
    EXPECT_EQ(api::Snap(*ledger_), before);
  }

  keiretsu::testing::GovNet net_ = keiretsu::testing::MakeGovNet(3, 2);
  keiretsu::testing::TempDir dir_;
  std::unique_ptr<node::Ledger> ledger_;
  std::shared_ptr<api::WatchHub> hub_ = std::make_shared<api::WatchHub>();
  std::shared_ptr<node::Identity> identity_ = std::make_shared<node::Identity>(GovLedgerKey(1));
  std::atomic<uint64_t> clock_ms_{1'790'000'100'000};
  std::unique_ptr<api::ApiServer> server_;
};

TEST_F(CliClearingTest, FindProposeVoteAndListClearTheCycle) {
  auto r = Keiretsu({"clearing", "find"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("hours: 30 of 30 owed can be cleared (100.0%)"), std::string::npos) << r.out;
  r = Keiretsu({"clearing", "find", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"cleared\":\"30\""), std::string::npos) << r.out;

  r = Keiretsu({"clearing", "propose", "--unit", "hours", "--found", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const size_t at = r.out.find("\"id\":\"");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string id = r.out.substr(at + 6, 64);

  r = Keiretsu({"clearing", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(id + "  pending"), std::string::npos) << r.out;

  r = Keiretsu({"clearing", "vote", id, "accept"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "accepted clearing " + id + "\n");
  for (int i : {1, 2})
    Put(SignAs(net_, F(i),
               protocol::ClearingVote{*EntryId::FromHex(id), protocol::ClearingDecision::kAccept}));
  r = Keiretsu({"clearing", "list", "--state", "committed", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"state\":\"committed\""), std::string::npos) << r.out;
  auto b = ledger_->GetBalance(F(0).id, F(1).id, "hours");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, 0);
  r = Keiretsu({"clearing", "find"});
  EXPECT_EQ(r.out, "nothing to clear: no cycle of debts\n");
}

TEST_F(CliClearingTest, ProposeWithFoundAndLegsIsRefused) {
  ExpectRefused(
      {"clearing", "propose", "--unit", "hours", "--found", "1", "--leg", "firm1:firm2:1"},
      kExitInvalid, "not both");
}

TEST_F(CliClearingTest, ProposeWithNeitherIsRefused) {
  ExpectRefused({"clearing", "propose", "--unit", "hours"}, kExitInvalid, "needs --found");
}

TEST_F(CliClearingTest, ProposeWithoutUnitIsAUsageError) {
  const api::LedgerSnapshot before = api::Snap(*ledger_);
  auto r = Keiretsu({"clearing", "propose", "--found", "1"});
  EXPECT_EQ(r.code, kExitUsage) << r.err;
  EXPECT_NE(r.err.find("--unit"), std::string::npos) << r.err;
  EXPECT_EQ(api::Snap(*ledger_), before);
}

TEST_F(CliClearingTest, AMalformedLegIsRefused) {
  ExpectRefused({"clearing", "propose", "--unit", "hours", "--leg", "firm1-firm2-4"}, kExitInvalid,
                "must be DEBTOR:CREDITOR:AMOUNT");
}

TEST_F(CliClearingTest, ALegWithABadAmountIsRefused) {
  ExpectRefused({"clearing", "propose", "--unit", "hours", "--leg", "firm1:firm2:-4"}, kExitInvalid,
                "--leg amount");
}

TEST_F(CliClearingTest, ABadExpiryIsRefused) {
  ExpectRefused({"clearing", "propose", "--unit", "hours", "--found", "1", "--expires", "24x"},
                kExitInvalid, "must end in s, m, h or d");
}

TEST_F(CliClearingTest, AnExpiryAbove30DaysIsRefused) {
  ExpectRefused({"clearing", "propose", "--unit", "hours", "--found", "1", "--expires", "31d"},
                kExitInvalid, "above 30 days");
}

TEST_F(CliClearingTest, LegsThatAreNoCirculationAreRefusedByTheNode) {
  ExpectRefused({"clearing", "propose", "--unit", "hours", "--leg", "firm1:firm2:4", "--leg",
                 "firm2:firm3:4", "--leg", "firm3:firm1:3"},
                kExitInvalid, "INVALID_ARGUMENT");
}

TEST_F(CliClearingTest, AVoteOnAMalformedIdIsRefused) {
  ExpectRefused({"clearing", "vote", "abc", "accept"}, kExitInvalid, "proposal id");
}

TEST_F(CliClearingTest, AVoteWithAnUnknownDecisionIsRefused) {
  ExpectRefused({"clearing", "vote", std::string(64, 'a'), "maybe"}, kExitInvalid,
                "must be accept or reject");
}

TEST_F(CliClearingTest, AVoteOnAnUnknownProposalIsNotFound) {
  ExpectRefused({"clearing", "vote", std::string(64, 'a'), "accept"}, kExitNotFound,
                "no clearing proposal");
}

TEST_F(CliClearingTest, ListOfAnUnknownStateIsRefused) {
  ExpectRefused({"clearing", "list", "--state", "done"}, kExitInvalid, "is none of");
}

}  // namespace
}  // namespace keiretsu::cli
