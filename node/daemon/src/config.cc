#include "keiretsu/daemon/config.h"

#include <toml++/toml.h>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace keiretsu::daemon {

Status Config::Error(std::string_view key, std::string_view problem) const {
  return InvalidArgument(file + ": " + std::string(key) + ": " + std::string(problem));
}

bool IsHostPort(std::string_view a) {
  size_t colon = a.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = a.substr(0, colon);
  std::string_view port = a.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p > 65535) return false;
  if (host.front() == '[') return host.size() > 2 && host.back() == ']';
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;  // also refuses an unbracketed IPv6 address
  }
  return true;
}

namespace {

// Walks the parsed document; every error names file, line, key, problem.
class Reader {
 public:
  explicit Reader(Config& c) : c_(c) {}

  Status Fail(const toml::node& n, const std::string& key, std::string_view problem) const {
    std::string where = c_.file;
    if (n.source().begin.line != 0) where += ":" + std::to_string(n.source().begin.line);
    return InvalidArgument(where + ": " + key + ": " + std::string(problem));
  }

  Status OnlyKeys(const toml::table& t, const std::string& prefix,
                  std::initializer_list<std::string_view> allowed) const {
    for (auto&& [k, v] : t) {
      bool known = false;
      for (std::string_view a : allowed) known = known || k.str() == a;
      if (!known)
        return Fail(v, prefix + std::string(k.str()),
                    "unknown key (see deploy/keiretsud.example.toml for the options)");
    }
    return Status::Ok();
  }

  // Sets `out` when `t` has `name` as a string; errors if it has another type.
  Status Str(const toml::table& t, const std::string& prefix, std::string_view name,
             std::string* out) const {
    const toml::node* n = t.get(name);
    if (n == nullptr) return Status::Ok();
    if (!n->is_string()) return Fail(*n, prefix + std::string(name), "must be a string");
    *out = n->as_string()->get();
    return Status::Ok();
  }

  // Sets `out` when `t` has `name` as an integer from lo to hi.
  template <typename T>
  Status Int(const toml::table& t, const std::string& prefix, std::string_view name, int64_t lo,
             int64_t hi, T* out) const {
    const toml::node* n = t.get(name);
    if (n == nullptr) return Status::Ok();
    if (!n->is_integer() || n->as_integer()->get() < lo || n->as_integer()->get() > hi)
      return Fail(
          *n, prefix + std::string(name),
          "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    *out = static_cast<T>(n->as_integer()->get());
    return Status::Ok();
  }

  const toml::table* Table(const toml::table& t, std::string_view name, Status* error) const {
    const toml::node* n = t.get(name);
    if (n == nullptr) return nullptr;
    if (!n->is_table())
      *error = Fail(*n, std::string(name), "must be a table ([" + std::string(name) + "])");
    return n->as_table();
  }

  // An array of tables ([[name]]); each element checked by `each`.
  template <typename F>
  Status Tables(const toml::table& t, const std::string& key, std::string_view name, F each) const {
    const toml::node* n = t.get(name);
    if (n == nullptr) return Status::Ok();
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return Fail(*n, key, "must be an array of tables ([[" + key + "]])");
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& el = (*arr)[i];
      std::string where = key + "[" + std::to_string(i) + "]";
      if (!el.is_table()) return Fail(el, where, "must be a table");
      KEIRETSU_RETURN_IF_ERROR(each(*el.as_table(), where));
    }
    return Status::Ok();
  }

  std::string Resolve(const std::string& base, const std::string& path) const {
    if (path.empty() || std::filesystem::path(path).is_absolute() || base.empty()) return path;
    return (std::filesystem::path(base) / path).lexically_normal().string();
  }

