// Reads through the API: status, balances, pending claims, paged entries,
// single entries; what a partner may and may not see.
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <set>

#include "api_fixture.h"
#include "grpc/reflection/v1/reflection.pb.h"

namespace keiretsu::api {
namespace {

using protocol::Claim;

class ApiReadTest : public ApiTest {
 protected:
  v1::ListEntriesResponse List(const std::string& token, const std::string& author, uint32_t limit,
                               const std::string& page = "", grpc::Status* status = nullptr,
                               uint64_t from = 0) {
    v1::ListEntriesRequest req;
    req.set_author(author);
    req.set_limit(limit);
    req.set_page_token(page);
    req.set_from_seq(from);
    v1::ListEntriesResponse resp;
    grpc::Status s = stub().ListEntries(Ctx(token).get(), req, &resp);
    if (status != nullptr)
      *status = s;
    else
      EXPECT_TRUE(s.ok()) << Describe(s);
    return resp;
  }
  grpc::Status Balance(const std::string& token, const std::string& firm, const std::string& other,
                       const std::string& unit, v1::Balance* out) {
    v1::GetBalanceRequest req;
    req.set_firm(firm);
    req.set_counterparty(other);
    req.set_unit(unit);
    return stub().GetBalance(Ctx(token).get(), req, out);
  }
};

TEST_F(ApiReadTest, StatusDescribesTheNode) {
  Put(fb.Next(1, testing::Owe(net.pk(0), 5)));
  node->peers.Set({PeerInfo{net.pk(1), "10.0.0.2:7421", true, 99, 1, 2, 3, 0}}, "");
  v1::GetStatusResponse st;
  ASSERT_TRUE(stub().GetStatus(Ctx(kOperatorToken).get(), {}, &st).ok());
  EXPECT_EQ(st.firm().public_key(), Hex(0));
  EXPECT_EQ(st.firm().name(), "firm0");
  EXPECT_EQ(st.network_id(), net.id().Hex());
  EXPECT_EQ(st.network_name(), "test-keiretsu");
  EXPECT_EQ(st.state_digest(), ledger().StateDigest().Hex());
  ASSERT_EQ(st.feeds_size(), 1);
  EXPECT_EQ(st.feeds(0).firm().name(), "firm1");
  EXPECT_EQ(st.feeds(0).head_seq(), 1u);
  EXPECT_EQ(st.feeds(0).effective_seq(), 1u);
  EXPECT_EQ(st.feeds(0).stopped_at(), 0u);
  EXPECT_TRUE(st.writable());
  EXPECT_EQ(st.version(), "test-version");
  ASSERT_EQ(st.peers_size(), 1);
  EXPECT_EQ(st.peers(0).address(), "10.0.0.2:7421");
  EXPECT_EQ(st.peers(0).firm().name(), "firm1");
  // Partners see the ledger's state, not this firm's peers.
  v1::GetStatusResponse pst;
  ASSERT_TRUE(stub().GetStatus(Ctx(kPartner1Token).get(), {}, &pst).ok());
  EXPECT_EQ(pst.state_digest(), st.state_digest());
  EXPECT_EQ(pst.peers_size(), 0);

  node->peers.Set({}, "learning own head");
  ASSERT_TRUE(stub().GetStatus(Ctx(kOperatorToken).get(), {}, &st).ok());
  EXPECT_FALSE(st.writable());
  EXPECT_EQ(st.write_block_reason(), "learning own head");
}

TEST_F(ApiReadTest, BalancesAndTheirBadInputs) {
  Put(fb.Next(1, testing::Owe(net.pk(0), 5)));
  Put(fb.Next(2, testing::Owe(net.pk(0), 7, "eur")));
  v1::Balance b;
  ASSERT_TRUE(Balance(kOperatorToken, "firm0", "firm1", "hours", &b).ok());
  EXPECT_EQ(b.net(), "5");
  EXPECT_EQ(b.firm().name(), "firm0");
  EXPECT_EQ(b.counterparty().public_key(), Hex(1));
  ASSERT_TRUE(Balance(kOperatorToken, "firm2", "firm0", "eur", &b).ok());
  EXPECT_EQ(b.net(), "-7");
  ASSERT_TRUE(Balance(kOperatorToken, "firm2", "firm1", "eur", &b).ok());
  EXPECT_EQ(b.net(), "0");

  auto s = Balance(kOperatorToken, "firm0", "kobe", "hours", &b);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "unknown firm 'kobe': not a member of network test-keiretsu");
  s = Balance(kOperatorToken, "firm0", "firm0", "hours", &b);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  s = Balance(kOperatorToken, "firm0", "firm1", "", &b);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);

