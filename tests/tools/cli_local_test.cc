// The commands that need no node: keygen, pubkey, genesis, init. Each result
// is checked against the libraries' own view (ReadKeyFile, Genesis), and
// each refusal leaves the files as they were.
#include <sys/stat.h>

#include <toml++/toml.h>
#include <filesystem>

#include "cli_run.h"
#include "client.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/protocol/genesis.h"
#include "test_network.h"

namespace keiretsu::cli {
namespace {

using testing::ReadFile;
using testing::RunKeiretsu;
using testing::WriteFile;
namespace fs = std::filesystem;

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0xffff;
  return st.st_mode & 07777;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class LocalCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::ClearNodeEnv(); }
  keiretsu::testing::TempDir dir;

  // A key file for FirmKey(i), written through the library.
  std::string KeyFile(int i, const std::string& name) {
    std::string path = dir.Sub(name);
    EXPECT_TRUE(crypto::WriteKeyFile(path, keiretsu::testing::FirmKey(i)).ok());
    return path;
  }
  std::string Pk(int i) { return keiretsu::testing::FirmKey(i).public_key().Hex(); }

  // A genesis with firms osaka (0), kobe (1), nagoya (2) written by the CLI.
  std::string Genesis() {
    std::string path = dir.Sub("genesis.toml");
    auto r = RunKeiretsu({"genesis", "--name", "kansai", "--member", "osaka=" + Pk(0), "--member",
                          "kobe=" + Pk(1), "--member", "nagoya=" + Pk(2), "--created", "1790000000",
                          "--out", path});
    EXPECT_EQ(r.code, 0) << r.err;
    return path;
  }
};

TEST_F(LocalCommandsTest, KeygenWritesA0600KeyAndPrintsItsPublicKey) {
  std::string path = dir.Sub("osaka.key");
  auto r = RunKeiretsu({"keygen", "--out", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Mode(path), 0600u);
  auto key = crypto::ReadKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(r.out, key->public_key().Hex() + "\n");  // the key alone: PK=$(keiretsu keygen ...)

  auto again = RunKeiretsu({"pubkey", path});
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(again.out, r.out);
}

TEST_F(LocalCommandsTest, KeygenMakesADifferentKeyEachTime) {
  auto a = RunKeiretsu({"keygen", "--out", dir.Sub("a.key")});
  auto b = RunKeiretsu({"keygen", "--out", dir.Sub("b.key"), "--json"});
  ASSERT_EQ(a.code, 0);
  ASSERT_EQ(b.code, 0);
  auto pk_b = crypto::ReadKeyFile(dir.Sub("b.key"))->public_key().Hex();
  EXPECT_EQ(b.out, "{\"public_key\":\"" + pk_b + "\",\"key_file\":\"" + dir.Sub("b.key") + "\"}\n");
  EXPECT_NE(Trimmed(a.out), pk_b);
}

TEST_F(LocalCommandsTest, KeygenNeverOverwritesAKey) {
  std::string path = KeyFile(0, "osaka.key");
  std::string before = ReadFile(path);
  auto r = RunKeiretsu({"keygen", "--out", path});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ReadFile(path), before);
}

TEST_F(LocalCommandsTest, KeygenIntoAMissingDirectoryIsALocalFileError) {
  auto r = RunKeiretsu({"keygen", "--out", dir.Sub("no/such/dir/k.key")});
  EXPECT_EQ(r.code, kExitNotFound);  // ENOENT: the directory is not there
  EXPECT_TRUE(r.OneErrorLine()) << r.err;
}

TEST_F(LocalCommandsTest, GenesisIdEqualsTheLibrarysIdForTheSameMembers) {
  std::string path = dir.Sub("g.toml");
  auto r =
      RunKeiretsu({"genesis", "--name", "kansai", "--member", "osaka=" + Pk(0), "--member",
                   "kobe=" + Pk(1), "--quorum", "2", "--created", "1790000000", "--out", path});
  ASSERT_EQ(r.code, 0) << r.err;

  protocol::GenesisSpec spec;  // built here independently, members in another order
  spec.network_name = "kansai";
  spec.created_unix = 1'790'000'000;
  spec.admission_quorum = 2;
  spec.members = {{"kobe", keiretsu::testing::FirmKey(1).public_key()},
                  {"osaka", keiretsu::testing::FirmKey(0).public_key()}};
  auto expected = protocol::Genesis::Create(spec);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(r.out, expected->network_id().Hex() + "\n");

  auto loaded = protocol::Genesis::LoadTomlFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->network_id(), expected->network_id());
  EXPECT_EQ(loaded->admission_quorum(), 2);
}

