// Checkpoints of a protocol-v2 node (docs/PROTOCOL.md 15.2): after an
// admission and after a key rotation, the real API server's GetCheckpoint
// and sealed Export verify against the ledger's own epoch and key chains,
// the auditor accepts the sealed export, and refuses it once tampered.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>

#include "audit_fixture.h"
#include "gov_network.h"
#include "keiretsu/api/server.h"
#include "keiretsu/v1/api.grpc.pb.h"

namespace keiretsu::audit {
namespace {

using testing::GovFirm;
using testing::GovLedgerKey;

constexpr char kAuditorToken[] = "auditor-token-0123456789";

protocol::Body Owe(const PublicKey& creditor, uint64_t amount) {
  return protocol::Obligation{creditor, amount, "hours", ""};
}

class LiveV2Test : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server) server->Shutdown(std::chrono::milliseconds(0));
  }
  // Serves the ledger signing with key number `key_index` (GovLedgerKey).
  void Start(uint32_t key_index) {
    node_key.emplace(GovLedgerKey(key_index));
    api::ApiServerOptions o;
    o.listen = "127.0.0.1:0";
    o.tokens = {{kAuditorToken, api::Role::kAuditor, std::nullopt, "auditor"}};
    o.now_unix_ms = [] { return uint64_t{1'790'000'777'000}; };
    auto s = api::ApiServer::Start(*ledger, *node_key, hub, nullptr, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server = std::move(s).value();
  }
  crypto::SigningKey KeyOf(const GovFirm& f) const { return GovLedgerKey(f.key_index); }
  GovFirm& F(int i) { return net.founders[static_cast<size_t>(i)]; }
  void Append(const crypto::SigningKey& key, protocol::Body body) {
    auto r = ledger->Append(key, std::move(body), 1'790'000'100'000 + ++clock);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // Founder 0 proposes admitting the newcomer; founders 0-2 vote: epoch 1.
  void Admit() {
    const Digest h0 = protocol::GenesisEpochHash(net.id());
    auto p = ledger->Append(
        KeyOf(F(0)),
        protocol::Propose{
            h0, 0, 3, protocol::AdmitAction{newcomer.name, newcomer.id, newcomer.inception_next()},
            "welcome"},
        1'790'000'100'000 + ++clock);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (int i = 0; i < 3; ++i) Append(KeyOf(F(i)), protocol::Vote{h0, 0, p->id});
    ASSERT_EQ(ledger->Governance().epoch, 1u);
  }
  grpc::Status GetCheckpoint(v1::Checkpoint* cp) {
    auto stub = v1::Ledger::NewStub(
        grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kAuditorToken);
    return stub->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), cp);
  }
  // The node's sealed Export stream, framed as the export file format, each
  // chunk passed through `edit` first.
  std::string SealedExport(const std::function<void(v1::ExportChunk&)>& edit = {}) {
    auto stub = v1::Ledger::NewStub(
        grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kAuditorToken);
    v1::ExportRequest req;
    req.set_include_checkpoint(true);
    auto reader = stub->Export(&ctx, req);
    std::string out;
    v1::ExportChunk chunk;
    while (reader->Read(&chunk)) {
      if (chunk.has_header()) exported_by = chunk.header().exported_by();
      if (edit) edit(chunk);
      std::string body = chunk.SerializeAsString();
      uint32_t n = static_cast<uint32_t>(body.size());
      for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((n >> shift) & 0xff));
      out += body;
    }
    grpc::Status st = reader->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }
  // Verifies `cp` as any verifier holding this ledger's chains would.
  Result<protocol::Checkpoint> Verify(const v1::Checkpoint& cp) {
    if (cp.signer().size() != 32) return InvalidArgument("signer is not 32 bytes");
    PublicKey signer;
    std::copy(cp.signer().begin(), cp.signer().end(), signer.bytes.begin());
    const std::vector<protocol::Epoch> epochs = ledger->Epochs();
    return protocol::VerifyCheckpointV2(
        AsBytes(cp.statement()), signer, AsBytes(cp.signature()), net.genesis, epochs,
        [this](const PublicKey& firm) { return ledger->KeyChain(firm); });
  }
  // The node's checkpoint verifies as version 2, by `firm`, under the
  // ledger's current epoch and digest.
  void ExpectVerifiedV2(const PublicKey& firm) {
    v1::Checkpoint cp;
    grpc::Status s = GetCheckpoint(&cp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    auto c = Verify(cp);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->version, protocol::kCheckpointVersionV2);
    EXPECT_EQ(c->signer, firm);
    EXPECT_EQ(c->epoch, ledger->Governance().epoch);
    EXPECT_EQ(c->epoch_hash, ledger->Governance().epoch_hash);
    EXPECT_EQ(c->state_digest, ledger->StateDigest());
    EXPECT_EQ(c->time_ms, 1'790'000'777'000u);
  }
  void ExpectSealedExportAudits() {
    Report r = testing::AuditString(SealedExport());
    EXPECT_EQ(r.exit_code(), kExitVerified) << testing::Dump(r);
    EXPECT_TRUE(r.sealed) << testing::Dump(r);
    EXPECT_EQ(r.state_digest, ledger->StateDigest());
    ASSERT_EQ(r.checkpoints.size(), 1u);
    EXPECT_TRUE(r.checkpoints[0].verified);
    EXPECT_TRUE(r.checkpoints[0].seal);
  }

  testing::GovNet net = testing::MakeGovNet(4, 3);
  GovFirm newcomer = GovFirm::Of("newcomer", 20, 120);
  testing::TempDir dir;
  std::unique_ptr<node::Ledger> ledger = testing::OpenGovLedger(net, dir.Sub("db"));
  std::shared_ptr<api::WatchHub> hub = std::make_shared<api::WatchHub>();
  std::optional<crypto::SigningKey> node_key;
  std::unique_ptr<api::ApiServer> server;
  uint64_t clock = 0;
  std::string exported_by;  // the last SealedExport's header field
};

