// Commands that need no node: keygen, pubkey, genesis, init. They set up a
// firm before its daemon first starts.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/protocol/genesis.h"
#include "output.h"

namespace keiretsu::cli {
namespace {

namespace fs = std::filesystem;

// Creates `path` (never overwriting) with `mode`, writes `text`, fsyncs.
Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExists(path + " already exists; not overwriting it");
    return IOError("cannot create " + path + ": " + std::strerror(errno));
  }
  // The umask may have narrowed `mode`; a config holding a token must be
  // exactly 0600 whatever the umask, and a public file readable.
  bool ok = ::fchmod(fd, mode) == 0;
  const char* p = text.data();
  size_t left = text.size();
  while (ok && left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      ok = false;
    else {
      p += w;
      left -= static_cast<size_t>(w);
    }
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return IOError("cannot write " + path + ": " + std::strerror(saved));
  }
  return Status::Ok();
}

// A TOML basic string: quoted, with quotes, backslashes and controls escaped.
std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// 32 bytes from the OS's randomness, as hex: the operator's bearer token.
std::string NewToken() {
  std::array<uint8_t, 32> raw{};
  randombytes_buf(raw.data(), raw.size());
  std::string hex = ToHex(raw);
  sodium_memzero(raw.data(), raw.size());
  return hex;
}

Status Keygen(Context& ctx, const std::string& out_path) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  Status s = crypto::WriteKeyFile(out_path, key);
  if (s.code() == Code::kAlreadyExists)
    return AlreadyExists("key file " + out_path + " already exists; not overwriting a key");
  KEIRETSU_RETURN_IF_ERROR(s);
  std::string pk = key.public_key().Hex();
  if (ctx.json) {
    *ctx.out << FlatJson({{"public_key", pk}, {"key_file", out_path}}) << '\n';
  } else {
    // The key alone on stdout, so PK=$(keiretsu keygen --out f.key) works.
    *ctx.out << pk << '\n';
    *ctx.err << "wrote secret key to " << out_path
             << " (mode 0600); share the public key above, never the file\n";
  }
  return Status::Ok();
}

Status Pubkey(Context& ctx, const std::string& key_path) {
  KEIRETSU_ASSIGN_OR_RETURN(crypto::SigningKey key, crypto::ReadKeyFile(key_path));
  std::string pk = key.public_key().Hex();
  if (ctx.json)
    *ctx.out << FlatJson({{"public_key", pk}, {"key_file", key_path}}) << '\n';
  else
    *ctx.out << pk << '\n';
  return Status::Ok();
}

struct GenesisArgs {
  std::string name;
  std::vector<std::string> members;
  int64_t quorum = 1;
  int64_t created = -1;  // -1: now
  std::string out;
};

Status MakeGenesis(Context& ctx, const GenesisArgs& a) {
  protocol::GenesisSpec spec;
  spec.network_name = a.name;
  if (a.created < -1) return InvalidArgument("--created must be seconds since 1970, not negative");
  spec.created_unix = a.created == -1 ? static_cast<uint64_t>(std::time(nullptr))
                                      : static_cast<uint64_t>(a.created);
  if (a.quorum < 1 || a.quorum > 65535)
    return InvalidArgument("--quorum must be between 1 and the number of members");
  spec.admission_quorum = static_cast<uint16_t>(a.quorum);
  for (const std::string& m : a.members) {
    KEIRETSU_ASSIGN_OR_RETURN(auto named, ParseNamed(m, "--member"));
    auto pk = PublicKey::FromHex(named.second);
    if (!pk)
      return InvalidArgument("--member " + named.first +
                             ": public key must be 64 hex characters (from keiretsu keygen)");
    spec.members.push_back({named.first, *pk});
  }
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis g, protocol::Genesis::Create(std::move(spec)));
  KEIRETSU_RETURN_IF_ERROR(WriteNewFile(a.out, g.ToToml(), 0644));
  std::string id = g.network_id().Hex();
  if (ctx.json) {
    *ctx.out << FlatJson({{"network_id", id},
                          {"network_name", g.network_name()},
                          {"members", std::to_string(g.members().size())},
                          {"created_unix", std::to_string(g.created_unix())},
                          {"genesis_file", a.out}})
             << '\n';
  } else {
    *ctx.out << id << '\n';
    *ctx.err << "wrote genesis of network " << g.network_name() << " (" << g.members().size()
             << " members) to " << a.out << "; every member must use this exact file\n";
  }
  return Status::Ok();
}