TEST_F(LocalCommandsTest, GenesisDefaultsToNowAndQuorumOne) {
  std::string path = dir.Sub("g.toml");
  uint64_t before = static_cast<uint64_t>(std::time(nullptr));
  auto r =
      RunKeiretsu({"genesis", "--name", "n", "--member", "a=" + Pk(0), "--out", path, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto g = protocol::Genesis::LoadTomlFile(path);
  ASSERT_TRUE(g.ok());
  EXPECT_GE(g->created_unix(), before);
  EXPECT_LE(g->created_unix(), before + 60);
  EXPECT_EQ(g->admission_quorum(), 1);
  EXPECT_NE(r.out.find("\"network_id\":\"" + g->network_id().Hex() + "\""), std::string::npos);
}

TEST_F(LocalCommandsTest, GenesisRefusalsWriteNothing) {
  std::string path = dir.Sub("g.toml");
  const std::vector<std::vector<std::string>> bad = {
      {"--member", "osaka=" + Pk(0), "--member", "osaka=" + Pk(1)},  // duplicate name
      {"--member", "osaka=" + Pk(0), "--member", "kobe=" + Pk(0)},   // duplicate key
      {"--member", "osaka=12ab"},                                    // short key
      {"--member", "osaka"},                                         // no '='
      {"--member", "bad name=" + Pk(0)},                             // name charset
      {"--member", "osaka=" + Pk(0), "--quorum", "0"},
      {"--member", "osaka=" + Pk(0), "--quorum", "2"},  // more than the members
      {"--member", "osaka=" + Pk(0), "--created", "-5"},
  };
  for (const auto& extra : bad) {
    std::vector<std::string> args = {"genesis", "--name", "kansai", "--out", path};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunKeiretsu(args);
    EXPECT_EQ(r.code, kExitInvalid) << extra[1] << ": " << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_FALSE(fs::exists(path)) << extra[1];
  }
  auto no_out = RunKeiretsu({"genesis", "--name", "kansai", "--member", "osaka=" + Pk(0)});
  EXPECT_EQ(no_out.code, kExitUsage);
  EXPECT_TRUE(no_out.OneErrorLine()) << no_out.err;
}

TEST_F(LocalCommandsTest, GenesisNeverOverwrites) {
  std::string path = dir.Sub("g.toml");
  WriteFile(path, "precious");
  auto r =
      RunKeiretsu({"genesis", "--name", "kansai", "--member", "osaka=" + Pk(0), "--out", path});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(ReadFile(path), "precious");
}

TEST_F(LocalCommandsTest, InitWritesAConfigThatParsesAndReachesTheNode) {
  std::string genesis = Genesis();
  std::string key = KeyFile(0, "osaka.key");
  std::string firm_dir = dir.Sub("osaka");
  auto r = RunKeiretsu({"init", "--firm", "OSAKA", "--genesis", genesis, "--key", key, "--dir",
                        firm_dir, "--api-listen", "127.0.0.1:7801", "--peer-listen", "0.0.0.0:7800",
                        "--peer", "kobe=kobe.example:7800", "--peer", Pk(2) + "=[::1]:7900"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string config = firm_dir + "/keiretsud.toml";
  EXPECT_NE(r.out.find("keiretsud --config " + config), std::string::npos) << r.out;
  EXPECT_EQ(Mode(config), 0600u);
  EXPECT_EQ(Mode(firm_dir + "/data"), 0700u);
  EXPECT_TRUE(fs::is_empty(firm_dir + "/data"));

  toml::table doc = toml::parse_file(config);
  EXPECT_EQ(doc["data_dir"].value_or<std::string>(""), firm_dir + "/data");
  EXPECT_EQ(doc["key_file"].value_or<std::string>(""), key);
  EXPECT_EQ(doc["genesis_file"].value_or<std::string>(""), genesis);
  EXPECT_EQ(doc["api"]["listen"].value_or<std::string>(""), "127.0.0.1:7801");
  EXPECT_EQ(doc["peer"]["listen"].value_or<std::string>(""), "0.0.0.0:7800");
  const toml::array* tokens = doc["api"]["tokens"].as_array();
  ASSERT_NE(tokens, nullptr);
  ASSERT_EQ(tokens->size(), 1u);
  std::string token = (*tokens)[0].as_table()->at("token").value_or<std::string>("");
  EXPECT_EQ(token.size(), 64u);
  EXPECT_TRUE(Hash32FromHex(token).has_value());
  EXPECT_EQ((*tokens)[0].as_table()->at("role").value_or<std::string>(""), "operator");
  const toml::array* peers = doc["peer"]["peers"].as_array();
  ASSERT_NE(peers, nullptr);
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0].as_table()->at("firm").value_or<std::string>(""), "kobe");
  EXPECT_EQ((*peers)[1].as_table()->at("firm").value_or<std::string>(""), "nagoya");
  EXPECT_EQ((*peers)[1].as_table()->at("address").value_or<std::string>(""), "[::1]:7900");

  // The CLI's own --config reading finds the same address and token.
  NodeFlags flags;
  flags.config = config;
  auto e = ResolveEndpoint(flags, [](const char*) { return std::nullopt; });
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->address, "127.0.0.1:7801");
  EXPECT_EQ(e->token, token);
  EXPECT_FALSE(e->tls);
}

TEST_F(LocalCommandsTest, InitMakesAFreshTokenEachTime) {
  std::string genesis = Genesis();
  std::string k0 = KeyFile(0, "osaka.key"), k1 = KeyFile(1, "kobe.key");
  ASSERT_EQ(RunKeiretsu({"init", "--firm", "osaka", "--genesis", genesis, "--key", k0, "--dir",
                         dir.Sub("a")})
                .code,
            0);
  ASSERT_EQ(RunKeiretsu({"init", "--firm", "kobe", "--genesis", genesis, "--key", k1, "--dir",
                         dir.Sub("b")})
                .code,
            0);
  auto a = ReadNodeConfig(dir.Sub("a/keiretsud.toml"));
  auto b = ReadNodeConfig(dir.Sub("b/keiretsud.toml"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->operator_token, b->operator_token);
  EXPECT_EQ(a->listen, kDefaultNode);
}

TEST_F(LocalCommandsTest, InitOpsListenWritesAnOpsTableAndATokenOffLoopback) {
  std::string genesis = Genesis();
  std::string k0 = KeyFile(0, "osaka.key"), k1 = KeyFile(1, "kobe.key");
  auto r = RunKeiretsu({"init", "--firm", "osaka", "--genesis", genesis, "--key", k0, "--dir",
                        dir.Sub("a"), "--ops-listen", "127.0.0.1:7702"});
  ASSERT_EQ(r.code, 0) << r.err;
  toml::table a = toml::parse_file(dir.Sub("a/keiretsud.toml"));
  EXPECT_EQ(a["ops"]["listen"].value_or<std::string>(""), "127.0.0.1:7702");
  EXPECT_FALSE(a["ops"]["token_file"]) << "loopback: no token";
  EXPECT_FALSE(fs::exists(dir.Sub("a/ops.token")));

  r = RunKeiretsu({"init", "--firm", "kobe", "--genesis", genesis, "--key", k1, "--dir",
                   dir.Sub("b"), "--ops-listen", "0.0.0.0:7702"});
  ASSERT_EQ(r.code, 0) << r.err;
  toml::table b = toml::parse_file(dir.Sub("b/keiretsud.toml"));
  EXPECT_EQ(b["ops"]["token_file"].value_or<std::string>(""), "ops.token");
  EXPECT_EQ(Mode(dir.Sub("b/ops.token")), 0600u);
  EXPECT_EQ(Trimmed(ReadFile(dir.Sub("b/ops.token"))).size(), 64u);

  r = RunKeiretsu({"init", "--firm", "nagoya", "--genesis", genesis, "--key", KeyFile(2, "n.key"),
                   "--dir", dir.Sub("c"), "--ops-listen", "nowhere"});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("--ops-listen"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.Sub("c")));
}

TEST_F(LocalCommandsTest, InitRefusalsCreateNothing) {
  std::string genesis = Genesis();
  std::string k0 = KeyFile(0, "osaka.key");
  std::string stranger = KeyFile(7, "stranger.key");
  std::string loose = KeyFile(1, "loose.key");
  ASSERT_EQ(::chmod(loose.c_str(), 0644), 0);
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--firm", "osaka", "--key", stranger}, kExitInvalid, "not a member"},
      {{"--firm", "kobe", "--key", k0}, kExitInvalid, "belongs to member 'osaka'"},
      {{"--firm", "osaka", "--key", dir.Sub("missing.key")}, kExitNotFound, "keiretsu keygen"},
      {{"--firm", "kobe", "--key", loose}, kExitDenied, "mode"},
      {{"--firm", "osaka", "--key", k0, "--peer", "sendai=h:1"}, kExitInvalid, "not a member"},
      {{"--firm", "osaka", "--key", k0, "--peer", "osaka=h:1"}, kExitInvalid, "itself"},
      {{"--firm", "osaka", "--key", k0, "--peer", "kobe=h:1", "--peer", "kobe=h:2"},
       kExitInvalid,
       "twice"},
      {{"--firm", "osaka", "--key", k0, "--peer", "kobe=nohost"}, kExitInvalid, "host:port"},
      {{"--firm", "osaka", "--key", k0, "--api-listen", "127.0.0.1:99999"},
       kExitInvalid,
       "--api-listen"},
      {{"--firm", "osaka", "--key", k0, "--genesis", dir.Sub("nope.toml")},
       kExitNotFound,
       "genesis"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"init", "--dir", dir.Sub("firm")};
    bool has_genesis = false;
    for (const auto& a : c.args) has_genesis |= a == "--genesis";
    if (!has_genesis) args.insert(args.end(), {"--genesis", genesis});
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = RunKeiretsu(args);
    EXPECT_EQ(r.code, c.code) << c.says << ": " << r.err;
    EXPECT_TRUE(r.OneErrorLine()) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir.Sub("firm"))) << c.says;
  }
}

