// Requests as raw bytes from a real gRPC client: malformed protobuf, strings
// that are not UTF-8, fields sent twice, and an Import stream with a chunk
// that does not parse. Each is INVALID_ARGUMENT with a message naming what
// is wrong, and changes nothing it should not.
#include <grpcpp/generic/generic_stub.h>

#include <future>

#include "api_fixture.h"
#include "keiretsu/proto/strict_parse.h"

namespace keiretsu::api {
namespace {

grpc::ByteBuffer Buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// A length-delimited field (wire type 2) by hand.
std::string LenField(int number, const std::string& value) {
  std::string out;
  out.push_back(static_cast<char>((number << 3) | 2));
  out.push_back(static_cast<char>(value.size()));  // < 128 in these tests
  return out + value;
}
std::string VarintField(int number, uint8_t value) {
  return std::string{static_cast<char>(number << 3), static_cast<char>(value)};
}

class ApiWireTest : public ApiTest {
 protected:
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(node->server->address(), grpc::InsecureChannelCredentials());

  // Sends `bytes` as the request of unary method `name`.
  grpc::Status RawUnary(const std::string& name, const std::string& bytes,
                        std::string* response = nullptr) {
    grpc::GenericStub generic(channel);
    auto ctx = Ctx(kOperatorToken);
    grpc::ByteBuffer req = Buffer(bytes), resp;
    std::promise<grpc::Status> done;
    generic.UnaryCall(ctx.get(), "/keiretsu.v1.Ledger/" + name, grpc::StubOptions(), &req, &resp,
                      [&](grpc::Status s) { done.set_value(std::move(s)); });
    grpc::Status s = done.get_future().get();
    if (s.ok() && response != nullptr) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(resp.Dump(&slices).ok());
      response->clear();
      for (const auto& sl : slices)
        response->append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
    return s;
  }