  v1::ListBalancesResponse all;
  ASSERT_TRUE(stub().ListBalances(Ctx(kOperatorToken).get(), {}, &all).ok());  // default: firm0
  ASSERT_EQ(all.balances_size(), 2);
  for (const auto& row : all.balances()) EXPECT_EQ(row.firm().name(), "firm0");
}

TEST_F(ApiReadTest, PartnerSeesOnlyItsOwnPairs) {
  Put(fb.Next(1, testing::Owe(net.pk(0), 5)));
  Put(fb.Next(2, testing::Owe(net.pk(0), 7)));
  v1::Balance b;
  ASSERT_TRUE(Balance(kPartner1Token, "firm0", "firm1", "hours", &b).ok());
  EXPECT_EQ(b.net(), "5");
  auto s = Balance(kPartner1Token, "firm0", "firm2", "hours", &b);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "a partner token for firm1 may only read balances firm1 is a party to");

  v1::ListBalancesResponse rows;
  ASSERT_TRUE(stub().ListBalances(Ctx(kPartner1Token).get(), {}, &rows).ok());
  ASSERT_EQ(rows.balances_size(), 1);  // (firm0, firm1) but not (firm0, firm2)
  EXPECT_EQ(rows.balances(0).counterparty().name(), "firm1");
  v1::ListBalancesRequest of2;
  of2.set_firm("firm2");
  ASSERT_TRUE(stub().ListBalances(Ctx(kPartner1Token).get(), of2, &rows).ok());
  EXPECT_EQ(rows.balances_size(), 0);
}

TEST_F(ApiReadTest, PendingClaimsUntilAnswered) {
  auto c1 = fb.Next(1, Claim{net.pk(0), 10, "hours", "a"});
  auto c2 = fb.Next(2, Claim{net.pk(0), 20, "hours", "b"});
  auto c3 = fb.Next(2, Claim{net.pk(1), 30, "hours", "c"});
  Put(c1);
  Put(c2);
  Put(c3);
  v1::ListPendingClaimsResponse resp;
  ASSERT_TRUE(stub().ListPendingClaims(Ctx(kOperatorToken).get(), {}, &resp).ok());
  ASSERT_EQ(resp.claims_size(), 2);
  std::set<std::string> ids{resp.claims(0).id(), resp.claims(1).id()};
  EXPECT_EQ(ids, (std::set<std::string>{c1.id.Hex(), c2.id.Hex()}));
  // firm1's partner sees the claim firm1 made against firm0, not firm2's.
  ASSERT_TRUE(stub().ListPendingClaims(Ctx(kPartner1Token).get(), {}, &resp).ok());
  ASSERT_EQ(resp.claims_size(), 1);
  EXPECT_EQ(resp.claims(0).id(), c1.id.Hex());

  v1::AcceptRequest acc;
  acc.set_claim_id(c1.id.Hex());
  v1::WriteResponse w;
  ASSERT_TRUE(stub().Accept(Ctx(kOperatorToken).get(), acc, &w).ok());
  ASSERT_TRUE(stub().ListPendingClaims(Ctx(kOperatorToken).get(), {}, &resp).ok());
  ASSERT_EQ(resp.claims_size(), 1);
  EXPECT_EQ(resp.claims(0).id(), c2.id.Hex());
}

TEST_F(ApiReadTest, EntriesArePagedInSeqOrder) {
  std::vector<Bytes> records;
  for (int i = 0; i < 250; ++i)
    records.push_back(fb.Next(1, testing::Owe(net.pk(i % 2 == 0 ? 0 : 2), 1 + i)).record);
  for (const auto& r : ledger().Ingest(records, true))
    ASSERT_EQ(r.outcome, node::Outcome::kApplied);
  std::vector<uint64_t> seqs;
  std::string token;
  int pages = 0;
  do {
    auto page = List(kAuditorToken, "firm1", 100, token);
    for (const auto& e : page.entries()) seqs.push_back(e.seq());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seqs.size(), 250u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);

  auto page = List(kAuditorToken, "firm1", 0);  // default page size
  EXPECT_EQ(page.entries_size(), 100);
  page = List(kAuditorToken, "firm1", 10, "", nullptr, 245);
  EXPECT_EQ(page.entries_size(), 6);
  EXPECT_TRUE(page.next_page_token().empty());
  page = List(kAuditorToken, "firm1", 10, "", nullptr, 999);
  EXPECT_EQ(page.entries_size(), 0);
  EXPECT_TRUE(page.next_page_token().empty());
  // The partner of firm2 reading firm1's feed sees only entries naming firm2.
  page = List(kPartner2Token, "firm1", 1000);
  EXPECT_EQ(page.entries_size(), 125);
  for (const auto& e : page.entries()) EXPECT_EQ(e.counterparty(), Hex(2));
}