 private:
  Config& c_;
};

Status ReadRoot(const Reader& r, const toml::table& doc, Config& c, const std::string& base) {
  KEIRETSU_RETURN_IF_ERROR(r.OnlyKeys(
      doc, "",
      {"data_dir", "key_file", "genesis_file", "firm_id", "log", "api", "peer", "storage", "ops"}));
  for (auto [name, out] : {std::pair{"data_dir", &c.data_dir}, std::pair{"key_file", &c.key_file},
                           std::pair{"genesis_file", &c.genesis_file}}) {
    KEIRETSU_RETURN_IF_ERROR(r.Str(doc, "", name, out));
    if (out->empty()) return c.Error(name, "is required (a path)");
    *out = r.Resolve(base, *out);
  }
  KEIRETSU_RETURN_IF_ERROR(r.Str(doc, "", "firm_id", &c.firm_id));
  if (!c.firm_id.empty() && !PublicKey::FromHex(c.firm_id))
    return r.Fail(*doc.get("firm_id"), "firm_id",
                  "must be the firm's id: its inception public key, 64 hex characters");
  Status err;
  if (const toml::table* log = r.Table(doc, "log", &err)) {
    KEIRETSU_RETURN_IF_ERROR(r.OnlyKeys(*log, "log.", {"level"}));
    KEIRETSU_RETURN_IF_ERROR(r.Str(*log, "log.", "level", &c.log_level));
    static const std::set<std::string> kLevels = {"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
    if (!kLevels.count(c.log_level))
      return r.Fail(*log->get("level"), "log.level",
                    "must be one of trace, debug, info, warn, error, critical, off");
  }
  return err;
}

Status ReadToken(const Reader& r, const toml::table& t, const std::string& where, Config& c) {
  KEIRETSU_RETURN_IF_ERROR(r.OnlyKeys(t, where + ".", {"token", "role", "firm"}));
  TokenConfig tc;
  tc.where = where;
  std::string role;
  KEIRETSU_RETURN_IF_ERROR(r.Str(t, where + ".", "token", &tc.token));
  KEIRETSU_RETURN_IF_ERROR(r.Str(t, where + ".", "role", &role));
  KEIRETSU_RETURN_IF_ERROR(r.Str(t, where + ".", "firm", &tc.firm));
  if (tc.token.size() < api::kMinTokenLength)
    return r.Fail(t, where + ".token",
                  "is required, at least " + std::to_string(api::kMinTokenLength) +
                      " characters (e.g. `openssl rand -hex 32`)");
  for (char ch : tc.token)
    if (ch <= ' ' || ch >= 0x7f)
      return r.Fail(t, where + ".token", "must be printable ASCII without spaces");
  for (const TokenConfig& other : c.api.tokens)
    if (other.token == tc.token)
      return r.Fail(t, where + ".token", "is the same as " + other.where + ".token");
  auto parsed = api::ParseRole(role);
  if (!parsed) return r.Fail(t, where + ".role", "must be one of operator, auditor, partner");
  tc.role = *parsed;
  if (tc.role == api::Role::kPartner && tc.firm.empty())
    return r.Fail(t, where + ".firm", "is required for a partner (the firm it may read for)");
  if (tc.role != api::Role::kPartner && !tc.firm.empty())
    return r.Fail(t, where + ".firm", "is only for partner tokens");
  c.api.tokens.push_back(std::move(tc));
  return Status::Ok();
}

Status ReadApi(const Reader& r, const toml::table& api, Config& c, const std::string& base) {
  KEIRETSU_RETURN_IF_ERROR(r.OnlyKeys(
      api, "api.",
      {"listen", "max_message_bytes", "tls_cert", "tls_key", "tls_client_ca", "tokens",
       "idle_timeout_seconds", "max_connection_age_seconds", "max_connection_age_grace_seconds",
       "self_check_seconds", "max_connections", "max_connections_per_source"}));
  constexpr int64_t kDay = 86400;
  KEIRETSU_RETURN_IF_ERROR(
      r.Int(api, "api.", "idle_timeout_seconds", 1, kDay, &c.api.idle_timeout_seconds));
  KEIRETSU_RETURN_IF_ERROR(r.Int(api, "api.", "max_connection_age_seconds", 1, 30 * kDay,
                                 &c.api.max_connection_age_seconds));
  KEIRETSU_RETURN_IF_ERROR(r.Int(api, "api.", "max_connection_age_grace_seconds", 1, kDay,
                                 &c.api.max_connection_age_grace_seconds));
  KEIRETSU_RETURN_IF_ERROR(
      r.Int(api, "api.", "self_check_seconds", 0, 3600, &c.api.self_check_seconds));
  KEIRETSU_RETURN_IF_ERROR(
      r.Int(api, "api.", "max_connections", 1, 1'000'000, &c.api.max_connections));
  KEIRETSU_RETURN_IF_ERROR(r.Int(api, "api.", "max_connections_per_source", 1, 1'000'000,
                                 &c.api.max_connections_per_source));
  KEIRETSU_RETURN_IF_ERROR(r.Str(api, "api.", "listen", &c.api.listen));
  if (!IsHostPort(c.api.listen))
    return r.Fail(*api.get("listen"), "api.listen", "must be host:port (e.g. 127.0.0.1:7701)");
  if (const toml::node* n = api.get("max_message_bytes")) {
    auto v = n->is_integer() ? n->as_integer()->get() : -1;
    if (v < static_cast<int64_t>(kMinMaxMessageBytes) ||
        v > static_cast<int64_t>(kMaxMaxMessageBytes))
      return r.Fail(*n, "api.max_message_bytes",
                    "must be an integer from " + std::to_string(kMinMaxMessageBytes) + " to " +
                        std::to_string(kMaxMaxMessageBytes));
    c.api.max_message_bytes = static_cast<size_t>(v);
  }
  for (auto [name, out] :
       {std::pair{"tls_cert", &c.api.tls_cert}, std::pair{"tls_key", &c.api.tls_key},
        std::pair{"tls_client_ca", &c.api.tls_client_ca}}) {
    KEIRETSU_RETURN_IF_ERROR(r.Str(api, "api.", name, out));
    *out = r.Resolve(base, *out);
  }
  if (c.api.tls_cert.empty() != c.api.tls_key.empty())
    return r.Fail(api, c.api.tls_cert.empty() ? "api.tls_cert" : "api.tls_key",
                  "tls_cert and tls_key go together: set both or neither");
  if (!c.api.tls_client_ca.empty() && c.api.tls_cert.empty())
    return r.Fail(api, "api.tls_client_ca", "needs tls_cert and tls_key (mutual TLS is TLS)");
  return r.Tables(api, "api.tokens", "tokens", [&](const toml::table& t, const std::string& w) {
    return ReadToken(r, t, w, c);
  });
}

Status ReadPeer(const Reader& r, const toml::table& peer, Config& c) {
  KEIRETSU_RETURN_IF_ERROR(r.OnlyKeys(
      peer, "peer.", {"listen", "peers", "require_peer_before_write", "anti_entropy_seconds"}));
  if (const toml::node* n = peer.get("require_peer_before_write")) {
    if (!n->is_boolean())
      return r.Fail(*n, "peer.require_peer_before_write", "must be true or false");
    c.peer.require_peer_before_write = n->as_boolean()->get();
  }
  if (const toml::node* n = peer.get("anti_entropy_seconds")) {
    if (!n->is_integer() || n->as_integer()->get() < 1 || n->as_integer()->get() > 3600)
      return r.Fail(*n, "peer.anti_entropy_seconds", "must be a whole number from 1 to 3600");
    c.peer.anti_entropy_seconds = static_cast<int>(n->as_integer()->get());
  }
  KEIRETSU_RETURN_IF_ERROR(r.Str(peer, "peer.", "listen", &c.peer.listen));
  if (!c.peer.listen.empty() && !IsHostPort(c.peer.listen))
    return r.Fail(*peer.get("listen"), "peer.listen", "must be host:port (e.g. 0.0.0.0:7700)");
  return r.Tables(peer, "peer.peers", "peers", [&](const toml::table& t, const std::string& w) {
    KEIRETSU_RETURN_IF_ERROR(r.OnlyKeys(t, w + ".", {"firm", "address"}));
    PeerConfig pc;
    pc.where = w;
    KEIRETSU_RETURN_IF_ERROR(r.Str(t, w + ".", "firm", &pc.firm));
    KEIRETSU_RETURN_IF_ERROR(r.Str(t, w + ".", "address", &pc.address));
    if (pc.firm.empty()) return r.Fail(t, w + ".firm", "is required (a member's name or key)");
    if (!IsHostPort(pc.address)) return r.Fail(t, w + ".address", "is required, as host:port");
    for (const PeerConfig& other : c.peer.peers)
      if (other.firm == pc.firm) return r.Fail(t, w + ".firm", "is also " + other.where + ".firm");
    c.peer.peers.push_back(std::move(pc));
    return Status::Ok();
  });
}

// A whole number in [lo, hi] at `name`, when present.
Status Int(const Reader& r, const toml::table& t, std::string_view name, int lo, int hi, int* out) {
  const toml::node* n = t.get(name);
  if (n == nullptr) return Status::Ok();
  if (!n->is_integer() || n->as_integer()->get() < lo || n->as_integer()->get() > hi)
    return r.Fail(
        *n, "ops." + std::string(name),
        "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  *out = static_cast<int>(n->as_integer()->get());
  return Status::Ok();
}

Status ReadOps(const Reader& r, const toml::table& ops, Config& c, const std::string& base) {
  KEIRETSU_RETURN_IF_ERROR(r.OnlyKeys(ops, "ops.",
                                      {"listen", "token_file", "max_connections", "timeout_seconds",
                                       "max_url_bytes", "status_refresh_seconds"}));
  c.ops.enabled = true;
  KEIRETSU_RETURN_IF_ERROR(r.Str(ops, "ops.", "listen", &c.ops.listen));
  if (!IsHostPort(c.ops.listen))
    return r.Fail(*ops.get("listen"), "ops.listen", "must be host:port (e.g. 127.0.0.1:7702)");
  KEIRETSU_RETURN_IF_ERROR(r.Str(ops, "ops.", "token_file", &c.ops.token_file));
  c.ops.token_file = r.Resolve(base, c.ops.token_file);
  KEIRETSU_RETURN_IF_ERROR(Int(r, ops, "max_connections", 1, 1024, &c.ops.max_connections));
  KEIRETSU_RETURN_IF_ERROR(Int(r, ops, "timeout_seconds", 1, 300, &c.ops.timeout_seconds));
  KEIRETSU_RETURN_IF_ERROR(Int(r, ops, "max_url_bytes", 64, 16384, &c.ops.max_url_bytes));
  return Int(r, ops, "status_refresh_seconds", 1, 3600, &c.ops.status_refresh_seconds);
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& file,
                           const std::string& base_dir) {
  Config c;
  c.file = file;
  toml::table doc;
  try {
    doc = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(file + ":" + std::to_string(e.source().begin.line) +
                           ": not valid TOML: " + std::string(e.description()));
  }
  Reader r(c);
  KEIRETSU_RETURN_IF_ERROR(ReadRoot(r, doc, c, base_dir));
  Status err;
  if (const toml::table* api = r.Table(doc, "api", &err))
    KEIRETSU_RETURN_IF_ERROR(ReadApi(r, *api, c, base_dir));
  KEIRETSU_RETURN_IF_ERROR(err);
  if (const toml::table* peer = r.Table(doc, "peer", &err))
    KEIRETSU_RETURN_IF_ERROR(ReadPeer(r, *peer, c));
  KEIRETSU_RETURN_IF_ERROR(err);
  if (const toml::table* storage = r.Table(doc, "storage", &err)) {
    KEIRETSU_RETURN_IF_ERROR(r.OnlyKeys(*storage, "storage.", {"free_space_reserve_mib"}));
    KEIRETSU_RETURN_IF_ERROR(r.Int(*storage, "storage.", "free_space_reserve_mib", 0,
                                   int64_t{1} << 20, &c.storage.free_space_reserve_mib));
  }
  KEIRETSU_RETURN_IF_ERROR(err);
  if (const toml::table* ops = r.Table(doc, "ops", &err))
    KEIRETSU_RETURN_IF_ERROR(ReadOps(r, *ops, c, base_dir));
  KEIRETSU_RETURN_IF_ERROR(err);
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound("config file " + path + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError("config file " + path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string base = std::filesystem::absolute(path, ec).parent_path().string();
  return ParseConfig(ss.str(), path, base);
}

}  // namespace keiretsu::daemon
