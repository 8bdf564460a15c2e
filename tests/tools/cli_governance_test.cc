// Protocol v2 on the command line, without a node: keygen --next, pubkey
// --digest, the version-2 genesis, init --joining, and every bad argument
// of the governance commands (propose, vote, proposals, leave, rotate).
// The governance commands are pointed at a port where no node listens: a
// refusal must come from the CLI itself (exit 1 or 4, never 5 "unavailable"),
// so nothing was sent, and no file is written.
#include <sys/stat.h>

#include <toml++/toml.h>
#include <filesystem>

#include "cli_run.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/protocol/governance.h"
#include "test_network.h"

namespace keiretsu::cli {
namespace {

using testing::Ran;
using testing::ReadFile;
using testing::RunKeiretsu;
using testing::WriteFile;
namespace fs = std::filesystem;
using keiretsu::testing::FirmKey;

// Where no node listens (port 1 on loopback: connection refused).
const std::vector<std::string> kNoNode = {"--node", "127.0.0.1:1", "--timeout", "2"};

std::string Pk(int i) {
  return FirmKey(i).public_key().Hex();
}
// D(FirmKey(i)): the digest of a "next key" stand-in.
std::string D(int i) {
  return protocol::NextKeyDigest(FirmKey(i).public_key()).Hex();
}
// A member of a version-2 genesis: FirmKey(i) committing to FirmKey(i + 10).
std::string V2Member(const std::string& name, int i) {
  return name + "=" + Pk(i) + ":" + D(i + 10);
}

class GovernanceCliTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::ClearNodeEnv(); }
  keiretsu::testing::TempDir dir;

  std::string KeyFile(int i, const std::string& name) {
    std::string path = dir.Sub(name);
    EXPECT_TRUE(crypto::WriteKeyFile(path, FirmKey(i)).ok());
    return path;
  }

  // `keiretsu genesis --name kansai --created ... --out g.toml` plus `extra`.
  Ran RunGenesis(std::vector<std::string> extra) {
    std::vector<std::string> args = {"genesis",    "--name", "kansai",         "--created",
                                     "1790000000", "--out",  dir.Sub("g.toml")};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunKeiretsu(args);
  }

  // Expects a refusal: exit `code`, one stderr line containing `says`, no
  // genesis file.
  void ExpectGenesisRefused(std::vector<std::string> extra, const std::string& says) {
    auto r = RunGenesis(std::move(extra));
    EXPECT_EQ(r.code, kExitInvalid) << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(dir.Sub("g.toml")));
  }

  // A version-2 genesis of osaka (0), kobe (1), nagoya (2), threshold 2.
  std::string V2Genesis() {
    auto r = RunGenesis({"--member", V2Member("osaka", 0), "--member", V2Member("kobe", 1),
                         "--member", V2Member("nagoya", 2), "--threshold", "2"});
    EXPECT_EQ(r.code, 0) << r.err;
    return dir.Sub("g.toml");
  }

  // Runs a governance command against kNoNode and expects the CLI's own
  // refusal: exit `code`, one line containing `says`.
  void ExpectRefusedLocally(std::vector<std::string> args, int code, const std::string& says) {
    args.insert(args.end(), kNoNode.begin(), kNoNode.end());
    auto r = RunKeiretsu(args);
    EXPECT_EQ(r.code, code) << args[0] << ": " << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
};

// ------------------------------------------------------------ keygen --next

