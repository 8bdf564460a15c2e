// The auditor under protocol v2 rules (docs/audit.md "Protocol v2"):
// exports of a version-2 genesis, or of a version-1 genesis with governance
// entries, are audited by the key chains and the epoch chain, and the report
// carries the membership history. Records are built here byte by byte from
// docs/PROTOCOL.md 5.1 and 19.3, independently of the auditor.
#include <gtest/gtest.h>

#include <sstream>

#include "audit_fixture.h"
#include "keiretsu/crypto/hash.h"
#include "keiretsu/protocol/checkpoint.h"
#include "keiretsu/protocol/governance.h"

namespace keiretsu::testing {
namespace {

constexpr uint8_t kTagPropose = static_cast<uint8_t>(protocol::BodyKind::kPropose);
constexpr uint8_t kTagVote = static_cast<uint8_t>(protocol::BodyKind::kVote);
constexpr uint8_t kTagLeave = static_cast<uint8_t>(protocol::BodyKind::kLeave);
constexpr uint8_t kTagRotate = static_cast<uint8_t>(protocol::BodyKind::kRotate);

crypto::SigningKey Key(const std::string& name) {
  Hash32 seed = crypto::Blake2b256(AsBytes("audit-v2/" + name));
  return crypto::SigningKey::FromSeed(seed);
}
PublicKey Pk(const std::string& name) {
  return Key(name).public_key();
}
Digest D(const std::string& name) {
  return protocol::NextKeyDigest(Pk(name));
}

class AuditV2Test : public ::testing::Test {
 protected:
  // Founders f0..f2 with next keys f0-next..., threshold 2 (version 2), or
  // a version-1 genesis of the same keys.
  protocol::Genesis MakeGenesis(int version) {
    protocol::GenesisSpec spec;
    spec.network_name = "audit-v2";
    spec.created_unix = 1'790'000'000;
    spec.version = static_cast<uint8_t>(version);
    spec.threshold = version == 2 ? 2 : 0;
    for (int i = 0; i < 3; ++i) {
      std::string n = "f" + std::to_string(i);
      spec.members.push_back({n, Pk(n), version == 2 ? D(n + "-next") : Digest{}});
    }
    auto g = protocol::Genesis::Create(spec);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return std::move(g).value();
  }
  void Use(int version) {
    genesis_.emplace(MakeGenesis(version));
    h0_ = protocol::GenesisEpochHash(genesis_->network_id());
  }

  struct Head {
    uint64_t seq = 0;
    EntryId id;
  };
  // Appends to `author`'s feed (by key name) a record of `kind` with `body`,
  // signed by `signer` (default: the author).
  Bytes Append(const std::string& author, uint8_t kind, const Bytes& body,
               const std::string& signer = "") {
    Head& h = heads_[author];
    Bytes content;
    ByteWriter w(&content);
    w.U8(1);
    w.Raw(genesis_->network_id().View());
    w.Raw(Pk(author).View());
    w.U64(h.seq + 1);
    w.Raw(h.id.View());
    w.U64(1'790'000'000'000 + records_.size());
    w.U8(kind);
    w.Raw(body);
    auto sig = Key(signer.empty() ? author : signer).Sign(protocol::SigningMessage(content));
    h.seq += 1;
    h.id = EntryId{crypto::Blake2b256(content)};
    Bytes record = content;
    record.insert(record.end(), sig.begin(), sig.end());
    records_.push_back(record);
    return record;
  }
  Bytes Owe(const std::string& author, const std::string& creditor, uint64_t amount,
            const std::string& signer = "") {
    Bytes b;
    ByteWriter w(&b);
    w.Raw(Pk(creditor).View());
    w.U64(amount);
    w.U8(5);
    w.Raw(std::string_view("hours"));
    w.U16(0);
    return Append(author, 4, b, signer);
  }
  template <class T>
  Bytes Gov(const std::string& author, uint8_t kind, const T& body,
            const std::string& signer = "") {
    Bytes b;
    ByteWriter w(&b);
    protocol::KindOps<T>::Encode(body, w);
    return Append(author, kind, b, signer);
  }
  EntryId IdOf(const Bytes& record) { return *protocol::IdOfRecord(record); }
  // f0 proposes to admit "newco" (threshold 2 of 4... k' = 3), f0 and f1 vote.
  EntryId AdmitNewco() {
    Bytes p = Gov("f0", kTagPropose,
                  protocol::Propose{
                      h0_, 0, 3, protocol::AdmitAction{"newco", Pk("newco"), D("newco-next")}, ""});
    protocol::Vote v{h0_, 0, IdOf(p)};
    Gov("f0", kTagVote, v);
    Gov("f1", kTagVote, v);
    return IdOf(p);
  }
  Bytes Rotate(const std::string& author, const std::string& to, const std::string& after,
               const std::string& signer = "") {
    return Gov(author, kTagRotate, protocol::Rotate{Pk(to), D(after)},
               signer.empty() ? to : signer);
  }

