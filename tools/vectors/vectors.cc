// Derive(): every derived value of the vectors, through the real code.
#include "vectors.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/digest.h"
#include "keiretsu/storage/store.h"

namespace keiretsu::vectors {
namespace {

// A scratch directory for key files and the ledger, removed when done.
class ScratchDir {
 public:
  static Result<ScratchDir> Make() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "keiretsu-vectors-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return IOError("cannot create a temporary directory");
    return ScratchDir(tmpl);
  }
  ScratchDir(ScratchDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

std::string StopReasonName(storage::StopReason r) {
  switch (r) {
    case storage::StopReason::kNone: return "";
    case storage::StopReason::kFork: return "fork";
    case storage::StopReason::kInvalidEntry: return "invalid-entry";
  }
  return "unknown";
}

Status DeriveKeys(Vectors* v, const ScratchDir& dir) {
  for (KeyVector& k : v->keys) {
    crypto::SigningKey key = crypto::SigningKey::FromSeed(k.seed);
    k.public_key = key.public_key();
    const std::string path = dir.Sub("key-" + k.name);
    KEIRETSU_RETURN_IF_ERROR(crypto::WriteKeyFile(path, key));
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    k.key_file = text.str();
    KEIRETSU_ASSIGN_OR_RETURN(crypto::SigningKey back, crypto::ReadKeyFile(path));
    if (back.public_key() != k.public_key)
      return Internal("key file of " + k.name + " reads back as another key");
  }
  return Status::Ok();
}

Result<protocol::Genesis> DeriveGenesis(Vectors* v) {
  GenesisVector& g = v->genesis;
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis from_toml, protocol::Genesis::ParseToml(g.toml));
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis from_fields, protocol::Genesis::Create(g.spec));
  if (from_toml.canonical_bytes() != from_fields.canonical_bytes())
    return InvalidArgument("genesis TOML and genesis fields give different canonical bytes");
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis decoded,
                            protocol::Genesis::Decode(from_fields.canonical_bytes()));
  if (decoded.network_id() != from_fields.network_id())
    return Internal("genesis canonical bytes decode to another network id");
  for (const KeyVector& k : v->keys)
    if (k.member != from_fields.IsMember(k.public_key))
      return InvalidArgument("key " + k.name + ": member flag disagrees with the genesis");
  g.canonical = from_fields.canonical_bytes();
  g.network_id = from_fields.network_id();
  return from_fields;
}

Status DeriveEntries(Vectors* v, const protocol::Genesis& genesis) {
  std::map<std::string, const KeyVector*> by_name;
  for (const KeyVector& k : v->keys) by_name[k.name] = &k;
  for (EntryVector& e : v->entries) {
    auto signer = by_name.find(e.signer);
    if (signer == by_name.end())
      return InvalidArgument("entry " + e.label + ": unknown signer " + e.signer);
    e.content = protocol::EncodeContent(e.entry);
    e.content[0] = e.version;  // the encoder always writes version 1
    e.signature = crypto::SigningKey::FromSeed(signer->second->seed)
                      .Sign(protocol::SigningMessage(e.content));
    if (e.tamper == "s-plus-l") {
      e.signature = AddGroupOrderToS(e.signature);
    } else if (e.tamper != "none") {
      return InvalidArgument("entry " + e.label + ": unknown tamper " + e.tamper);
    }
    e.record = e.content;
    e.record.insert(e.record.end(), e.signature.begin(), e.signature.end());
    e.id = EntryId{crypto::Blake2b256(e.content)};
    e.check = std::string(protocol::FaultName(protocol::CheckRecord(e.record, genesis).fault));
  }
  return Status::Ok();
}

Status DeriveRecords(Vectors* v, const protocol::Genesis& genesis) {
  for (RawRecordVector& r : v->records) {
    const KeyVector* signer = nullptr;
    for (const KeyVector& k : v->keys)
      if (k.name == r.signer) signer = &k;
    if (signer == nullptr)
      return InvalidArgument("record " + r.label + ": unknown signer " + r.signer);
    r.signature =
        crypto::SigningKey::FromSeed(signer->seed).Sign(protocol::SigningMessage(r.content));
    r.record = r.content;
    r.record.insert(r.record.end(), r.signature.begin(), r.signature.end());
    r.id = EntryId{crypto::Blake2b256(r.content)};
    r.check = std::string(protocol::FaultName(protocol::CheckRecord(r.record, genesis).fault));
  }
  return Status::Ok();
}

// The state digest's input, built from docs/PROTOCOL.md "State digest"
// rather than through protocol::StateDigest, which Derive holds it against.
Bytes StateDigestInput(const NetworkId& network,
                       const std::map<PublicKey, storage::FeedState>& feeds) {
  Bytes out;
  ByteWriter w(&out);
  w.Raw(std::string_view("keiretsu/v1/state"));
  w.Raw(network.View());
  for (const auto& [author, st] : feeds) {  // std::map: sorted by key bytes
    if (st.effective_seq() == 0 && st.stop_seq == 0) continue;
    w.Raw(author.View());
    w.U64(st.effective_seq());
    w.Raw(st.effective_id.View());
    w.U64(st.stop_seq);
  }
  return out;
}