TEST_F(GovernanceCliTest, KeygenNextWritesAKeyAndPrintsItsDigest) {
  std::string path = dir.Sub("osaka.next");
  auto r = RunKeiretsu({"keygen", "--next", path});
  ASSERT_EQ(r.code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto key = crypto::ReadKeyFile(path);
  ASSERT_TRUE(key.ok());
  // The digest alone on stdout, as PROTOCOL.md 19.1 defines it.
  EXPECT_EQ(r.out, protocol::NextKeyDigest(key->public_key()).Hex() + "\n");
  EXPECT_NE(r.err.find("OFF the node"), std::string::npos) << r.err;
}

TEST_F(GovernanceCliTest, KeygenNextJsonNamesDigestKeyAndFile) {
  std::string path = dir.Sub("osaka.next");
  auto r = RunKeiretsu({"keygen", "--next", path, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto pk = crypto::ReadKeyFile(path)->public_key();
  EXPECT_EQ(r.out, "{\"next_key_digest\":\"" + protocol::NextKeyDigest(pk).Hex() +
                       "\",\"public_key\":\"" + pk.Hex() + "\",\"key_file\":\"" + path + "\"}\n");
}

TEST_F(GovernanceCliTest, KeygenNextNeverOverwritesAKey) {
  std::string path = KeyFile(3, "osaka.next");
  std::string before = ReadFile(path);
  auto r = RunKeiretsu({"keygen", "--next", path});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(path), before);
}

TEST_F(GovernanceCliTest, KeygenWithOutAndNextIsAUsageError) {
  auto r = RunKeiretsu({"keygen", "--out", dir.Sub("a.key"), "--next", dir.Sub("b.key")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  EXPECT_FALSE(fs::exists(dir.Sub("a.key")));
  EXPECT_FALSE(fs::exists(dir.Sub("b.key")));
}

TEST_F(GovernanceCliTest, PubkeyDigestIsTheDigestKeygenNextPrinted) {
  std::string path = dir.Sub("n.key");
  auto made = RunKeiretsu({"keygen", "--next", path});
  ASSERT_EQ(made.code, 0);
  auto r = RunKeiretsu({"pubkey", "--digest", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, made.out);
  auto plain = RunKeiretsu({"pubkey", path});
  EXPECT_EQ(plain.out, crypto::ReadKeyFile(path)->public_key().Hex() + "\n");
}

// --------------------------------------------------------- genesis version 2

TEST_F(GovernanceCliTest, GenesisV2EqualsTheLibrarysGenesis) {
  auto r = RunGenesis({"--member", V2Member("osaka", 0), "--member", V2Member("kobe", 1),
                       "--member", V2Member("nagoya", 2), "--threshold", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  protocol::GenesisSpec spec;
  spec.network_name = "kansai";
  spec.created_unix = 1'790'000'000;
  spec.version = 2;
  spec.threshold = 2;
  for (int i = 0; i < 3; ++i)
    spec.members.push_back({std::vector<std::string>{"osaka", "kobe", "nagoya"}[i],
                            FirmKey(i).public_key(),
                            protocol::NextKeyDigest(FirmKey(i + 10).public_key())});
  auto expected = protocol::Genesis::Create(spec);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  EXPECT_EQ(r.out, expected->network_id().Hex() + "\n");
  auto loaded = protocol::Genesis::LoadTomlFile(dir.Sub("g.toml"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->version(), 2);
  EXPECT_EQ(loaded->threshold(), 2);
  EXPECT_EQ(loaded->FindByName("kobe")->next_key_digest.Hex(), D(11));
}

TEST_F(GovernanceCliTest, GenesisV2JsonNamesVersionAndThreshold) {
  auto r = RunGenesis({"--member", V2Member("osaka", 0), "--threshold", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"version\":\"2\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"threshold\":\"1\""), std::string::npos) << r.out;
}

TEST_F(GovernanceCliTest, GenesisThresholdAtHalfIsRefused) {
  ExpectGenesisRefused({"--member", V2Member("a", 0), "--member", V2Member("b", 1), "--member",
                        V2Member("c", 2), "--member", V2Member("d", 3), "--threshold", "2"},
                       "--threshold 2 is not more than half of the 4 members");
}

TEST_F(GovernanceCliTest, GenesisThresholdZeroIsRefused) {
  ExpectGenesisRefused({"--member", V2Member("a", 0), "--threshold", "0"},
                       "not more than half of the 1 members");
}

TEST_F(GovernanceCliTest, GenesisThresholdAboveTheMembersIsRefused) {
  ExpectGenesisRefused(
      {"--member", V2Member("a", 0), "--member", V2Member("b", 1), "--threshold", "3"},
      "more than the 2 members");
}

TEST_F(GovernanceCliTest, GenesisThresholdNotANumberIsRefused) {
  ExpectGenesisRefused({"--member", V2Member("a", 0), "--threshold", "two"},
                       "--threshold must be a positive whole number");
}

TEST_F(GovernanceCliTest, GenesisDigestsWithoutThresholdAreRefused) {
  ExpectGenesisRefused({"--member", V2Member("a", 0), "--member", V2Member("b", 1)},
                       "needs --threshold k; give k with 2 <= k <= 2");
}

TEST_F(GovernanceCliTest, GenesisV2MemberWithoutDigestIsRefused) {
  ExpectGenesisRefused(
      {"--member", V2Member("a", 0), "--member", "b=" + Pk(1), "--threshold", "2"},
      "--member b: a version-2 genesis needs every member as name=PUBLIC_KEY:NEXT_DIGEST");
}

TEST_F(GovernanceCliTest, GenesisThresholdWithoutAnyDigestIsRefused) {
  ExpectGenesisRefused({"--member", "a=" + Pk(0), "--threshold", "1"},
                       "--member a: a version-2 genesis needs every member");
}

TEST_F(GovernanceCliTest, GenesisQuorumWithThresholdIsRefused) {
  ExpectGenesisRefused({"--member", V2Member("a", 0), "--threshold", "1", "--quorum", "1"},
                       "takes --threshold only");
}

TEST_F(GovernanceCliTest, GenesisShortDigestIsRefused) {
  ExpectGenesisRefused({"--member", "a=" + Pk(0) + ":12ab", "--threshold", "1"},
                       "--member a: the next-key digest after ':' must be 64 hex characters");
}

TEST_F(GovernanceCliTest, GenesisZeroDigestIsRefused) {
  ExpectGenesisRefused({"--member", "a=" + Pk(0) + ":" + std::string(64, '0'), "--threshold", "1"},
                       "all zeros");
}

TEST_F(GovernanceCliTest, GenesisDigestOfTheMembersOwnKeyIsRefused) {
  ExpectGenesisRefused({"--member", "a=" + Pk(0) + ":" + D(0), "--threshold", "1"},
                       "commits to its current key");
}

TEST_F(GovernanceCliTest, GenesisTwoMembersCommittingToOneKeyAreRefused) {
  ExpectGenesisRefused({"--member", "a=" + Pk(0) + ":" + D(5), "--member",
                        "b=" + Pk(1) + ":" + D(5), "--threshold", "2"},
                       "commit to the same next key");
}

TEST_F(GovernanceCliTest, GenesisV1QuorumZeroIsStillRefused) {
  ExpectGenesisRefused({"--member", "a=" + Pk(0), "--quorum", "0"}, "--quorum");
}

// ----------------------------------------------------------- init --joining

TEST_F(GovernanceCliTest, InitJoiningWritesAConfigAndTheAdmissionCommand) {
  std::string genesis = V2Genesis();
  std::string key = KeyFile(5, "sendai.key");
  std::string firm_dir = dir.Sub("sendai");
  auto r = RunKeiretsu({"init", "--joining", "--firm", "sendai", "--genesis", genesis, "--key", key,
                        "--dir", firm_dir, "--api-listen", "127.0.0.1:7801", "--peer",
                        "osaka=127.0.0.1:7700", "--next-digest", D(15)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("keiretsu propose admit sendai --key " + Pk(5) + " --next-digest " + D(15)),
            std::string::npos)
      << r.out;
  toml::table doc = toml::parse_file(firm_dir + "/keiretsud.toml");
  EXPECT_EQ(doc["key_file"].value_or<std::string>(""), key);
  EXPECT_EQ(doc["genesis_file"].value_or<std::string>(""), genesis);
  const toml::array* peers = doc["peer"]["peers"].as_array();
  ASSERT_NE(peers, nullptr);
  EXPECT_EQ((*peers)[0].as_table()->at("firm").value_or<std::string>(""), "osaka");
  EXPECT_TRUE(fs::is_empty(firm_dir + "/data"));
}

TEST_F(GovernanceCliTest, InitJoiningWithoutDigestSaysWhereToGetIt) {
  std::string genesis = V2Genesis();
  auto r = RunKeiretsu({"init", "--joining", "--firm", "sendai", "--genesis", genesis, "--key",
                        KeyFile(5, "s.key"), "--dir", dir.Sub("s"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"joining\":\"true\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--next-digest DIGEST"), std::string::npos) << r.out;
}

class InitJoiningRefusal : public GovernanceCliTest {
 protected:
  void ExpectRefused(std::vector<std::string> extra, int code, const std::string& says) {
    std::vector<std::string> args = {"init", "--genesis", V2Genesis(), "--dir", dir.Sub("firm")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunKeiretsu(args);
    EXPECT_EQ(r.code, code) << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir.Sub("firm")));
  }
};

TEST_F(InitJoiningRefusal, AFoundersKeyNeedsNoAdmission) {
  ExpectRefused({"--joining", "--firm", "sendai", "--key", KeyFile(1, "k.key")}, kExitInvalid,
                "founding member 'kobe'");
}

TEST_F(InitJoiningRefusal, AFoundersNameIsTakenIgnoringCase) {
  ExpectRefused({"--joining", "--firm", "KOBE", "--key", KeyFile(5, "k.key")}, kExitInvalid,
                "the name of founding member 'kobe'");
}

TEST_F(InitJoiningRefusal, ANameOutsideTheCharsetIsRefused) {
  ExpectRefused({"--joining", "--firm", "sen dai", "--key", KeyFile(5, "k.key")}, kExitInvalid,
                "must be 1-64 characters");
}

TEST_F(InitJoiningRefusal, AShortNextDigestIsRefused) {
  ExpectRefused(
      {"--joining", "--firm", "sendai", "--key", KeyFile(5, "k.key"), "--next-digest", "abc"},
      kExitInvalid, "--next-digest must be 64 hex characters");
}

TEST_F(InitJoiningRefusal, AZeroNextDigestIsRefused) {
  ExpectRefused({"--joining", "--firm", "sendai", "--key", KeyFile(5, "k.key"), "--next-digest",
                 std::string(64, '0')},
                kExitInvalid, "all zeros");
}

TEST_F(InitJoiningRefusal, ANextDigestOfItsOwnKeyIsRefused) {
  ExpectRefused(
      {"--joining", "--firm", "sendai", "--key", KeyFile(5, "k.key"), "--next-digest", D(5)},
      kExitInvalid, "digest of this firm's own key");
}

TEST_F(InitJoiningRefusal, APeerOutsideTheGenesisIsRefused) {
  ExpectRefused(
      {"--joining", "--firm", "sendai", "--key", KeyFile(5, "k.key"), "--peer", "sapporo=h:1"},
      kExitInvalid, "not a member");
}

TEST_F(InitJoiningRefusal, NextDigestWithoutJoiningIsAUsageError) {
  ExpectRefused({"--firm", "osaka", "--key", KeyFile(0, "k.key"), "--next-digest", D(10)},
                kExitUsage, "--joining");
}

TEST_F(InitJoiningRefusal, AStrangerWithoutJoiningIsToldAboutJoining) {
  ExpectRefused({"--firm", "sendai", "--key", KeyFile(5, "k.key")}, kExitInvalid, "init --joining");
}

// ------------------------------------------------------------------ propose

TEST_F(GovernanceCliTest, ProposeWithoutAnActionIsAUsageError) {
  ExpectRefusedLocally({"propose"}, kExitUsage, "propose");
}

TEST_F(GovernanceCliTest, ProposeAdmitWithoutNextDigestIsAUsageError) {
  ExpectRefusedLocally({"propose", "admit", "sendai", "--key", Pk(5)}, kExitUsage, "--next-digest");
}

TEST_F(GovernanceCliTest, ProposeAdmitBadNameIsRefused) {
  ExpectRefusedLocally({"propose", "admit", "sen/dai", "--key", Pk(5), "--next-digest", D(15)},
                       kExitInvalid, "firm name 'sen/dai'");
}

TEST_F(GovernanceCliTest, ProposeAdmitShortKeyIsRefused) {
  ExpectRefusedLocally({"propose", "admit", "sendai", "--key", "12ab", "--next-digest", D(15)},
                       kExitInvalid, "--key must be 64 hex characters");
}

TEST_F(GovernanceCliTest, ProposeAdmitUnusableKeyIsRefused) {
  // The identity point: small order, so no signature could be checked.
  std::string identity = "01" + std::string(62, '0');
  ExpectRefusedLocally({"propose", "admit", "sendai", "--key", identity, "--next-digest", D(15)},
                       kExitInvalid, "not a usable Ed25519 public key");
}

TEST_F(GovernanceCliTest, ProposeAdmitZeroDigestIsRefused) {
  ExpectRefusedLocally(
      {"propose", "admit", "sendai", "--key", Pk(5), "--next-digest", std::string(64, '0')},
      kExitInvalid, "all zeros");
}

TEST_F(GovernanceCliTest, ProposeAdmitDigestOfItsOwnKeyIsRefused) {
  ExpectRefusedLocally({"propose", "admit", "sendai", "--key", Pk(5), "--next-digest", D(5)},
                       kExitInvalid, "the next key must be another key");
}

TEST_F(GovernanceCliTest, ProposeThresholdAboveTheProtocolLimitIsRefused) {
  ExpectRefusedLocally({"propose", "threshold", "1025"}, kExitInvalid, "limit of 1024");
}

TEST_F(GovernanceCliTest, ProposeThresholdZeroIsRefused) {
  ExpectRefusedLocally({"propose", "threshold", "0"}, kExitInvalid, "must be positive");
}

TEST_F(GovernanceCliTest, ProposeAdmitThresholdNotANumberIsRefused) {
  ExpectRefusedLocally(
      {"propose", "admit", "sendai", "--key", Pk(5), "--next-digest", D(15), "--threshold", "3x"},
      kExitInvalid, "--threshold must be a positive whole number");
}

TEST_F(GovernanceCliTest, ProposeRoundAboveU32IsRefused) {
  ExpectRefusedLocally({"propose", "threshold", "3", "--round", "4294967296"}, kExitInvalid,
                       "--round 4294967296 is above the limit");
}

TEST_F(GovernanceCliTest, ProposeRemoveNegativeLastSeqIsRefused) {
  ExpectRefusedLocally({"propose", "remove", "kobe", "--last-seq", "-1"}, kExitInvalid,
                       "--last-seq must be a positive whole number");
}

TEST_F(GovernanceCliTest, ProposeMemoAbove512BytesIsRefused) {
  ExpectRefusedLocally({"propose", "threshold", "3", "--memo", std::string(513, 'x')}, kExitInvalid,
                       "512 bytes");
}

// --------------------------------------------------------------------- vote

TEST_F(GovernanceCliTest, VoteBadProposalIdIsRefused) {
  ExpectRefusedLocally({"vote", "abc", "--yes"}, kExitInvalid, "proposal id must be 64 hex");
}

TEST_F(GovernanceCliTest, VoteWithoutYesOrNoIsAUsageError) {
  ExpectRefusedLocally({"vote", D(1)}, kExitUsage, "--yes or --no");
}

TEST_F(GovernanceCliTest, VoteYesAndNoIsAUsageError) {
  ExpectRefusedLocally({"vote", D(1), "--yes", "--no"}, kExitUsage, "excludes");
}

TEST_F(GovernanceCliTest, VoteNoWritesNothingAndSaysSo) {
  // No node is reachable: a "no" never needs one, since nothing is written.
  std::vector<std::string> args = {"vote", D(1), "--no"};
  args.insert(args.end(), kNoNode.begin(), kNoNode.end());
  auto r = RunKeiretsu(args);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing written"), std::string::npos) << r.out;
}

// ---------------------------------------------------- proposals, leave

TEST_F(GovernanceCliTest, ProposalsUnknownStateIsRefused) {
  ExpectRefusedLocally({"proposals", "--state", "open"}, kExitInvalid,
                       "--state must be pending, passed, failed or void");
}

TEST_F(GovernanceCliTest, LeaveWithoutConfirmIsRefused) {
  ExpectRefusedLocally({"leave"}, kExitInvalid, "irreversible");
}

TEST_F(GovernanceCliTest, LeaveMemoAbove512BytesIsRefused) {
  ExpectRefusedLocally({"leave", "--confirm", "--memo", std::string(600, 'x')}, kExitInvalid,
                       "512 bytes");
}

// ------------------------------------------------------------------- rotate

TEST_F(GovernanceCliTest, RotateMissingNextKeyFileIsNotFound) {
  ExpectRefusedLocally({"rotate", "--next-key", dir.Sub("nope.key")}, kExitNotFound,
                       "next-key file");
  EXPECT_FALSE(fs::exists(dir.Sub("nope.key.after")));
}

TEST_F(GovernanceCliTest, RotateLooseNextKeyFileIsDenied) {
  std::string path = KeyFile(10, "n.key");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ExpectRefusedLocally({"rotate", "--next-key", path}, kExitDenied, "mode");
  EXPECT_FALSE(fs::exists(path + ".after"));
}

TEST_F(GovernanceCliTest, RotateBadAfterDigestIsRefused) {
  ExpectRefusedLocally({"rotate", "--next-key", KeyFile(10, "n.key"), "--after-digest", "xyz"},
                       kExitInvalid, "--after-digest must be 64 hex characters");
}

TEST_F(GovernanceCliTest, RotateAfterDigestOfTheNextKeyItselfIsRefused) {
  ExpectRefusedLocally({"rotate", "--next-key", KeyFile(10, "n.key"), "--after-digest", D(10)},
                       kExitInvalid, "the next key must be another key");
}

TEST_F(GovernanceCliTest, RotateAfterDigestAndAfterKeyOutTogetherAreRefused) {
  ExpectRefusedLocally({"rotate", "--next-key", KeyFile(10, "n.key"), "--after-digest", D(20),
                        "--after-key-out", dir.Sub("after.key")},
                       kExitInvalid, "not both");
  EXPECT_FALSE(fs::exists(dir.Sub("after.key")));
}

TEST_F(GovernanceCliTest, RotateNeverOverwritesTheAfterKey) {
  std::string next = KeyFile(10, "n.key");
  WriteFile(next + ".after", "precious");
  ExpectRefusedLocally({"rotate", "--next-key", next}, kExitInvalid, "already exists");
  EXPECT_EQ(ReadFile(next + ".after"), "precious");
}

TEST_F(GovernanceCliTest, RotateAgainstNoNodeWritesNoAfterKey) {
  // The node is asked what the firm committed to before the key after it is
  // made: unreachable, nothing is written.
  std::string next = KeyFile(10, "n.key");
  std::vector<std::string> args = {"rotate", "--next-key", next};
  args.insert(args.end(), kNoNode.begin(), kNoNode.end());
  auto r = RunKeiretsu(args);
  EXPECT_EQ(r.code, kExitUnavailable) << r.err;
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  EXPECT_FALSE(fs::exists(next + ".after"));
}

}  // namespace
}  // namespace keiretsu::cli