TEST_F(LiveV2Test, AfterAnAdmissionCheckpointAndSealVerify) {
  Append(KeyOf(F(1)), Owe(F(0).id, 40));
  Admit();
  Append(GovLedgerKey(newcomer.key_index), Owe(F(2).id, 9));
  Start(F(0).key_index);
  ExpectVerifiedV2(F(0).id);
  ExpectSealedExportAudits();
}

TEST_F(LiveV2Test, AnAdmittedFirmsNodeSignsToo) {
  Admit();
  Append(GovLedgerKey(newcomer.key_index), Owe(F(2).id, 9));
  Start(newcomer.key_index);
  ExpectVerifiedV2(newcomer.id);
}

TEST_F(LiveV2Test, AfterARotationCheckpointAndSealVerify) {
  Append(KeyOf(F(0)), Owe(F(1).id, 4));
  crypto::SigningKey next = GovLedgerKey(F(0).next_index);
  auto rot = ledger->AppendRotation(F(0).id, next, testing::DigestOfKey(300), 1'790'000'200'000);
  ASSERT_TRUE(rot.ok()) << rot.status().ToString();
  Append(next, Owe(F(1).id, 5));
  ASSERT_EQ(ledger->Governance().epoch, 0u);  // version 2 by the rotation alone
  Start(F(0).next_index);
  ExpectVerifiedV2(F(0).id);
  ExpectSealedExportAudits();
  EXPECT_EQ(exported_by, F(0).id.Hex()) << "the header names the firm, as its seal does";
}

TEST_F(LiveV2Test, ANodeStillHoldingItsRetiredKeyCannotSign) {
  crypto::SigningKey next = GovLedgerKey(F(0).next_index);
  ASSERT_TRUE(
      ledger->AppendRotation(F(0).id, next, testing::DigestOfKey(300), 1'790'000'200'000).ok());
  Start(F(0).key_index);
  v1::Checkpoint cp;
  grpc::Status s = GetCheckpoint(&cp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("key in force"), std::string::npos) << s.error_message();
}

TEST_F(LiveV2Test, ATamperedSealIsRefused) {
  Admit();
  Start(F(0).key_index);
  // One byte of the seal's epoch hash (statement offset 100) changed.
  std::string data = SealedExport([](v1::ExportChunk& c) {
    if (c.has_checkpoint()) (*c.mutable_checkpoint()->mutable_statement())[100] ^= 0x01;
  });
  Report r = testing::AuditString(data);
  EXPECT_EQ(r.exit_code(), kExitFailed) << testing::Dump(r);
  EXPECT_TRUE(testing::HasKind(r, "bad-checkpoint")) << testing::Dump(r);
  EXPECT_FALSE(r.sealed);
}

}  // namespace
}  // namespace keiretsu::audit
