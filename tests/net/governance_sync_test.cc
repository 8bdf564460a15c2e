// A removed member's sessions end (PROTOCOL.md 13.2 §3 "Removal", 19.9):
// two live nodes with a session; once a removal of the second firm passes
// on the first node, the session ends, saying why (its redials are then
// refused at the handshake: governance_handshake_test.cc).
#include <gtest/gtest.h>

#include "keiretsu/protocol/governance.h"
#include "net_support.h"

namespace keiretsu::net {
namespace {

TEST(GovernanceSync, ARemovedMembersSessionEnds) {
  testing::TestNetwork net = testing::MakeNetwork(3);  // epoch 0 threshold: 2 of 3
  testing::TestNode a(net, 0), b(net, 1);
  a.Start();
  auto ob = testing::FastOptions();
  ob.peers = {a.AsPeer()};
  ob.require_peer_before_write = false;
  b.Start(ob);
  ASSERT_TRUE(testing::WaitFor([&] {
    auto p = a.Peer(1);
    return p && p->connected;
  }));
  // Firms 0 and 2 remove firm 1 on a's ledger (firm 2's vote arrives as a
  // record, as from a third node).
  const Digest h0 = protocol::GenesisEpochHash(net.id());
  auto p = a.Append(protocol::Propose{h0, 0, 2, protocol::RemoveAction{net.pk(1), 0}, "gone"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(a.Append(protocol::Vote{h0, 0, p->id}).ok());
  testing::FeedBuilder fb(net);
  protocol::SignedEntry vote2 = fb.Next(2, protocol::Vote{h0, 0, p->id});
  auto r = a.ledger().Ingest(std::vector<Bytes>{vote2.record}, true);
  ASSERT_EQ(r[0].outcome, node::Outcome::kApplied) << r[0].status.ToString();
  ASSERT_FALSE(a.ledger().IsActiveMember(net.pk(1)));
  // The session's end says "no longer an active member"; the removed
  // firm's redials, refused at the handshake, then say "not an active
  // member". Which one the poll sees depends on timing: both say why.
  EXPECT_TRUE(testing::WaitFor([&] {
    auto peer = a.Peer(1);
    return peer && !peer->connected &&
           peer->last_error.find("an active member") != std::string::npos;
  })) << (a.Peer(1) ? a.Peer(1)->last_error : "");
}

}  // namespace
}  // namespace keiretsu::net
