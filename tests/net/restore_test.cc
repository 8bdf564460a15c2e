// The restore rule: a node restored from a backup learns its own feed's head
// from a peer before it writes, so it never signs a second entry at a seq it
// already published. Also the options the Replicator refuses.
#include <gtest/gtest.h>

#include <filesystem>

#include "net_support.h"
#include "node/net/src/core.h"

namespace keiretsu::net {
namespace {

using namespace std::chrono_literals;
using testing::Owe;
using testing::TestNode;
using testing::WaitFor;

class RestoreTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);
  TestNode a{net, 0}, b{net, 1}, c{net, 2};

  ReplicatorOptions Dialling(std::vector<const TestNode*> peers) {
    auto o = testing::FastOptions();
    for (const TestNode* p : peers) o.peers.push_back(p->AsPeer());
    return o;
  }
  void AppendTo(TestNode& n, int count) {
    for (int i = 0; i < count; ++i) {
      auto r = n.Append(Owe(net.pk(1), 5));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  uint64_t HeadOfA(TestNode& n) { return n.ledger().Feed(net.pk(0)).head_seq; }
};

TEST(GateQuorumTest, AStrictMajorityOfTheOtherMembers) {
  EXPECT_EQ(GateQuorum(1), 0u);
  EXPECT_EQ(GateQuorum(2), 1u);  // the only other member
  EXPECT_EQ(GateQuorum(3), 2u);  // both others: one of two is not a majority
  EXPECT_EQ(GateQuorum(4), 2u);
  EXPECT_EQ(GateQuorum(5), 3u);
  EXPECT_EQ(GateQuorum(100), 50u);
}

// A restore from an old backup while only a stale peer is reachable: that
// peer (a minority of the other members) cannot open the write gate; once a
// majority has reported, the node learns its real head and appends after it.
TEST_F(RestoreTest, StalePeerAloneCannotOpenTheGate) {
  b.Start();
  c.Start();
  a.Start(Dialling({&b, &c}));
  ASSERT_TRUE(WaitFor([&] { return a.ledger().WriteGate().empty(); }));
  AppendTo(a, 5);
  ASSERT_TRUE(WaitFor([&] { return HeadOfA(b) == 5 && HeadOfA(c) == 5; }));

  // The backup: a copy of the data directory at seq 5.
  testing::TempDir backup;
  a.Stop();
  std::filesystem::copy(a.db(), backup.Sub("db"), std::filesystem::copy_options::recursive);
  a.Restart(Dialling({&b, &c}));
  ASSERT_TRUE(WaitFor([&] { return a.ledger().WriteGate().empty(); })) << a.ledger().WriteGate();
  // b goes down holding a's feed up to 5 (it is stale from now on); a
  // writes 6..10, acknowledged and published to c.
  b.Stop();
  AppendTo(a, 5);
  ASSERT_TRUE(WaitFor([&] { return HeadOfA(c) == 10; }));

  // Disaster: a's disk is lost and the backup restored; c is down, only the
  // stale b is back.
  a.Stop();
  c.Stop();
  std::filesystem::remove_all(a.db());
  std::filesystem::copy(backup.Sub("db"), a.db(), std::filesystem::copy_options::recursive);
  b.Restart();
  a.Restart(Dialling({&b, &c}));
  EXPECT_EQ(HeadOfA(a), 5u);
  // b reports a's feed at 5, which a holds: one report of the two needed.
  ASSERT_TRUE(WaitFor([&] {
    auto p = a.Peer(1);
    return p && p->synced;
  }));
  EXPECT_FALSE(WaitFor([&] { return a.ledger().WriteGate().empty(); }, 800ms));
  auto refused = a.Append(Owe(net.pk(1), 5));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("own feed head"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("1 of the 2 reports needed"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(a.rep().WriteBlockReason(), a.ledger().WriteGate());
  EXPECT_EQ(HeadOfA(a), 5u);

  c.Restart();  // same port: a's dialler finds it
  ASSERT_TRUE(WaitFor([&] { return a.ledger().WriteGate().empty(); }));
  EXPECT_EQ(HeadOfA(a), 10u);  // learned before the gate opened: nothing acknowledged lost
  auto next = a.Append(Owe(net.pk(1), 5));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->entry.seq, 11u);

  std::vector<TestNode*> all = {&a, &b, &c};
  ASSERT_TRUE(WaitFor([&] { return testing::SameDigest(all) && HeadOfA(b) == 11; }));
  for (TestNode* n : all) {
    EXPECT_EQ(n->ledger().Feed(net.pk(0)).stop_seq, 0u);  // no self-fork
    EXPECT_TRUE(n->ledger().ListEvidence()->empty());
    testing::ExpectBalancesMatchRecompute(n->ledger());
  }
}

TEST_F(RestoreTest, GateDefaultsAndOverride) {
  // No peers configured: nothing to learn from, writes allowed.
  a.Start();
  EXPECT_TRUE(a.ledger().WriteGate().empty());
  a.Stop();
  // Peers configured but unreachable, and the operator overrides the rule.
  auto o = testing::FastOptions();
  o.peers = {{net.pk(1), "127.0.0.1:1"}};
  o.require_peer_before_write = false;
  a.Start(o);
  EXPECT_TRUE(a.ledger().WriteGate().empty());
  EXPECT_TRUE(a.Append(Owe(net.pk(1), 1)).ok());
  a.Stop();
  // Required without any peer: closed until an operator intervenes.
  o.peers.clear();
  o.require_peer_before_write = true;
  a.Start(o);
  EXPECT_FALSE(a.ledger().WriteGate().empty());
}

TEST_F(RestoreTest, CreateRefusesBadOptions) {
  auto ledger = testing::OpenLedger(net, a.dir() + "/x");
  auto refuse = [&](const crypto::SigningKey& key, ReplicatorOptions o, const std::string& needle) {
    auto r = Replicator::Create(*ledger, key, std::move(o));
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  ReplicatorOptions o;
  // A key the ledger does not know may be a firm admitted in an epoch this
  // node has not learnt yet: it starts, and its peers decide.
  EXPECT_TRUE(Replicator::Create(*ledger, testing::FirmKey(7), o).ok());
  o.listen = "localhost:7421";
  refuse(net.key(0), o, "listen address");
  o.listen = "127.0.0.1:99999";
  refuse(net.key(0), o, "listen address");
  o.listen = "";
  o.peers = {{testing::FirmKey(7).public_key(), "127.0.0.1:1"}};
  refuse(net.key(0), o, "not a member");
  o.peers = {{net.pk(0), "127.0.0.1:1"}};
  refuse(net.key(0), o, "this node itself");
  o.peers = {{net.pk(1), "nowhere"}};
  refuse(net.key(0), o, "host:port");
  o.peers = {{net.pk(1), "127.0.0.1:1"}, {net.pk(1), "127.0.0.1:2"}};
  refuse(net.key(0), o, "listed twice");
  o.peers.clear();
  o.idle_timeout = std::chrono::milliseconds(0);
  refuse(net.key(0), o, "positive");
  // A valid set is accepted, and AddPeer applies the same checks.
  auto ok = Replicator::Create(*ledger, net.key(0), ReplicatorOptions{});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->AddPeer({net.pk(0), "127.0.0.1:1"}).code(), Code::kInvalidArgument);
  EXPECT_TRUE((*ok)->AddPeer({net.pk(1), "127.0.0.1:1"}).ok());
  EXPECT_EQ((*ok)->AddPeer({net.pk(1), "127.0.0.1:2"}).code(), Code::kInvalidArgument);
  EXPECT_EQ((*ok)->port(), 0u);
  EXPECT_TRUE(ledger->WriteGate().empty());  // nothing done before Start
}

}  // namespace
}  // namespace keiretsu::net

namespace keiretsu::net {
namespace {

// The restore rule on a sparse graph (PROTOCOL.md 13.2.8): five members
// (a majority of the other four is 3), a's only peer is b, and b peers with
// c, d and e. Only b can report directly; c, d and e answer a's head query
// with signed reports relayed through b. Before relayed reports counted, a's
// gate never opened here.
TEST(RelayedRestoreTest, SignedReportsFromNonPeersOpenTheGate) {
  testing::TestNetwork net = testing::MakeNetwork(5);
  testing::TestNode a{net, 0}, b{net, 1}, c{net, 2}, d{net, 3}, e{net, 4};
  c.Start();
  d.Start();
  e.Start();
  auto bo = testing::FastOptions();
  for (const testing::TestNode* p : {&c, &d, &e}) bo.peers.push_back(p->AsPeer());
  b.Start(bo);
  auto ao = testing::FastOptions();
  ao.peers.push_back(b.AsPeer());
  a.Start(ao);
  ASSERT_TRUE(testing::WaitFor([&] { return a.ledger().WriteGate().empty(); }, 20s))
      << a.ledger().WriteGate();
  EXPECT_FALSE(a.ConnectedTo(2) || a.ConnectedTo(3) || a.ConnectedTo(4));  // relayed
  auto head_at = [&](testing::TestNode& n) { return n.ledger().Feed(net.pk(0)).head_seq; };
  auto append = [&](int count) {
    for (int i = 0; i < count; ++i) {
      auto r = a.Append(testing::Owe(net.pk(1), 5));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  };
  append(3);
  ASSERT_TRUE(testing::WaitFor([&] { return head_at(c) == 3 && head_at(d) == 3; }));

  // A backup at seq 3; then a writes 4 and 5, which reach everyone.
  testing::TempDir backup;
  a.Stop();
  std::filesystem::copy(a.db(), backup.Sub("db"), std::filesystem::copy_options::recursive);
  a.Restart(ao);
  ASSERT_TRUE(testing::WaitFor([&] { return a.ledger().WriteGate().empty(); }, 20s));
  append(2);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return head_at(b) == 5 && head_at(c) == 5 && head_at(d) == 5 && head_at(e) == 5; }));

  // The backup restored: the gate opens only once a holds its own feed as
  // far as the (relayed) reports say, so it never signs a second seq 4.
  a.Stop();
  std::filesystem::remove_all(a.db());
  std::filesystem::copy(backup.Sub("db"), a.db(), std::filesystem::copy_options::recursive);
  a.Restart(ao);
  ASSERT_TRUE(testing::WaitFor([&] { return a.ledger().WriteGate().empty(); }, 20s))
      << a.ledger().WriteGate();
  EXPECT_EQ(head_at(a), 5u);
  auto next = a.Append(testing::Owe(net.pk(1), 5));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->entry.seq, 6u);
  EXPECT_EQ(a.ledger().Feed(net.pk(0)).stop_seq, 0u);  // no self-fork
}

}  // namespace
}  // namespace keiretsu::net
