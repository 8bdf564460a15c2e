// The auditor on whole exports: a clean multi-firm ledger, the fork and
// invalid-entry rules, evidence that does not hold, sealing, and the
// report. Expected values come from node::Ledger, never from the auditor.
#include <gtest/gtest.h>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>

#include "audit_fixture.h"

namespace keiretsu::audit {
namespace {

using testing::AuditString;
using testing::ExportLedger;
using testing::FeedBuilder;
using testing::Names;

constexpr int kFirms = 5;
constexpr int kForked = 3;

std::vector<BalanceRow> NodeRows(const node::Ledger& l, const PublicKey& firm) {
  std::vector<BalanceRow> out;
  auto rows = l.ListBalances(firm);  // named: the loop must not outlive the Result
  EXPECT_TRUE(rows.ok());
  for (const auto& r : *rows) out.push_back({r.firm, r.counterparty, r.unit, r.net});
  return out;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::FillLedger(net, *ledger, fb, 300);
    before_fork = ledger->StateDigest();
    fork_seq = ledger->Feed(net.pk(kForked)).head_seq - 6;
    testing::ForkFeed(net, *ledger, kForked, fork_seq);
  }
  // The ledger and the audit agree on everything observable.
  void ExpectMatchesLedger(const Report& r) {
    EXPECT_EQ(r.state_digest, ledger->StateDigest());
    for (int i = 0; i < kFirms; ++i) {
      auto ours = r.BalancesOf(net.pk(i));
      auto node = NodeRows(*ledger, net.pk(i));
      EXPECT_EQ(ours.size(), node.size()) << "firm" << i;
      for (size_t k = 0; k < std::min(ours.size(), node.size()); ++k)
        EXPECT_TRUE(ours[k] == node[k])
            << "firm" << i << " row " << k << ": audit " << ours[k].counterparty.Short() << " "
            << ours[k].unit << " " << protocol::AmountToString(ours[k].net) << ", node "
            << node[k].counterparty.Short() << " " << node[k].unit << " "
            << protocol::AmountToString(node[k].net);
    }
    auto feeds = ledger->Feeds();
    for (const FeedReport& f : r.feeds) {
      const storage::FeedState st =
          feeds.count(f.author) ? feeds.at(f.author) : storage::FeedState{};
      EXPECT_EQ(f.head_seq, st.head_seq) << f.name;
      EXPECT_EQ(f.head_id, st.head_id) << f.name;
      EXPECT_EQ(f.effective_seq, st.effective_seq()) << f.name;
      EXPECT_EQ(f.effective_id, st.effective_id) << f.name;
      EXPECT_EQ(f.stop_seq, st.stop_seq) << f.name;
    }
  }
  std::string File(const std::string& name, const std::string& bytes) {
    std::string path = dir.Sub(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string CheckpointFile(const std::string& name, const protocol::SignedCheckpoint& cp) {
    v1::Checkpoint m;
    m.set_statement(cp.statement.data(), cp.statement.size());
    m.set_signer(cp.signer.bytes.data(), cp.signer.bytes.size());
    m.set_signature(cp.signature.data(), cp.signature.size());
    return File(name, m.SerializeAsString());
  }

  testing::TestNetwork net = testing::MakeNetwork(kFirms);
  testing::TempDir dir;
  std::unique_ptr<node::Ledger> ledger = testing::OpenLedger(net, dir.Sub("db"));
  FeedBuilder fb{net};
  Digest before_fork;
  uint64_t fork_seq = 0;
};

TEST_F(AuditTest, CleanExportVerifiesAndMatchesTheLedger) {
  auto w = ExportLedger(net, *ledger, 0);
  Report r = AuditString(w.data());
  EXPECT_EQ(r.exit_code(), kExitVerified) << testing::Dump(r);
  EXPECT_EQ(r.Count(Severity::kProblem), 0u);
  EXPECT_TRUE(r.sealed);
  EXPECT_GE(r.entries_checked, 300u);
  ExpectMatchesLedger(r);
  // The fork is a finding, with its proof, and the rule was applied.
  EXPECT_TRUE(Names(r, net.pk(kForked), fork_seq, "fork")) << testing::Dump(r);
  EXPECT_NE(r.state_digest, before_fork);
  const FeedReport* f = nullptr;
  for (const auto& fr : r.feeds)
    if (fr.author == net.pk(kForked)) f = &fr;
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status, FeedStatus::kForked);
  EXPECT_EQ(f->effective_seq, fork_seq - 1);
  EXPECT_GT(f->head_seq, fork_seq);  // the entries past the fork are held, not counted
}

TEST_F(AuditTest, ParallelAndSingleThreadedAuditsAgree) {
  auto w = ExportLedger(net, *ledger, 0);
  Options one, many;
  one.threads = 1;
  many.threads = 4;
  Report a = AuditString(w.data(), one), b = AuditString(w.data(), many);
  EXPECT_EQ(a.state_digest, b.state_digest);
  EXPECT_TRUE(a.balances == b.balances);
  EXPECT_EQ(a.issues.size(), b.issues.size());
}

// Exports of several read batches (1,024 items each) go through the first
// pass's pipeline: one batch verified in the background while the next is
// read and the previous handled. Whatever the thread count, the report must
// be the same, issue for issue, with or without damage in a late batch.
TEST_F(AuditTest, ManyBatchesGiveTheSameReportOnAnyThreadCount) {
  auto big = testing::OpenLedger(net, dir.Sub("big"));
  FeedBuilder big_fb(net);
  testing::FillLedger(net, *big, big_fb, 3700, /*seed=*/11);
  std::string clean = ExportLedger(net, *big, 0).data();
  std::string damaged = clean;
  damaged[damaged.size() * 4 / 5] ^= 0x01;  // inside the last batches' records
  for (const std::string* data : {&clean, &damaged}) {
    Options one, two, four;
    one.threads = 1;
    two.threads = 2;
    four.threads = 4;
    Report a = AuditString(*data, one), b = AuditString(*data, two), c = AuditString(*data, four);
    EXPECT_GT(a.chunks, 3000u);
    for (const Report* r : {&b, &c}) {
      EXPECT_EQ(r->state_digest, a.state_digest);
      EXPECT_TRUE(r->balances == a.balances);
      EXPECT_EQ(r->chunks, a.chunks);
      ASSERT_EQ(r->issues.size(), a.issues.size()) << testing::Dump(*r);
      for (size_t i = 0; i < a.issues.size(); ++i) {
        EXPECT_EQ(r->issues[i].kind, a.issues[i].kind);
        EXPECT_EQ(r->issues[i].seq, a.issues[i].seq);
        EXPECT_EQ(r->issues[i].chunk, a.issues[i].chunk);
      }
    }
    if (data == &clean) {
      EXPECT_EQ(a.exit_code(), 0) << testing::Dump(a);
      EXPECT_EQ(a.state_digest, big->StateDigest());
    } else {
      EXPECT_NE(a.exit_code(), 0) << "a flipped bit in a record must not verify";
    }
  }
}

TEST_F(AuditTest, InvalidEntryEndsTheFeedAsTheLedgerDoes) {
  const int firm = 1;
  auto head = ledger->Feed(net.pk(firm));
  protocol::Entry bad{net.id(),
                      net.pk(firm),
                      head.head_seq + 1,
                      head.head_id,
                      9,
                      protocol::Obligation{net.pk(2), 0, "hours", "zero is not an amount"}};
  auto se = FeedBuilder::SignRaw(bad, net.key(firm));
  ASSERT_EQ(ledger->Ingest(std::vector<Bytes>{se.record}, false).at(0).outcome,
            node::Outcome::kFeedEnded);
  Report r = AuditString(ExportLedger(net, *ledger, 2).data());
  EXPECT_EQ(r.exit_code(), kExitVerified) << testing::Dump(r);
  EXPECT_TRUE(Names(r, net.pk(firm), head.head_seq + 1, "ended"));
  ExpectMatchesLedger(r);
  EXPECT_EQ(r.Count(Severity::kWarning), 0u) << testing::Dump(r);  // the reason text matches
}

TEST_F(AuditTest, EvidenceThatProvesNothingIsAProblem) {
  auto evidence = *ledger->ListEvidence();
  ASSERT_EQ(evidence.size(), 1u);
  const storage::Evidence good = evidence[0];
  auto other = *ledger->ReadFeed(net.pk(kForked), fork_seq + 1, 1);
  Bytes bad_sig = good.second;
  bad_sig.back() ^= 1;
  struct Case {
    const char* name;
    storage::Evidence e;
  };
  std::vector<Case> cases;
  cases.push_back({"same record twice", good});
  cases.back().e.second = good.first;
  cases.push_back({"records at two seqs", good});
  cases.back().e.second = other[0];
  cases.push_back({"bad signature", good});
  cases.back().e.second = bad_sig;
  cases.push_back({"one record", good});
  cases.back().e.second.clear();
  cases.push_back({"another author", good});
  cases.back().e.author = net.pk(0);
  for (const Case& c : cases) {
    std::vector<storage::Evidence> replaced{c.e};
    auto w = ExportLedger(net, *ledger, 0, true, 1'790'000'123'456, &replaced);
    Report r = AuditString(w.data());
    EXPECT_EQ(r.exit_code(), kExitFailed) << c.name << "\n" << testing::Dump(r);
    EXPECT_TRUE(testing::HasKind(r, "bad-evidence")) << c.name << "\n" << testing::Dump(r);
    // Without its proof the feed is not stopped, which the seal contradicts.
    EXPECT_TRUE(Names(r, net.pk(kForked), fork_seq, "seal-mismatch")) << c.name << "\n"
                                                                      << testing::Dump(r);
  }
}

TEST_F(AuditTest, ExportWithoutItsSealIsRefusedUnlessAllowed) {
  auto w = ExportLedger(net, *ledger, 0, /*seal=*/false);
  Report r = AuditString(w.data());
  EXPECT_EQ(r.exit_code(), kExitFailed);
  EXPECT_TRUE(testing::HasKind(r, "unsealed")) << testing::Dump(r);
  Options o;
  o.allow_unsealed = true;
  r = AuditString(w.data(), o);
  EXPECT_EQ(r.exit_code(), kExitVerified) << testing::Dump(r);
  EXPECT_FALSE(r.sealed);
  EXPECT_EQ(r.Count(Severity::kWarning), 1u);
  ExpectMatchesLedger(r);
}

TEST_F(AuditTest, WrongGenesisIsAProblem) {
  auto other = testing::MakeNetwork(kFirms, "elsewhere");
  Options o;
  o.genesis_file = File("other.genesis", std::string(AsChars(other.genesis.canonical_bytes())));
  Report r = AuditString(ExportLedger(net, *ledger, 0).data(), o);
  EXPECT_EQ(r.exit_code(), kExitFailed);
  EXPECT_EQ(r.issues.at(0).kind, "wrong-network") << testing::Dump(r);
  // The right one, in TOML form, is accepted.
  o.genesis_file = File("right.toml", net.genesis.ToToml());
  r = AuditString(ExportLedger(net, *ledger, 0).data(), o);
  EXPECT_EQ(r.exit_code(), kExitVerified) << testing::Dump(r);
}

TEST_F(AuditTest, CheckpointFilesVerifyOrAreReported) {
  auto export_data = ExportLedger(net, *ledger, 0).data();
  auto cp = protocol::MakeCheckpoint(testing::Summaries(*ledger), net.genesis, net.key(4), 77);
  ASSERT_TRUE(cp.ok());
  Options o;
  o.checkpoint_files = {CheckpointFile("firm4.cp", *cp)};
  Report r = AuditString(export_data, o);
  EXPECT_EQ(r.exit_code(), kExitVerified) << testing::Dump(r);
  ASSERT_EQ(r.checkpoints.size(), 2u);  // the seal and the file
  for (const auto& c : r.checkpoints) EXPECT_TRUE(c.verified && c.matches) << c.source;

  // JSON form of the same checkpoint.
  v1::Checkpoint m;
  m.set_statement(cp->statement.data(), cp->statement.size());
  m.set_signer(cp->signer.bytes.data(), cp->signer.bytes.size());
  m.set_signature(cp->signature.data(), cp->signature.size());
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(m, &json).ok());
  o.checkpoint_files = {File("firm4.json", json)};
  EXPECT_EQ(AuditString(export_data, o).exit_code(), kExitVerified);