TEST_F(LocalCommandsTest, InitNeverOverwritesAConfigOrReusesData) {
  std::string genesis = Genesis();
  std::string k0 = KeyFile(0, "osaka.key");
  std::vector<std::string> args = {"init",  "--firm", "osaka", "--genesis",     genesis,
                                   "--key", k0,       "--dir", dir.Sub("osaka")};
  ASSERT_EQ(RunKeiretsu(args).code, 0);
  std::string before = ReadFile(dir.Sub("osaka/keiretsud.toml"));
  auto again = RunKeiretsu(args);
  EXPECT_EQ(again.code, kExitInvalid);
  EXPECT_TRUE(again.OneErrorLine());
  EXPECT_EQ(ReadFile(dir.Sub("osaka/keiretsud.toml")), before);

  fs::create_directories(dir.Sub("other/data"));
  WriteFile(dir.Sub("other/data/CURRENT"), "x");
  args.back() = dir.Sub("other");
  auto used = RunKeiretsu(args);
  EXPECT_EQ(used.code, kExitInvalid);
  EXPECT_NE(used.err.find("already holds data"), std::string::npos) << used.err;
  EXPECT_FALSE(fs::exists(dir.Sub("other/keiretsud.toml")));
}

TEST_F(LocalCommandsTest, TheExecutableExitsWithTheSameCodes) {
  std::string path = dir.Sub("k.key");
  auto ok = testing::RunKeiretsuBinary("keygen --out " + path);
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, crypto::ReadKeyFile(path)->public_key().Hex() + "\n");
  auto exists = testing::RunKeiretsuBinary("keygen --out " + path);
  EXPECT_EQ(exists.code, kExitInvalid);
  EXPECT_TRUE(exists.OneErrorLine()) << exists.err;
  auto usage = testing::RunKeiretsuBinary("keygen");
  EXPECT_EQ(usage.code, kExitUsage);
  EXPECT_TRUE(usage.OneErrorLine()) << usage.err;
  auto version = testing::RunKeiretsuBinary("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("keiretsu ", 0), 0u) << version.out;
}

}  // namespace
}  // namespace keiretsu::cli
