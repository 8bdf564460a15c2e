// `keiretsu load` against a real API server in-process (tests/api's
// fixture): CSV and JSON lines through WriteBatch, the summary, failed rows
// by line number, and a re-run that writes nothing twice.
#include <gtest/gtest.h>

#include <fstream>

#include "api_fixture.h"
#include "cli_run.h"

namespace keiretsu::cli {
namespace {

using api::kOperatorToken;
using testing::RunKeiretsu;

class CliLoadTest : public api::ApiTest {
 protected:
  void SetUp() override { testing::ClearNodeEnv(); }
  testing::Ran Keiretsu(std::vector<std::string> args) {
    args.insert(args.end(), {"--node", node->server->address(), "--token", kOperatorToken});
    return RunKeiretsu(std::move(args));
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir.Sub(name);
    std::ofstream(path) << text;
    return path;
  }
  std::string Balance(int firm, int other) {
    return protocol::AmountToString(*ledger().GetBalance(net.pk(firm), net.pk(other), "hours"));
  }
  keiretsu::testing::TempDir dir;
};

TEST_F(CliLoadTest, LoadsACsvAndARerunWritesNothingTwice) {
  const std::string file = Write("rows.csv",
                                 "kind,counterparty,unit,amount,memo,request_id\n"
                                 "claim,firm1,hours,40,\"forklift, loan\",\n"
                                 "owe,firm2,hours,7,,own-id-1\n"
                                 "release,firm1,hours,3,,\n");
  auto r = Keiretsu({"load", file, "--batch", "2"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(r.out, "written 3, already present 0, failed 0\n");
  // Not a terminal: plain progress lines, one per batch.
  EXPECT_NE(r.err.find("loaded 2 of 3 rows"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("loaded 3 of 3 rows"), std::string::npos) << r.err;
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 3u);
  EXPECT_EQ(Balance(2, 0), "7");
  EXPECT_EQ(Balance(0, 1), "-3");
  auto first = ledger().ReadFeed(net.pk(0), 1, 1);
  auto check = protocol::CheckRecord(first->at(0), net.genesis);
  EXPECT_EQ(std::get<protocol::Claim>(check.signed_entry->entry.body).memo, "forklift, loan");

  auto again = Keiretsu({"load", file});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, "written 0, already present 3, failed 0\n");
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 3u);
}

TEST_F(CliLoadTest, FailedRowsAreListedByLineAndTheExitIsNonZero) {
  const std::string file =
      Write("rows.jsonl",
            "{\"kind\":\"owe\",\"counterparty\":\"firm1\",\"unit\":\"hours\","
            "\"amount\":5}\n"
            "\n"
            "{\"kind\":\"owe\",\"counterparty\":\"kobe\",\"unit\":\"hours\","
            "\"amount\":5}\n"
            "not json\n"
            "{\"kind\":\"gift\",\"counterparty\":\"firm1\",\"unit\":\"hours\","
            "\"amount\":5}\n"
            "{\"kind\":\"release\",\"counterparty\":\"firm2\",\"unit\":"
            "\"hours\",\"amount\":\"-2\"}\n"
            "{\"kind\":\"claim\",\"counterparty\":\"firm2\",\"unit\":\"hours\","
            "\"amount\":\"9\",\"memo\":\"ok\"}\n");
  auto r = Keiretsu({"load", file});
  EXPECT_EQ(r.code, kExitInvalid) << r.err;
  EXPECT_EQ(r.out.rfind("written 2, already present 0, failed 4\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("  line 3: unknown firm 'kobe'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  line 4: not a JSON object"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  line 5: kind \"gift\" is none of claim, owe, release"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  line 6: "), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("4 rows of " + file + " were not written"), std::string::npos) << r.err;
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 2u);
  EXPECT_EQ(Balance(1, 0), "5");
}

TEST_F(CliLoadTest, JsonSummaryForScripts) {
  const std::string file = Write("rows.csv",
                                 "kind,counterparty,unit,amount\n"
                                 "owe,firm1,hours,5\n"
                                 "owe,firm1,hours,x\n");
  auto r = Keiretsu({"load", file, "--json"});
  EXPECT_EQ(r.code, kExitInvalid) << r.err;
  EXPECT_EQ(r.out.rfind("{\"file\":\"" + file +
                            "\",\"written\":\"1\",\"already_present\":\"0\",\"failed\":[{\"line\":"
                            "\"3\",\"error\":",
                        0),
            0u)
      << r.out;
}

TEST_F(CliLoadTest, ABadFileOrFlagIsRefusedBeforeAnythingIsSent) {
  const api::LedgerSnapshot before = api::Snap(ledger());
  auto r = Keiretsu({"load", Write("rows.txt", "kind,counterparty,unit,amount\n")});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("--format csv or --format jsonl"), std::string::npos) << r.err;
  r = Keiretsu({"load", Write("bad.csv", "kind,firm,unit,amount\nowe,firm1,hours,5\n")});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("no column \"counterparty\""), std::string::npos) << r.err;
  r = Keiretsu({"load", Write("ok.csv", "kind,counterparty,unit,amount\n"), "--batch", "1001"});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("--batch must be between 1 and 1000"), std::string::npos) << r.err;
  r = Keiretsu({"load", dir.Sub("missing.csv")});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(api::Snap(ledger()), before);
}

TEST_F(CliLoadTest, HelpExplainsTheFormatsWithAnExample) {
  auto r = RunKeiretsu({"load", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("kind,counterparty,unit,amount,memo,request_id"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("JSON lines"), std::string::npos);
  EXPECT_NE(r.out.find("writes nothing twice"), std::string::npos);
}

}  // namespace
}  // namespace keiretsu::cli
