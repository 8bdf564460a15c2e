// Writes at scale: a thousand writes in flight at once (the callback API
// holds no thread per waiting write), and WriteBatch: many writes in one
// call, one result per item, each bad item its own error that changes
// nothing, idempotent per item across retries and restarts.
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "api_fixture.h"

namespace keiretsu::api {
namespace {

v1::BatchItem ClaimItem(const std::string& debtor, uint64_t amount, const std::string& memo,
                        const std::string& request_id = "") {
  v1::BatchItem item;
  v1::ClaimRequest* c = item.mutable_claim();
  c->set_debtor(debtor);
  c->set_amount(amount);
  c->set_unit("hours");
  c->set_memo(memo);
  c->set_request_id(request_id);
  return item;
}
v1::BatchItem ObligationItem(const std::string& creditor, uint64_t amount,
                             const std::string& request_id = "") {
  v1::BatchItem item;
  v1::RecordObligationRequest* o = item.mutable_obligation();
  o->set_creditor(creditor);
  o->set_amount(amount);
  o->set_unit("hours");
  o->set_request_id(request_id);
  return item;
}
v1::BatchItem ReleaseItem(const std::string& debtor, uint64_t amount,
                          const std::string& request_id = "") {
  v1::BatchItem item;
  v1::RecordReleaseRequest* r = item.mutable_release();
  r->set_debtor(debtor);
  r->set_amount(amount);
  r->set_unit("hours");
  r->set_request_id(request_id);
  return item;
}

class ApiBatchTest : public ApiTest {
 protected:
  grpc::Status Batch(const std::vector<v1::BatchItem>& items, v1::WriteBatchResponse* resp,
                     v1::Ledger::Stub* via = nullptr, const char* token = kOperatorToken) {
    v1::WriteBatchRequest req;
    for (const auto& i : items) *req.add_items() = i;
    return (via ? via : &stub())->WriteBatch(Ctx(token).get(), req, resp);
  }
  std::string Balance(int firm, int other) {
    return protocol::AmountToString(*ledger().GetBalance(net.pk(firm), net.pk(other), "hours"));
  }
};

// 1,000 writes in flight at once from four connections: every one is
// written exactly once, on one chain, and none is refused for want of a
// server thread (the sync API's "threadpool exhausted"). Meanwhile the
// partners and the auditor hold every Watch stream not reserved for the
// operator, and the operator still watches: the shares hold under load.
TEST_F(ApiBatchTest, AThousandConcurrentWritersAllSucceedOnce) {
  ApiServerOptions opts;
  opts.max_watchers = 4;
  opts.max_watchers_per_token = 1;
  opts.max_partner_watchers = 2;
  opts.operator_reserved_watchers = 1;
  node = std::make_unique<TestNode>(net, 0, opts);
  struct Open {
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> stream;
  };
  std::vector<Open> watchers;
  for (const char* token : {kPartner1Token, kPartner2Token, kAuditorToken}) {
    Open o{Ctx(token), nullptr};
    v1::WatchRequest wr;
    o.stream = stub().Watch(o.ctx.get(), wr);
    o.stream->WaitForInitialMetadata();
    ASSERT_EQ(o.ctx->GetServerInitialMetadata().count("keiretsu-watch-start"), 1u) << token;
    watchers.push_back(std::move(o));
  }
  {  // the non-operator share is used up
    auto ctx = Ctx(kAuditorToken);
    v1::WatchRequest wr;
    auto stream = stub().Watch(ctx.get(), wr);
    v1::WatchEvent ev;
    EXPECT_FALSE(stream->Read(&ev));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }

  constexpr int kWriters = 1000, kChannels = 4;
  std::vector<std::unique_ptr<v1::Ledger::Stub>> stubs;
  for (int c = 0; c < kChannels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection each
    args.SetInt("keiretsu.test_channel", c);
    stubs.push_back(v1::Ledger::NewStub(grpc::CreateCustomChannel(
        node->server->address(), grpc::InsecureChannelCredentials(), args)));
  }
  struct Call {
    std::unique_ptr<grpc::ClientContext> ctx;
    v1::ClaimRequest req;
    v1::WriteResponse resp;
    grpc::Status status;
  };
  std::vector<Call> calls(kWriters);
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  for (int i = 0; i < kWriters; ++i) {
    Call& c = calls[static_cast<size_t>(i)];
    c.ctx = Ctx(kOperatorToken, std::chrono::seconds(120));
    c.req.set_debtor(i % 2 ? "firm1" : "firm2");
    c.req.set_amount(static_cast<uint64_t>(i + 1));
    c.req.set_unit("hours");
    c.req.set_memo("writer " + std::to_string(i));
    if (i % 3 == 0) c.req.set_request_id("writer-" + std::to_string(i));
    stubs[static_cast<size_t>(i % kChannels)]->async()->Claim(
        c.ctx.get(), &c.req, &c.resp, [&c, &mu, &cv, &finished](grpc::Status s) {
          std::lock_guard lock(mu);
          c.status = std::move(s);
          ++finished;
          cv.notify_all();
        });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return finished == kWriters; });
  }
  std::set<uint64_t> seqs;
  std::map<std::string, int> memos;
  for (const Call& c : calls) {
    ASSERT_TRUE(c.status.ok()) << Describe(c.status);
    EXPECT_FALSE(c.resp.replayed());
    EXPECT_EQ(c.resp.entry().memo(), c.req.memo());
    seqs.insert(c.resp.entry().seq());
  }
  EXPECT_EQ(seqs.size(), size_t{kWriters});
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), uint64_t{kWriters});
  auto feed = ledger().ReadFeed(net.pk(0), 1, kWriters + 1);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), size_t{kWriters});
  EntryId prev{};
  for (const Bytes& record : *feed) {  // one chain, each memo once
    auto check = protocol::CheckRecord(record, net.genesis);
    ASSERT_EQ(check.fault, protocol::Fault::kNone) << check.status.ToString();
    EXPECT_EQ(check.signed_entry->entry.prev, prev);
    prev = check.signed_entry->id;
    memos[std::get<protocol::Claim>(check.signed_entry->entry.body).memo]++;
  }
  EXPECT_EQ(memos.size(), size_t{kWriters});
  for (const auto& [memo, n] : memos) EXPECT_EQ(n, 1) << memo;

  // The operator's reserved stream: it replays the thousand entries.
  auto ctx = Ctx(kOperatorToken);
  v1::WatchRequest wr;
  wr.set_cursor("0");
  auto stream = stub().Watch(ctx.get(), wr);
  v1::WatchEvent ev;
  int seen = 0;
  while (seen < kWriters && stream->Read(&ev))
    if (ev.has_entry()) ++seen;
  EXPECT_EQ(seen, kWriters);
  ctx->TryCancel();
  stream->Finish();
  for (auto& o : watchers) o.ctx->TryCancel();
  for (auto& o : watchers) o.stream->Finish();
}

