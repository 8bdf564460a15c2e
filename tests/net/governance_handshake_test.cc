// The peer handshake and sync under protocol v2 governance (PROTOCOL.md
// 13.2 §3, 19): peers authenticate against the current membership and key
// chains, a rotated firm proves its new key to a peer that has not seen the
// rotation, a removed member and a forged chain are refused, an admitted
// member is accepted, and a peer is never sent a kind it does not speak.
#include <gtest/gtest.h>

#include "gov_network.h"
#include "keiretsu/net/peer_handshake.h"
#include "node/net/src/ledger_directory.h"
#include "node/net/src/peer_model.h"
#include "temp_dir.h"

namespace keiretsu::net {
namespace {

using protocol::Propose;
using protocol::Vote;
using testing::GovFirm;
using testing::GovLedgerKey;
using testing::SignAs;

class GovernanceHandshakeTest : public ::testing::Test {
 protected:
  testing::GovNet net = testing::MakeGovNet(4, 3);
  testing::TempDir dir;
  std::unique_ptr<node::Ledger> here = testing::OpenGovLedger(net, dir.Sub("here"));
  std::unique_ptr<node::Ledger> there = testing::OpenGovLedger(net, dir.Sub("there"));
  GovFirm& F(int i) { return net.founders[static_cast<size_t>(i)]; }
  Digest H0() const { return protocol::GenesisEpochHash(net.id()); }

