// Commands that need no node: keygen, pubkey, genesis, init. They set up a
// firm before its daemon first starts, and prepare its key succession
// (protocol v2, docs/PROTOCOL.md 19): the next key, kept off the node, and
// the digest the current key commits to.
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
#include "keiretsu/protocol/governance.h"
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

// Where the secret of a key meant to stay off the node went, and why.
constexpr const char* kOffTheNode =
    "Keep it OFF the node (offline storage, a safe): it is the only key that can rotate this "
    "firm's key (keiretsu rotate --next-key FILE), so whoever holds it can take the firm's key "
    "over, and a thief of the node's key alone cannot";

Status Keygen(Context& ctx, const std::string& out_path, bool next) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  Status s = crypto::WriteKeyFile(out_path, key);
  if (s.code() == Code::kAlreadyExists)
    return AlreadyExists("key file " + out_path + " already exists; not overwriting a key");
  KEIRETSU_RETURN_IF_ERROR(s);
  std::string pk = key.public_key().Hex();
  if (next) {
    std::string digest = protocol::NextKeyDigest(key.public_key()).Hex();
    if (ctx.json) {
      *ctx.out << FlatJson(
                      {{"next_key_digest", digest}, {"public_key", pk}, {"key_file", out_path}})
               << '\n';
    } else {
      // The digest alone on stdout: D=$(keiretsu keygen --next f.key).
      *ctx.out << digest << '\n';
      *ctx.err << "wrote the NEXT key to " << out_path
               << " (mode 0600). The digest above is what the current key commits to: put it in "
                  "the genesis (--member NAME=PUBLIC_KEY:DIGEST) or an admission (--next-digest). "
               << kOffTheNode << ".\n";
    }
    return Status::Ok();
  }
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

Status Pubkey(Context& ctx, const std::string& key_path, bool digest) {
  KEIRETSU_ASSIGN_OR_RETURN(crypto::SigningKey key, crypto::ReadKeyFile(key_path));
  std::string pk = key.public_key().Hex();
  std::string d = protocol::NextKeyDigest(key.public_key()).Hex();
  if (ctx.json) {
    std::vector<std::pair<std::string, std::string>> fields = {{"public_key", pk}};
    if (digest) fields.emplace_back("next_key_digest", d);
    fields.emplace_back("key_file", key_path);
    *ctx.out << FlatJson(fields) << '\n';
  } else {
    *ctx.out << (digest ? d : pk) << '\n';
  }
  return Status::Ok();
}

struct GenesisArgs {
  std::string name;
  std::vector<std::string> members;
  std::string quorum;     // version 1; empty: not given (default 1)
  std::string threshold;  // version 2; empty: not given
  int64_t created = -1;   // -1: now
  std::string out;
};

// One --member: name=PUBLIC_KEY (version 1) or name=PUBLIC_KEY:NEXT_DIGEST
// (version 2).
Result<protocol::Member> ParseMember(const std::string& text) {
  KEIRETSU_ASSIGN_OR_RETURN(auto named, ParseNamed(text, "--member"));
  const std::string& name = named.first;
  std::string key_hex = named.second, digest_hex;
  if (size_t colon = key_hex.find(':'); colon != std::string::npos) {
    digest_hex = key_hex.substr(colon + 1);
    key_hex.resize(colon);
  }
  auto pk = PublicKey::FromHex(key_hex);
  if (!pk || key_hex.size() != 64)
    return InvalidArgument("--member " + name +
                           ": public key must be 64 hex characters (from keiretsu keygen)");
  protocol::Member m{name, *pk, {}};
  if (named.second.find(':') != std::string::npos) {
    auto d = Digest::FromHex(digest_hex);
    if (!d || digest_hex.size() != 64)
      return InvalidArgument("--member " + name +
                             ": the next-key digest after ':' must be 64 hex characters (from "
                             "keiretsu keygen --next)");
    if (d->IsZero())
      return InvalidArgument("--member " + name +
                             ": the next-key digest is all zeros, which commits to no key");
    m.next_key_digest = *d;
  }
  return m;
}