TEST_F(ApiBatchTest, ABatchWritesEveryItemInOrderInOneCommit) {
  v1::WriteBatchResponse resp;
  auto s = Batch({ClaimItem("firm1", 5, "c"), ObligationItem("firm2", 7), ReleaseItem("firm1", 3)},
                 &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(resp.results_size(), 3);
  const char* kinds[] = {"claim", "obligation", "release"};
  for (int i = 0; i < 3; ++i) {
    const v1::BatchResult& r = resp.results(i);
    EXPECT_EQ(r.code(), 0u) << r.message();
    EXPECT_EQ(r.entry().seq(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(r.entry().kind(), kinds[i]);
    EXPECT_FALSE(r.replayed());
  }
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 3u);
  EXPECT_EQ(Balance(2, 0), "7");   // firm0 owes firm2 7
  EXPECT_EQ(Balance(0, 1), "-3");  // firm0 released 3 of what firm1 owes it
  testing::ExpectBalancesMatchRecompute(ledger());
}

// Each bad item gets its own code and message naming its index, and
// changes nothing; the good items around it are written, in order.
TEST_F(ApiBatchTest, MixedGoodAndBadItemsEachGetTheirOwnResult) {
  v1::WriteBatchResponse resp;
  const LedgerSnapshot before = Snap(ledger());
  auto s = Batch(
      {
          ClaimItem("firm1", 5, "good"),                    // 0
          ClaimItem("kobe", 5, "unknown firm"),             // 1 NOT_FOUND
          ClaimItem("firm0", 5, "self"),                    // 2 a rule: INVALID_ARGUMENT
          ObligationItem("firm2", 0),                       // 3 zero amount
          v1::BatchItem(),                                  // 4 no write
          ReleaseItem("firm2", 4, "bad id!"),               // 5 malformed request id
          ObligationItem("firm2", 6, "ob-1"),               // 6 good
          ObligationItem("firm2", 9, "ob-1"),               // 7 same id, other content
          ClaimItem("firm1", 5, std::string(10'000, 'm')),  // 8 memo too long
      },
      &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(resp.results_size(), 9);
  auto expect_error = [&](int i, grpc::StatusCode code, const std::string& text) {
    const v1::BatchResult& r = resp.results(i);
    EXPECT_EQ(r.code(), static_cast<uint32_t>(code)) << i << ": " << r.message();
    EXPECT_EQ(r.message().rfind("item " + std::to_string(i) + ": ", 0), 0u) << r.message();
    EXPECT_NE(r.message().find(text), std::string::npos) << r.message();
    EXPECT_FALSE(r.has_entry());
  };
  EXPECT_EQ(resp.results(0).code(), 0u);
  EXPECT_EQ(resp.results(0).entry().seq(), 1u);
  expect_error(1, grpc::StatusCode::NOT_FOUND, "unknown firm 'kobe'");
  expect_error(2, grpc::StatusCode::INVALID_ARGUMENT, "");
  expect_error(3, grpc::StatusCode::INVALID_ARGUMENT, "amount");
  expect_error(4, grpc::StatusCode::INVALID_ARGUMENT, "holds no write");
  expect_error(5, grpc::StatusCode::INVALID_ARGUMENT, "request_id");
  EXPECT_EQ(resp.results(6).code(), 0u) << resp.results(6).message();
  EXPECT_EQ(resp.results(6).entry().seq(), 2u);
  expect_error(7, grpc::StatusCode::ALREADY_EXISTS, "request_id 'ob-1'");
  expect_error(8, grpc::StatusCode::INVALID_ARGUMENT, "memo");
  // Exactly the two good items were written.
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 2u);
  EXPECT_EQ(Balance(2, 0), "6");
  EXPECT_NE(Snap(ledger()), before);
}

// A batch of only bad items is OK as a call and changes nothing.
TEST_F(ApiBatchTest, ABatchOfBadItemsChangesNothing) {
  const LedgerSnapshot before = Snap(ledger());
  v1::WriteBatchResponse resp;
  auto s = Batch({ClaimItem("kobe", 1, ""), ObligationItem("firm1", 0)}, &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(resp.results_size(), 2);
  EXPECT_EQ(resp.results(0).code(), static_cast<uint32_t>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(resp.results(1).code(), static_cast<uint32_t>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(Snap(ledger()), before);
}

TEST_F(ApiBatchTest, AnEmptyOrOversizedBatchIsRefusedWhole) {
  const LedgerSnapshot before = Snap(ledger());
  v1::WriteBatchResponse resp;
  auto s = Batch({}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("no items"), std::string::npos) << Describe(s);
  std::vector<v1::BatchItem> many(kMaxBatchItems + 1, ObligationItem("firm1", 1));
  s = Batch(many, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("more than 1000"), std::string::npos) << Describe(s);
  EXPECT_EQ(Snap(ledger()), before);
  // At the cap it is written whole.
  many.pop_back();
  s = Batch(many, &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, uint64_t{kMaxBatchItems});
}

TEST_F(ApiBatchTest, OnlyTheOperatorWritesBatches) {
  const LedgerSnapshot before = Snap(ledger());
  for (const char* token : {kAuditorToken, kPartner1Token}) {
    v1::WriteBatchResponse resp;
    auto s = Batch({ObligationItem("firm1", 1)}, &resp, nullptr, token);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  }
  EXPECT_EQ(Snap(ledger()), before);
}

TEST_F(ApiBatchTest, ARetriedBatchReturnsTheSameEntries) {
  const std::vector<v1::BatchItem> items = {ClaimItem("firm1", 5, "a", "load:1"),
                                            ObligationItem("firm2", 7, "load:2"),
                                            ReleaseItem("firm1", 3, "load:3")};
  v1::WriteBatchResponse first, again;
  ASSERT_TRUE(Batch(items, &first).ok());
  const LedgerSnapshot after_first = Snap(ledger());
  ASSERT_TRUE(Batch(items, &again).ok());
  ASSERT_EQ(again.results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(again.results(i).code(), 0u) << again.results(i).message();
    EXPECT_TRUE(again.results(i).replayed());
    EXPECT_EQ(again.results(i).entry().id(), first.results(i).entry().id());
  }
  EXPECT_EQ(Snap(ledger()), after_first);
  // A single call with one of the ids is the same request too.
  v1::WriteResponse single;
  auto s = stub().RecordObligation(Ctx(kOperatorToken).get(), items[1].obligation(), &single);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(single.replayed());
  EXPECT_EQ(single.entry().id(), first.results(1).entry().id());
  // The same id twice in one batch: the second is the first's entry.
  v1::WriteBatchResponse twice;
  ASSERT_TRUE(
      Batch({ObligationItem("firm1", 2, "dup"), ObligationItem("firm1", 2, "dup")}, &twice).ok());
  EXPECT_EQ(twice.results(1).entry().id(), twice.results(0).entry().id());
  EXPECT_FALSE(twice.results(0).replayed());
  EXPECT_TRUE(twice.results(1).replayed());
  EXPECT_EQ(ledger().Feed(net.pk(0)).head_seq, 4u);
}

TEST_F(ApiBatchTest, ABatchRetriedAfterARestartWritesNothingNew) {
  testing::TempDir data;
  const std::string db = data.Sub("db");
  const std::vector<v1::BatchItem> items = {ObligationItem("firm1", 10, "r:1"),
                                            ClaimItem("firm2", 4, "x", "r:2")};
  v1::WriteBatchResponse first;
  {
    TestNode n(net, 0, {}, db);
    ASSERT_TRUE(Batch(items, &first, n.stub.get()).ok());
  }
  TestNode n(net, 0, {}, db);
  v1::WriteBatchResponse again;
  // Plus one new item: only it is written.
  std::vector<v1::BatchItem> more = items;
  more.push_back(ReleaseItem("firm2", 1, "r:3"));
  ASSERT_TRUE(Batch(more, &again, n.stub.get()).ok());
  ASSERT_EQ(again.results_size(), 3);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(again.results(i).replayed());
    EXPECT_EQ(again.results(i).entry().id(), first.results(i).entry().id());
  }
  EXPECT_FALSE(again.results(2).replayed());
  EXPECT_EQ(again.results(2).entry().seq(), 3u);
  EXPECT_EQ(n.ledger->Feed(net.pk(0)).head_seq, 3u);
}

TEST_F(ApiBatchTest, ABatchWaitsWhileTheNodeIsNotWritable) {
  node->peers.Set({}, "learning this firm's own head from peers");
  const LedgerSnapshot before = Snap(ledger());
  v1::WriteBatchResponse resp;
  auto s = Batch({ObligationItem("firm1", 1)}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(s);
  EXPECT_EQ(Snap(ledger()), before);
}

}  // namespace
}  // namespace keiretsu::api
