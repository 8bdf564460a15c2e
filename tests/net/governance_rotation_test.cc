// A rotation takes effect in the replicator without a restart
// (node/identity.h): node A's firm rotates while A runs; a peer that learnt
// the rotation (so it refuses A's retired key) reconnects, and A's
// handshake, with the key now in force, is accepted. A's own feed stays its
// firm id, and its entries signed by the new key reach the peer.
#include <gtest/gtest.h>

#include "gov_network.h"
#include "net_support.h"

namespace keiretsu::net {
namespace {

using testing::DigestOfKey;
using testing::GovLedgerKey;

TEST(GovernanceRotation, APeerHandshakeAfterARotationUsesTheNewKeyWithoutARestart) {
  testing::GovNet net = testing::MakeGovNet(3, 2);
  testing::TempDir dir;
  const PublicKey firm_a = net.founders[0].id, firm_b = net.founders[1].id;
  auto ledger_a = testing::OpenGovLedger(net, dir.Sub("a"));
  auto identity = std::make_shared<node::Identity>(GovLedgerKey(1));
  auto oa = testing::FastOptions();
  oa.require_peer_before_write = false;
  auto rep_a = Replicator::Create(*ledger_a, identity, oa);
  ASSERT_TRUE(rep_a.ok()) << rep_a.status().ToString();
  Replicator* a = rep_a->get();
  ledger_a->SetListener([a](const std::vector<node::AppliedEntry>& x) { a->OnApplied(x); });
  ASSERT_TRUE(a->Start().ok());
  const PeerConfig a_peer{firm_a, "127.0.0.1:" + std::to_string(a->port())};

  crypto::SigningKey key_b = GovLedgerKey(2);
  std::unique_ptr<node::Ledger> ledger_b;
  std::unique_ptr<Replicator> b;
  auto start_b = [&] {
    ledger_b = testing::OpenGovLedger(net, dir.Sub("b"));
    auto ob = testing::FastOptions();
    ob.peers = {a_peer};
    ob.require_peer_before_write = false;
    auto r = Replicator::Create(*ledger_b, key_b, ob);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    b = std::move(r).value();
    Replicator* bp = b.get();
    ledger_b->SetListener([bp](const std::vector<node::AppliedEntry>& x) { bp->OnApplied(x); });
    ASSERT_TRUE(b->Start().ok());
  };
  auto connected = [&] {
    for (const PeerStatus& p : b->Peers())
      if (p.firm == firm_a && p.connected) return true;
    return false;
  };
  start_b();
  ASSERT_TRUE(testing::WaitFor(connected));

  // A's firm rotates while A runs, and A adopts the new key in process.
  auto rot =
      ledger_a->AppendRotation(firm_a, GovLedgerKey(101), DigestOfKey(201), 1'790'000'000'000);
  ASSERT_TRUE(rot.ok()) << rot.status().ToString();
  identity->Adopt(std::make_shared<const crypto::SigningKey>(GovLedgerKey(101)));
  // B learns the rotation: from now on it refuses A's retired key.
  ASSERT_TRUE(testing::WaitFor([&] { return ledger_b->KeyChain(firm_a).size() == 2; }));
  ASSERT_FALSE(ledger_b->FirmOfKey(GovLedgerKey(1).public_key()).has_value());

  // B restarts: a new session, in which A answers with the new key.
  b->Stop();
  b.reset();
  ledger_b.reset();
  start_b();
  ASSERT_TRUE(testing::WaitFor(connected)) << [&] {
    for (const PeerStatus& p : b->Peers()) return p.last_error;
    return std::string();
  }();
  // A's feed is still its firm id: an entry signed by the new key flows.
  auto owe = ledger_a->Append(*identity->key(), protocol::Obligation{firm_b, 4, "hours", ""},
                              1'790'000'000'001);
  ASSERT_TRUE(owe.ok()) << owe.status().ToString();
  EXPECT_EQ(owe->entry.author, firm_a);
  EXPECT_TRUE(testing::WaitFor([&] { return ledger_b->Feed(firm_a).head_seq == 2; }));
  b->Stop();
  a->Stop();
}

// A session authenticated under a key that is then rotated away ends: the
// peer that learns the rotation closes it, dials again, and the new session
// is authenticated under the key now in force. Without the check, whoever
// held the retired key kept the session for as long as it lasted.
TEST(GovernanceRotation, ASessionUnderARetiredKeyEndsAndTheFirmReconnectsUnderItsNewKey) {
  testing::GovNet net = testing::MakeGovNet(3, 2);
  testing::TempDir dir;
  const PublicKey firm_a = net.founders[0].id;
  auto ledger_a = testing::OpenGovLedger(net, dir.Sub("a"));
  auto identity = std::make_shared<node::Identity>(GovLedgerKey(1));
  auto oa = testing::FastOptions();
  oa.require_peer_before_write = false;
  auto rep_a = Replicator::Create(*ledger_a, identity, oa);
  ASSERT_TRUE(rep_a.ok()) << rep_a.status().ToString();
  Replicator* a = rep_a->get();
  ledger_a->SetListener([a](const std::vector<node::AppliedEntry>& x) { a->OnApplied(x); });
  ASSERT_TRUE(a->Start().ok());

  auto ledger_b = testing::OpenGovLedger(net, dir.Sub("b"));
  auto ob = testing::FastOptions();
  ob.peers = {PeerConfig{firm_a, "127.0.0.1:" + std::to_string(a->port())}};
  ob.require_peer_before_write = false;
  const crypto::SigningKey key_b = GovLedgerKey(2);  // the replicator keeps a reference
  auto rep_b = Replicator::Create(*ledger_b, key_b, ob);
  ASSERT_TRUE(rep_b.ok()) << rep_b.status().ToString();
  Replicator* b = rep_b->get();
  ledger_b->SetListener([b](const std::vector<node::AppliedEntry>& x) { b->OnApplied(x); });
  ASSERT_TRUE(b->Start().ok());
  auto a_seen_by_b = [&]() -> std::optional<PeerStatus> {
    for (const PeerStatus& p : b->Peers())
      if (p.firm == firm_a) return p;
    return std::nullopt;
  };
  ASSERT_TRUE(testing::WaitFor([&] {
    auto p = a_seen_by_b();
    return p && p->connected;
  }));

  // A's firm rotates; the rotate record reaches B over the session that A
  // authenticated with its old key. B then ends that session.
  auto rot =
      ledger_a->AppendRotation(firm_a, GovLedgerKey(101), DigestOfKey(201), 1'790'000'000'000);
  ASSERT_TRUE(rot.ok()) << rot.status().ToString();
  identity->Adopt(std::make_shared<const crypto::SigningKey>(GovLedgerKey(101)));
  ASSERT_TRUE(testing::WaitFor([&] {
    auto p = a_seen_by_b();
    return p && p->last_error.find("rotated its key") != std::string::npos;
  })) << a_seen_by_b()->last_error;
  // B dials again; A proves the key now in force, and entries flow.
  ASSERT_TRUE(testing::WaitFor([&] {
    auto p = a_seen_by_b();
    return p && p->connected;
  }));
  auto owe =
      ledger_a->Append(*identity->key(), protocol::Obligation{net.founders[1].id, 4, "hours", ""},
                       1'790'000'000'001);
  ASSERT_TRUE(owe.ok()) << owe.status().ToString();
  EXPECT_TRUE(testing::WaitFor([&] { return ledger_b->Feed(firm_a).head_seq == 2; }));
  b->Stop();
  a->Stop();
}

}  // namespace
}  // namespace keiretsu::net