Status MakeGenesis(Context& ctx, const GenesisArgs& a) {
  protocol::GenesisSpec spec;
  spec.network_name = a.name;
  if (a.created < -1) return InvalidArgument("--created must be seconds since 1970, not negative");
  spec.created_unix = a.created == -1 ? static_cast<uint64_t>(std::time(nullptr))
                                      : static_cast<uint64_t>(a.created);
  size_t with_digest = 0;
  for (const std::string& text : a.members) {
    KEIRETSU_ASSIGN_OR_RETURN(protocol::Member m, ParseMember(text));
    if (!m.next_key_digest.IsZero()) ++with_digest;
    spec.members.push_back(std::move(m));
  }
  const size_t n = spec.members.size();
  const std::string range =
      "give k with " + std::to_string(n / 2 + 1) + " <= k <= " + std::to_string(n);
  const bool v2 = !a.threshold.empty() || with_digest > 0;
  if (v2) {
    // Version 2 (PROTOCOL.md 19.2): a threshold k with n/2 < k <= n and a
    // next-key digest for every member.
    if (!a.quorum.empty())
      return InvalidArgument(
          "--quorum is the version-1 admission quorum; a version-2 genesis (--threshold, "
          "next-key digests) takes --threshold only");
    if (a.threshold.empty())
      return InvalidArgument(
          "members with next-key digests make a version-2 genesis, which needs --threshold k; " +
          range);
    if (with_digest != n)
      for (const protocol::Member& m : spec.members)
        if (m.next_key_digest.IsZero())
          return InvalidArgument(
              "--member " + m.name +
              ": a version-2 genesis needs every member as "
              "name=PUBLIC_KEY:NEXT_DIGEST (digest from keiretsu keygen --next)");
    uint64_t k = 0;
    if (a.threshold != "0") {
      KEIRETSU_ASSIGN_OR_RETURN(k, ParsePositive(a.threshold, "--threshold"));
    }
    if (k > n)
      return InvalidArgument("--threshold " + a.threshold + " is more than the " +
                             std::to_string(n) + " members: no proposal could ever pass; " + range);
    if (2 * k <= n)
      return InvalidArgument("--threshold " + a.threshold + " is not more than half of the " +
                             std::to_string(n) +
                             " members: two proposals of one round could both pass; " + range);
    spec.version = 2;
    spec.threshold = static_cast<uint16_t>(k);
  } else {
    uint64_t quorum = 1;
    if (!a.quorum.empty()) {
      if (a.quorum == "0")
        return InvalidArgument("--quorum must be between 1 and the number of members");
      KEIRETSU_ASSIGN_OR_RETURN(quorum, ParsePositive(a.quorum, "--quorum"));
    }
    if (quorum > n) return InvalidArgument("--quorum must be between 1 and the number of members");
    spec.admission_quorum = static_cast<uint16_t>(quorum);
  }
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis g, protocol::Genesis::Create(std::move(spec)));
  KEIRETSU_RETURN_IF_ERROR(WriteNewFile(a.out, g.ToToml(), 0644));
  std::string id = g.network_id().Hex();
  if (ctx.json) {
    *ctx.out << FlatJson({{"network_id", id},
                          {"network_name", g.network_name()},
                          {"version", std::to_string(g.version())},
                          {"members", std::to_string(g.members().size())},
                          {"threshold", std::to_string(g.threshold())},
                          {"created_unix", std::to_string(g.created_unix())},
                          {"genesis_file", a.out}})
             << '\n';
  } else {
    *ctx.out << id << '\n';
    *ctx.err << "wrote version-" << int{g.version()} << " genesis of network " << g.network_name()
             << " (" << g.members().size() << " members";
    if (g.version() == 2) *ctx.err << ", threshold " << g.threshold();
    *ctx.err << ") to " << a.out << "; every member must use this exact file\n";
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
  std::string ops_listen;   // empty: no operations listener
  bool joining = false;     // a firm not in the genesis, to be admitted by vote
  std::string next_digest;  // --joining: D(its next key), for the admission command
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
  const PublicKey self_key = key->public_key();
  const protocol::Member* self = g.FindByKey(self_key);
  std::string firm_name;
  std::string admit_digest;  // --joining: the digest the admission names
  if (!a.joining) {
    if (self == nullptr)
      return FailedPrecondition("the key in " + a.key + " (" + self_key.Short() +
                                ") is not a member of network " + g.network_name() + " in " +
                                a.genesis + " (a firm to be admitted later: init --joining)");
    if (!SameNameIgnoringCase(self->name, a.firm))
      return InvalidArgument("the key in " + a.key + " belongs to member '" + self->name +
                             "' of the genesis, not '" + a.firm + "'");
    firm_name = self->name;
  } else {
    if (self != nullptr)
      return FailedPrecondition("the key in " + a.key + " is founding member '" + self->name +
                                "' of the genesis, which needs no admission: init without "
                                "--joining");
    if (!protocol::IsValidName(a.firm, 64))
      return InvalidArgument("--firm '" + Printable(a.firm, 64) +
                             "' must be 1-64 characters of A-Z a-z 0-9 . _ -");
    if (const protocol::Member* taken = g.FindByName(a.firm))
      return AlreadyExists("--firm " + a.firm + ": the name of founding member '" + taken->name +
                           "'; a joining firm needs a name no member has (ignoring case)");
    if (!a.next_digest.empty()) {
      KEIRETSU_ASSIGN_OR_RETURN(admit_digest, ParseHex64(a.next_digest, "--next-digest"));
      if (Digest::FromHex(admit_digest)->IsZero())
        return InvalidArgument("--next-digest is all zeros, which commits to no key");
      if (admit_digest == protocol::NextKeyDigest(self_key).Hex())
        return InvalidArgument("--next-digest is the digest of this firm's own key " +
                               self_key.Short() +
                               ": the next key must be another key (keiretsu keygen --next FILE)");
    }
    firm_name = a.firm;
  }
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
    if (*pk == self_key) return InvalidArgument("--peer " + named.first + " is this firm itself");
    if (!seen.insert(*pk).second)
      return InvalidArgument("--peer " + named.first + " is given twice");
    KEIRETSU_RETURN_IF_ERROR(CheckHostPort(named.second, "--peer " + named.first));
    peers.emplace_back(g.FindByKey(*pk)->name, named.second);
  }

  std::error_code ec;
  fs::path dir = fs::absolute(a.dir.empty() ? fs::path(firm_name) : fs::path(a.dir), ec);
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
  t += "# keiretsud config for firm " + firm_name + " (" + self_key.Hex() + ")\n";
  t += "# of network " + g.network_name() + " (" + g.network_id().Hex() + "),\n";
  if (a.joining)
    t += "# which it is not a member of yet: it joins when the members admit it by vote\n"
         "# (keiretsu propose admit " +
         firm_name + " --key " + self_key.Hex() + " --next-digest D).\n";
  t += "# written by `keiretsu init`. It holds the operator token: keep it mode 0600.\n";
  t += "data_dir = " + TomlString(data.string()) + "\n";
  t += "# This firm's id: its first public key. It stays when the firm rotates its key\n"
       "# (keiretsu rotate); key_file then holds the key in force.\n";
  t += "firm_id = " + TomlString(self_key.Hex()) + "\n";
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

  const std::string admit_command = "keiretsu propose admit " + firm_name + " --key " +
                                    self_key.Hex() + " --next-digest " +
                                    (admit_digest.empty() ? "DIGEST" : admit_digest);
  if (ctx.json) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"config", config.string()},
        {"data_dir", data.string()},
        {"firm", firm_name},
        {"public_key", self_key.Hex()},
        {"network_id", g.network_id().Hex()},
        {"api_listen", a.api_listen},
        {"joining", a.joining ? "true" : "false"}};
    if (a.joining) fields.emplace_back("admit_command", admit_command);
    *ctx.out << FlatJson(fields) << '\n';
  } else {
    *ctx.out << "wrote " << config.string() << " (mode 0600: it holds the operator token)\n"
             << "data directory " << data.string() << "\n\n";
    if (a.joining) {
      *ctx.out << firm_name << " is not a member of " << g.network_name()
               << " yet. A member's operator proposes its admission:\n"
               << "  " << admit_command << "\n";
      if (admit_digest.empty())
        *ctx.out << "  (DIGEST: from keiretsu keygen --next FILE, the key kept off this node)\n";
      *ctx.out << "and the members vote for it (keiretsu proposals; keiretsu vote ID --yes).\n"
               << "Until then its peers refuse its node; once admitted it connects and catches "
                  "up.\n\n";
    }
    *ctx.out << "start the node:   keiretsud --config " << config.string() << "\n"
             << "then use it:      keiretsu --config " << config.string() << " status\n";
  }
  return Status::Ok();
}

}  // namespace

