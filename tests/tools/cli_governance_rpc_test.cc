// The governance commands against a real API server in-process: one node
// (firm1) of a three-founder version-2 network, threshold 2 (tests/support
// gov_network.h), the other founders' entries ingested as if replicated.
// members, proposals, propose, vote, leave and rotate, as tables and JSON,
// and the node's refusals reaching the user as one line that changed
// nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>

#include "api_fixture.h"
#include "cli_run.h"
#include "gov_network.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/node/identity.h"
#include "keiretsu/protocol/governance.h"
#include "temp_dir.h"

namespace keiretsu::cli {
namespace {

namespace fs = std::filesystem;
using api::kOperatorToken;
using keiretsu::testing::DigestOfKey;
using keiretsu::testing::GovFirm;
using keiretsu::testing::GovLedgerKey;
using keiretsu::testing::SignAs;
using testing::RunKeiretsu;

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0xffff;
  return st.st_mode & 07777;
}

// The first "id":"<64 hex>" of a JSON line.
std::string FirstId(const std::string& json) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"id\":\"([0-9a-f]{64})\""))) return "";
  return m[1];
}

class CliGovernanceRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ClearNodeEnv();
    key_file_ = dir_.Sub("firm1.key");
    ASSERT_TRUE(crypto::WriteKeyFile(key_file_, GovLedgerKey(1)).ok());
    ledger_ = keiretsu::testing::OpenGovLedger(net_, dir_.Sub("db"));
    identity_ = std::make_shared<node::Identity>(GovLedgerKey(1));
    api::ApiServerOptions options;
    options.listen = "127.0.0.1:0";
    options.key_file = key_file_;
    options.tokens = {{kOperatorToken, api::Role::kOperator, std::nullopt, "operator"}};
    auto s = api::ApiServer::Start(*ledger_, identity_, std::make_shared<api::WatchHub>(), &peers_,
                                   std::move(options));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::milliseconds(0));
  }

  testing::Ran Keiretsu(std::vector<std::string> args) {
    args.insert(args.end(), {"--node", server_->address(), "--token", kOperatorToken});
    return RunKeiretsu(std::move(args));
  }
  GovFirm& F(int i) { return net_.founders[static_cast<size_t>(i)]; }  // F(0) is this node
  void Put(const protocol::SignedEntry& e) {
    auto r = ledger_->Ingest(std::span(&e.record, 1), true);
    ASSERT_EQ(r.at(0).outcome, node::Outcome::kApplied) << r.at(0).status.ToString();
  }
  // Writes firm2's vote for proposal `id` of epoch 0, round 0.
  void Firm2VotesFor(const std::string& id) {
    Put(SignAs(net_, F(1),
               protocol::Vote{protocol::GenesisEpochHash(net_.id()), 0, *EntryId::FromHex(id)}));
  }
  std::string NextKeyFile(uint32_t index, const std::string& name) {
    std::string path = dir_.Sub(name);
    EXPECT_TRUE(crypto::WriteKeyFile(path, GovLedgerKey(index)).ok());
    return path;
  }

  keiretsu::testing::GovNet net_ = keiretsu::testing::MakeGovNet(3, 2);
  keiretsu::testing::TempDir dir_;
  std::string key_file_;
  std::unique_ptr<node::Ledger> ledger_;
  std::shared_ptr<node::Identity> identity_;
  api::FakePeers peers_;  // writable unless a test sets a reason
  std::unique_ptr<api::ApiServer> server_;
};

