// The TOML form of a genesis: what people write, review and share before
// the ceremony. Its canonical bytes (and so the network id) do not depend on
// formatting, comments or member order.
#include <toml++/toml.h>
#include <fstream>
#include <sstream>

#include "keiretsu/protocol/genesis.h"

namespace keiretsu::protocol {

Result<Genesis> Genesis::ParseToml(std::string_view text) {
  toml::table doc;
  try {
    doc = toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << "genesis is not valid TOML: " << e.description() << " (line " << e.source().begin.line
      << ")";
    return InvalidArgument(m.str());
  }
  // Strict: a misspelt key must not silently fall back to a default.
  for (const auto& [key, value] : doc) {
    std::string_view k = key.str();
    if (k != "network" && k != "created_unix" && k != "admission_quorum" && k != "threshold" &&
        k != "members")
      return InvalidArgument("genesis has an unknown key `" + std::string(k) + "`");
  }
  auto integer = [&](std::string_view key) -> std::optional<int64_t> {
    const toml::node* n = doc.get(key);
    if (n == nullptr || !n->is_integer()) return std::nullopt;
    return n->as_integer()->get();
  };
  GenesisSpec spec;
  auto name = doc["network"].value_exact<std::string>();
  if (!name) return InvalidArgument("genesis needs `network = \"<name>\"`");
  spec.network_name = *name;
  auto created = integer("created_unix");
  if (!created || *created < 0)
    return InvalidArgument("genesis needs `created_unix = <seconds since 1970>`");
  spec.created_unix = static_cast<uint64_t>(*created);
  // A `threshold` makes it a version 2 genesis (PROTOCOL.md 19.2).
  bool v2 = doc.contains("threshold");
  if (v2) {
    if (doc.contains("admission_quorum"))
      return InvalidArgument("a genesis with `threshold` (version 2) has no admission_quorum");
    auto k = integer("threshold");
    if (!k || *k < 1 || *k > 65535) return InvalidArgument("threshold must be a positive integer");
    spec.version = 2;
    spec.threshold = static_cast<uint16_t>(*k);
  }
  int64_t quorum = 1;
  if (doc.contains("admission_quorum")) {
    auto q = integer("admission_quorum");
    if (!q) return InvalidArgument("admission_quorum must be an integer");
    quorum = *q;
  }
  if (quorum < 1 || quorum > 65535) return InvalidArgument("admission_quorum out of range");
  spec.admission_quorum = static_cast<uint16_t>(quorum);
  const toml::array* members = doc["members"].as_array();
  if (members == nullptr) return InvalidArgument("genesis needs [[members]] entries");
  for (const toml::node& node : *members) {
    const toml::table* t = node.as_table();
    if (t == nullptr) return InvalidArgument("each [[members]] must be a table");
    for (const auto& [key, value] : *t) {
      if (key.str() != "name" && key.str() != "public_key" && key.str() != "next_key_digest")
        return InvalidArgument("a member has an unknown key `" + std::string(key.str()) + "`");
    }
    auto mname = (*t)["name"].value_exact<std::string>();
    auto key = (*t)["public_key"].value_exact<std::string>();
    if (!mname || !key) return InvalidArgument("each member needs `name` and `public_key`");
    auto pk = PublicKey::FromHex(*key);
    if (!pk) return InvalidArgument("member " + *mname + ": public_key must be 64 hex characters");
    Member m{*mname, *pk};
    auto next = (*t)["next_key_digest"].value_exact<std::string>();
    if (next && !v2)
      return InvalidArgument("member " + *mname +
                             ": next_key_digest needs a version 2 genesis (with `threshold`)");
    if (v2 && !next) return InvalidArgument("member " + *mname + " needs `next_key_digest`");
    if (next) {
      auto d = Digest::FromHex(*next);
      if (!d)
        return InvalidArgument("member " + *mname + ": next_key_digest must be 64 hex characters");
      m.next_key_digest = *d;
    }
    spec.members.push_back(std::move(m));
  }
  return Create(std::move(spec));
}

Result<Genesis> Genesis::LoadTomlFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read genesis file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto g = ParseToml(ss.str());
  if (!g.ok()) return g.status().WithContext(path);
  return g;
}

std::string Genesis::ToToml() const {
  std::ostringstream out;
  out << "# keiretsu genesis. The network id is the BLAKE2b-256 of this document's\n"
      << "# canonical bytes (docs/PROTOCOL.md): network_id = " << network_id_.Hex() << "\n"
      << "network = \"" << spec_.network_name << "\"\n"
      << "created_unix = " << spec_.created_unix << "\n";
  if (spec_.version == 2)
    out << "threshold = " << spec_.threshold << "\n";
  else
    out << "admission_quorum = " << spec_.admission_quorum << "\n";
  for (const Member& m : spec_.members) {
    out << "\n[[members]]\nname = \"" << m.name << "\"\npublic_key = \"" << m.key.Hex() << "\"\n";
    if (spec_.version == 2) out << "next_key_digest = \"" << m.next_key_digest.Hex() << "\"\n";
  }
  return out.str();
}

}  // namespace keiretsu::protocol
