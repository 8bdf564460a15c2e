// The auditor on a network with consent-based clearing (docs/PROTOCOL.md
// 20, docs/audit.md "Clearing"): a committed, a rejected and an expired
// proposal over one cycle. The auditor's balances and digest equal the
// node's (which applied the committed set-off), and its report names each
// proposal's validity, outcome and votes, and the debt cleared per unit.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../node/clearing_fixture.h"
#include "audit_fixture.h"

namespace keiretsu::audit {
namespace {

using protocol::ClearingPropose;

class ClearingAuditTest : public ::testing::Test {
 protected:
  // Every write is dated one second after the previous, so expiries are
  // easy to place.
  uint64_t Tick() { return testing::ClearingNet::kT0 + 1000 * ++clock_; }
  EntryId Propose(int proposer, const ClearingPropose& p) {
    return c.Write(proposer, p, Tick()).id;
  }
  void Vote(int firm, const EntryId& id, bool accept) { c.VoteOn(firm, id, accept, Tick()); }
  // A cycle 0 -> 1 -> 2 -> 0 of `amount` on the firms' current heads.
  ClearingPropose Cycle(uint64_t amount, uint64_t expiry_ms) {
    return c.Proposal({{0, 1, amount}, {1, 2, amount}, {2, 0, amount}}, expiry_ms);
  }
  const ClearingProposalReport* Find(const Report& r, const EntryId& id) {
    for (const ClearingProposalReport& p : r.clearing->proposals)
      if (p.id == id) return &p;
    return nullptr;
  }

