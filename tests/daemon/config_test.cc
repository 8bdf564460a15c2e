// The config file: a full example parses to the values it says; each bad
// config is refused with one line naming the file, the key and the problem.
#include "keiretsu/daemon/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_network.h"

namespace keiretsu::daemon {
namespace {

constexpr char kBase[] = R"(data_dir = "data"
key_file = "firm.key"
genesis_file = "/etc/keiretsu/genesis.toml"
)";

Result<Config> Parse(const std::string& text) {
  return ParseConfig(text, "/srv/osaka/keiretsud.toml", "/srv/osaka");
}

TEST(ConfigTest, FullConfigParses) {
  auto c = Parse(std::string(kBase) + R"(
[log]
level = "warn"

[api]
listen = "0.0.0.0:9000"
max_message_bytes = 1048576
tls_cert = "tls/server.crt"
tls_key = "tls/server.key"
tls_client_ca = "/etc/ssl/partners.pem"

[[api.tokens]]
token = "0123456789abcdef0123"
role = "operator"

[[api.tokens]]
token = "partner-kobe-000000000"
role = "partner"
firm = "kobe"

[peer]
listen = "[::]:7700"

[[peer.peers]]
firm = "kobe"
address = "kobe.example.net:7700"

[storage]
free_space_reserve_mib = 64
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->file, "/srv/osaka/keiretsud.toml");
  EXPECT_EQ(c->data_dir, "/srv/osaka/data");  // relative to the config's directory
  EXPECT_EQ(c->key_file, "/srv/osaka/firm.key");
  EXPECT_EQ(c->genesis_file, "/etc/keiretsu/genesis.toml");
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_EQ(c->api.listen, "0.0.0.0:9000");
  EXPECT_EQ(c->api.max_message_bytes, 1048576u);
  EXPECT_EQ(c->storage.free_space_reserve_mib, 64u);
  EXPECT_EQ(c->api.tls_cert, "/srv/osaka/tls/server.crt");
  EXPECT_EQ(c->api.tls_key, "/srv/osaka/tls/server.key");
  EXPECT_EQ(c->api.tls_client_ca, "/etc/ssl/partners.pem");
  ASSERT_EQ(c->api.tokens.size(), 2u);
  EXPECT_EQ(c->api.tokens[0].role, api::Role::kOperator);
  EXPECT_EQ(c->api.tokens[1].role, api::Role::kPartner);
  EXPECT_EQ(c->api.tokens[1].firm, "kobe");
  EXPECT_EQ(c->api.tokens[1].where, "api.tokens[1]");
  EXPECT_EQ(c->peer.listen, "[::]:7700");
  ASSERT_EQ(c->peer.peers.size(), 1u);
  EXPECT_EQ(c->peer.peers[0].address, "kobe.example.net:7700");
}

TEST(ConfigTest, DefaultsForOptionalSettings) {
  auto c = Parse(kBase);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->api.listen, "127.0.0.1:7701");
  EXPECT_EQ(c->api.max_message_bytes, 4u << 20);
  EXPECT_TRUE(c->api.tls_cert.empty());
  EXPECT_TRUE(c->api.tokens.empty());
  EXPECT_TRUE(c->peer.listen.empty());
  EXPECT_EQ(c->storage.free_space_reserve_mib, 256u);
  EXPECT_EQ(c->api.idle_timeout_seconds, 300);
  EXPECT_EQ(c->api.max_connection_age_seconds, 3600);
  EXPECT_EQ(c->api.max_connection_age_grace_seconds, 300);
  EXPECT_EQ(c->api.self_check_seconds, 10);
}