  // The export of every record so far, feed by feed in seq order.
  ExportWriter Export() {
    ExportWriter w;
    w.Header(*genesis_, Pk("f0").Hex(), 1'790'009'000'000);
    std::vector<Bytes> sorted = records_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Bytes& a, const Bytes& b) {
      return std::lexicographical_compare(a.begin() + 33, a.begin() + 73, b.begin() + 33,
                                          b.begin() + 73);
    });
    for (const Bytes& r : sorted) w.Entry(r);
    return w;
  }
  audit::Report Audit(const ExportWriter& w, bool allow_unsealed = true) {
    audit::Options o;
    o.allow_unsealed = allow_unsealed;
    o.threads = 1;
    return AuditString(w.data(), o);
  }
  // A version-2 seal (PROTOCOL.md 15.2) over `report`'s feeds, epoch and
  // digest, signed by `key` as `signer`.
  protocol::SignedCheckpoint Seal(const audit::Report& report, const PublicKey& signer,
                                  const crypto::SigningKey& key) {
    protocol::Checkpoint c;
    c.version = protocol::kCheckpointVersionV2;
    EXPECT_TRUE(report.governance.has_value());
    if (report.governance) {
      c.epoch = report.governance->epochs.back().number;
      c.epoch_hash = report.governance->epochs.back().hash;
    }
    c.network = genesis_->network_id();
    c.signer = signer;
    c.time_ms = 1'790'009'000'000;
    c.state_digest = report.state_digest;
    for (const auto& f : report.feeds)
      if (f.effective_seq != 0 || f.stop_seq != 0)
        c.feeds.push_back({f.author, f.effective_seq, f.effective_id, f.stop_seq});
    protocol::SignedCheckpoint out;
    out.statement = protocol::EncodeCheckpointStatement(c);
    out.signer = signer;
    out.signature = key.Sign(protocol::CheckpointSigningMessage(out.statement));
    return out;
  }

  std::optional<protocol::Genesis> genesis_;
  Digest h0_;
  std::map<std::string, Head> heads_;
  std::vector<Bytes> records_;
};

TEST_F(AuditV2Test, AdmissionRotationAndEarlyEntriesAreReported) {
  Use(2);
  Owe("newco", "f1", 7);  // before its admission
  EntryId p = AdmitNewco();
  Owe("f2", "f0", 3);
  Rotate("f2", "f2-next", "f2-next-2");
  Owe("f2", "f0", 4, "f2-next");
  audit::Report r = Audit(Export());
  ASSERT_EQ(r.exit_code(), audit::kExitVerified) << Dump(r);
  EXPECT_EQ(r.protocol_rules, 2);
  ASSERT_TRUE(r.governance);
  const audit::GovernanceReport& g = *r.governance;
  ASSERT_EQ(g.epochs.size(), 2u);
  EXPECT_EQ(g.epochs[0].action, "genesis");
  EXPECT_EQ(g.epochs[1].action, "admit");
  EXPECT_EQ(g.epochs[1].passed, p);
  EXPECT_EQ(g.epochs[1].subject, Pk("newco"));
  EXPECT_EQ(g.epochs[1].threshold, 3);
  EXPECT_EQ(g.epochs[1].active, 4u);
  EXPECT_EQ(g.epochs[1].hash, protocol::NextEpochHash(h0_, p));
  ASSERT_EQ(g.members.size(), 4u);
  for (const auto& m : g.members) {
    if (m.id == Pk("newco")) {
      EXPECT_EQ(m.since_epoch, 1u);
    }
    if (m.id != Pk("f2")) continue;
    ASSERT_EQ(m.keys.size(), 2u);
    EXPECT_EQ(m.keys[1].from_seq, 2u);
    EXPECT_EQ(m.keys[1].key, Pk("f2-next"));
    EXPECT_EQ(m.keys[1].next_key_digest, D("f2-next-2"));
  }
  ASSERT_EQ(g.proposals.size(), 1u);
  EXPECT_EQ(g.proposals[0].state, "passed");
  EXPECT_EQ(r.BalancesOf(Pk("f1")).size(), 1u) << "newco's early entry counts once admitted";
  EXPECT_EQ(r.BalancesOf(Pk("f0")).at(0).net, 7);
  std::string text = Dump(r);
  EXPECT_NE(text.find("admit newco"), std::string::npos) << text;
  EXPECT_NE(text.find("from seq 2 (rotation"), std::string::npos) << text;
  std::ostringstream json;
  audit::WriteJsonReport(r, json);
  EXPECT_NE(json.str().find("\"protocol_rules\": 2, \"governance\": {\"epochs\""),
            std::string::npos);
}

