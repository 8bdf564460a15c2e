// keiretsud on a version-2 network. Key rotation (docs/API.md "Rotation"):
// after a Rotate the key file holds the new key and the firm is named by
// firm_id; a rotation interrupted between its commit and the key file's
// rename is finished at the next start; a staged key of a rotation never
// committed is dropped; a retired key is refused. Firms admitted since the
// genesis: partner tokens and peers may name them once the data directory's
// ledger knows them.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>

#include "firm_dir.h"
#include "gov_network.h"
#include "keiretsu/daemon/daemon.h"
#include "keiretsu/v1/api.grpc.pb.h"

namespace keiretsu::daemon {
namespace {

using testing::DigestOfKey;
using testing::GovLedgerKey;

std::string SeedHex(const crypto::SigningKey& k) {
  std::string hex(2 * crypto::kSeedSize + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), k.seed().data(), crypto::kSeedSize);
  hex.pop_back();
  return hex;
}

class DaemonRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(dir.Sub("genesis.toml"), net.genesis.ToToml());
    ASSERT_TRUE(crypto::WriteKeyFile(key_file(), GovLedgerKey(1)).ok());
    WriteConfig("");
  }
  // The config of founder 1 (key 1, next key 101), with `firm_line`.
  void WriteConfig(const std::string& firm_line) {
    WriteText(dir.Sub("keiretsud.toml"),
              std::string("data_dir = \"data\"\nkey_file = \"firm.key\"\n"
                          "genesis_file = \"genesis.toml\"\n") +
                  firm_line +
                  "[log]\nlevel = \"debug\"\n[api]\nlisten = \"127.0.0.1:0\"\n"
                  "[[api.tokens]]\ntoken = \"" +
                  kOperatorToken + "\"\nrole = \"operator\"\n");
  }
  void NameTheFirm() { WriteConfig("firm_id = \"" + firm().Hex() + "\"\n"); }
  Result<std::unique_ptr<Daemon>> Start() {
    KEIRETSU_ASSIGN_OR_RETURN(Config c, LoadConfig(dir.Sub("keiretsud.toml")));
    return Daemon::Start(c, "test");
  }
  std::string key_file() const { return dir.Sub("firm.key"); }
  PublicKey firm() const { return net.founders[0].id; }
  static std::unique_ptr<v1::Ledger::Stub> Stub(const Daemon& d) {
    return v1::Ledger::NewStub(
        grpc::CreateChannel(d.api_address(), grpc::InsecureChannelCredentials()));
  }
  static grpc::Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& f) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kOperatorToken);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return f(&ctx);
  }
  // Writes an obligation through the API and checks its signature is
  // `key`'s and its author the firm.
  void ExpectWritesUnder(Daemon& d, const PublicKey& key) {
    auto stub = Stub(d);
    v1::RecordObligationRequest q;
    q.set_creditor("firm2");
    q.set_amount(3);
    q.set_unit("hours");
    v1::WriteResponse r;
    grpc::Status s = Call([&](auto* c) { return stub->RecordObligation(c, q, &r); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(r.entry().author(), firm().Hex());
    const std::string& rec = r.entry().record();
    ASSERT_GT(rec.size(), 64u);
    ByteView content(reinterpret_cast<const uint8_t*>(rec.data()), rec.size() - 64);
    crypto::Signature sig;
    std::copy(rec.end() - 64, rec.end(), sig.begin());
    EXPECT_TRUE(crypto::Verify(key, protocol::SigningMessage(content), sig));
  }
  // Commits firm 1's rotation to key 101 straight into the data directory,
  // as a Rotate call does before it renames the key file.
  void CommitRotationOffline() {
    auto ledger = testing::OpenGovLedger(net, dir.Sub("data"));
    auto se =
        ledger->AppendRotation(firm(), GovLedgerKey(101), DigestOfKey(201), 1'790'000'200'000);
    ASSERT_TRUE(se.ok()) << se.status().ToString();
  }
  void StartAndStopOnce() {
    auto d = Start();
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    (*d)->Stop(std::chrono::seconds(1));
  }
  PublicKey KeyFileKey() const {
    auto k = crypto::ReadKeyFile(key_file());
    if (!k.ok()) throw std::runtime_error(k.status().ToString());
    return k->public_key();
  }

  // Admits firm4 (key 4, next key 104) into the data directory's ledger:
  // proposed and voted by founders 2 and 3 (threshold 2 of 3).
  void AdmitFirm4Offline() {
    auto ledger = testing::OpenGovLedger(net, dir.Sub("data"));
    const testing::GovFirm firm4 = testing::GovFirm::Of("firm4", 4, 104);
    const Digest h0 = protocol::GenesisEpochHash(net.id());
    auto prop = testing::SignAs(
        net, net.founders[1],
        protocol::Propose{h0, 0, 3,
                          protocol::AdmitAction{firm4.name, firm4.id, firm4.inception_next()}, ""});
    std::vector<Bytes> records{prop.record};
    records.push_back(testing::SignAs(net, net.founders[1], protocol::Vote{h0, 0, prop.id}).record);
    records.push_back(testing::SignAs(net, net.founders[2], protocol::Vote{h0, 0, prop.id}).record);
    ledger->Ingest(records, true);
    ASSERT_TRUE(ledger->IsActiveMember(firm4.id));
  }
  // The config with a partner token for `partner` and `partner` as a peer.
  void WriteConfigNaming(const std::string& partner) {
    WriteConfig("");
    std::ofstream(dir.Sub("keiretsud.toml"), std::ios::app)
        << "[[api.tokens]]\ntoken = \"partner-token-0123456789\"\nrole = \"partner\"\nfirm = \""
        << partner << "\"\n[peer]\n[[peer.peers]]\nfirm = \"" << partner
        << "\"\naddress = \"127.0.0.1:9\"\n";
  }

  testing::GovNet net = testing::MakeGovNet(3, 2);
  testing::TempDir dir;
};

TEST_F(DaemonRotationTest, TokensAndPeersMayNameAFirmAdmittedSinceTheGenesis) {
  AdmitFirm4Offline();
  WriteConfigNaming("Firm4");  // names match in any case, as founders' do
  auto d = Start();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto stub = Stub(**d);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer partner-token-0123456789");
  v1::GetBalanceRequest q;
  q.set_firm("firm2");
  q.set_counterparty("firm3");
  q.set_unit("hours");
  v1::Balance r;
  const grpc::Status s = stub->GetBalance(&ctx, q, &r);
  // The partner token is firm4's: it may not read a balance between others.
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_NE(s.error_message().find("firm4"), std::string::npos) << s.error_message();
  (*d)->Stop(std::chrono::seconds(1));
}

TEST_F(DaemonRotationTest, ANewDataDirectoryKnowsTheFoundersOnlyAndIsNotCreated) {
  WriteConfigNaming("firm4");
  auto d = Start();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kInvalidArgument) << d.status().ToString();
  EXPECT_NE(d.status().message().find("unknown firm 'firm4'"), std::string::npos)
      << d.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("data")));
}

