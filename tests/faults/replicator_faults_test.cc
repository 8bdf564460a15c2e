// The replicator's commit-failure path: a session whose Ledger::Ingest fails
// with a storage error (the receiving node's own fault) must not ack the
// batch, must not crash, and must not count or ban the peer that sent it;
// once the fault clears, the same entries are accepted and the nodes
// converge. The receiving node's store injects the faults
// (storage::FaultInjector); the peers are a protocol-level test client and a
// real node, over loopback TCP.
#include <gtest/gtest.h>

#include "fault_support.h"
#include "net_support.h"

namespace keiretsu::net {
namespace {

using namespace std::chrono_literals;
using storage::FaultInjector;
using testing::FeedBuilder;
using testing::Owe;
using testing::PeerClient;
using testing::WaitFor;
using Kind = FaultInjector::FileKind;

class ReplicatorFaultTest : public ::testing::Test {
 protected:
  // This node: firm 0, its store behind `faults`, listening, dialling
  // `peers`.
  void StartNode(std::vector<PeerConfig> peers = {}) {
    ledger = std::move(testing::OpenFaultyLedger(net, dir.Sub("db"), faults)).value();
    auto o = testing::FastOptions();
    o.peers = std::move(peers);
    o.require_peer_before_write = false;
    rep = std::move(Replicator::Create(*ledger, net.key(0), o)).value();
    Replicator* r = rep.get();
    ledger->SetListener([r](const std::vector<node::AppliedEntry>& a) { r->OnApplied(a); });
    ASSERT_TRUE(rep->Start().ok());
  }
  void TearDown() override {
    if (rep) rep->Stop();
  }
  std::optional<PeerStatus> Peer(int firm) const {
    for (auto& p : rep->Peers())
      if (p.firm == net.pk(firm)) return p;
    return std::nullopt;
  }
  // Connects as `firm` and completes the handshake and Have exchange.
  std::unique_ptr<PeerClient> Connect(int firm) {
    auto client = std::make_unique<PeerClient>(rep->port());
    Status hs = client->Handshake(net.genesis, net.key(firm), net.pk(0));
    EXPECT_TRUE(hs.ok()) << hs.ToString();
    EXPECT_TRUE(client->ReceiveUntil([](const v1::PeerMessage& m) { return m.has_have(); }));
    EXPECT_TRUE(client->Send(testing::EmptyHave()).ok());
    return client;
  }
  // The peer's batch was refused for this node's fault, not the peer's.
  void ExpectPeerNotBlamed(int firm) {
    auto p = Peer(firm);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->invalid_received, 0u);
    EXPECT_EQ(p->banned_until_unix_ms, 0u);
  }

  testing::TestNetwork net = testing::MakeNetwork(3);
  testing::TempDir dir;
  std::shared_ptr<FaultInjector> faults = FaultInjector::Create(FaultInjector::Medium::kMemory);
  std::unique_ptr<node::Ledger> ledger;
  std::unique_ptr<Replicator> rep;
};

TEST_F(ReplicatorFaultTest, AFailedIngestIsNotAckedAndThePeerIsNotBlamed) {
  StartNode();
  FeedBuilder fb(net);
  const auto e1 = fb.Next(1, Owe(net.pk(2), 4)), e2 = fb.Next(1, Owe(net.pk(0), 5));
  faults->FailEveryWrite(Kind::kWal);  // every commit fails until cleared

  auto client = Connect(1);
  ASSERT_TRUE(client->Send(testing::EntriesOf(1, {e1.record, e2.record})).ok());
  // Every log write fails as on a full disk: the commit fails, nothing is
  // acked, ingest pauses (docs/OPERATIONS.md "A full disk") and the peer is
  // not blamed for this node's failure.
  EXPECT_FALSE(client->ReceiveUntil([](const v1::PeerMessage& m) { return m.has_ack(); }));
  EXPECT_GE(faults->failures_injected(), 1u);
  EXPECT_EQ(ledger->store().Writable().code(), Code::kResourceExhausted);
  ExpectPeerNotBlamed(1);
  EXPECT_EQ(ledger->Feed(net.pk(1)).head_seq, 0u);
  testing::ExpectLedgerMatchesStore(*ledger);

  // The fault clears: the peer is let in again and the same batch is acked.
  // The fault clears and the store is refreshed (keiretsud's disk watch does
  // this every second): a new session's batch is acked.
  faults->Clear();
  ASSERT_TRUE(ledger->RefreshStorage().ok());
  auto again = Connect(1);
  ASSERT_TRUE(again->Send(testing::EntriesOf(1, {e1.record, e2.record})).ok());
  EXPECT_TRUE(again->ReceiveUntil(
      [](const v1::PeerMessage& m) { return m.has_ack() && m.ack().batch() == 1; }));
  EXPECT_EQ(ledger->Feed(net.pk(1)).head_id, e2.id);
  ExpectPeerNotBlamed(1);
  testing::ExpectLedgerMatchesStore(*ledger);
}

TEST_F(ReplicatorFaultTest, ANodeWhoseDiskFailsCatchesUpOnceItHeals) {
  testing::TestNode peer(net, 1);
  peer.Start();
  StartNode({peer.AsPeer()});
  faults->FailEveryWrite(Kind::kWal);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(peer.Append(Owe(net.pk(0), 1)).ok());
  // Pushes reach this node and fail to commit; ingest then pauses (the store
  // says it is out of space) and the peer's batches wait unacknowledged.
  ASSERT_TRUE(WaitFor([&] { return faults->failures_injected() >= 1; }));
  EXPECT_EQ(ledger->Feed(net.pk(1)).head_seq, 0u);
  ExpectPeerNotBlamed(1);

  // The fault clears; keiretsud's disk watch refreshes the store every
  // second, and the node catches up by itself.
  faults->Clear();
  ASSERT_TRUE(WaitFor([&] {
    (void)ledger->RefreshStorage();
    return ledger->StateDigest() == peer.ledger().StateDigest();
  }));
  EXPECT_EQ(ledger->Feed(net.pk(1)).head_seq, 20u);
  ExpectPeerNotBlamed(1);
  testing::ExpectLedgerMatchesStore(*ledger);
  // And it writes again itself.
  ASSERT_TRUE(ledger->Append(net.key(0), Owe(net.pk(1), 2), 1).ok());
}

}  // namespace
}  // namespace keiretsu::net
