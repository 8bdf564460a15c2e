// The obligation graph shared by the status page and `keiretsu graph`:
// positions to arrows, DOT text, and SVG from Graphviz's library.
#include "keiretsu/graph/obligation_graph.h"

#include <gtest/gtest.h>

namespace keiretsu::graph {
namespace {

const std::string kA(64, 'a'), kB(64, 'b'), kC(64, 'c');

std::vector<GraphFirm> Firms() {
  return {{kA, "asahi", true}, {kB, "biwa", false}, {kC, "chikuma", false}};
}

TEST(ObligationGraphTest, OneArrowPerPairFromEitherSideAndPerUnit) {
  // biwa owes asahi 1250 hours, reported by both sides; asahi owes chikuma
  // 7 kg; a zero position draws nothing.
  std::vector<Position> p = {{kA, kB, "hours", "1250"},
                             {kB, kA, "hours", "-1250"},
                             {kA, kC, "kg", "-7"},
                             {kB, kC, "hours", "0"}};
  auto graphs = BuildGraphs(Firms(), p);
  ASSERT_TRUE(graphs.ok()) << graphs.status().ToString();
  ASSERT_EQ(graphs->size(), 2u);
  EXPECT_EQ((*graphs)[0].unit, "hours");
  ASSERT_EQ((*graphs)[0].debts.size(), 1u);
  EXPECT_EQ((*graphs)[0].debts[0].debtor, kB);
  EXPECT_EQ((*graphs)[0].debts[0].creditor, kA);
  EXPECT_EQ((*graphs)[0].debts[0].amount, "1250");
  ASSERT_EQ((*graphs)[1].debts.size(), 1u);
  EXPECT_EQ((*graphs)[1].debts[0].debtor, kA);
  EXPECT_EQ((*graphs)[1].debts[0].creditor, kC);
  EXPECT_EQ((*graphs)[1].debts[0].amount, "7");

  auto only_kg = BuildGraphs(Firms(), p, "kg");
  ASSERT_TRUE(only_kg.ok());
  ASSERT_EQ(only_kg->size(), 1u);
  EXPECT_EQ((*only_kg)[0].unit, "kg");
  auto none = BuildGraphs(Firms(), p, "litres");
  ASSERT_TRUE(none.ok());
  ASSERT_EQ(none->size(), 1u);
  EXPECT_TRUE((*none)[0].debts.empty());
}

TEST(ObligationGraphTest, RefusesANetThatIsNotADecimal) {
  for (std::string bad : {"", "12a", "1e5", "--3", " 4"}) {
    auto g = BuildGraphs(Firms(), {{kA, kB, "hours", bad}});
    ASSERT_FALSE(g.ok()) << "'" << bad << "'";
    EXPECT_EQ(g.status().code(), Code::kInvalidArgument);
  }
}

TEST(ObligationGraphTest, BalancesBeyondSixtyFourBitsAreKept) {
  const std::string big = "340282366920938463463374607431768211455";  // 2^128 - 1
  auto g = BuildGraphs(Firms(), {{kA, kB, "u", big}});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)[0].debts[0].amount, big);
  EXPECT_NE(ToDot((*g)[0]).find(GroupThousands(big)), std::string::npos);
}

TEST(ObligationGraphTest, GroupsThousands) {
  EXPECT_EQ(GroupThousands("0"), "0");
  EXPECT_EQ(GroupThousands("999"), "999");
  EXPECT_EQ(GroupThousands("1000"), "1,000");
  EXPECT_EQ(GroupThousands("-1234567"), "-1,234,567");
}

TEST(ObligationGraphTest, EscapesEveryNameAndLabelInDotAndSvg) {
  // Genesis names cannot hold these characters; the graph escapes anyway.
  ObligationGraph g{
      "h\"u\\rs", {{kA, "a\"] -> evil [x=\"<b>&", false}, {kB, "b\nc", true}}, {{kA, kB, "5"}}};
  const std::string dot = ToDot(g);
  EXPECT_NE(dot.find(R"(label="a\"] -> evil [x=\"<b>&")"), std::string::npos) << dot;
  EXPECT_EQ(dot.find('\n' + std::string("c")), std::string::npos);
  EXPECT_NE(dot.find(R"(who owes whom: h\"u\\rs)"), std::string::npos);
  auto svg = RenderSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_EQ(svg->rfind("<svg", 0), 0u) << "no XML prolog before the element";
  EXPECT_EQ(svg->find("<b>"), std::string::npos) << "markup from a name reached the SVG";
  EXPECT_NE(svg->find("&lt;b&gt;&amp;"), std::string::npos);
}

TEST(ObligationGraphTest, RendersTheDebtsAsArrowsWithTheirAmounts) {
  auto g = BuildGraphs(Firms(), {{kA, kB, "hours", "1250"}, {kC, kA, "hours", "40"}});
  ASSERT_TRUE(g.ok());
  auto svg = RenderSvg(ToDot((*g)[0]));
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  for (const char* text : {">asahi<", ">biwa<", ">chikuma<", ">1,250<", ">40<"})
    EXPECT_NE(svg->find(text), std::string::npos) << text;
  EXPECT_NE(svg->find("class=\"edge\""), std::string::npos);
}

TEST(ObligationGraphTest, RefusesDotGraphvizCannotParse) {
  auto svg = RenderSvg("digraph { a -> ");
  ASSERT_FALSE(svg.ok());
  EXPECT_EQ(svg.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace keiretsu::graph