TEST_F(ApiReadTest, PageSizeIsClampedToTheMaximum) {
  std::vector<Bytes> records;
  for (int i = 0; i < 1100; ++i) records.push_back(fb.Next(2, testing::Owe(net.pk(0), 1)).record);
  for (const auto& r : ledger().Ingest(records, true))
    ASSERT_EQ(r.outcome, node::Outcome::kApplied);
  auto page = List(kOperatorToken, "firm2", 5000);
  EXPECT_EQ(page.entries_size(), static_cast<int>(kMaxPageSize));
  ASSERT_FALSE(page.next_page_token().empty());
  auto rest = List(kOperatorToken, "firm2", 5000, page.next_page_token());
  EXPECT_EQ(rest.entries_size(), 100);
  EXPECT_EQ(rest.entries(0).seq(), kMaxPageSize + 1);
}

TEST_F(ApiReadTest, BadPageTokensAreRefused) {
  for (int i = 0; i < 3; ++i) Put(fb.Next(1, testing::Owe(net.pk(0), 1)));
  Put(fb.Next(2, testing::Owe(net.pk(0), 1)));
  auto page = List(kOperatorToken, "firm1", 1);
  std::string good = page.next_page_token();
  ASSERT_FALSE(good.empty());
  std::string flipped = good;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  struct Case {
    std::string author, token, message;
  };
  for (const Case& c : std::vector<Case>{
           {"firm1", "not-a-token", "page_token is not a token this API issued"},
           {"firm1", good.substr(2), "page_token is not a token this API issued"},
           {"firm1", flipped, "page_token is damaged or from another network"},
           {"firm2", good, "page_token belongs to the feed of " + net.pk(1).Short()},
       }) {
    grpc::Status s;
    List(kOperatorToken, c.author, 1, c.token, &s);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.token;
    EXPECT_NE(s.error_message().find(c.message), std::string::npos) << Describe(s);
  }
  grpc::Status s;
  List(kOperatorToken, "kobe", 1, "", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ApiReadTest, GetEntryByIdAndPartnerLimits) {
  auto to0 = fb.Next(1, testing::Owe(net.pk(0), 5));
  auto to2 = fb.Next(1, testing::Owe(net.pk(2), 6));
  Put(to0);
  Put(to2);
  v1::GetEntryRequest req;
  req.set_id(to2.id.Hex());
  v1::EntryView e;
  ASSERT_TRUE(stub().GetEntry(Ctx(kAuditorToken).get(), req, &e).ok());
  EXPECT_EQ(e.kind(), "obligation");
  EXPECT_EQ(e.seq(), 2u);
  EXPECT_EQ(e.prev(), to0.id.Hex());
  EXPECT_EQ(e.amount(), 6u);
  EXPECT_EQ(e.author_name(), "firm1");
  EXPECT_EQ(e.timestamp_ms(), to2.entry.timestamp_ms);
  EXPECT_TRUE(e.effective());
  // firm2 is the counterparty; firm1 the author: both partners may read it.
  EXPECT_TRUE(stub().GetEntry(Ctx(kPartner2Token).get(), req, &e).ok());
  EXPECT_TRUE(stub().GetEntry(Ctx(kPartner1Token).get(), req, &e).ok());
  req.set_id(to0.id.Hex());
  auto s = stub().GetEntry(Ctx(kPartner2Token).get(), req, &e);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "a partner token for firm2 may only read entries firm2 is a party to");

  req.set_id(std::string(64, 'c'));
  s = stub().GetEntry(Ctx(kOperatorToken).get(), req, &e);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "no entry cccccccc on this node");
  req.set_id("xyz");
  s = stub().GetEntry(Ctx(kOperatorToken).get(), req, &e);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ApiReadTest, MissingOrWrongTokensAreUnauthenticated) {
  v1::GetStatusResponse st;
  auto s = stub().GetStatus(Ctx("").get(), {}, &st);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("missing bearer token"), std::string::npos);
  s = stub().GetStatus(Ctx("operator-token-0123456780").get(), {}, &st);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "unknown bearer token");
  auto ctx = Ctx("");
  ctx->AddMetadata("authorization", std::string("Basic ") + kOperatorToken);
  s = stub().GetStatus(ctx.get(), {}, &st);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ctx = Ctx("");
  ctx->AddMetadata("authorization", std::string("bearer ") + kOperatorToken);
  EXPECT_TRUE(stub().GetStatus(ctx.get(), {}, &st).ok());  // the scheme is case-insensitive
}