TEST(ConfigTest, EachBadConfigNamesFileKeyAndProblem) {
  struct Case {
    std::string text;
    std::string error;  // the whole message
  };
  const std::string f = "/srv/osaka/keiretsud.toml";
  const std::string tok = "[[api.tokens]]\ntoken = \"0123456789abcdef0123\"\n";
  std::vector<Case> cases = {
      {"data_dir = \"d\"\nkey_file = \"k\"\n", f + ": genesis_file: is required (a path)"},
      {std::string(kBase) + "data_dri = \"x\"\n",
       f + ":4: data_dri: unknown key (see deploy/keiretsud.example.toml for the options)"},
      {std::string(kBase) + "[api]\ntls_certt = \"x\"\n",
       f + ":5: api.tls_certt: unknown key (see deploy/keiretsud.example.toml for the options)"},
      {"data_dir = 5\n", f + ":1: data_dir: must be a string"},
      {std::string(kBase) + "firm_id = \"abc\"\n",
       f + ":4: firm_id: must be the firm's id: its inception public key, 64 hex characters"},
      {"data_dir = \"unterminated\n", f + ":1: not valid TOML: "},
      {std::string(kBase) + "[log]\nlevel = \"loud\"\n",
       f + ":5: log.level: must be one of trace, debug, info, warn, error, critical, off"},
      {std::string(kBase) + "log = 3\n", f + ":4: log: must be a table ([log])"},
      {std::string(kBase) + "[api]\nlisten = \"7420\"\n",
       f + ":5: api.listen: must be host:port (e.g. 127.0.0.1:7701)"},
      {std::string(kBase) + "[api]\nlisten = \"localhost:70000\"\n",
       f + ":5: api.listen: must be host:port (e.g. 127.0.0.1:7701)"},
      {std::string(kBase) + "[api]\nlisten = \"::1:7420\"\n",
       f + ":5: api.listen: must be host:port (e.g. 127.0.0.1:7701)"},
      {std::string(kBase) + "[api]\nmax_message_bytes = 10\n",
       f + ":5: api.max_message_bytes: must be an integer from 65536 to 67108864"},
      {std::string(kBase) + "[api]\nmax_message_bytes = \"4MiB\"\n",
       f + ":5: api.max_message_bytes: must be an integer from 65536 to 67108864"},
      {std::string(kBase) + "[api]\ntls_cert = \"c.pem\"\n",
       f + ":4: api.tls_key: tls_cert and tls_key go together: set both or neither"},
      {std::string(kBase) + "[api]\ntls_client_ca = \"ca.pem\"\n",
       f + ":4: api.tls_client_ca: needs tls_cert and tls_key (mutual TLS is TLS)"},
      {std::string(kBase) + "[[api.tokens]]\ntoken = \"short\"\nrole = \"operator\"\n",
       f + ":4: api.tokens[0].token: is required, at least 16 characters (e.g. `openssl rand "
           "-hex 32`)"},
      {std::string(kBase) +
           "[[api.tokens]]\ntoken = \"with space 0123456789\"\nrole = \"operator\"\n",
       f + ":4: api.tokens[0].token: must be printable ASCII without spaces"},
      {std::string(kBase) + tok + "role = \"admin\"\n",
       f + ":4: api.tokens[0].role: must be one of operator, auditor, partner"},
      {std::string(kBase) + tok + "role = \"partner\"\n",
       f + ":4: api.tokens[0].firm: is required for a partner (the firm it may read for)"},
      {std::string(kBase) + tok + "role = \"auditor\"\nfirm = \"kobe\"\n",
       f + ":4: api.tokens[0].firm: is only for partner tokens"},
      {std::string(kBase) + tok + "role = \"auditor\"\n" + tok + "role = \"operator\"\n",
       f + ":7: api.tokens[1].token: is the same as api.tokens[0].token"},
      {std::string(kBase) + tok + "role = \"auditor\"\nsecret = 1\n",
       f + ":7: api.tokens[0].secret: unknown key (see deploy/keiretsud.example.toml for the "
           "options)"},
      {std::string(kBase) + "[api]\nidle_timeout_seconds = 0\n",
       f + ":5: api.idle_timeout_seconds: must be a whole number from 1 to 86400"},
      {std::string(kBase) + "[api]\nmax_connection_age_seconds = \"1h\"\n",
       f + ":5: api.max_connection_age_seconds: must be a whole number from 1 to 2592000"},
      {std::string(kBase) + "[api]\nmax_connection_age_grace_seconds = -1\n",
       f + ":5: api.max_connection_age_grace_seconds: must be a whole number from 1 to 86400"},
      {std::string(kBase) + "[api]\nself_check_seconds = 3601\n",
       f + ":5: api.self_check_seconds: must be a whole number from 0 to 3600"},
      {std::string(kBase) + "[storage]\nfree_space_reserve_mib = -1\n",
       f + ":5: storage.free_space_reserve_mib: must be a whole number from 0 to 1048576"},
      {std::string(kBase) + "[storage]\nreserve = 1\n",
       f + ":5: storage.reserve: unknown key (see deploy/keiretsud.example.toml for the "
           "options)"},
      {std::string(kBase) + "storage = 1\n", f + ":4: storage: must be a table ([storage])"},
      {std::string(kBase) + "[peer]\nlisten = \"nowhere\"\n",
       f + ":5: peer.listen: must be host:port (e.g. 0.0.0.0:7700)"},
      {std::string(kBase) + "[[peer.peers]]\nfirm = \"kobe\"\n",
       f + ":4: peer.peers[0].address: is required, as host:port"},
      {std::string(kBase) + "[[peer.peers]]\naddress = \"kobe:1\"\n",
       f + ":4: peer.peers[0].firm: is required (a member's name or key)"},
      {std::string(kBase) + "[[peer.peers]]\nfirm = \"kobe\"\naddress = \"a:1\"\n" +
           "[[peer.peers]]\nfirm = \"kobe\"\naddress = \"b:1\"\n",
       f + ":7: peer.peers[1].firm: is also peer.peers[0].firm"},
  };
  for (const Case& c : cases) {
    auto r = Parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    if (c.error.back() == ' ')  // TOML syntax errors: the parser words the rest
      EXPECT_EQ(r.status().message().substr(0, c.error.size()), c.error) << c.text;
    else
      EXPECT_EQ(r.status().message(), c.error) << c.text;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "one line";
    EXPECT_EQ(r.status().message().find("0123456789abcdef0123"), std::string::npos)
        << "a token's value must never appear in an error";
  }
}