Status ReadFinalState(const node::Ledger& ledger, Vectors* v) {
  FinalState& f = v->final_state;
  const auto feeds = ledger.Feeds();
  for (const auto& [author, st] : feeds) {
    if (st.head_seq == 0 && st.stop_seq == 0) continue;
    f.feeds.push_back({author, st.head_seq, st.head_id, st.effective_seq(), st.effective_id,
                       st.stop_seq, StopReasonName(st.stop_reason)});
  }
  KEIRETSU_ASSIGN_OR_RETURN(auto rows, ledger.ListAllBalances());
  for (const auto& r : rows)
    f.balances.push_back({r.firm, r.counterparty, r.unit, protocol::AmountToString(r.net)});
  KEIRETSU_ASSIGN_OR_RETURN(auto evidence, ledger.ListEvidence());
  for (const auto& e : evidence) {
    EvidenceVector ev{StopReasonName(e.kind), e.author, e.seq, {}, std::nullopt};
    ev.first = protocol::IdOfRecord(e.first).value_or(EntryId{});
    if (!e.second.empty()) ev.second = protocol::IdOfRecord(e.second).value_or(EntryId{});
    f.evidence.push_back(ev);
  }
  for (const auto& m : ledger.genesis().members()) {  // sorted by key
    KEIRETSU_ASSIGN_OR_RETURN(auto records, ledger.ListOpenClaims(m.key));
    OpenClaimsVector oc{m.key, {}};
    for (const Bytes& rec : records) oc.claims.push_back(*protocol::IdOfRecord(rec));
    std::sort(oc.claims.begin(), oc.claims.end());
    if (!oc.claims.empty()) f.open_claims.push_back(std::move(oc));
  }
  // Every (debtor, claim) an accept or decline of the vectors names.
  std::set<std::pair<PublicKey, EntryId>> asked;
  for (const EntryVector& e : v->entries) {
    if (const auto* a = std::get_if<protocol::Accept>(&e.entry.body))
      asked.insert({e.entry.author, a->claim_id});
    if (const auto* d = std::get_if<protocol::Decline>(&e.entry.body))
      asked.insert({e.entry.author, d->claim_id});
  }
  for (const auto& [debtor, claim] : asked) {
    KEIRETSU_ASSIGN_OR_RETURN(auto answer, ledger.FindAnswer(debtor, claim));
    if (answer) f.answers.push_back({debtor, claim, *answer});
  }
  f.pending = ledger.PendingCount();
  f.state_digest = ledger.StateDigest();
  f.state_digest_input = StateDigestInput(ledger.genesis().network_id(), feeds);
  if (Digest{crypto::Blake2b256(f.state_digest_input)} != f.state_digest)
    return Internal("the state digest is not BLAKE2b-256 of the documented input");
  return Status::Ok();
}

Status DeriveIngest(Vectors* v, const protocol::Genesis& genesis, const ScratchDir& dir) {
  KEIRETSU_ASSIGN_OR_RETURN(auto store,
                            storage::Store::Open({dir.Sub("ledger"), genesis.network_id(), true}));
  node::LedgerOptions options;
  options.verify_threads = 1;
  KEIRETSU_ASSIGN_OR_RETURN(auto ledger, node::Ledger::Open(genesis, std::move(store), options));
  std::map<std::string, const Bytes*> by_label;  // entries' and raw records' labels
  for (const RawRecordVector& r : v->records) by_label[r.label] = &r.record;
  for (const EntryVector& e : v->entries) by_label[e.label] = &e.record;
  for (IngestStep& step : v->ingest) {
    auto it = by_label.find(step.entry);
    if (it == by_label.end()) return InvalidArgument("ingest names unknown entry " + step.entry);
    const Bytes& record = *it->second;
    auto results = ledger->Ingest(std::span(&record, 1), /*sync=*/false);
    step.outcome = std::string(node::OutcomeName(results.at(0).outcome));
    step.state_digest = ledger->StateDigest();
  }
  return ReadFinalState(*ledger, v);
}

}  // namespace

crypto::Signature AddGroupOrderToS(const crypto::Signature& sig) {
  // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
  static constexpr uint8_t kL[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                     0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                     0,    0,    0,    0,    0,    0,    0,    0,
                                     0,    0,    0,    0,    0,    0,    0,    0x10};
  crypto::Signature out = sig;
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    unsigned sum = static_cast<unsigned>(sig[32 + i]) + kL[i] + carry;
    out[32 + i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
  }
  return out;  // S < L < 2^253, so S + L < 2^254: no carry out
}

void ClearDerived(Vectors* v) {
  for (KeyVector& k : v->keys) {
    k.public_key = {};
    k.key_file.clear();
  }
  v->genesis.canonical.clear();
  v->genesis.network_id = {};
  for (SignatureCase& c : v->signature_checks) c.valid = false;
  for (EntryVector& e : v->entries) {
    e.content.clear();
    e.signature = {};
    e.record.clear();
    e.id = {};
    e.check.clear();
  }
  for (RawRecordVector& r : v->records) {
    r.signature = {};
    r.record.clear();
    r.id = {};
    r.check.clear();
  }
  for (IngestStep& s : v->ingest) {
    s.outcome.clear();
    s.state_digest = {};
  }
  v->final_state = {};
}

Status Derive(Vectors* v) {
  KEIRETSU_ASSIGN_OR_RETURN(ScratchDir dir, ScratchDir::Make());
  KEIRETSU_RETURN_IF_ERROR(DeriveKeys(v, dir));
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis genesis, DeriveGenesis(v));
  for (SignatureCase& c : v->signature_checks)
    c.valid = crypto::Verify(c.public_key, c.message, c.signature);
  KEIRETSU_RETURN_IF_ERROR(DeriveEntries(v, genesis));
  KEIRETSU_RETURN_IF_ERROR(DeriveRecords(v, genesis));
  v->final_state = {};
  return DeriveIngest(v, genesis, dir);
}

}  // namespace keiretsu::vectors