void AddLocalCommands(CLI::App& app, Context& ctx) {
  {
    struct KeygenArgs {
      std::string out, next;
    };
    auto a = std::make_shared<KeygenArgs>();
    auto* sub = app.add_subcommand(
        "keygen",
        "Create a firm's key pair and print its public key; or, with --next, the key its current "
        "key commits to (printing its digest)");
    sub->footer(
        "A firm's id is its first key. In protocol v2 every key also commits to the digest of "
        "the firm's NEXT key (docs/PROTOCOL.md 19.1: BLAKE2b-256(\"keiretsu/v2/next-key\" || "
        "public key)). Make that key with --next: the digest goes into the genesis "
        "(--member NAME=PUBLIC_KEY:DIGEST) or into an admission (propose admit --next-digest), "
        "and the file goes OFF the node, to offline storage: it is the only key that can rotate "
        "the firm's key, so a thief of the node's key alone cannot take the firm over.");
    auto* out = sub->add_option("--out", a->out,
                                "Secret key file to create (mode 0600, never overwritten); "
                                "prints the public key");
    auto* next = sub->add_option("--next", a->next,
                                 "Create the NEXT key in this file instead (mode 0600, never "
                                 "overwritten; keep it off the node); prints its digest");
    out->excludes(next);
    sub->require_option(1);
    sub->callback([&ctx, a] {
      ctx.run = [&ctx, a] {
        return a->next.empty() ? Keygen(ctx, a->out, false) : Keygen(ctx, a->next, true);
      };
    });
  }
  {
    auto path = std::make_shared<std::string>();
    auto digest = std::make_shared<bool>(false);
    auto* sub = app.add_subcommand("pubkey", "Print the public key of a key file");
    sub->add_option("KEY_FILE", *path, "Secret key file")->required();
    sub->add_flag("--digest", *digest,
                  "Print the key's next-key digest instead: what a key committing to this one "
                  "names (check a --next file against a genesis or an admission)");
    sub->callback([&ctx, path, digest] {
      ctx.run = [&ctx, path, digest] { return Pubkey(ctx, *path, *digest); };
    });
  }
  {
    auto a = std::make_shared<GenesisArgs>();
    auto* sub = app.add_subcommand(
        "genesis", "Found a network from its members' names and public keys; print its id");
    sub->footer(
        "Version 2 (protocol v2: membership by vote, key rotation; docs/PROTOCOL.md 19.2): give "
        "every member as NAME=PUBLIC_KEY:NEXT_DIGEST (the digest from keiretsu keygen --next) and "
        "--threshold k, the number of votes a proposal needs. k must be more than half the "
        "members (so two proposals of one round can never both pass) and at most all of them. "
        "Version 1 (no digests, --quorum): founders can never rotate their keys.");
    sub->add_option("--name", a->name, "Network name ([A-Za-z0-9._-], 1-64)")->required();
    sub->add_option("--member", a->members,
                    "A founding member: NAME=PUBLIC_KEY_HEX, or NAME=PUBLIC_KEY_HEX:NEXT_DIGEST "
                    "for version 2 (repeat)")
        ->required();
    sub->add_option("--threshold", a->threshold,
                    "Version 2: votes a proposal needs, k with n/2 < k <= n");
    sub->add_option("--quorum", a->quorum, "Version 1 admission quorum (default 1)");
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
    sub->footer(
        "With --joining: a firm that is not in the genesis and will be admitted by the members' "
        "vote (protocol v2). --firm is then the name it asks to be admitted under; init prints "
        "the command a member runs to propose it (give --next-digest, from keiretsu keygen "
        "--next, to have it complete). The node may start before the vote: peers refuse it "
        "until it is admitted, then it connects and catches up.");
    sub->add_option("--firm", a->firm,
                    "This firm's name in the genesis (with --joining: the name to be admitted "
                    "under)")
        ->required();
    sub->add_option("--genesis", a->genesis, "Genesis file")->required();
    sub->add_option("--key", a->key, "This firm's secret key file (from keygen)")->required();
    sub->add_option("--dir", a->dir, "Directory for config and data (default ./FIRM)");
    sub->add_option("--api-listen", a->api_listen, "API address (default 127.0.0.1:7701)");
    sub->add_option("--peer-listen", a->peer_listen, "Peer address (default 0.0.0.0:7700)");
    sub->add_option("--peer", a->peers, "A peer to dial: name=host:port (repeat)");
    sub->add_option("--ops-listen", a->ops_listen,
                    "Serve /status and /metrics on this address (e.g. 127.0.0.1:7702; off "
                    "when not given; a non-loopback address gets a token file, ops.token)");
    auto* joining = sub->add_flag(
        "--joining", a->joining,
        "This firm is not in the genesis: it is to be admitted later by the members' vote");
    sub->add_option("--next-digest", a->next_digest,
                    "With --joining: the digest of this firm's next key (keiretsu keygen --next), "
                    "to print the admission command in full")
        ->needs(joining);
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Init(ctx, *a); }; });
  }
}

}  // namespace keiretsu::cli