TEST(ConfigTest, LoadConfigReadsTheFileAndResolvesAgainstItsDirectory) {
  testing::TempDir dir;
  std::string path = dir.Sub("keiretsud.toml");
  {
    std::ofstream out(path);
    out << kBase;
  }
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, dir.Sub("data"));
  auto missing = LoadConfig(dir.Sub("nope.toml"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "config file " + dir.Sub("nope.toml") + ": no such file");
}

// deploy/keiretsud.example.toml documents every option: it must parse, and
// set each one.
TEST(ConfigTest, TheExampleConfigParses) {
  auto c = LoadConfig(std::string(KEIRETSU_SOURCE_DIR) + "/deploy/keiretsud.example.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api.listen, "127.0.0.1:7701");
  EXPECT_EQ(c->api.tokens.size(), 3u);
  EXPECT_EQ(c->api.tokens[2].firm, "kobe");
  EXPECT_EQ(c->peer.peers.size(), 2u);
  EXPECT_EQ(c->peer.listen, "0.0.0.0:7700");
}

TEST(ConfigTest, HostPortForms) {
  for (const char* ok : {"127.0.0.1:0", "localhost:7420", "[::]:7700", "[::1]:1", "a.b-c_d:65535"})
    EXPECT_TRUE(IsHostPort(ok)) << ok;
  for (const char* bad : {"", ":7420", "host:", "host:-1", "host:65536", "::1:80", "[]:80",
                          "host:80x", "ho st:80", "host"})
    EXPECT_FALSE(IsHostPort(bad)) << bad;
}

}  // namespace
}  // namespace keiretsu::daemon