  auto tampered = *cp;
  tampered.statement[100] ^= 4;
  o.checkpoint_files = {CheckpointFile("bad.cp", tampered)};
  r = AuditString(export_data, o);
  EXPECT_EQ(r.exit_code(), kExitFailed);
  EXPECT_TRUE(testing::HasKind(r, "bad-checkpoint")) << testing::Dump(r);

  o.checkpoint_files = {File("junk.cp", "not a checkpoint at all")};
  EXPECT_EQ(AuditString(export_data, o).exit_code(), kExitFailed);

  o.checkpoint_files = {dir.Sub("absent.cp")};
  std::istringstream in(export_data);
  auto missing = AuditExport(in, o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

// A binary checkpoint file is read as strictly as an export's chunks: a
// field sent twice is refused, not "the last copy wins" (bytes nobody
// checks could otherwise ride along).
TEST_F(AuditTest, ACheckpointFileWithAFieldTwiceIsRefused) {
  auto export_data = ExportLedger(net, *ledger, 0).data();
  auto cp = protocol::MakeCheckpoint(testing::Summaries(*ledger), net.genesis, net.key(4), 77);
  ASSERT_TRUE(cp.ok());
  v1::Checkpoint first;
  first.set_statement(cp->statement.data(), cp->statement.size());
  first.set_signer(cp->signer.bytes.data(), cp->signer.bytes.size());
  first.set_signature(std::string(64, 'x'));  // junk, overwritten by the copy below
  v1::Checkpoint again;
  again.set_signature(cp->signature.data(), cp->signature.size());
  const std::string twice = first.SerializeAsString() + again.SerializeAsString();
  v1::Checkpoint lenient;
  ASSERT_TRUE(lenient.ParseFromString(twice));  // protobuf alone would take it
  Options o;
  o.checkpoint_files = {File("twice.cp", twice)};
  Report r = AuditString(export_data, o);
  EXPECT_EQ(r.exit_code(), kExitFailed) << testing::Dump(r);
  bool named = false;
  for (const auto& issue : r.issues)
    named =
        named || issue.message.find("signature (3) appears more than once") != std::string::npos;
  EXPECT_TRUE(named) << testing::Dump(r);
}

// Firm 3 equivocates: node A sees one branch, node B another. A's export,
// sealed by firm0, and B's checkpoint, signed by firm1, cannot both hold.
TEST_F(AuditTest, SplitViewBetweenCheckpointsIsReportedWithBothSigners) {
  testing::TempDir other_dir;
  auto node_b = testing::OpenLedger(net, other_dir.Sub("db"));
  // Both nodes hold everything up to seq s-1 of firm 3 and all other feeds;
  // then firm 3 signs different entries at s for each.
  testing::TempDir a_dir;
  auto node_a = testing::OpenLedger(net, a_dir.Sub("db"));
  FeedBuilder fa{net};
  testing::FillLedger(net, *node_a, fa, 120, 99);
  for (const auto& [author, st] : node_a->Feeds())
    ASSERT_EQ(node_b->Ingest(*node_a->ReadFeed(author, 1, st.head_seq), false).size(), st.head_seq);
  auto h = node_a->Feed(net.pk(kForked));
  protocol::Entry x{
      net.id(), net.pk(kForked), h.head_seq + 1, h.head_id, 1, testing::Owe(net.pk(0), 10)};
  protocol::Entry y = x;
  y.body = testing::Owe(net.pk(1), 20);
  auto sx = FeedBuilder::SignRaw(x, net.key(kForked));
  auto sy = FeedBuilder::SignRaw(y, net.key(kForked));
  protocol::Entry x2{net.id(), net.pk(kForked),           h.head_seq + 2, sx.id,
                     2,        testing::Owe(net.pk(2), 5)};
  auto sx2 = FeedBuilder::SignRaw(x2, net.key(kForked));
  node_a->Ingest(std::vector<Bytes>{sx.record, sx2.record}, false);
  node_b->Ingest(std::vector<Bytes>{sy.record}, false);

  auto cp_b = protocol::MakeCheckpoint(testing::Summaries(*node_b), net.genesis, net.key(1), 5);
  ASSERT_TRUE(cp_b.ok());
  Options o;
  o.checkpoint_files = {CheckpointFile("b.cp", *cp_b)};
  Report r = AuditString(ExportLedger(net, *node_a, 0).data(), o);
  EXPECT_EQ(r.exit_code(), kExitDisagreement) << testing::Dump(r);
  EXPECT_EQ(r.Count(Severity::kProblem), 0u);
  EXPECT_TRUE(Names(r, net.pk(kForked), h.head_seq + 1, "checkpoint-contradicts"))
      << testing::Dump(r);
  bool split = false;
  for (const auto& i : r.issues)
    if (i.kind == "split-view" && i.author == net.pk(kForked)) {
      split = true;
      EXPECT_NE(i.message.find("firm0"), std::string::npos) << i.message;
      EXPECT_NE(i.message.find("firm1"), std::string::npos) << i.message;
      EXPECT_GE(i.evidence.size(), 4u);  // both statements and signatures
    }
  EXPECT_TRUE(split) << testing::Dump(r);

  // Two outside checkpoints with equal seqs and different ids: a split
  // view even where the audited export holds nothing to compare them with.
  auto cp_a = protocol::MakeCheckpoint(testing::Summaries(*node_a), net.genesis, net.key(2), 6);
  protocol::Entry y2{net.id(), net.pk(kForked),           h.head_seq + 2, sy.id,
                     3,        testing::Owe(net.pk(4), 5)};
  node_b->Ingest(std::vector<Bytes>{FeedBuilder::SignRaw(y2, net.key(kForked)).record}, false);
  auto cp_b2 = protocol::MakeCheckpoint(testing::Summaries(*node_b), net.genesis, net.key(4), 8);
  ASSERT_TRUE(cp_a.ok() && cp_b2.ok());
  o.checkpoint_files = {CheckpointFile("a.cp", *cp_a), CheckpointFile("b2.cp", *cp_b2)};
  o.allow_unsealed = true;
  testing::TempDir empty_dir;
  auto empty = testing::OpenLedger(net, empty_dir.Sub("db"));
  r = AuditString(ExportLedger(net, *empty, 0, false).data(), o);
  EXPECT_EQ(r.exit_code(), kExitDisagreement) << testing::Dump(r);
  EXPECT_TRUE(Names(r, net.pk(kForked), h.head_seq + 2, "split-view")) << testing::Dump(r);
}

TEST_F(AuditTest, ReportsReadWell) {
  auto w = ExportLedger(net, *ledger, 0);
  std::string path = File("ledger.export", w.data());
  Options o;
  o.input = path;
  std::ostringstream text;
  EXPECT_EQ(audit::Run(o, text), kExitVerified) << text.str();
  for (const char* want :
       {"VERIFIED (exit 0)", "firm3", "forked at seq", "[hours]", "Findings (1)", "fork"})
    EXPECT_NE(text.str().find(want), std::string::npos) << want << "\n" << text.str();
  o.json = true;
  std::ostringstream json;
  EXPECT_EQ(audit::Run(o, json), kExitVerified);
  for (const char* want : {"\"result\": \"verified\"", "\"exit_code\": 0", "\"kind\": \"fork\"",
                           "\"status\": \"forked\"", "\"net\": \"-"})
    EXPECT_NE(json.str().find(want), std::string::npos) << want << "\n" << json.str();
  EXPECT_NE(json.str().find("\"state_digest\": \"" + ledger->StateDigest().Hex()),
            std::string::npos);
  // Well-formed JSON, with the fields docs/audit.md names.
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.str(), &doc).ok()) << json.str();
  const auto& f = doc.fields();
  EXPECT_EQ(f.at("state_digest").string_value(), ledger->StateDigest().Hex());
  EXPECT_EQ(f.at("feeds").list_value().values_size(), kFirms);
  EXPECT_TRUE(f.at("sealed").bool_value());
  const auto& issue = f.at("issues").list_value().values(0).struct_value().fields();
  EXPECT_EQ(issue.at("kind").string_value(), "fork");
  EXPECT_EQ(issue.at("firm").string_value(), net.pk(kForked).Hex());
  EXPECT_EQ(issue.at("evidence").list_value().values_size(), 2);