TEST_F(AuditV2Test, ASealSignedByTheExportersRotatedKeyVerifies) {
  Use(2);
  Owe("f0", "f1", 5);
  Rotate("f0", "f0-next", "f0-next-2");
  ExportWriter w = Export();
  audit::Report unsealed = Audit(w);
  w.Checkpoint(Seal(unsealed, Pk("f0"), Key("f0-next")));
  audit::Report r = Audit(w, /*allow_unsealed=*/false);
  EXPECT_EQ(r.exit_code(), audit::kExitVerified) << Dump(r);
  EXPECT_TRUE(r.sealed);
}

TEST_F(AuditV2Test, ACheckpointSignedByNoKeyOfTheSignerIsAProblem) {
  Use(2);
  Owe("f0", "f1", 5);
  ExportWriter w = Export();
  audit::Report unsealed = Audit(w);
  w.Checkpoint(Seal(unsealed, Pk("f0"), Key("f0-next")));  // f0 never rotated
  audit::Report r = Audit(w, /*allow_unsealed=*/false);
  EXPECT_EQ(r.exit_code(), audit::kExitFailed);
  EXPECT_TRUE(HasKind(r, "bad-checkpoint")) << Dump(r);
}

TEST_F(AuditV2Test, ASealWhoseClaimsDifferIsAMismatch) {
  Use(2);
  Owe("f0", "f1", 5);
  Owe("f0", "f1", 6);
  ExportWriter w = Export();
  audit::Report unsealed = Audit(w);
  // Claims f0's feed ends at seq 1: self-consistent (digest of its own
  // claims), well signed, but not what the export holds.
  for (auto& f : unsealed.feeds)
    if (f.author == Pk("f0")) {
      f.effective_seq = 1;
      f.effective_id = IdOf(records_[0]);
    }
  protocol::Checkpoint cp;
  cp.version = 2;
  cp.network = genesis_->network_id();
  cp.signer = Pk("f0");
  cp.time_ms = 1'790'009'000'000;
  cp.epoch = 0;
  cp.epoch_hash = h0_;
  for (const auto& f : unsealed.feeds)
    if (f.effective_seq != 0 || f.stop_seq != 0)
      cp.feeds.push_back({f.author, f.effective_seq, f.effective_id, f.stop_seq});
  cp.state_digest = protocol::StateDigestV2(cp.network, 0, h0_, cp.feeds);
  protocol::SignedCheckpoint seal;
  seal.signer = cp.signer;
  seal.statement = protocol::EncodeCheckpointStatement(cp);
  seal.signature = Key("f0").Sign(protocol::CheckpointSigningMessage(seal.statement));
  w.Checkpoint(seal);
  audit::Report r = Audit(w, /*allow_unsealed=*/false);
  EXPECT_EQ(r.exit_code(), audit::kExitFailed);
  EXPECT_TRUE(HasKind(r, "seal-mismatch")) << Dump(r);
}