  // A claim request, well formed, against firm1.
  static std::string GoodClaim(const std::string& memo) {
    return LenField(1, "firm1") + VarintField(2, 5) + LenField(3, "hours") + LenField(4, memo);
  }
};

TEST_F(ApiWireTest, AWellFormedRawRequestIsServed) {
  std::string out;
  auto s = RawUnary("Claim", GoodClaim("ok"), &out);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::WriteResponse resp;
  ASSERT_TRUE(resp.ParseFromString(out));
  EXPECT_EQ(resp.entry().kind(), "claim");
  EXPECT_EQ(resp.entry().memo(), "ok");
}

TEST_F(ApiWireTest, AStringThatIsNotUtf8IsInvalidArgumentNamingTheField) {
  auto before = Snap(ledger());
  auto s = RawUnary("Claim", GoodClaim("bad \xff\xfe"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("keiretsu.v1.ClaimRequest"), std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find("field memo (4) is not valid UTF-8"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(Snap(ledger()), before);
}

TEST_F(ApiWireTest, MalformedProtobufIsInvalidArgumentWithAMessage) {
  auto before = Snap(ledger());
  // Field 1 announces 16 bytes and carries 2.
  auto s = RawUnary("Claim", std::string("\x0a\x10", 2) + "ab");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("field debtor (1) is truncated"), std::string::npos)
      << s.error_message();
  // A tag of field number 0.
  s = RawUnary("GetStatus", std::string("\x00\x01", 2));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_FALSE(s.error_message().empty());
  EXPECT_EQ(Snap(ledger()), before);
}

TEST_F(ApiWireTest, AFieldSentTwiceIsRefusedRatherThanLastOneWins) {
  auto before = Snap(ledger());
  auto s = RawUnary("Claim", GoodClaim("first") + LenField(1, "firm2"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("field debtor (1) appears more than once"), std::string::npos)
      << s.error_message();
  // A field sent with another wire type than declared (amount as bytes).
  s = RawUnary("Claim", LenField(1, "firm1") + LenField(2, "x") + LenField(3, "hours"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("field amount (2) has the wrong wire type"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(Snap(ledger()), before);
}

// GetBalance is served as a raw callback method (service_calls.cc,
// InlineUnary), no longer through the streamed handler: its requests are
// parsed as strictly as before, and a well-formed one is answered.
TEST_F(ApiWireTest, ARawGetBalanceRequestIsServed) {
  Put(fb.Next(1, testing::Owe(net.pk(0), 5)));
  std::string out;
  auto s = RawUnary("GetBalance",
                    LenField(1, "firm0") + LenField(2, "firm1") + LenField(3, "hours"), &out);
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::Balance resp;
  ASSERT_TRUE(resp.ParseFromString(out));
  EXPECT_EQ(resp.firm().name(), "firm0");
  EXPECT_EQ(resp.counterparty().name(), "firm1");
  EXPECT_EQ(resp.unit(), "hours");
  EXPECT_EQ(resp.net(), "5");
}

TEST_F(ApiWireTest, AGetBalanceUnitThatIsNotUtf8IsInvalidArgumentNamingTheField) {
  auto s = RawUnary("GetBalance",
                    LenField(1, "firm0") + LenField(2, "firm1") + LenField(3, "h\xc0\x80"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("keiretsu.v1.GetBalanceRequest"), std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find("field unit (3) is not valid UTF-8"), std::string::npos)
      << s.error_message();
}

TEST_F(ApiWireTest, AGetBalanceFieldSentTwiceIsRefused) {
  auto s = RawUnary("GetBalance", LenField(1, "firm0") + LenField(2, "firm1") +
                                      LenField(3, "hours") + LenField(2, "firm2"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("field counterparty (2) appears more than once"),
            std::string::npos)
      << s.error_message();
}

TEST_F(ApiWireTest, AGetBalanceOfAnUnknownFirmIsNotFoundFromTheCallbackHandler) {
  auto s =
      RawUnary("GetBalance", LenField(1, "firm0") + LenField(2, "nobody") + LenField(3, "hours"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_NE(s.error_message().find("unknown firm 'nobody'"), std::string::npos)
      << s.error_message();
}

TEST_F(ApiWireTest, ServerStreamingRequestsAreParsedStrictlyToo) {
  grpc::GenericStub generic(channel);
  auto ctx = Ctx(kOperatorToken);
  // Watch's cursor (field 1) as invalid UTF-8, sent through the raw
  // streaming interface the way any client's bytes arrive.
  auto call = grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
      channel.get(),
      grpc::internal::RpcMethod("/keiretsu.v1.Ledger/Watch",
                                grpc::internal::RpcMethod::SERVER_STREAMING),
      ctx.get(), Buffer(LenField(1, "\xc0\x80")));
  grpc::ByteBuffer ignored;
  EXPECT_FALSE(call->Read(&ignored));
  auto s = call->Finish();
  delete call;
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("field cursor (1) is not valid UTF-8"), std::string::npos)
      << s.error_message();
}

// Before: the typed reader took a chunk that did not parse for the end of
// the stream, and Import answered OK having silently dropped the rest.
TEST_F(ApiWireTest, ImportStopsAtAChunkThatDoesNotParseAndSaysWhatItApplied) {
  std::vector<protocol::SignedEntry> feed;
  for (uint64_t i = 1; i <= 3; ++i)
    feed.push_back(fb.Next(1, protocol::Obligation{net.pk(0), i, "hours", ""}));
  v1::ExportChunk header;
  header.mutable_header()->set_format_version(1);
  const auto& canonical = ledger().genesis().canonical_bytes();
  header.mutable_header()->mutable_genesis()->set_canonical(canonical.data(), canonical.size());
  auto entry_chunk = [](const protocol::SignedEntry& e) {
    v1::ExportChunk c;
    c.mutable_entry()->set_record(e.record.data(), e.record.size());
    return c.SerializeAsString();
  };
  grpc::ByteBuffer out;
  auto ctx = Ctx(kOperatorToken);
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer(
      grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(
          channel.get(),
          grpc::internal::RpcMethod("/keiretsu.v1.Ledger/Import",
                                    grpc::internal::RpcMethod::CLIENT_STREAMING),
          ctx.get(), &out));
  ASSERT_TRUE(writer->Write(Buffer(header.SerializeAsString())));
  ASSERT_TRUE(writer->Write(Buffer(entry_chunk(feed[0]))));
  ASSERT_TRUE(writer->Write(Buffer(entry_chunk(feed[1]))));
  // Chunk 4: an entry chunk cut short.
  std::string cut = entry_chunk(feed[2]);
  writer->Write(Buffer(cut.substr(0, cut.size() / 2)));
  writer->Write(Buffer(entry_chunk(feed[2])));
  writer->WritesDone();
  auto s = writer->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("import stopped at chunk 4: keiretsu.v1.ExportChunk"),
            std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find("2 applied"), std::string::npos) << s.error_message();
  // What came before the bad chunk was ingested; nothing after it was.
  EXPECT_EQ(ledger().Feed(net.pk(1)).head_seq, 2u);
}

TEST_F(ApiWireTest, ErrorMessagesEchoInputEscapedOnOneLineAndBounded) {
  v1::ClaimRequest req;
  req.set_debtor("kobe\nINFO forged log line\r\x1b[31m'\\");
  req.set_amount(5);
  req.set_unit("hours");
  v1::WriteResponse resp;
  auto s = stub().Claim(Ctx(kOperatorToken).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_EQ(s.error_message(),
            "unknown firm 'kobe\\nINFO forged log line\\r\\x1b[31m\\'\\\\': not a member of "
            "network test-keiretsu");
  req.set_debtor(std::string(5000, 'x'));
  s = stub().Claim(Ctx(kOperatorToken).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_LT(s.error_message().size(), 200u) << s.error_message();
  EXPECT_NE(s.error_message().find("... (5000 bytes)"), std::string::npos) << s.error_message();
  // A Watch cursor is echoed the same way.
  auto ctx = Ctx(kOperatorToken);
  v1::WatchRequest w;
  w.set_cursor("1\n2");
  auto stream = stub().Watch(ctx.get(), w);
  v1::WatchEvent ev;
  EXPECT_FALSE(stream->Read(&ev));
  s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(s.error_message().find('\n'), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("'1\\n2'"), std::string::npos) << s.error_message();
}

// The strict parser on its own, for what the server cases above do not reach.
TEST(StrictParse, RefusesTwoMembersOfAOneofAndNamesNestedPaths) {
  v1::ExportChunk c;
  // entry (2) then evidence (3): two members of oneof item.
  std::string two = LenField(2, "") + LenField(3, "");
  Status s = proto::ParseStrict(two, &c);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("more than one member of oneof item"), std::string::npos)
      << s.message();
  // evidence.reason (field 7 of Evidence? named by the descriptor) sent twice.
  const auto* reason = v1::Evidence::descriptor()->FindFieldByName("reason");
  ASSERT_NE(reason, nullptr);
  std::string ev = LenField(reason->number(), "a") + LenField(reason->number(), "b");
  s = proto::ParseStrict(LenField(3, ev), &c);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("(in evidence): field reason"), std::string::npos) << s.message();
  // Unknown fields: ignored by default, refused when asked.
  std::string unknown = VarintField(15, 1);
  EXPECT_TRUE(proto::ParseStrict(unknown, &c).ok());
  proto::StrictOptions strict;
  strict.allow_unknown_fields = false;
  EXPECT_EQ(proto::ParseStrict(unknown, &c, strict).code(), Code::kInvalidArgument);
}

TEST(StrictParse, Utf8ValidationRefusesOverlongSurrogatesAndOutOfRange) {
  EXPECT_TRUE(proto::IsValidUtf8("plain ascii"));
  EXPECT_TRUE(proto::IsValidUtf8("\xe6\x97\xa5\xe6\x9c\xac"));  // 日本
  EXPECT_TRUE(proto::IsValidUtf8("\xf0\x9f\x98\x80"));          // U+1F600
  EXPECT_FALSE(proto::IsValidUtf8("\xc0\x80"));                 // overlong NUL
  EXPECT_FALSE(proto::IsValidUtf8("\xed\xa0\x80"));             // surrogate D800
  EXPECT_FALSE(proto::IsValidUtf8("\xf4\x90\x80\x80"));         // above U+10FFFF
  EXPECT_FALSE(proto::IsValidUtf8("\xe6\x97"));                 // cut short
  EXPECT_FALSE(proto::IsValidUtf8("\x80"));                     // lone continuation
}

}  // namespace
}  // namespace keiretsu::api