  static Status Run(PeerHandshake& i, PeerHandshake& r) {
    auto m1 = i.Start();
    if (!m1.ok()) return m1.status();
    auto m2 = r.Receive(*m1);
    if (!m2.ok()) return m2.status();
    auto m3 = i.Receive(**m2);
    if (!m3.ok()) return m3.status();
    auto done = r.Receive(**m3);
    return done.status();
  }
  // Firm 1 rotates; only `there` (its own node) applies it.
  crypto::SigningKey RotateFirm1() {
    auto rot = testing::RotateFirm(net, F(1), 300);
    auto r = there->Ingest(std::vector<Bytes>{rot.record}, false);
    EXPECT_EQ(r[0].outcome, node::Outcome::kApplied) << r[0].status.ToString();
    return GovLedgerKey(F(1).key_index);
  }
  void Pass(node::Ledger& l, const Propose& p, GovFirm& proposer, std::vector<int> voters) {
    auto prop = SignAs(net, proposer, p);
    std::vector<Bytes> recs{prop.record};
    for (int v : voters) recs.push_back(SignAs(net, F(v), Vote{p.epoch_hash, 0, prop.id}).record);
    for (const auto& r : l.Ingest(recs, false))
      EXPECT_NE(r.outcome, node::Outcome::kRejected) << r.status.ToString();
  }
};

TEST_F(GovernanceHandshakeTest, ARotatedFirmAuthenticatesToAPeerThatHasNotSeenTheRotation) {
  crypto::SigningKey k1 = RotateFirm1();
  crypto::SigningKey k0 = GovLedgerKey(F(0).key_index);
  LedgerDirectory dir_here(*here, k0.public_key()), dir_there(*there, k1.public_key());
  ASSERT_EQ(dir_there.OwnChain().size(), 1u);
  {  // the rotated firm dials: its chain travels in message 3
    auto i = PeerHandshake::Initiator(net.genesis, k1, F(0).id).value();
    auto r = PeerHandshake::Responder(net.genesis, k0).value();
    i.SetDirectory(&dir_there);
    r.SetDirectory(&dir_here);
    Status s = Run(i, r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(r.remote(), F(1).id);
    EXPECT_EQ(i.remote(), F(0).id);
  }
  {  // it is dialled: its chain travels in message 2
    auto i = PeerHandshake::Initiator(net.genesis, k0, F(1).id).value();
    auto r = PeerHandshake::Responder(net.genesis, k1).value();
    i.SetDirectory(&dir_here);
    r.SetDirectory(&dir_there);
    Status s = Run(i, r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(i.remote(), F(1).id);
  }
}

TEST_F(GovernanceHandshakeTest, ANewKeyWithoutItsChainIsRefused) {
  crypto::SigningKey k1 = RotateFirm1();
  crypto::SigningKey k0 = GovLedgerKey(F(0).key_index);
  LedgerDirectory dir_here(*here, k0.public_key());
  auto i = PeerHandshake::Initiator(net.genesis, k1, F(0).id).value();  // sends no chain
  auto r = PeerHandshake::Responder(net.genesis, k0).value();
  r.SetDirectory(&dir_here);
  Status s = Run(i, r);
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("not the key in force"), std::string::npos) << s.ToString();
}

// A directory that sends a forged chain: a rotate signed by a key the firm
// never committed to.
class ForgedChain final : public PeerDirectory {
 public:
  explicit ForgedChain(Bytes record) : record_(std::move(record)) {}
  Result<PublicKey> FirmOf(const PublicKey& key, const std::vector<Bytes>&) const override {
    return key;
  }
  std::vector<Bytes> OwnChain() const override { return {record_}; }

 private:
  Bytes record_;
};

TEST_F(GovernanceHandshakeTest, AForgedKeyChainIsRefused) {
  crypto::SigningKey thief = GovLedgerKey(666);
  GovFirm copy = F(1);
  auto forged =
      SignAs(net, copy, protocol::Rotate{thief.public_key(), testing::DigestOfKey(667)}, &thief);
  ForgedChain dir_thief(forged.record);
  crypto::SigningKey k0 = GovLedgerKey(F(0).key_index);
  LedgerDirectory dir_here(*here, k0.public_key());
  auto i = PeerHandshake::Initiator(net.genesis, thief, F(0).id).value();
  auto r = PeerHandshake::Responder(net.genesis, k0).value();
  i.SetDirectory(&dir_thief);
  r.SetDirectory(&dir_here);
  Status s = Run(i, r);
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("not signed by the keys its firm committed to"), std::string::npos)
      << s.ToString();
}

TEST_F(GovernanceHandshakeTest, ARemovedMemberIsRefused) {
  Pass(*here, Propose{H0(), 0, 2, protocol::RemoveAction{F(3).id, 0}, ""}, F(0), {0, 1, 2});
  ASSERT_FALSE(here->IsActiveMember(F(3).id));
  crypto::SigningKey k0 = GovLedgerKey(F(0).key_index);
  crypto::SigningKey k3 = GovLedgerKey(F(3).key_index);
  LedgerDirectory dir_here(*here, k0.public_key());
  auto i = PeerHandshake::Initiator(net.genesis, k3, F(0).id).value();
  auto r = PeerHandshake::Responder(net.genesis, k0).value();
  r.SetDirectory(&dir_here);
  Status s = Run(i, r);
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("not an active member"), std::string::npos) << s.ToString();
}

TEST_F(GovernanceHandshakeTest, AnAdmittedMemberIsAccepted) {
  GovFirm newcomer = GovFirm::Of("newcomer", 20, 120);
  crypto::SigningKey kn = GovLedgerKey(20);
  crypto::SigningKey k0 = GovLedgerKey(F(0).key_index);
  LedgerDirectory dir_here(*here, k0.public_key());
  auto attempt = [&] {
    auto i = PeerHandshake::Initiator(net.genesis, kn, F(0).id).value();
    auto r = PeerHandshake::Responder(net.genesis, k0).value();
    r.SetDirectory(&dir_here);
    Status s = Run(i, r);
    return std::make_pair(s, s.ok() ? r.remote() : PublicKey{});
  };
  EXPECT_EQ(attempt().first.code(), Code::kPermissionDenied);  // not admitted yet
  Pass(*here,
       Propose{H0(), 0, 3,
               protocol::AdmitAction{newcomer.name, newcomer.id, newcomer.inception_next()}, ""},
       F(0), {0, 1, 2});
  auto [s, remote] = attempt();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(remote, newcomer.id);
}

TEST(KeyChainBytes, RoundTripAndEveryBadForm) {
  std::vector<Bytes> recs{Bytes(242, 7), Bytes(10, 1)};
  Bytes enc = EncodeKeyChain(recs);
  ASSERT_EQ(enc.size(), 1u + 2 + 242 + 2 + 10);
  EXPECT_EQ(enc[0], 2);
  EXPECT_EQ(DecodeKeyChain(enc).value(), recs);
  EXPECT_NE(DecodeKeyChain(Bytes{0}).status().message().find("0 records"), std::string::npos);
  EXPECT_NE(DecodeKeyChain(Bytes{9}).status().message().find("9 records"), std::string::npos);
  Bytes truncated(enc.begin(), enc.end() - 1);
  EXPECT_NE(DecodeKeyChain(truncated).status().message().find("truncated"), std::string::npos);
  Bytes trailing = enc;
  trailing.push_back(0);
  EXPECT_NE(DecodeKeyChain(trailing).status().message().find("trailing"), std::string::npos);
}

// Serving an older peer: a v1 peer (kinds 1-5) is sent a feed up to, not
// including, its first governance record; a v2 peer gets all of it.
TEST_F(GovernanceHandshakeTest, APeerIsNeverSentAKindItDoesNotSpeak) {
  std::vector<Bytes> recs{SignAs(net, F(0), testing::Owe(F(1).id, 1)).record,
                          SignAs(net, F(0), protocol::Leave{"bye"}).record};
  for (const auto& r : here->Ingest(recs, false))
    ASSERT_EQ(r.outcome, node::Outcome::kApplied) << r.status.ToString();
  const FeedMap ours = here->Feeds();
  auto sent_to = [&](const PeerHello& hello) {
    PeerModel m;
    m.SetPeerKinds(hello.kinds);
    m.OnHave({}, ours);
    auto job = m.PlanRead(ours);
    if (!job) return size_t{0};
    auto b = m.OnRead(*job, RunRead(*here, *job), 1);
    return b ? b->records.size() : size_t{0};
  };
  EXPECT_EQ(sent_to(PeerHello::V1()), 1u);
  EXPECT_EQ(sent_to(PeerHello::Ours()), 2u);
}

}  // namespace
}  // namespace keiretsu::net