TEST_F(AuditV2Test, ASealWithAnotherDigestDoesNotVerify) {
  Use(2);
  Owe("f0", "f1", 5);
  ExportWriter w = Export();
  audit::Report unsealed = Audit(w);
  unsealed.state_digest = Digest{crypto::Blake2b256(AsBytes(std::string("other")))};
  w.Checkpoint(Seal(unsealed, Pk("f0"), Key("f0")));
  audit::Report r = Audit(w, /*allow_unsealed=*/false);
  EXPECT_EQ(r.exit_code(), audit::kExitFailed);
  EXPECT_TRUE(HasKind(r, "bad-checkpoint")) << Dump(r);
  EXPECT_FALSE(r.sealed);
}

TEST_F(AuditV2Test, AnEntrySignedByNoKeyOfTheChainIsAProblem) {
  Use(2);
  Owe("f1", "f0", 1);
  Owe("f1", "f0", 2, "f1-next");  // f1 never rotated: f1-next is not in force
  audit::Report r = Audit(Export());
  EXPECT_EQ(r.exit_code(), audit::kExitFailed);
  EXPECT_TRUE(Names(r, Pk("f1"), 2, "bad-signature")) << Dump(r);
  EXPECT_FALSE(HasKind(r, "missing")) << "only the unattributable record is named";
}

TEST_F(AuditV2Test, ARotationSignedByTheOldKeyEndsTheFeed) {
  Use(2);
  Owe("f1", "f0", 1);
  Rotate("f1", "f1-next", "f1-next-2", /*signer=*/"f1");
  audit::Report r = Audit(Export());
  EXPECT_EQ(r.exit_code(), audit::kExitVerified) << Dump(r);
  EXPECT_TRUE(Names(r, Pk("f1"), 2, "invalid-entry")) << Dump(r);
  for (const auto& f : r.feeds)
    if (f.author == Pk("f1")) {
      EXPECT_EQ(f.stop_seq, 2u);
      EXPECT_EQ(f.status, audit::FeedStatus::kEnded);
    }
}

TEST_F(AuditV2Test, RemovalAndLeavingAreReported) {
  Use(2);
  Owe("f2", "f0", 10);
  Gov("f2", kTagLeave, protocol::Leave{"bye"});
  Bytes p =
      Gov("f0", kTagPropose, protocol::Propose{h0_, 0, 2, protocol::RemoveAction{Pk("f2"), 2}, ""});
  protocol::Vote v{h0_, 0, IdOf(p)};
  Gov("f0", kTagVote, v);
  Gov("f1", kTagVote, v);
  audit::Report r = Audit(Export());
  ASSERT_EQ(r.exit_code(), audit::kExitVerified) << Dump(r);
  ASSERT_TRUE(r.governance);
  ASSERT_EQ(r.governance->epochs.size(), 2u);
  EXPECT_EQ(r.governance->epochs[1].action, "remove");
  EXPECT_EQ(r.governance->epochs[1].last_seq, 2u);
  for (const auto& m : r.governance->members)
    if (m.id == Pk("f2")) {
      EXPECT_TRUE(m.removed);
      EXPECT_EQ(m.left_seq, 2u);
    }
  EXPECT_TRUE(Names(r, Pk("f2"), 2, "left"));
  EXPECT_TRUE(Names(r, Pk("f2"), 2, "removed"));
}

TEST_F(AuditV2Test, AVersionOneGenesisWithGovernanceUsesTheV2Rules) {
  Use(1);
  Owe("f1", "f0", 4);
  AdmitNewco();
  audit::Report r = Audit(Export());
  EXPECT_EQ(r.exit_code(), audit::kExitVerified) << Dump(r);
  EXPECT_EQ(r.protocol_rules, 2);
  ASSERT_TRUE(r.governance);
  EXPECT_EQ(r.governance->epochs.size(), 2u);
  EXPECT_EQ(r.governance->epochs[0].threshold, 2) << "floor(3/2)+1 for a version-1 genesis";
}

TEST_F(AuditV2Test, AVersionOneExportWithoutGovernanceKeepsTheV1Rules) {
  Use(1);
  Owe("f1", "f0", 4);
  Owe("f2", "f0", 5);
  audit::Report r = Audit(Export());
  EXPECT_EQ(r.exit_code(), audit::kExitVerified) << Dump(r);
  EXPECT_EQ(r.protocol_rules, 1);
  EXPECT_FALSE(r.governance);
}