struct InitArgs {
  std::string firm;
  std::string genesis;
  std::string key;
  std::string dir;
  std::string api_listen = kDefaultNode;
  std::string peer_listen = "0.0.0.0:7700";
  std::vector<std::string> peers;
  std::string ops_listen;  // empty: no operations listener
};

// A host others cannot reach: the ops listener needs no token there.
bool IsLoopbackHost(const std::string& host_port) {
  const std::string host = host_port.substr(0, host_port.rfind(':'));
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

bool SameNameIgnoringCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.c_str(), b.c_str(), a.size()) == 0;
}

Status Init(Context& ctx, const InitArgs& a) {
  // Everything is checked before anything is created.
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis g, protocol::Genesis::LoadTomlFile(a.genesis));
  auto key = crypto::ReadKeyFile(a.key);
  if (key.status().code() == Code::kNotFound)
    return NotFound("key file " + a.key + " not found; create it with: keiretsu keygen --out " +
                    a.key);
  KEIRETSU_RETURN_IF_ERROR(key.status());
  const protocol::Member* self = g.FindByKey(key->public_key());
  if (self == nullptr)
    return FailedPrecondition("the key in " + a.key + " (" + key->public_key().Short() +
                              ") is not a member of network " + g.network_name() + " in " +
                              a.genesis);
  if (!SameNameIgnoringCase(self->name, a.firm))
    return InvalidArgument("the key in " + a.key + " belongs to member '" + self->name +
                           "' of the genesis, not '" + a.firm + "'");
  KEIRETSU_RETURN_IF_ERROR(CheckHostPort(a.api_listen, "--api-listen"));
  KEIRETSU_RETURN_IF_ERROR(CheckHostPort(a.peer_listen, "--peer-listen"));
  if (!a.ops_listen.empty()) KEIRETSU_RETURN_IF_ERROR(CheckHostPort(a.ops_listen, "--ops-listen"));
  const bool ops_token = !a.ops_listen.empty() && !IsLoopbackHost(a.ops_listen);
  std::vector<std::pair<std::string, std::string>> peers;
  std::set<PublicKey> seen;
  for (const std::string& p : a.peers) {
    KEIRETSU_ASSIGN_OR_RETURN(auto named, ParseNamed(p, "--peer"));
    auto pk = g.ResolveFirm(named.first);
    if (!pk.ok())
      return InvalidArgument("--peer " + named.first + ": not a member of network " +
                             g.network_name());
    if (*pk == key->public_key())
      return InvalidArgument("--peer " + named.first + " is this firm itself");
    if (!seen.insert(*pk).second)
      return InvalidArgument("--peer " + named.first + " is given twice");
    KEIRETSU_RETURN_IF_ERROR(CheckHostPort(named.second, "--peer " + named.first));
    peers.emplace_back(g.FindByKey(*pk)->name, named.second);
  }

  std::error_code ec;
  fs::path dir = fs::absolute(a.dir.empty() ? fs::path(self->name) : fs::path(a.dir), ec);
  if (ec) return IOError("cannot resolve directory " + a.dir + ": " + ec.message());
  fs::path config = dir / "keiretsud.toml";
  fs::path data = dir / "data";
  if (fs::exists(config, ec))
    return AlreadyExists(config.string() + " already exists; not overwriting a firm's config");
  if (fs::exists(data, ec) && !fs::is_empty(data, ec))
    return FailedPrecondition("data directory " + data.string() +
                              " already holds data; init sets up a new firm only");
  std::string key_abs = fs::absolute(a.key).string();
  std::string genesis_abs = fs::absolute(a.genesis).string();

  std::string t;
  t += "# keiretsud config for firm " + self->name + " (" + key->public_key().Hex() + ")\n";
  t += "# of network " + g.network_name() + " (" + g.network_id().Hex() + "),\n";
  t += "# written by `keiretsu init`. It holds the operator token: keep it mode 0600.\n";
  t += "data_dir = " + TomlString(data.string()) + "\n";
  t += "key_file = " + TomlString(key_abs) + "\n";
  t += "genesis_file = " + TomlString(genesis_abs) + "\n\n";
  t += "[log]\nlevel = \"info\"\n\n";
  t += "[api]\nlisten = " + TomlString(a.api_listen) + "\n";
  t += "# TLS: set tls_cert and tls_key (PEM); add tls_client_ca to require client certs.\n";
  t += "# tls_cert = \"/path/node.crt\"\n# tls_key = \"/path/node.key\"\n\n";
  t += "# Bearer tokens and their roles: operator, auditor, partner (with firm = \"name\").\n";
  t += "[[api.tokens]]\ntoken = " + TomlString(NewToken()) + "\nrole = \"operator\"\n\n";
  t += "[peer]\nlisten = " + TomlString(a.peer_listen) + "\n";
  for (const auto& [name, address] : peers)
    t += "\n[[peer.peers]]\nfirm = " + TomlString(name) + "\naddress = " + TomlString(address) +
         "\n";

  if (!a.ops_listen.empty()) {
    t += "\n# Operations listener: /status (browser), /metrics (Prometheus), /healthz.\n";
    t += "[ops]\nlisten = " + TomlString(a.ops_listen) + "\n";
    if (ops_token)
      t += "# Reachable from other hosts: clients must send this file's token.\n"
           "token_file = \"ops.token\"\n";
  }

  fs::create_directories(dir, ec);
  if (ec) return IOError("cannot create directory " + dir.string() + ": " + ec.message());
  if (::mkdir(data.c_str(), 0700) != 0 && errno != EEXIST)
    return IOError("cannot create data directory " + data.string() + ": " + std::strerror(errno));
  KEIRETSU_RETURN_IF_ERROR(WriteNewFile(config.string(), t, 0600));
  if (ops_token)
    KEIRETSU_RETURN_IF_ERROR(WriteNewFile((dir / "ops.token").string(), NewToken() + "\n", 0600));

  if (ctx.json) {
    *ctx.out << FlatJson({{"config", config.string()},
                          {"data_dir", data.string()},
                          {"firm", self->name},
                          {"public_key", key->public_key().Hex()},
                          {"network_id", g.network_id().Hex()},
                          {"api_listen", a.api_listen}})
             << '\n';
  } else {
    *ctx.out << "wrote " << config.string() << " (mode 0600: it holds the operator token)\n"
             << "data directory " << data.string() << "\n\n"
             << "start the node:   keiretsud --config " << config.string() << "\n"
             << "then use it:      keiretsu --config " << config.string() << " status\n";
  }
  return Status::Ok();
}

}  // namespace

