// Streams: Watch (replay, live, resume, filtering, shutdown), Export and
// Import between two nodes, GetCheckpoint, and sealed exports audited by
// the auditor library.
#include <future>
#include <sstream>

#include "api_fixture.h"
#include "keiretsu/audit/audit.h"
#include "keiretsu/protocol/checkpoint.h"

namespace keiretsu::api {
namespace {

using namespace std::chrono_literals;

class ApiStreamTest : public ApiTest {
 protected:
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> Watch(grpc::ClientContext* ctx,
                                                            const std::string& cursor) {
    v1::WatchRequest req;
    req.set_cursor(cursor);
    return stub().Watch(ctx, req);
  }
  v1::WriteResponse Owe(int creditor, uint64_t amount) {
    v1::RecordObligationRequest req;
    req.set_creditor("firm" + std::to_string(creditor));
    req.set_amount(amount);
    req.set_unit("hours");
    v1::WriteResponse resp;
    auto s = stub().RecordObligation(Ctx(kOperatorToken).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return resp;
  }
  std::vector<v1::ExportChunk> ExportAll(v1::Ledger::Stub& from, bool seal = false) {
    auto ctx = Ctx(kAuditorToken);
    v1::ExportRequest req;
    req.set_include_checkpoint(seal);
    auto reader = from.Export(ctx.get(), req);
    std::vector<v1::ExportChunk> chunks;
    v1::ExportChunk c;
    while (reader->Read(&c)) chunks.push_back(c);
    auto s = reader->Finish();
    EXPECT_TRUE(s.ok()) << Describe(s);
    return chunks;
  }
  // Frames `chunks` as the export file format (docs/audit.md) and audits
  // them with the auditor library.
  static Result<audit::Report> AuditChunks(const std::vector<v1::ExportChunk>& chunks) {
    std::string file;
    for (const auto& c : chunks) {
      std::string body = c.SerializeAsString();
      uint32_t n = static_cast<uint32_t>(body.size());
      for (int shift = 24; shift >= 0; shift -= 8)
        file.push_back(static_cast<char>((n >> shift) & 0xff));
      file += body;
    }
    std::istringstream in(file);
    audit::Options o;
    o.input = "api export";
    o.threads = 1;
    return audit::AuditExport(in, o);
  }
  static std::string Issues(const audit::Report& r) {
    std::string out;
    for (const auto& i : r.issues) out += i.kind + ": " + i.message + "\n";
    return out;
  }
  void FillWithFork();
  grpc::Status ImportAll(v1::Ledger::Stub& into, const std::vector<v1::ExportChunk>& chunks,
                         v1::ImportResponse* resp, const char* token = kOperatorToken) {
    auto ctx = Ctx(token);
    auto writer = into.Import(ctx.get(), resp);
    for (const auto& c : chunks)
      if (!writer->Write(c)) break;
    writer->WritesDone();
    return writer->Finish();
  }
};

TEST_F(ApiStreamTest, WatchReplaysThenFollowsLiveCommits) {
  Owe(1, 10);
  Put(fb.Next(2, protocol::Claim{net.pk(0), 5, "hours", ""}));
  auto ctx = Ctx(kOperatorToken);
  auto stream = Watch(ctx.get(), "0");
  v1::WatchEvent ev;
  ASSERT_TRUE(stream->Read(&ev));
  EXPECT_EQ(ev.cursor(), "1");
  EXPECT_EQ(ev.entry().kind(), "obligation");
  ASSERT_EQ(ev.changes_size(), 1);
  EXPECT_EQ(ev.changes(0).debtor().name(), "firm0");
  EXPECT_EQ(ev.changes(0).creditor().name(), "firm1");
  EXPECT_EQ(ev.changes(0).delta(), "10");
  ASSERT_TRUE(stream->Read(&ev));
  EXPECT_EQ(ev.cursor(), "2");
  EXPECT_EQ(ev.entry().kind(), "claim");
  EXPECT_EQ(ev.changes_size(), 0);  // a claim moves nothing
  // Live: a commit after the stream caught up arrives on it.
  auto written = std::async(std::launch::async, [&] { return Owe(2, 3); });
  ASSERT_TRUE(stream->Read(&ev));
  EXPECT_EQ(ev.cursor(), "3");
  EXPECT_EQ(ev.entry().id(), written.get().entry().id());
  EXPECT_EQ(ev.changes(0).delta(), "3");
  ctx->TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ApiStreamTest, WatchResumesAfterACursorAndDefaultsToNow) {
  for (int i = 1; i <= 3; ++i) Owe(1, static_cast<uint64_t>(i));
  {
    auto ctx = Ctx(kAuditorToken);
    auto stream = Watch(ctx.get(), "1");
    v1::WatchEvent ev;
    ASSERT_TRUE(stream->Read(&ev));
    EXPECT_EQ(ev.cursor(), "2");
    EXPECT_EQ(ev.entry().amount(), 2u);
    ctx->TryCancel();
    stream->Finish();
  }
  auto ctx = Ctx(kAuditorToken);
  auto stream = Watch(ctx.get(), "");  // from now: only what comes next
  // The headers arrive once the stream's start is fixed: every commit from
  // here on reaches it.
  stream->WaitForInitialMetadata();
  Owe(2, 42);
  v1::WatchEvent ev;
  ASSERT_TRUE(stream->Read(&ev));
  EXPECT_EQ(ev.cursor(), "4");
  EXPECT_EQ(ev.entry().amount(), 42u);
  ctx->TryCancel();
  stream->Finish();
}

TEST_F(ApiStreamTest, WatchFiltersForPartners) {
  Owe(2, 1);
  Owe(1, 2);
  Owe(2, 3);
  Owe(1, 4);
  auto ctx = Ctx(kPartner1Token);
  auto stream = Watch(ctx.get(), "0");
  v1::WatchEvent ev;
  ASSERT_TRUE(stream->Read(&ev));
  EXPECT_EQ(ev.cursor(), "2");
  EXPECT_EQ(ev.entry().amount(), 2u);
  ASSERT_TRUE(stream->Read(&ev));
  EXPECT_EQ(ev.cursor(), "4");
  EXPECT_EQ(ev.entry().amount(), 4u);
  ctx->TryCancel();
  stream->Finish();
}

TEST_F(ApiStreamTest, WatchRefusesBadCursors) {
  Owe(1, 1);
  for (const auto& [cursor, text] : std::vector<std::pair<std::string, std::string>>{
           {"abc", "is not a cursor from a WatchEvent"},
           {"-1", "is not a cursor"},
           {"7", "cursor 7 is beyond this node's log (last 1)"}}) {
    auto ctx = Ctx(kOperatorToken);
    auto stream = Watch(ctx.get(), cursor);
    v1::WatchEvent ev;
    EXPECT_FALSE(stream->Read(&ev));
    auto s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << cursor;
    EXPECT_NE(s.error_message().find(text), std::string::npos) << Describe(s);
  }
}

TEST_F(ApiStreamTest, WatchEndsCleanlyOnServerShutdown) {
  auto ctx = Ctx(kOperatorToken);
  auto stream = Watch(ctx.get(), "");
  stream->WaitForInitialMetadata();  // the stream runs and waits for commits
  auto t0 = std::chrono::steady_clock::now();
  node->server->Shutdown(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);  // did not wait for the grace
  v1::WatchEvent ev;
  EXPECT_FALSE(stream->Read(&ev));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ApiStreamTest, TooManyWatchersAreRefused) {
  ApiServerOptions opts;
  opts.max_watchers = 1;
  node = std::make_unique<TestNode>(net, 0, opts);
  auto ctx1 = Ctx(kOperatorToken);
  auto first = Watch(ctx1.get(), "");
  first->WaitForInitialMetadata();  // the first holds the only slot
  auto ctx2 = Ctx(kOperatorToken);
  auto second = Watch(ctx2.get(), "");
  v1::WatchEvent ev;
  EXPECT_FALSE(second->Read(&ev));
  auto s = second->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  ctx1->TryCancel();
  first->Finish();
}

// Before: one limit for all; a partner holding every stream locked the
// operator out of Watch.
TEST_F(ApiStreamTest, WatchSharesKeepTheOperatorsReserveAndLimitEachToken) {
  ApiServerOptions opts;
  opts.max_watchers = 6;
  opts.max_watchers_per_token = 2;
  opts.max_partner_watchers = 3;
  opts.operator_reserved_watchers = 2;
  node = std::make_unique<TestNode>(net, 0, opts);
  struct Open {
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> stream;
  };
  std::vector<Open> open;
  // Opens a stream; returns its status when refused, OK once it runs.
  auto try_watch = [&](const char* token) {
    Open o{Ctx(token), nullptr};
    o.stream = Watch(o.ctx.get(), "");
    // Headers come when the stream runs (naming its start cursor), or
    // empty with a refusal.
    o.stream->WaitForInitialMetadata();
    v1::WatchEvent ev;
    if (o.ctx->GetServerInitialMetadata().count("keiretsu-watch-start") == 0) {
      EXPECT_FALSE(o.stream->Read(&ev));
      return o.stream->Finish();
    }
    open.push_back(std::move(o));
    return grpc::Status::OK;
  };
  EXPECT_TRUE(try_watch(kPartner1Token).ok());
  EXPECT_TRUE(try_watch(kPartner1Token).ok());
  auto s = try_watch(kPartner1Token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  EXPECT_NE(s.error_message().find("the most one token may hold"), std::string::npos)
      << Describe(s);
  EXPECT_TRUE(try_watch(kPartner2Token).ok());
  s = try_watch(kPartner2Token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  EXPECT_NE(s.error_message().find("the partners' share"), std::string::npos) << Describe(s);
  // The auditor gets the last stream not reserved, then no more.
  EXPECT_TRUE(try_watch(kAuditorToken).ok());
  s = try_watch(kAuditorToken);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  EXPECT_NE(s.error_message().find("kept for the operator"), std::string::npos) << Describe(s);
  // The operator still watches and writes.
  EXPECT_TRUE(try_watch(kOperatorToken).ok());
  auto written = Owe(1, 9);
  v1::WatchEvent ev;
  ASSERT_TRUE(open.back().stream->Read(&ev));
  EXPECT_EQ(ev.entry().id(), written.entry().id());
  for (auto& o : open) o.ctx->TryCancel();
  for (auto& o : open) o.stream->Finish();
}

TEST_F(ApiStreamTest, ExportImportCarriesTheLedgerToAnotherNode) {
  Owe(1, 10);
  Owe(2, 20);
  for (int i = 0; i < 300; ++i) Put(fb.Next(1, testing::Owe(net.pk(2), 1)));
  // A fork in firm2's feed: the export carries its evidence.
  auto a = fb.Next(2, testing::Owe(net.pk(1), 5));
  auto b = testing::FeedBuilder::SignRaw(
      protocol::Entry{net.id(), net.pk(2), 1, EntryId{}, 1, testing::Owe(net.pk(1), 6)},
      net.key(2));
  Put(a);
  ASSERT_EQ(ledger().Ingest(std::span(&b.record, 1), true).at(0).outcome,
            node::Outcome::kForkProven);

  auto chunks = ExportAll(stub());
  ASSERT_FALSE(chunks.empty());
  ASSERT_TRUE(chunks[0].has_header());
  EXPECT_EQ(chunks[0].header().format_version(), 1u);
  EXPECT_EQ(chunks[0].header().exported_by(), Hex(0));
  EXPECT_EQ(chunks.size(), 1u + 2 + 300 + 1 + 1);  // header, entries, evidence
  EXPECT_TRUE(chunks.back().has_evidence());
  EXPECT_EQ(chunks.back().evidence().kind(), v1::Evidence::KIND_FORK);

  TestNode other(net, 1);  // firm1's node, empty
  v1::ImportResponse resp;
  auto s = ImportAll(*other.stub, chunks, &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(resp.applied(), 303u);
  EXPECT_EQ(resp.forks(), 1u);
  EXPECT_EQ(resp.rejected(), 0u);
  EXPECT_EQ(resp.state_digest(), ledger().StateDigest().Hex());
  EXPECT_EQ(Snap(*other.ledger).balances, Snap(ledger()).balances);

  // Importing it again changes nothing.
  auto before = Snap(*other.ledger);
  v1::ImportResponse again;
  ASSERT_TRUE(ImportAll(*other.stub, chunks, &again).ok());
  EXPECT_EQ(again.applied(), 0u);
  EXPECT_EQ(again.duplicates() + again.ignored(), 305u);  // 303 entries, 2 evidence records
  EXPECT_EQ(Snap(*other.ledger).digest, before.digest);
}

TEST_F(ApiStreamTest, ImportChecksEveryRecord) {
  Owe(1, 10);
  Owe(1, 11);
  auto chunks = ExportAll(stub());
  ASSERT_EQ(chunks.size(), 3u);
  std::string* rec = chunks[2].mutable_entry()->mutable_record();
  (*rec)[rec->size() - 1] ^= 1;  // breaks the second entry's signature
  TestNode other(net, 1);
  v1::ImportResponse resp;
  ASSERT_TRUE(ImportAll(*other.stub, chunks, &resp).ok());
  EXPECT_EQ(resp.applied(), 1u);
  EXPECT_EQ(resp.rejected(), 1u);
  ASSERT_EQ(resp.problems_size(), 1);
  EXPECT_NE(resp.problems(0).find("does not verify"), std::string::npos) << resp.problems(0);
  EXPECT_EQ(other.ledger->Feed(net.pk(0)).head_seq, 1u);
}

TEST_F(ApiStreamTest, ImportRefusesAnotherNetworkOrAMissingHeader) {
  auto foreign = testing::MakeNetwork(3, "other-keiretsu");
  TestNode there(foreign, 0);
  v1::RecordObligationRequest req;
  req.set_creditor("firm1");
  req.set_amount(5);
  req.set_unit("hours");
  v1::WriteResponse w;
  ASSERT_TRUE(there.stub->RecordObligation(Ctx(kOperatorToken).get(), req, &w).ok());
  auto chunks = ExportAll(*there.stub);

  auto before = Snap(ledger());
  v1::ImportResponse resp;
  auto s = ImportAll(stub(), chunks, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("the export is from network other-keiretsu"), std::string::npos)
      << Describe(s);
  s = ImportAll(stub(), {chunks.begin() + 1, chunks.end()}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "an import must start with the export's header");
  s = ImportAll(stub(), {}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = ImportAll(stub(), chunks, &resp, kAuditorToken);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Snap(ledger()), before);
}

// The ledger the checkpoint tests export: writes through the API, another
// firm's feed, and a fork in firm2's feed (evidence in the export).
void ApiStreamTest::FillWithFork() {
  Owe(1, 10);
  Owe(2, 20);
  for (int i = 0; i < 40; ++i) Put(fb.Next(1, testing::Owe(net.pk(2), 1 + i)));
  Put(fb.Next(2, testing::Owe(net.pk(1), 5)));
  Put(fb.Next(2, testing::Owe(net.pk(1), 7)));
  auto b = testing::FeedBuilder::SignRaw(
      protocol::Entry{net.id(), net.pk(2), 1, EntryId{}, 1, testing::Owe(net.pk(1), 6)},
      net.key(2));
  ASSERT_EQ(ledger().Ingest(std::span(&b.record, 1), true).at(0).outcome,
            node::Outcome::kForkProven);
}

TEST_F(ApiStreamTest, GetCheckpointSignsTheLedgersHeadsAndDigest) {
  FillWithFork();
  for (const char* token : {kOperatorToken, kAuditorToken, kPartner1Token}) {
    v1::Checkpoint cp;
    auto s = stub().GetCheckpoint(Ctx(token).get(), {}, &cp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ASSERT_EQ(cp.signer().size(), 32u);
    PublicKey signer;
    std::copy(cp.signer().begin(), cp.signer().end(), signer.bytes.begin());
    EXPECT_EQ(signer, net.pk(0));
    auto v = protocol::VerifyCheckpoint(AsBytes(cp.statement()), signer, AsBytes(cp.signature()),
                                        net.genesis);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->state_digest, ledger().StateDigest());
    EXPECT_EQ(v->network, net.id());
    // Dated by the node's clock (the fixture's steps by 1000 ms per read).
    EXPECT_GT(v->time_ms, 1'790'000'100'000u);
    ASSERT_EQ(v->feeds.size(), 3u);
    for (const auto& f : v->feeds) {
      auto st = ledger().Feed(f.author);
      EXPECT_EQ(f.effective_seq, st.effective_seq());
      EXPECT_EQ(f.effective_id, st.effective_id);
      EXPECT_EQ(f.stop_seq, st.stop_seq);
    }
    EXPECT_EQ(v->Find(net.pk(2))->stop_seq, 1u);  // the fork stopped firm2's feed
  }
  v1::Checkpoint none;
  auto s = stub().GetCheckpoint(Ctx("").get(), {}, &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
}

TEST_F(ApiStreamTest, SealedExportAuditsCleanWithTheLedgersDigest) {
  FillWithFork();
  auto chunks = ExportAll(stub(), /*seal=*/true);
  ASSERT_GE(chunks.size(), 2u);
  ASSERT_TRUE(chunks.back().has_checkpoint());
  const v1::ExportHeader& h = chunks.front().header();
  const v1::Checkpoint& seal = chunks.back().checkpoint();
  PublicKey signer;
  ASSERT_EQ(seal.signer().size(), 32u);
  std::copy(seal.signer().begin(), seal.signer().end(), signer.bytes.begin());
  EXPECT_EQ(signer.Hex(), h.exported_by());
  auto v = protocol::VerifyCheckpoint(AsBytes(seal.statement()), signer, AsBytes(seal.signature()),
                                      net.genesis);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->time_ms, h.exported_at_unix_ms());
  EXPECT_EQ(v->state_digest, ledger().StateDigest());

  auto report = AuditChunks(chunks);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->exit_code(), audit::kExitVerified) << Issues(*report);
  EXPECT_TRUE(report->sealed);
  EXPECT_EQ(report->state_digest, ledger().StateDigest());
  EXPECT_EQ(report->Count(audit::Severity::kFinding), 1u);  // the fork

  // The seal is what makes a cut detectable: the same export less firm1's
  // newest entry (an effective one) fails, and so does one without the seal.
  auto cut = chunks;
  const EntryId newest = ledger().Feed(net.pk(1)).head_id;
  auto it = std::find_if(cut.begin(), cut.end(), [&](const v1::ExportChunk& c) {
    return c.has_entry() && protocol::IdOfRecord(AsBytes(c.entry().record())) == newest;
  });
  ASSERT_NE(it, cut.end());
  cut.erase(it);
  report = AuditChunks(cut);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->exit_code(), audit::kExitFailed) << Issues(*report);
  EXPECT_NE(Issues(*report).find("seal-mismatch: "), std::string::npos) << Issues(*report);
  auto unsealed = ExportAll(stub());
  EXPECT_FALSE(unsealed.back().has_checkpoint());
  report = AuditChunks(unsealed);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->exit_code(), audit::kExitFailed) << Issues(*report);
  EXPECT_NE(Issues(*report).find("unsealed: "), std::string::npos) << Issues(*report);
  EXPECT_FALSE(report->sealed);
}

}  // namespace
}  // namespace keiretsu::api