TEST_F(DaemonRotationTest, AFirmNoLedgerKnowsIsRefused) {
  AdmitFirm4Offline();
  WriteConfigNaming("kobe");
  auto d = Start();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kInvalidArgument) << d.status().ToString();
  EXPECT_NE(d.status().message().find("unknown firm 'kobe'"), std::string::npos)
      << d.status().ToString();
}

TEST_F(DaemonRotationTest, RotateThroughTheApiThenRestartWithTheFirmId) {
  {
    auto d = Start();
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ((*d)->firm(), firm());
    auto stub = Stub(**d);
    v1::RotateRequest q;
    q.set_next_secret_key(SeedHex(GovLedgerKey(101)));
    q.set_next_key_digest(DigestOfKey(201).Hex());
    v1::WriteResponse r;
    grpc::Status s = Call([&](auto* c) { return stub->Rotate(c, q, &r); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ((*d)->identity().public_key(), GovLedgerKey(101).public_key());
    ExpectWritesUnder(**d, GovLedgerKey(101).public_key());
    (*d)->Stop(std::chrono::seconds(1));
  }
  EXPECT_EQ(KeyFileKey(), GovLedgerKey(101).public_key());
  EXPECT_FALSE(std::filesystem::exists(crypto::StagedKeyPath(key_file())));
  NameTheFirm();
  auto d = Start();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->firm(), firm());
  EXPECT_EQ((*d)->identity().public_key(), GovLedgerKey(101).public_key());
  ExpectWritesUnder(**d, GovLedgerKey(101).public_key());
}

TEST_F(DaemonRotationTest, WithoutFirmIdTheFirmIsTheOneTheLedgerHoldsTheKeyInForceFor) {
  StartAndStopOnce();
  CommitRotationOffline();
  ASSERT_TRUE(crypto::StageKeyFile(key_file(), GovLedgerKey(101)).ok());
  ASSERT_TRUE(crypto::PromoteStagedKeyFile(key_file()).ok());
  auto d = Start();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->firm(), firm());
  EXPECT_EQ((*d)->identity().public_key(), GovLedgerKey(101).public_key());
  ExpectWritesUnder(**d, GovLedgerKey(101).public_key());
}

