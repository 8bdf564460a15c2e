// The export file format: framing round-trips, damage is refused, and
// `keiretsu import` of a damaged file fails before contacting the node.
#include "export_file.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli_run.h"
#include "test_network.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;

std::vector<v1::ExportChunk> SampleChunks() {
  std::vector<v1::ExportChunk> chunks(3);
  chunks[0].mutable_header()->set_format_version(1);
  chunks[0].mutable_header()->mutable_genesis()->set_canonical(std::string("\x01\x00g", 3));
  chunks[0].mutable_header()->set_exported_by(std::string(64, 'b'));
  chunks[1].mutable_entry()->set_record(std::string(300, '\x07'));
  chunks[2].mutable_evidence()->set_kind(v1::Evidence::KIND_FORK);
  chunks[2].mutable_evidence()->set_seq(9);
  return chunks;
}

std::string Encode(const std::vector<v1::ExportChunk>& chunks) {
  std::ostringstream out;
  for (const auto& c : chunks) EXPECT_TRUE(WriteExportChunk(out, c).ok());
  return out.str();
}

TEST(ExportFileTest, FramesAreABigEndianLengthThenTheMessage) {
  v1::ExportChunk c;
  c.mutable_entry()->set_record(std::string(300, 'x'));
  std::string body = c.SerializeAsString();
  std::string framed = Encode({c});
  ASSERT_EQ(framed.size(), 4 + body.size());
  uint32_t n = body.size();
  EXPECT_EQ(static_cast<uint8_t>(framed[0]), (n >> 24) & 0xff);
  EXPECT_EQ(static_cast<uint8_t>(framed[1]), (n >> 16) & 0xff);
  EXPECT_EQ(static_cast<uint8_t>(framed[2]), (n >> 8) & 0xff);
  EXPECT_EQ(static_cast<uint8_t>(framed[3]), n & 0xff);
  EXPECT_EQ(framed.substr(4), body);
}

TEST(ExportFileTest, RoundTripsInOrderAndEndsCleanly) {
  auto chunks = SampleChunks();
  std::istringstream in(Encode(chunks));
  for (size_t i = 0; i < chunks.size(); ++i) {
    v1::ExportChunk got;
    auto more = ReadExportChunk(in, &got, i);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    ASSERT_TRUE(*more);
    EXPECT_EQ(got.SerializeAsString(), chunks[i].SerializeAsString());
  }
  v1::ExportChunk end;
  auto more = ReadExportChunk(in, &end, chunks.size());
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(ExportFileTest, DamageIsRefused) {
  std::string good = Encode(SampleChunks());
  const std::vector<std::pair<std::string, std::string>> bad = {
      {good.substr(0, 2), "length prefix"},                 // cut inside a length
      {good.substr(0, good.size() - 1), "inside a chunk"},  // cut inside a body
      {std::string("\x7f\xff\xff\xff", 4) + "abc", "above the limit"},
      {std::string("\x00\x00\x00\x03", 4) + "\xff\xff\xff", "not a valid ExportChunk"},
  };
  for (const auto& [bytes, says] : bad) {
    std::istringstream in(bytes);
    v1::ExportChunk c;
    Status st;
    for (size_t i = 0; st.ok(); ++i) {
      auto more = ReadExportChunk(in, &c, i);
      if (!more.ok())
        st = more.status();
      else if (!*more)
        break;
    }
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << says;
    EXPECT_NE(st.message().find(says), std::string::npos) << st.message();
  }
}

TEST(ExportFileTest, ImportChecksTheWholeFileBeforeCallingTheNode) {
  testing::ClearNodeEnv();
  keiretsu::testing::TempDir dir;
  std::string good = Encode(SampleChunks());
  auto entry_only = SampleChunks();
  entry_only.erase(entry_only.begin());
  auto two_headers = SampleChunks();
  two_headers.push_back(two_headers.front());
  const std::vector<std::pair<std::string, std::string>> files = {
      {good.substr(0, good.size() - 5), "truncated"},
      {"", "empty"},
      {Encode(entry_only), "does not start with a header"},
      {Encode(two_headers), "second header"},
      {"plain text, not an export\n", "not a keiretsu export"},
  };
  for (const auto& [bytes, says] : files) {
    std::string path = dir.Sub("x.export");
    testing::WriteFile(path, bytes);
    // Port 1 refuses connections: reaching the node would exit 5, not 4.
    auto r = testing::RunKeiretsu({"import", path, "--node", "127.0.0.1:1", "--token", "t"});
    EXPECT_EQ(r.code, kExitInvalid) << says << ": " << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  }
  auto missing = testing::RunKeiretsu({"import", dir.Sub("none"), "--node", "127.0.0.1:1"});
  EXPECT_EQ(missing.code, kExitNotFound) << missing.err;
}

TEST(ExportFileTest, ExportRefusesToOverwriteWithoutForce) {
  testing::ClearNodeEnv();
  keiretsu::testing::TempDir dir;
  std::string path = dir.Sub("x.export");
  testing::WriteFile(path, "keep");
  auto r = testing::RunKeiretsu({"export", "--out", path, "--node", "127.0.0.1:1"});
  EXPECT_EQ(r.code, kExitInvalid) << r.err;
  EXPECT_EQ(testing::ReadFile(path), "keep");
  // With --force the node is contacted (and is not there); the file stays.
  auto forced = testing::RunKeiretsu({"export", "--out", path, "--force", "--node", "127.0.0.1:1"});
  EXPECT_EQ(forced.code, kExitUnavailable) << forced.err;
  EXPECT_EQ(testing::ReadFile(path), "keep");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);  // no partial file left behind
}

}  // namespace
}  // namespace keiretsu::cli