  testing::ClearingNet c;
  uint64_t clock_ = 0;
};

TEST_F(ClearingAuditTest, BalancesEqualTheNodesAndEachProposalIsReported) {
  c.Write(0, protocol::Obligation{c.Id(1), 10, "hours", ""}, Tick());
  c.Write(1, protocol::Obligation{c.Id(2), 10, "hours", ""}, Tick());
  c.Write(2, protocol::Obligation{c.Id(0), 10, "hours", ""}, Tick());
  c.Write(3, protocol::Obligation{c.Id(0), 5, "hours", ""}, Tick());

  // Committed: every participant accepts in time.
  const EntryId committed = Propose(0, Cycle(4, Tick() + 100'000));
  Vote(0, committed, true);
  Vote(1, committed, true);
  Vote(2, committed, true);
  // Rejected: firm 2 says no.
  const EntryId rejected = Propose(1, Cycle(2, Tick() + 100'000));
  Vote(1, rejected, true);
  Vote(2, rejected, false);
  // Expired: firm 0 had not accepted and writes after the expiry.
  const EntryId expired = Propose(2, Cycle(1, Tick() + 1500));
  Vote(2, expired, true);
  c.Write(0, protocol::Obligation{c.Id(3), 1, "hours", ""}, Tick() + 10'000);

  testing::TempDir dir;
  auto ledger = testing::OpenGovLedger(c.net, dir.Sub("db"));
  for (const auto& r : ledger->Ingest(c.all, /*sync=*/true))
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const auto node_balances = testing::ClearingNet::Balances(*ledger);
  const Digest node_digest = ledger->StateDigest();
  // The set-off took effect at the node: 10 - 4 on each edge of the cycle.
  ASSERT_EQ(node_balances.at({c.Id(0), c.Id(1), "hours"}), -6);
  ledger.reset();

  Options o;
  o.input = dir.Sub("db");
  o.genesis_file = dir.Sub("g.bin");
  std::ofstream(o.genesis_file, std::ios::binary)
      << std::string(AsChars(c.net.genesis.canonical_bytes()));
  auto r = Audit(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code(), kExitVerified) << testing::Dump(*r);
  EXPECT_EQ(r->state_digest, node_digest);
  std::map<protocol::BalanceKey, protocol::Amount128> audited;
  for (const BalanceRow& b : r->balances) audited[{b.firm, b.counterparty, b.unit}] = b.net;
  EXPECT_EQ(audited, node_balances);

  ASSERT_TRUE(r->clearing.has_value());
  ASSERT_EQ(r->clearing->proposals.size(), 3u);
  const ClearingProposalReport* pc = Find(*r, committed);
  const ClearingProposalReport* pr = Find(*r, rejected);
  const ClearingProposalReport* pe = Find(*r, expired);
  ASSERT_TRUE(pc && pr && pe);
  EXPECT_EQ(pc->state, "committed");
  EXPECT_EQ(pr->state, "rejected");
  EXPECT_EQ(pe->state, "expired");
  EXPECT_TRUE(pc->valid && pr->valid && pe->valid);
  EXPECT_EQ(pc->proposer, c.Id(0));
  ASSERT_EQ(pc->legs.size(), 3u);
  for (const ClearingLegReport& l : pc->legs) EXPECT_EQ(l.amount, 4u);
  for (const auto& [firm, stance] : pc->stances) EXPECT_EQ(stance, "accepted");
  int rejecting = 0;
  for (const auto& [firm, stance] : pr->stances)
    if (stance == "rejected") {
      ++rejecting;
      EXPECT_EQ(firm, c.Id(2));
    }
  EXPECT_EQ(rejecting, 1);
  ASSERT_EQ(r->clearing->cleared.size(), 1u);
  EXPECT_EQ(r->clearing->cleared[0].first, "hours");
  EXPECT_EQ(r->clearing->cleared[0].second, 12);  // three legs of 4

  std::ostringstream text, json;
  WriteTextReport(*r, text);
  WriteJsonReport(*r, json);
  EXPECT_NE(text.str().find("Clearing proposals"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("cleared (committed set-offs): 12 hours"), std::string::npos)
      << text.str();
  EXPECT_NE(json.str().find("\"state\": \"expired\""), std::string::npos) << json.str();
  EXPECT_NE(json.str().find("\"cleared\": [{\"unit\": \"hours\", \"amount\": \"12\"}]"),
            std::string::npos)
      << json.str();
}

// A version-1 genesis whose firms clear a cycle: the clearing entries put
// the audit under v2 rules (as the node decides them), so its balances show
// the set-off and equal the node's.
TEST(ClearingAuditV1Test, AV1NetworkThatClearedIsAuditedUnderV2Rules) {
  testing::TestNetwork net = testing::MakeNetwork(3);
  testing::FeedBuilder fb(net);
  testing::TempDir dir;
  auto ledger = testing::OpenLedger(net, dir.Sub("db"));
  auto put = [&](const protocol::SignedEntry& e) {
    auto r = ledger->Ingest(std::span(&e.record, 1), true);
    ASSERT_EQ(r.at(0).outcome, node::Outcome::kApplied) << r.at(0).status.ToString();
  };
  for (int i = 0; i < 3; ++i)
    put(fb.Next(i, protocol::Obligation{net.pk((i + 1) % 3), 10, "hours", ""}));
  std::vector<int> firms{0, 1, 2};
  std::sort(firms.begin(), firms.end(), [&](int a, int b) { return net.pk(a) < net.pk(b); });
  protocol::ClearingPropose p{"hours", 1'790'000'900'000, {}, {}};
  std::map<int, uint8_t> index;
  for (int f : firms) {
    index[f] = static_cast<uint8_t>(p.participants.size());
    const node::FeedState st = ledger->Feed(net.pk(f));
    p.participants.push_back({net.pk(f), st.effective_seq(), st.effective_id});
  }
  for (int i = 0; i < 3; ++i) p.legs.push_back({index[i], index[(i + 1) % 3], 3});
  std::sort(p.legs.begin(), p.legs.end(), [](const auto& x, const auto& y) {
    return std::pair(x.debtor, x.creditor) < std::pair(y.debtor, y.creditor);
  });
  const protocol::SignedEntry prop = fb.Next(0, p);
  put(prop);
  for (int i = 0; i < 3; ++i)
    put(fb.Next(i, protocol::ClearingVote{prop.id, protocol::ClearingDecision::kAccept}));
  auto b = ledger->GetBalance(net.pk(0), net.pk(1), "hours");
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(*b, -7);  // the set-off took effect at the node
  std::map<protocol::BalanceKey, protocol::Amount128> node_balances;
  auto rows = ledger->ListAllBalances();
  ASSERT_TRUE(rows.ok());
  for (const auto& r : *rows) node_balances[{r.firm, r.counterparty, r.unit}] = r.net;
  const Digest node_digest = ledger->StateDigest();
  ledger.reset();

  Options o;
  o.input = dir.Sub("db");
  o.genesis_file = dir.Sub("g.bin");
  std::ofstream(o.genesis_file, std::ios::binary)
      << std::string(AsChars(net.genesis.canonical_bytes()));
  auto r = Audit(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code(), kExitVerified) << testing::Dump(*r);
  EXPECT_EQ(r->protocol_rules, 2);
  EXPECT_EQ(r->state_digest, node_digest);
  std::map<protocol::BalanceKey, protocol::Amount128> audited;
  for (const BalanceRow& row : r->balances)
    audited[{row.firm, row.counterparty, row.unit}] = row.net;
  EXPECT_EQ(audited, node_balances);
  ASSERT_TRUE(r->clearing.has_value());
  ASSERT_EQ(r->clearing->proposals.size(), 1u);
  EXPECT_EQ(r->clearing->proposals[0].state, "committed");
}

}  // namespace
}  // namespace keiretsu::audit
