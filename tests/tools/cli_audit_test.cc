// `keiretsu export` (sealed by default), `keiretsu checkpoint` and
// `keiretsu audit` against a real API server in-process (tests/api's
// fixture): a clean export audits with exit 0, a tampered one with 1, and
// the checkpoint files the CLI writes are ones the auditor reads.
#include <gtest/gtest.h>

#include <filesystem>

#include "api_fixture.h"
#include "cli_run.h"
#include "export_file.h"
#include "keiretsu/protocol/checkpoint.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;
using api::kAuditorToken;
using api::kOperatorToken;
using testing::ReadFile;
using testing::RunKeiretsu;
using testing::WriteFile;

class CliAuditTest : public api::ApiTest {
 protected:
  void SetUp() override {
    testing::ClearNodeEnv();
    for (int i = 0; i < 20; ++i) Put(fb.Next(1, keiretsu::testing::Owe(net.pk(2), 1 + i)));
    for (int i = 0; i < 5; ++i) Put(fb.Next(2, keiretsu::testing::Owe(net.pk(0), 3 + i)));
  }
  // The CLI against the fixture's node with `token`.
  testing::Ran Keiretsu(std::vector<std::string> args, const char* token = kAuditorToken) {
    args.insert(args.end(), {"--node", node->server->address(), "--token", token});
    return RunKeiretsu(std::move(args));
  }
  std::string Path(const std::string& name) { return dir.Sub(name); }
  // The chunks of an export file, in order.
  static std::vector<v1::ExportChunk> Chunks(const std::string& data) {
    std::istringstream in(data);
    std::vector<v1::ExportChunk> out;
    v1::ExportChunk c;
    for (;;) {
      auto more = ReadExportChunk(in, &c, out.size());
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) return out;
      out.push_back(c);
    }
  }

  keiretsu::testing::TempDir dir;
};

TEST_F(CliAuditTest, ExportIsSealedByDefaultAndAuditsClean) {
  std::string file = Path("clean.export");
  auto r = Keiretsu({"export", "--out", file});
  ASSERT_EQ(r.code, 0) << r.err;
  auto chunks = Chunks(ReadFile(file));
  ASSERT_GE(chunks.size(), 27u);  // header, 25 entries, seal
  EXPECT_TRUE(chunks.back().has_checkpoint());
  EXPECT_NE(r.err.find("1 checkpoint(s)"), std::string::npos) << r.err;

  r = RunKeiretsu({"audit", file, "-q"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("VERIFIED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(ledger().StateDigest().Hex()), std::string::npos) << r.out;

  r = RunKeiretsu({"audit", file, "-q", "--json"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"result\": \"verified\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"sealed\": true"), std::string::npos) << r.out;

  // `--checkpoint` is still accepted, and means the default.
  std::string again = Path("again.export");
  ASSERT_EQ(Keiretsu({"export", "--checkpoint", "--out", again}).code, 0);
  EXPECT_TRUE(Chunks(ReadFile(again)).back().has_checkpoint());
}

TEST_F(CliAuditTest, TamperedOrUnsealedExportsFailTheAudit) {
  std::string file = Path("clean.export");
  ASSERT_EQ(Keiretsu({"export", "--out", file}).code, 0);
  std::string data = ReadFile(file);
  auto chunks = Chunks(data);
  // One byte of the first entry's signature (a record ends with it; the
  // record ends its frame) flipped.
  size_t offset = 0;
  for (const auto& c : chunks) {
    offset += 4 + c.ByteSizeLong();
    if (c.has_entry()) break;
  }
  std::string bad = data;
  bad[offset - 10] = static_cast<char>(bad[offset - 10] ^ 0x01);
  std::string tampered = Path("tampered.export");
  WriteFile(tampered, bad);
  auto r = RunKeiretsu({"audit", tampered, "-q"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("bad-signature"), std::string::npos) << r.out;

  // Cut at a frame boundary (the seal dropped): refused as unsealed,
  // accepted only when the auditor is told to.
  std::string cut = data.substr(0, data.size() - (4 + chunks.back().ByteSizeLong()));
  std::string unsealed = Path("cut.export");
  WriteFile(unsealed, cut);
  r = RunKeiretsu({"audit", unsealed, "-q"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("unsealed"), std::string::npos) << r.out;
  EXPECT_EQ(RunKeiretsu({"audit", unsealed, "-q", "--allow-unsealed"}).code, 0);

  std::string plain = Path("plain.export");
  ASSERT_EQ(Keiretsu({"export", "--no-checkpoint", "--out", plain}).code, 0);
  EXPECT_FALSE(Chunks(ReadFile(plain)).back().has_checkpoint());
  EXPECT_EQ(RunKeiretsu({"audit", plain, "-q"}).code, 1);
}

TEST_F(CliAuditTest, CheckpointFilesAreReadByTheAuditor) {
  std::string bin = Path("cp.bin");
  auto r = Keiretsu({"checkpoint", "--out", bin});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(ledger().StateDigest().Hex()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(net.pk(0).Hex()), std::string::npos) << r.out;  // the signer
  v1::Checkpoint cp;
  ASSERT_TRUE(cp.ParseFromString(ReadFile(bin)));
  PublicKey signer;
  ASSERT_EQ(cp.signer().size(), 32u);
  std::copy(cp.signer().begin(), cp.signer().end(), signer.bytes.begin());
  auto v = protocol::VerifyCheckpoint(AsBytes(cp.statement()), signer, AsBytes(cp.signature()),
                                      net.genesis);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->state_digest, ledger().StateDigest());

  // --json prints the message itself: saved, it is a checkpoint file too.
  r = Keiretsu({"checkpoint", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string json = Path("cp.json");
  WriteFile(json, r.out);

  std::string file = Path("x.export");
  ASSERT_EQ(Keiretsu({"export", "--out", file}).code, 0);
  r = RunKeiretsu({"audit", file, "-q", "--checkpoint", bin, "--checkpoint", json});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(bin), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(json), std::string::npos) << r.out;

  // A checkpoint file that is not one fails the audit, naming the file.
  std::string junk = Path("junk.cp");
  WriteFile(junk, "not a checkpoint");
  r = RunKeiretsu({"audit", file, "-q", "--checkpoint", junk});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(junk), std::string::npos) << r.out;
}

TEST_F(CliAuditTest, BadInputIsRefusedAndChangesNothing) {
  std::string bin = Path("cp.bin");
  WriteFile(bin, "keep me");
  auto r = Keiretsu({"checkpoint", "--out", bin});
  EXPECT_EQ(r.code, kExitInvalid) << r.err;
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(bin), "keep me");
  ASSERT_EQ(Keiretsu({"checkpoint", "--out", bin, "--force"}).code, 0);
  EXPECT_NE(ReadFile(bin), "keep me");

  // A wrong token: no checkpoint, no file.
  std::string none = Path("none.bin");
  r = Keiretsu({"checkpoint", "--out", none}, "wrong-token-0123456789");
  EXPECT_EQ(r.code, kExitDenied) << r.err;
  EXPECT_FALSE(std::filesystem::exists(none));

  // `audit` keeps the auditor's statuses: a bad command line or a missing
  // input is "could not audit" (2), never 1 ("failed verification").
  EXPECT_EQ(RunKeiretsu({"audit"}).code, 2);
  EXPECT_EQ(RunKeiretsu({"audit", Path("x.export"), "--no-such-flag"}).code, 2);
  r = RunKeiretsu({"audit", Path("missing.export"), "-q"});
  EXPECT_EQ(r.code, 2) << r.out;
}

}  // namespace
}  // namespace keiretsu::cli