TEST_F(DaemonRotationTest, ARotatedKeyNeitherGenesisNorLedgerKnowsNeedsFirmId) {
  // A fresh data directory: the ledger has not learnt the rotation yet.
  ASSERT_TRUE(crypto::StageKeyFile(key_file(), GovLedgerKey(101)).ok());
  ASSERT_TRUE(crypto::PromoteStagedKeyFile(key_file()).ok());
  auto d = Start();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kFailedPrecondition) << d.status().ToString();
  EXPECT_NE(d.status().message().find("firm_id"), std::string::npos) << d.status().ToString();
  // Named by firm_id, it starts and signs with the key file's key.
  NameTheFirm();
  auto named = Start();
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ((*named)->firm(), firm());
  EXPECT_EQ((*named)->identity().public_key(), GovLedgerKey(101).public_key());
}

TEST_F(DaemonRotationTest, AnInterruptedRotationIsFinishedAtStart) {
  NameTheFirm();
  StartAndStopOnce();
  // Rotate's steps 1 and 2 (stage the key, commit the entry), not step 3.
  ASSERT_TRUE(crypto::StageKeyFile(key_file(), GovLedgerKey(101)).ok());
  CommitRotationOffline();
  ASSERT_EQ(KeyFileKey(), GovLedgerKey(1).public_key());
  auto d = Start();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->identity().public_key(), GovLedgerKey(101).public_key());
  EXPECT_EQ(KeyFileKey(), GovLedgerKey(101).public_key());
  EXPECT_FALSE(std::filesystem::exists(crypto::StagedKeyPath(key_file())));
  ExpectWritesUnder(**d, GovLedgerKey(101).public_key());
}

TEST_F(DaemonRotationTest, AStagedKeyOfARotationNeverCommittedIsDropped) {
  NameTheFirm();
  StartAndStopOnce();
  // Step 1 only: the append never happened.
  ASSERT_TRUE(crypto::StageKeyFile(key_file(), GovLedgerKey(101)).ok());
  auto d = Start();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->identity().public_key(), GovLedgerKey(1).public_key());
  EXPECT_EQ(KeyFileKey(), GovLedgerKey(1).public_key());
  EXPECT_FALSE(std::filesystem::exists(crypto::StagedKeyPath(key_file())));
  ExpectWritesUnder(**d, GovLedgerKey(1).public_key());
}

TEST_F(DaemonRotationTest, ARetiredKeyIsRefused) {
  NameTheFirm();
  StartAndStopOnce();
  CommitRotationOffline();  // the key file still holds key 1, nothing staged
  auto d = Start();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kFailedPrecondition) << d.status().ToString();
  EXPECT_NE(d.status().message().find("retired"), std::string::npos) << d.status().ToString();
}

TEST_F(DaemonRotationTest, AFirmIdThatIsNotTheKeysFirmIsRefused) {
  WriteConfig("firm_id = \"" + net.founders[1].id.Hex() + "\"\n");
  auto d = Start();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kFailedPrecondition) << d.status().ToString();
  EXPECT_NE(d.status().message().find("not of this firm"), std::string::npos)
      << d.status().ToString();
}

}  // namespace
}  // namespace keiretsu::daemon
