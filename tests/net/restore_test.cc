// The restore rule: a node restored from a backup learns its own feed's head
// from a peer before it writes, so it never signs a second entry at a seq it
// already published. Also the options the Replicator refuses.
#include <gtest/gtest.h>

#include <filesystem>

#include "net_support.h"

namespace keiretsu::net {
namespace {

using namespace std::chrono_literals;
using testing::Owe;
using testing::TestNode;
using testing::WaitFor;

class RestoreTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);
  TestNode a{net, 0}, b{net, 1};

  ReplicatorOptions Dialling(const TestNode& peer) {
    auto o = testing::FastOptions();
    o.peers = {peer.AsPeer()};
    return o;
  }
  void AppendTo(TestNode& n, int count) {
    for (int i = 0; i < count; ++i) {
      auto r = n.Append(Owe(net.pk(1), 5));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
};

TEST_F(RestoreTest, RestoredNodeLearnsItsHeadFromAPeerBeforeWriting) {
  b.Start();
  a.Start(Dialling(b));
  ASSERT_TRUE(WaitFor([&] { return a.ledger().WriteGate().empty(); }));
  AppendTo(a, 5);
  ASSERT_TRUE(WaitFor([&] { return b.ledger().Feed(net.pk(0)).head_seq == 5; }));

  // The backup: a copy of the data directory at seq 5.
  testing::TempDir backup;
  a.Stop();
  std::filesystem::copy(a.db(), backup.Sub("db"), std::filesystem::copy_options::recursive);
  a.Restart(Dialling(b));
  ASSERT_TRUE(WaitFor([&] { return a.ledger().WriteGate().empty(); }));
  AppendTo(a, 5);  // seq 6..10, published to b
  ASSERT_TRUE(WaitFor([&] { return b.ledger().Feed(net.pk(0)).head_seq == 10; }));

  // Disaster: a's disk is lost and the backup restored, while b is down.
  a.Stop();
  b.Stop();
  std::filesystem::remove_all(a.db());
  std::filesystem::copy(backup.Sub("db"), a.db(), std::filesystem::copy_options::recursive);
  a.Restart(Dialling(b));
  EXPECT_EQ(a.ledger().Feed(net.pk(0)).head_seq, 5u);
  auto refused = a.Append(Owe(net.pk(1), 5));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("own feed head"), std::string::npos)
      << refused.status().message();
  EXPECT_FALSE(a.rep().WriteBlockReason().empty());
  // No peer reachable: the gate stays closed through several redial rounds.
  EXPECT_FALSE(WaitFor([&] { return a.ledger().WriteGate().empty(); }, 800ms));
  EXPECT_EQ(a.ledger().Feed(net.pk(0)).head_seq, 5u);

  b.Restart();  // same port: a's dialler finds it
  ASSERT_TRUE(WaitFor([&] { return a.ledger().WriteGate().empty(); }));
  EXPECT_EQ(a.ledger().Feed(net.pk(0)).head_seq, 10u);  // learned before the gate opened
  EXPECT_TRUE(a.rep().WriteBlockReason().empty());
  auto next = a.Append(Owe(net.pk(1), 5));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->entry.seq, 11u);

  ASSERT_TRUE(WaitFor([&] { return b.ledger().Feed(net.pk(0)).head_seq == 11; }));
  ASSERT_TRUE(WaitFor([&] { return a.ledger().StateDigest() == b.ledger().StateDigest(); }));
  for (TestNode* n : {&a, &b}) {
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
  refuse(testing::FirmKey(7), o, "not a member");
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