TEST_F(AuditV2Test, AKindNoVersionDefinesIsUpgradeNeeded) {
  Use(2);
  Owe("f1", "f0", 4);
  Append("f1", 42, Bytes{1, 2, 3});
  Owe("f1", "f0", 5);  // behind the unknown kind: not assessed, not "missing"
  audit::Report r = Audit(Export());
  EXPECT_EQ(r.exit_code(), audit::kExitError) << Dump(r);
  EXPECT_TRUE(Names(r, Pk("f1"), 2, "upgrade-needed")) << Dump(r);
  EXPECT_FALSE(HasKind(r, "missing")) << Dump(r);
}

TEST_F(AuditV2Test, RecordsOfAFirmNeverAdmittedAreAWarning) {
  Use(2);
  Owe("stranger", "f0", 9);
  audit::Report r = Audit(Export());
  EXPECT_EQ(r.exit_code(), audit::kExitVerified) << Dump(r);
  EXPECT_TRUE(Names(r, Pk("stranger"), 0, "unknown-author"));
  ASSERT_TRUE(r.governance);
  ASSERT_EQ(r.governance->pending_authors.size(), 1u);
  EXPECT_EQ(r.governance->pending_authors[0].second, 1u);
  EXPECT_TRUE(r.balances.empty());
}

TEST_F(AuditV2Test, AMalformedRecordIsAProblem) {
  Use(2);
  Owe("f1", "f0", 4);
  ExportWriter w = Export();
  w.Entry(Bytes(100, 7));
  audit::Report r = Audit(w);
  EXPECT_EQ(r.exit_code(), audit::kExitFailed);
  EXPECT_TRUE(HasKind(r, "malformed")) << Dump(r);
}

// Two version-2 checkpoints, each valid on its own, that claim one feed's
// seq with different ids: a split view, as in v1.
TEST_F(AuditV2Test, TwoVersionTwoCheckpointsThatCannotBothBeTrueAreASplitView) {
  Use(2);
  Owe("f2", "f0", 5);
  Rotate("f1", "f1-next", "f1-next-2");
  ExportWriter w = Export();
  audit::Report unsealed = Audit(w);
  ASSERT_EQ(unsealed.exit_code(), audit::kExitVerified) << Dump(unsealed);
  auto claim = [&](const PublicKey& signer, const crypto::SigningKey& key, const char* id_text) {
    protocol::Checkpoint c;
    c.version = protocol::kCheckpointVersionV2;
    c.network = genesis_->network_id();
    c.signer = signer;
    c.time_ms = 1'790'009'500'000;
    c.epoch_hash = h0_;
    for (const auto& f : unsealed.feeds)
      if (f.effective_seq != 0 || f.stop_seq != 0)
        c.feeds.push_back({f.author, f.effective_seq, f.effective_id, f.stop_seq});
    for (auto& f : c.feeds)
      if (f.author == Pk("f2"))
        f.effective_id = EntryId{crypto::Blake2b256(AsBytes(std::string(id_text)))};
    c.state_digest = protocol::StateDigestV2(c.network, 0, h0_, c.feeds);
    protocol::SignedCheckpoint out;
    out.statement = protocol::EncodeCheckpointStatement(c);
    out.signer = signer;
    out.signature = key.Sign(protocol::CheckpointSigningMessage(out.statement));
    return out;
  };
  w.Checkpoint(claim(Pk("f1"), Key("f1-next"), "one history"));
  w.Checkpoint(claim(Pk("f2"), Key("f2"), "another history"));
  audit::Report r = Audit(w);
  ASSERT_EQ(r.checkpoints.size(), 2u);
  EXPECT_TRUE(r.checkpoints[0].verified) << r.checkpoints[0].error;
  EXPECT_TRUE(r.checkpoints[1].verified) << r.checkpoints[1].error;
  EXPECT_EQ(r.exit_code(), audit::kExitDisagreement) << Dump(r);
  EXPECT_TRUE(HasKind(r, "split-view")) << Dump(r);
}

}  // namespace
}  // namespace keiretsu::testing