// One request on a reflection stream, spoken as raw bytes to `method` (so the
// v1alpha service, whose protos Debian does not install, can be asked with
// the wire-identical v1 messages). No token is sent: reflection needs none.
grpc::reflection::v1::ServerReflectionResponse AskReflection(
    const std::string& address, const std::string& method,
    const grpc::reflection::v1::ServerReflectionRequest& request) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto call = generic.PrepareCall(&ctx, method, &cq);
  auto step = [&](intptr_t want) {
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), want);
    return ok;
  };
  grpc::reflection::v1::ServerReflectionResponse answer;
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    const std::string bytes = request.SerializeAsString();
    grpc::Slice slice(bytes.data(), bytes.size());
    grpc::ByteBuffer out(&slice, 1);
    call->Write(out, reinterpret_cast<void*>(2));
    EXPECT_TRUE(step(2));
    call->WritesDone(reinterpret_cast<void*>(3));
    EXPECT_TRUE(step(3));
    grpc::ByteBuffer in;
    call->Read(&in, reinterpret_cast<void*>(4));
    EXPECT_TRUE(step(4));
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(5));
    step(5);
    EXPECT_TRUE(status.ok()) << Describe(status);
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(in.Dump(&slices).ok());
    std::string reply;
    for (const auto& sl : slices)
      reply.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    EXPECT_TRUE(answer.ParseFromString(reply));
  }
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  return answer;
}

constexpr const char* kReflectionV1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
constexpr const char* kReflectionV1Alpha =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

// The names of the files in a file_descriptor_response, in order.
std::vector<std::string> FileNames(const grpc::reflection::v1::ServerReflectionResponse& r) {
  std::vector<std::string> names;
  for (const auto& bytes : r.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    EXPECT_TRUE(file.ParseFromString(bytes));
    names.push_back(file.name());
  }
  return names;
}

// Both reflection versions answer without a token and list the services.
TEST_F(ApiReadTest, ReflectionListsTheServicesInBothVersions) {
  grpc::reflection::v1::ServerReflectionRequest req;
  req.set_list_services("");
  for (const char* method : {kReflectionV1, kReflectionV1Alpha}) {
    auto r = AskReflection(node->server->address(), method, req);
    ASSERT_TRUE(r.has_list_services_response()) << method << ": " << r.DebugString();
    std::set<std::string> names;
    for (const auto& s : r.list_services_response().service()) names.insert(s.name());
    EXPECT_TRUE(names.count("keiretsu.v1.Ledger")) << method;
    EXPECT_TRUE(names.count("grpc.health.v1.Health")) << method;
  }
}

// Every listed service resolves to its file in both versions, the health
// service included, with the files it imports.
TEST_F(ApiReadTest, ReflectionResolvesTheLedgerAndHealthServices) {
  for (const char* method : {kReflectionV1, kReflectionV1Alpha}) {
    grpc::reflection::v1::ServerReflectionRequest req;
    req.set_file_containing_symbol("grpc.health.v1.Health");
    auto names = FileNames(AskReflection(node->server->address(), method, req));
    ASSERT_FALSE(names.empty()) << method;
    EXPECT_EQ(names.front(), "grpc/health/v1/health.proto") << method;

    req.set_file_containing_symbol("keiretsu.v1.Ledger");
    names = FileNames(AskReflection(node->server->address(), method, req));
    ASSERT_FALSE(names.empty()) << method;
    EXPECT_EQ(names.front(), "keiretsu/v1/api.proto") << method;
    EXPECT_NE(std::find(names.begin(), names.end(), "keiretsu/v1/ledger.proto"), names.end())
        << method << ": api.proto's import is sent with it";
  }
  grpc::reflection::v1::ServerReflectionRequest by_name;
  by_name.set_file_by_filename("keiretsu/v1/ledger.proto");
  auto names = FileNames(AskReflection(node->server->address(), kReflectionV1, by_name));
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "keiretsu/v1/ledger.proto");
}

TEST_F(ApiReadTest, ReflectionV1SaysNotFoundForAnUnknownSymbol) {
  grpc::reflection::v1::ServerReflectionRequest req;
  req.set_file_containing_symbol("keiretsu.v1.NoSuchService");
  auto r = AskReflection(node->server->address(), kReflectionV1, req);
  ASSERT_TRUE(r.has_error_response()) << r.DebugString();
  EXPECT_EQ(r.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(r.error_response().error_message(), "no symbol named 'keiretsu.v1.NoSuchService'");
  EXPECT_EQ(r.original_request().file_containing_symbol(), "keiretsu.v1.NoSuchService");
}

TEST_F(ApiReadTest, ReflectionV1RefusesARequestThatAsksNothing) {
  auto r = AskReflection(node->server->address(), kReflectionV1, {});
  ASSERT_TRUE(r.has_error_response()) << r.DebugString();
  EXPECT_EQ(r.error_response().error_code(), static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
}

}  // namespace
}  // namespace keiretsu::api
