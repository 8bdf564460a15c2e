// `keiretsu graph` against a real API server in-process (tests/api's
// fixture): the obligation graph as DOT and SVG from ListBalances, and each
// bad argument with its one-line error. Also: long commands print no
// progress when their stderr is not a terminal.
#include <gtest/gtest.h>

#include "api_fixture.h"
#include "cli_run.h"

namespace keiretsu::cli {
namespace {

using api::kOperatorToken;
using testing::ReadFile;
using testing::RunKeiretsu;

class CliGraphTest : public api::ApiTest {
 protected:
  void SetUp() override {
    testing::ClearNodeEnv();
    // firm1 owes firm2 1,250 hours (in three entries); firm2 owes firm0 40.
    Put(fb.Next(1, keiretsu::testing::Owe(net.pk(2), 1000)));
    Put(fb.Next(1, keiretsu::testing::Owe(net.pk(2), 250)));
    Put(fb.Next(2, keiretsu::testing::Owe(net.pk(0), 40)));
  }
  testing::Ran Keiretsu(std::vector<std::string> args) {
    args.insert(args.end(), {"--node", node->server->address(), "--token", kOperatorToken});
    return RunKeiretsu(std::move(args));
  }
  keiretsu::testing::TempDir dir;
};

TEST_F(CliGraphTest, WritesTheGraphAsDotWithNamesAndAmounts) {
  auto r = Keiretsu({"graph", "--format", "dot"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("digraph \"obligations\" {", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"" + Hex(1) + "\" -> \"" + Hex(2) + "\" [label=\"1,250\""),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"" + Hex(2) + "\" -> \"" + Hex(0) + "\" [label=\"40\""),
            std::string::npos);
  EXPECT_NE(r.out.find("label=\"firm1\""), std::string::npos);
  EXPECT_NE(r.out.find("who owes whom: hours"), std::string::npos);
  EXPECT_EQ(r.out.find(" -> \"" + Hex(1) + "\""), std::string::npos) << "no one owes firm1";
}

TEST_F(CliGraphTest, WritesSvgToAFileAndReportsItInJson) {
  const std::string file = dir.Sub("hours.svg");
  auto r = Keiretsu({"graph", "--unit", "hours", "--out", file, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"file\":\"" + file +
                "\",\"format\":\"svg\",\"unit\":\"hours\",\"firms\":\"3\",\"debts\":\"2\"}\n");
  const std::string svg = ReadFile(file);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find(">1,250<"), std::string::npos);
  EXPECT_NE(svg.find(">firm2<"), std::string::npos);
}

TEST_F(CliGraphTest, RefusesBadArgumentsWithOneLine) {
  Put(fb.Next(2, keiretsu::testing::Owe(net.pk(1), 3, "kg")));  // a second unit
  auto r = Keiretsu({"graph"});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  EXPECT_NE(r.err.find("2 units (hours, kg): choose one with --unit"), std::string::npos) << r.err;
  r = Keiretsu({"graph", "--unit", "kg", "--format", "png"});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("--format must be dot or svg"), std::string::npos) << r.err;
  r = Keiretsu({"graph", "--unit", "kg", "--json"});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("--json reports on the file written: give --out FILE"), std::string::npos);
  r = Keiretsu({"graph", "--unit", "kg", "--out", dir.Sub("no/such/dir/kg.svg")});
  EXPECT_EQ(r.code, kExitLocalIO) << r.err;
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  // A unit without debts is an empty picture, not an error.
  r = Keiretsu({"graph", "--unit", "litres", "--format", "dot"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("->"), std::string::npos);
}

TEST_F(CliGraphTest, LongCommandsPrintNoProgressWhenStderrIsNotATerminal) {
  const std::string file = dir.Sub("ledger.export");
  auto r = Keiretsu({"export", "--out", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  r = Keiretsu({"import", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  r = Keiretsu({"status", "--watch", "--json"});  // no peers: caught up at once
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("\"state_digest\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace keiretsu::cli