  // Could not run at all: exit 2 and one line.
  o.json = false;
  o.input = dir.Sub("nope");
  std::ostringstream err;
  EXPECT_EQ(audit::Run(o, err), kExitError);
  EXPECT_NE(err.str().find("cannot audit"), std::string::npos);
}

TEST_F(AuditTest, ProgressIsReportedOnLongAudits) {
  std::ostringstream progress;
  Options o;
  o.progress = &progress;
  o.progress_interval = std::chrono::milliseconds(0);
  AuditString(ExportLedger(net, *ledger, 0).data(), o);
  EXPECT_NE(progress.str().find("entries checked"), std::string::npos);
}

TEST_F(AuditTest, DataDirectoryAudit) {
  Options o;
  o.input = dir.Sub("db");
  o.genesis_file = File("g.bin", std::string(AsChars(net.genesis.canonical_bytes())));
  // The ledger still holds the directory: a clear refusal.
  auto busy = Audit(o);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(busy.status().message().find("in use"), std::string::npos) << busy.status().message();
  const Digest digest = ledger->StateDigest();
  std::vector<std::vector<BalanceRow>> rows;
  for (int i = 0; i < kFirms; ++i) rows.push_back(NodeRows(*ledger, net.pk(i)));
  ledger.reset();

  auto r = Audit(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code(), kExitVerified) << testing::Dump(*r);
  EXPECT_EQ(r->state_digest, digest);
  for (int i = 0; i < kFirms; ++i)
    EXPECT_TRUE(r->BalancesOf(net.pk(i)) == rows[static_cast<size_t>(i)]);

  Options no_genesis = o;
  no_genesis.genesis_file.clear();
  ASSERT_FALSE(Audit(no_genesis).ok());

  // A store whose materialised balances or heads disagree with its entries.
  {
    auto store = storage::Store::Open({o.input, net.id(), false});
    ASSERT_TRUE(store.ok());
    storage::Batch b;
    b.AddDebt({net.pk(0), net.pk(1), "hours", 1});
    storage::FeedState st = (*store)->LoadFeedStates().at(net.pk(2));
    st.stop_seq = 2;
    b.SetFeedState(net.pk(2), st);
    ASSERT_TRUE((*store)->Commit(b, true).ok());
  }
  r = Audit(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code(), kExitFailed);
  EXPECT_TRUE(testing::HasKind(*r, "store-head")) << testing::Dump(*r);
  EXPECT_TRUE(testing::HasKind(*r, "store-balance")) << testing::Dump(*r);
}

}  // namespace
}  // namespace keiretsu::audit