TEST_F(CliGovernanceRpcTest, MembersShowsTheEpochThresholdAndEveryFounder) {
  auto r = Keiretsu({"members"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("epoch 0 ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 active members, threshold 2"), std::string::npos) << r.out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(r.out.find(F(i).name), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(DigestOfKey(F(i).next_index).Short()), std::string::npos) << r.out;
  }
  EXPECT_EQ(r.out.find("(rotated)"), std::string::npos);
  auto j = Keiretsu({"members", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_NE(j.out.find("\"threshold\":2"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"status\":\"active\""), std::string::npos) << j.out;
}

TEST_F(CliGovernanceRpcTest, ProposeVoteAndTheProposalPassing) {
  auto p = Keiretsu({"propose", "threshold", "3", "--memo", "all of us", "--json"});
  ASSERT_EQ(p.code, 0) << p.err;
  const std::string id = FirstId(p.out);
  ASSERT_EQ(id.size(), 64u) << p.out;

  auto pending = Keiretsu({"proposals"});
  ASSERT_EQ(pending.code, 0) << pending.err;
  EXPECT_NE(pending.out.find(id), std::string::npos) << pending.out;
  EXPECT_NE(pending.out.find("pending"), std::string::npos) << pending.out;
  EXPECT_NE(pending.out.find("set-threshold"), std::string::npos) << pending.out;
  EXPECT_NE(pending.out.find("not voted:"), std::string::npos) << pending.out;

  auto v = Keiretsu({"vote", id, "--yes"});
  ASSERT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("voted yes for proposal " + id.substr(0, 8)), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("1 vote, pending"), std::string::npos) << v.out;

  Firm2VotesFor(id);
  auto passed = Keiretsu({"proposals", "--state", "passed", "--json"});
  ASSERT_EQ(passed.code, 0) << passed.err;
  EXPECT_NE(passed.out.find(id), std::string::npos) << passed.out;
  auto none = Keiretsu({"proposals", "--state", "pending"});
  EXPECT_NE(none.out.find("no proposals"), std::string::npos) << none.out;
  auto m = Keiretsu({"members"});
  EXPECT_NE(m.out.find("epoch 1 ("), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("threshold 3"), std::string::npos) << m.out;
}

TEST_F(CliGovernanceRpcTest, ProposeAdmitNamesTheFirmAndItsKey) {
  std::string key = GovLedgerKey(4).public_key().Hex();
  auto p = Keiretsu({"propose", "admit", "firm4", "--key", key, "--next-digest",
                     DigestOfKey(104).Hex(), "--threshold", "3"});
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NE(p.out.find("proposed: admit firm4 (" + key.substr(0, 8) + ")"), std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("members vote for it with:  keiretsu vote "), std::string::npos) << p.out;
  auto list = Keiretsu({"proposals"});
  EXPECT_NE(list.out.find("admit firm4 (" + key.substr(0, 8) + ")"), std::string::npos) << list.out;
}

TEST_F(CliGovernanceRpcTest, AThresholdTheNodeRefusesIsOneLineAndWritesNothing) {
  // 2 of the 4 members after the admission is not above half.
  auto before = ledger_->StateDigest();
  auto p = Keiretsu({"propose", "admit", "firm4", "--key", GovLedgerKey(4).public_key().Hex(),
                     "--next-digest", DigestOfKey(104).Hex()});
  EXPECT_EQ(p.code, kExitInvalid) << p.err;
  EXPECT_TRUE(p.OneErrorLine()) << p.err;
  EXPECT_NE(p.err.find("INVALID_ARGUMENT"), std::string::npos) << p.err;
  EXPECT_EQ(ledger_->StateDigest(), before);
  EXPECT_NE(Keiretsu({"proposals"}).out.find("no proposals"), std::string::npos);
}

TEST_F(CliGovernanceRpcTest, AVoteForAnUnknownProposalIsNotFound) {
  auto v = Keiretsu({"vote", std::string(64, 'a'), "--yes"});
  EXPECT_EQ(v.code, kExitNotFound) << v.err;
  EXPECT_TRUE(v.OneErrorLine()) << v.err;
}

TEST_F(CliGovernanceRpcTest, LeaveWritesTheFinalEntryAndSaysHowToRemoveTheFirm) {
  auto r = Keiretsu({"leave", "--confirm", "--memo", "closing down"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("is this firm's final entry"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("keiretsu propose remove firm1 --last-seq 1"), std::string::npos) << r.out;
  auto m = Keiretsu({"members"});
  EXPECT_NE(m.out.find("left at #1"), std::string::npos) << m.out;
  auto again = Keiretsu({"claim", "firm2", "5", "hours"});
  EXPECT_NE(again.code, 0) << "a firm that left writes nothing more";
}

TEST_F(CliGovernanceRpcTest, RotateMakesTheKeyAfterAndPutsTheNextKeyInForce) {
  std::string next = NextKeyFile(101, "firm1.next.key");  // what firm1's key committed to
  auto r = Keiretsu({"rotate", "--next-key", next});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string pk101 = GovLedgerKey(101).public_key().Hex();
  EXPECT_NE(r.out.find("key in force now  " + pk101), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(next + ".after"));
  EXPECT_EQ(Mode(next + ".after"), 0600u);
  auto after = crypto::ReadKeyFile(next + ".after");
  ASSERT_TRUE(after.ok());
  const std::string after_digest = protocol::NextKeyDigest(after->public_key()).Hex();
  EXPECT_NE(r.out.find("it commits to     " + after_digest), std::string::npos) << r.out;
  EXPECT_EQ(identity_->public_key().Hex(), pk101);
  EXPECT_EQ(crypto::ReadKeyFile(key_file_)->public_key().Hex(), pk101);
  auto m = Keiretsu({"members"});
  EXPECT_NE(m.out.find(pk101.substr(0, 8) + " (rotated)"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find(after_digest.substr(0, 8)), std::string::npos) << m.out;
}

TEST_F(CliGovernanceRpcTest, RotateWithAnAfterDigestMakesNoKeyAndReportsJson) {
  std::string next = NextKeyFile(101, "n.key");
  auto r =
      Keiretsu({"rotate", "--next-key", next, "--after-digest", DigestOfKey(201).Hex(), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"rotate\":{", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"next_key_digest\":\"" + DigestOfKey(201).Hex() + "\"}"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(next + ".after"));
}

TEST_F(CliGovernanceRpcTest, RotateWithAKeyNotCommittedToIsDeniedAndChangesNothing) {
  std::string wrong = NextKeyFile(102, "wrong.key");  // firm2's next key, not firm1's
  auto before = ledger_->StateDigest();
  auto r = Keiretsu({"rotate", "--next-key", wrong});
  EXPECT_EQ(r.code, kExitDenied) << r.err;
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  EXPECT_NE(r.err.find("is not the next key this firm committed to"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(wrong + ".after"));
  EXPECT_EQ(ledger_->StateDigest(), before);
  EXPECT_EQ(identity_->public_key(), GovLedgerKey(1).public_key());
}

TEST_F(CliGovernanceRpcTest, RotateOnANodeThatCannotWriteMakesNoKeyAndSendsNothing) {
  peers_.Set({}, "learning this firm's own feed head from peers");
  std::string next = NextKeyFile(101, "n.key");
  auto r = Keiretsu({"rotate", "--next-key", next});
  EXPECT_EQ(r.code, kExitUnavailable) << r.err;
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  EXPECT_NE(r.err.find("cannot write now (learning this firm's own feed head"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(next + ".after"));
  EXPECT_EQ(identity_->public_key(), GovLedgerKey(1).public_key());
}

}  // namespace
}  // namespace keiretsu::cli