void AddLocalCommands(CLI::App& app, Context& ctx) {
  {
    auto out = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("keygen", "Create a firm's key pair; print its public key");
    sub->add_option("--out", *out, "Secret key file to create (mode 0600, never overwritten)")
        ->required();
    sub->callback([&ctx, out] { ctx.run = [&ctx, out] { return Keygen(ctx, *out); }; });
  }
  {
    auto path = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("pubkey", "Print the public key of a key file");
    sub->add_option("KEY_FILE", *path, "Secret key file")->required();
    sub->callback([&ctx, path] { ctx.run = [&ctx, path] { return Pubkey(ctx, *path); }; });
  }
  {
    auto a = std::make_shared<GenesisArgs>();
    auto* sub = app.add_subcommand(
        "genesis", "Found a network from its members' names and public keys; print its id");
    sub->add_option("--name", a->name, "Network name ([A-Za-z0-9._-], 1-64)")->required();
    sub->add_option("--member", a->members, "A founding member: name=PUBLIC_KEY_HEX (repeat)")
        ->required();
    sub->add_option("--quorum", a->quorum, "Admission quorum (default 1)");
    sub->add_option("--created", a->created,
                    "Founding time, seconds since 1970 (default now; give it so that every "
                    "member can rebuild the same genesis)");
    sub->add_option("--out", a->out, "Genesis file to create (TOML)")->required();
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return MakeGenesis(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<InitArgs>();
    auto* sub = app.add_subcommand(
        "init", "Write a keiretsud config (with a new operator token) and data directory");
    sub->add_option("--firm", a->firm, "This firm's name in the genesis")->required();
    sub->add_option("--genesis", a->genesis, "Genesis file")->required();
    sub->add_option("--key", a->key, "This firm's secret key file (from keygen)")->required();
    sub->add_option("--dir", a->dir, "Directory for config and data (default ./FIRM)");
    sub->add_option("--api-listen", a->api_listen, "API address (default 127.0.0.1:7701)");
    sub->add_option("--peer-listen", a->peer_listen, "Peer address (default 0.0.0.0:7700)");
    sub->add_option("--peer", a->peers, "A peer to dial: name=host:port (repeat)");
    sub->add_option("--ops-listen", a->ops_listen,
                    "Serve /status and /metrics on this address (e.g. 127.0.0.1:7702; off "
                    "when not given; a non-loopback address gets a token file, ops.token)");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Init(ctx, *a); }; });
  }
}

}  // namespace keiretsu::cli
