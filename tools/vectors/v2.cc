// The protocol v2 vectors: scenarios and their derivation (v2.h).
#include "v2.h"

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "keiretsu/audit/model_record.h"
#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/checkpoint.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/ledger_model.h"

namespace keiretsu::vectors {
namespace {

using Json = nlohmann::ordered_json;
using namespace protocol;

constexpr uint64_t kCreatedUnix = 1'790'000'000;
constexpr uint8_t kTagPropose = static_cast<uint8_t>(protocol::BodyKind::kPropose);
constexpr uint8_t kTagVote = static_cast<uint8_t>(protocol::BodyKind::kVote);
constexpr uint8_t kTagLeave = static_cast<uint8_t>(protocol::BodyKind::kLeave);
constexpr uint8_t kTagRotate = static_cast<uint8_t>(protocol::BodyKind::kRotate);
constexpr uint64_t kBaseTimeMs = 1'790'003'600'000;

// Every key of the scenarios, by name; seed = H("keiretsu-v2-vectors/" || name).
class Keys {
 public:
  const crypto::SigningKey& Get(const std::string& name) {
    auto it = keys_.find(name);
    if (it == keys_.end()) {
      std::string label = "keiretsu-v2-vectors/" + name;
      Hash32 seed = crypto::Blake2b256(AsBytes(label));
      order_.push_back(name);
      seeds_[name] = seed;
      it = keys_.emplace(name, crypto::SigningKey::FromSeed(seed)).first;
    }
    return it->second;
  }
  PublicKey Pk(const std::string& name) { return Get(name).public_key(); }
  Digest D(const std::string& name) { return NextKeyDigest(Pk(name)); }
  std::string NameOf(const PublicKey& k) const {
    for (const auto& [n, key] : keys_)
      if (key.public_key() == k) return n;
    return "";
  }
  Json ToJson() const {
    Json out = Json::array();
    for (const std::string& n : order_) {
      const PublicKey& pk = keys_.at(n).public_key();
      out.push_back({{"name", n},
                     {"seed", ToHex(seeds_.at(n))},
                     {"public_key", pk.Hex()},
                     {"next_key_digest", NextKeyDigest(pk).Hex()}});
    }
    return out;
  }

 private:
  std::map<std::string, crypto::SigningKey> keys_;
  std::map<std::string, Hash32> seeds_;
  std::vector<std::string> order_;
};

struct Rec {
  std::string label;
  std::string note;
  std::string author;  // key name of the firm (its id)
  std::string signer;  // key name of the key that signs
  uint64_t seq = 0;
  EntryId prev;
  uint64_t timestamp_ms = 0;
  uint8_t kind = 0;
  Json body;  // the body's fields
  Bytes body_bytes;
  Bytes content;
  crypto::Signature signature{};
  Bytes record;
  EntryId id;
};

// The founders: name, inception key name, next key name.
struct Founder {
  std::string name, key, next;
};
const std::vector<Founder> kFounders = {
    {"atlas-logistics", "atlas", "atlas-next"},
    {"brightwater-foods", "brightwater", "brightwater-next"},
    {"cobalt-machining", "cobalt", "cobalt-next"},
    {"delta-textiles", "delta", "delta-next"},
};

class Scenario {
 public:
  Scenario(Keys& keys, const Genesis& g, std::string name, std::string note)
      : keys_(keys), genesis_(g), name_(std::move(name)), note_(std::move(note)) {}

  Digest h0() const { return GenesisEpochHash(genesis_.network_id()); }

  // An honest append to `author`'s feed, signed by `signer` (default: the
  // author's key in force as this scenario tracks it).
  Rec& Append(const std::string& label, const std::string& author, uint8_t kind, Bytes body,
              Json fields, std::string signer = "") {
    Head& h = heads_[author];
    if (h.key.empty()) h.key = author;
    Rec& r = Raw(label, author, signer.empty() ? h.key : signer, h.seq + 1, h.id, kind,
                 std::move(body), std::move(fields));
    h.seq = r.seq;
    h.prev = h.id;
    h.id = r.id;
    return r;
  }
  // A record at a chosen seq and prev; the feed's tracked head is unchanged.
  Rec& Raw(const std::string& label, const std::string& author, const std::string& signer,
           uint64_t seq, const EntryId& prev, uint8_t kind, Bytes body, Json fields) {
    Rec r;
    r.label = label;
    r.author = author;
    r.signer = signer;
    r.seq = seq;
    r.prev = prev;
    r.timestamp_ms = kBaseTimeMs + 1000 * recs_.size();
    r.kind = kind;
    r.body = std::move(fields);
    r.body_bytes = std::move(body);
    ByteWriter w(&r.content);
    w.U8(1);
    w.Raw(genesis_.network_id().View());
    w.Raw(keys_.Pk(author).View());
    w.U64(seq);
    w.Raw(prev.View());
    w.U64(r.timestamp_ms);
    w.U8(kind);
    w.Raw(r.body_bytes);
    r.id = EntryId{crypto::Blake2b256(r.content)};
    r.signature = keys_.Get(signer).Sign(SigningMessage(r.content));
    r.record = r.content;
    r.record.insert(r.record.end(), r.signature.begin(), r.signature.end());
    recs_.push_back(std::move(r));
    return recs_.back();
  }

  // Bodies. Each returns the bytes and the fields the vectors list.
  Rec& Owe(const std::string& label, const std::string& author, const std::string& creditor,
           uint64_t amount, std::string signer = "") {
    Bytes b;
    ByteWriter w(&b);
    w.Raw(keys_.Pk(creditor).View());
    w.U64(amount);
    w.U8(5);
    w.Raw(std::string_view("hours"));
    w.U16(0);
    return Append(label, author, 4, b,
                  {{"creditor", keys_.Pk(creditor).Hex()},
                   {"amount", amount},
                   {"unit", "hours"},
                   {"memo", ""}},
                  std::move(signer));
  }
  static Json ProposeFields(const Propose& p) {
    Json f = {{"epoch_hash", p.epoch_hash.Hex()},
              {"round", p.round},
              {"action", std::string(ActionName(TagOf(p.action)))},
              {"threshold", p.threshold}};
    if (const auto* a = std::get_if<AdmitAction>(&p.action)) {
      f["inception_key"] = a->inception_key.Hex();
      f["next_key_digest"] = a->next_key_digest.Hex();
      f["name"] = a->name;
    } else if (const auto* rm = std::get_if<RemoveAction>(&p.action)) {
      f["member"] = rm->member.Hex();
      f["last_seq"] = rm->last_seq;
    }
    f["memo"] = p.memo;
    return f;
  }
  template <class T>
  static Bytes Encode(const T& body) {
    Bytes b;
    ByteWriter w(&b);
    KindOps<T>::Encode(body, w);
    return b;
  }
  Rec& Prop(const std::string& label, const std::string& author, const Propose& p) {
    return Append(label, author, kTagPropose, Encode(p), ProposeFields(p));
  }
  Rec& Admit(const std::string& label, const std::string& author, const std::string& firm,
             const std::string& firm_name, uint16_t k, const Digest& epoch, uint32_t round = 0) {
    return Prop(label, author,
                Propose{epoch, round, k,
                        AdmitAction{firm_name, keys_.Pk(firm), keys_.D(firm + "-next")}, ""});
  }
  Rec& Remove(const std::string& label, const std::string& author, const std::string& firm,
              uint64_t last_seq, uint16_t k, const Digest& epoch, uint32_t round = 0) {
    return Prop(label, author,
                Propose{epoch, round, k, RemoveAction{keys_.Pk(firm), last_seq}, "removal"});
  }
  Rec& SetK(const std::string& label, const std::string& author, uint16_t k, const Digest& epoch,
            uint32_t round = 0) {
    return Prop(label, author, Propose{epoch, round, k, SetThresholdAction{}, ""});
  }
  Rec& VoteFor(const std::string& label, const std::string& author, const Rec& proposal,
               const Digest& epoch, uint32_t round = 0) {
    Vote v{epoch, round, proposal.id};
    return Append(
        label, author, kTagVote, Encode(v),
        {{"epoch_hash", epoch.Hex()}, {"round", round}, {"proposal_id", v.proposal_id.Hex()}});
  }
  Rec& LeaveNow(const std::string& label, const std::string& author) {
    Leave l{"closing down"};
    return Append(label, author, kTagLeave, Encode(l), {{"memo", l.memo}});
  }
  // A rotation of `author` to key `to` committing to key `after`, signed by
  // `signer` (default: `to`, as the rule wants). The tracked key becomes `to`.
  Rec& RotateTo(const std::string& label, const std::string& author, const std::string& to,
                const std::string& after, std::string signer = "") {
    Rotate r{keys_.Pk(to), keys_.D(after)};
    Rec& rec = Append(label, author, kTagRotate, Encode(r),
                      {{"new_key", r.new_key.Hex()}, {"next_key_digest", r.next_key_digest.Hex()}},
                      signer.empty() ? to : signer);
    heads_[author].key = to;
    return rec;
  }
  Digest NextEpoch(const Digest& e, const Rec& passed) const { return NextEpochHash(e, passed.id); }
  const Rec& Last() const { return recs_.back(); }
  // The seq and id of `author`'s tracked head, and the key name in force.
  uint64_t HeadSeq(const std::string& author) { return heads_[author].seq; }
  EntryId PrevOfHead(const std::string& author) { return heads_[author].prev; }
  EntryId HeadId(const std::string& author) { return heads_[author].id; }
  std::string KeyOf(const std::string& author) {
    Head& h = heads_[author];
    return h.key.empty() ? author : h.key;
  }
  // The reference model of the records so far.
  Result<LedgerModel> Model() const {
    std::vector<ModelRecord> models;
    for (const Rec& r : recs_) {
      audit::ParsedRecord p = audit::ParseModelRecord(r.record, genesis_.network_id());
      if (!p.model) return Internal("scenario " + name_ + ": record " + r.label + ": " + p.why);
      models.push_back(std::move(*p.model));
    }
    return RecomputeLedger(EpochZeroOf(genesis_), models);
  }
  void Note(const std::string& n) { recs_.back().note = n; }

  // A checkpoint of the scenario's final state (PROTOCOL.md 15.2) by firm
  // `firm` (key name of its id), made with its key in force, then changed
  // by `tamper` ("none", "epoch-hash": the previous epoch's hash with the
  // digest recomputed, "digest": one digest byte changed) and signed by
  // `sign_key` (empty: the key in force). `verdict` is what a verifier
  // must conclude: "valid" or the first check that refuses it.
  void AddCheckpoint(std::string label, std::string firm, std::string tamper, std::string sign_key,
                     std::string verdict, std::string note) {
    checkpoints_.push_back({std::move(label), std::move(firm), std::move(tamper),
                            std::move(sign_key), std::move(verdict), std::move(note)});
  }

  Result<Json> Derive() const;

 private:
  struct Head {
    uint64_t seq = 0;
    EntryId id;
    EntryId prev;  // the head's own prev
    std::string key;
  };
  Keys& keys_;
  const Genesis& genesis_;
  std::string name_, note_;
  std::deque<Rec> recs_;
  std::map<std::string, Head> heads_;
  struct CheckpointSpec {
    std::string label, firm, tamper, sign_key, verdict, note;
  };
  std::vector<CheckpointSpec> checkpoints_;

  Result<Json> DeriveCheckpoints(const LedgerModel& m) const;
};

// Which check of PROTOCOL.md 15.2 refused a checkpoint, from
// VerifyCheckpointV2's message (the vectors name the check).
std::string VerdictOf(const Result<Checkpoint>& v) {
  if (v.ok()) return "valid";
  const std::string why = v.status().message();  // a copy: status() may be a temporary
  const std::pair<const char*, const char*> kChecks[] = {
      {"does not match its own feed list", "digest"},
      {"presented as signed by", "signer-mismatch"},
      {"is for network", "network"},
      {"epoch chain does not reach", "epoch"},
      {"has hash", "epoch"},
      {"is not an active member", "signer-not-member"},
      {"of no member of epoch", "author-not-member"},
      {"does not verify", "signature"},
  };
  for (const auto& [fragment, verdict] : kChecks)
    if (why.find(fragment) != std::string::npos) return verdict;
  return "malformed";
}

std::string Outcome(const Rec& r, const PublicKey& author, const LedgerModel& m,
                    const std::set<EntryId>& prefix_ids) {
  auto it = m.feeds.find(author);
  if (it == m.feeds.end()) return "pending-author";
  const CountedFeed& cf = it->second;
  const FeedWalk& w = cf.walk;
  if (prefix_ids.contains(r.id)) return r.seq <= cf.counted_seq ? "counted" : "uncounted";
  if (w.stop_seq != 0 && r.seq >= w.stop_seq) return "above-stop";
  if (w.left_seq != 0 && r.seq > w.left_seq) return "above-leave";
  if (r.seq <= w.effective_seq()) return "overridden";
  return "beyond";
}

// The name of the key `i` rotations into `firm`'s chain: firm, firm-next,
// firm-next-2, ...
std::string ChainKey(const std::string& firm, int i) {
  if (i == 0) return firm;
  return firm + "-next" + (i == 1 ? "" : "-" + std::to_string(i));
}

// A seeded random governance history (PROTOCOL.md 16): ordinary entries,
// proposals (valid, invalid, stale), votes (some in other rounds), leaves,
// rotations (honest, by the wrong key, by a thief), forks and records of a
// retired key, by the four founders and two firms that may be admitted.
// std::mt19937's output sequence is fixed by the standard; only its raw
// output is used, so the history is the same on every platform.
Status RandomHistory(Keys& keys, const Genesis& g, uint32_t seed, Scenario& s) {
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::vector<std::string> firms = {"atlas", "brightwater", "cobalt",
                                          "delta", "eagle",       "falcon"};
  const std::vector<std::string> newcomers = {"eagle", "falcon"};
  std::map<std::string, int> rotations;
  struct Held {
    EntryId id;
    Digest epoch;
    uint32_t round;
  };
  std::vector<Held> proposals;
  int label = 0;
  auto next_label = [&](const std::string& what) { return std::to_string(++label) + "-" + what; };
  for (int step = 0; step < 26; ++step) {
    KEIRETSU_ASSIGN_OR_RETURN(LedgerModel m, s.Model());
    const Epoch& now = m.history.current();
    const size_t ai = pick(5) == 0 ? 4 + pick(2) : pick(4);  // founders mostly
    const std::string& author = firms[ai];
    size_t r = pick(100);
    if (r < 20) {
      const std::string& creditor = firms[(ai + 1 + pick(firms.size() - 1)) % firms.size()];
      s.Owe(next_label(author + "-owes-" + creditor), author, creditor, 1 + pick(50),
            s.KeyOf(author));
    } else if (r < 34) {
      const Digest epoch = pick(10) == 0 ? GenesisEpochHash(g.network_id()) : now.hash;
      const uint32_t round = pick(5) == 0 ? 1 : 0;
      size_t n = now.ActiveCount();
      size_t kind = pick(3);
      size_t n2 = kind == 0 ? n + 1 : kind == 1 ? n - 1 : n;
      // Mostly a valid k' (n'/2 < k' <= n'), sometimes one just outside.
      size_t k2 = pick(6) == 0 ? (pick(2) == 0 ? n2 / 2 : n2 + 1) : n2 / 2 + 1 + pick(n2 - n2 / 2);
      uint16_t k = static_cast<uint16_t>(std::max<size_t>(1, k2));
      Propose p{epoch, round, k, SetThresholdAction{}, ""};
      if (kind == 0) {
        const std::string& f = newcomers[pick(2)];
        p.action = AdmitAction{pick(6) == 0 ? std::string("Atlas-Logistics") : f + "-co",
                               keys.Pk(f), keys.D(f + "-next")};
      } else if (kind == 1) {
        const std::string& f = firms[pick(4)];
        p.action = RemoveAction{keys.Pk(f), s.HeadSeq(f) + pick(2)};
      }
      if (std::holds_alternative<AdmitAction>(p.action) &&
          std::get<AdmitAction>(p.action).inception_key == keys.Pk(author))
        continue;  // a stateless rule: no self-admission
      const Rec& rec = s.Prop(next_label(author + "-proposes"), author, p);
      proposals.push_back({rec.id, epoch, round});
    } else if (r < 76) {
      if (proposals.empty()) continue;
      // Mostly the latest proposal of the current epoch, if any.
      const Held* latest = nullptr;
      for (const Held& x : proposals)
        if (x.epoch == now.hash) latest = &x;
      const Held& h = latest && pick(10) < 8 ? *latest : proposals[pick(proposals.size())];
      uint32_t round = pick(8) == 0 ? h.round + 1 : h.round;
      Vote v{h.epoch, round, h.id};
      s.Append(next_label(author + "-votes"), author, static_cast<uint8_t>(BodyKind::kVote),
               Scenario::Encode(v),
               {{"epoch_hash", v.epoch_hash.Hex()}, {"round", round}, {"proposal_id", h.id.Hex()}},
               s.KeyOf(author));
    } else if (r < 79) {
      Leave l{"leaving"};
      s.Append(next_label(author + "-leaves"), author, static_cast<uint8_t>(BodyKind::kLeave),
               Scenario::Encode(l), {{"memo", l.memo}}, s.KeyOf(author));
    } else if (r < 89) {
      int& i = rotations[author];
      std::string to = ChainKey(author, i + 1), after = ChainKey(author, i + 2);
      bool wrong = pick(4) == 0;
      s.RotateTo(next_label(author + (wrong ? "-rotates-by-old-key" : "-rotates")), author, to,
                 after, wrong ? s.KeyOf(author) : to);
      ++i;
    } else if (r < 92) {
      Rotate rot{keys.Pk("stranger"), keys.D("eagle-next-2")};
      s.Raw(next_label("thief-rotates-" + author), author, "stranger", s.HeadSeq(author) + 1,
            s.HeadId(author), static_cast<uint8_t>(BodyKind::kRotate), Scenario::Encode(rot),
            {{"new_key", rot.new_key.Hex()}, {"next_key_digest", rot.next_key_digest.Hex()}});
    } else if (r < 94) {
      // A second record at the head's seq (a fork), by the key in force.
      uint64_t seq = s.HeadSeq(author);
      if (seq == 0) continue;
      const std::string other = author == "atlas" ? "brightwater" : "atlas";
      Bytes b;
      ByteWriter w(&b);
      w.Raw(keys.Pk(other).View());
      w.U64(999);
      w.U8(5);
      w.Raw(std::string_view("hours"));
      w.U16(0);
      s.Raw(next_label(author + "-forks"), author, s.KeyOf(author), seq, s.PrevOfHead(author), 4, b,
            {{"creditor", keys.Pk(other).Hex()}, {"amount", 999}, {"unit", "hours"}, {"memo", ""}});
    } else {
      // A record of the firm's inception key above the head: a thief's,
      // once the firm has rotated.
      if (rotations[author] == 0) continue;
      Bytes b;
      ByteWriter w(&b);
      const std::string other = author == "cobalt" ? "delta" : "cobalt";
      w.Raw(keys.Pk(other).View());
      w.U64(777);
      w.U8(5);
      w.Raw(std::string_view("hours"));
      w.U16(0);
      s.Raw(next_label("old-key-" + author), author, author, s.HeadSeq(author) + 1,
            s.HeadId(author), 4, b,
            {{"creditor", keys.Pk(other).Hex()}, {"amount", 777}, {"unit", "hours"}, {"memo", ""}});
    }
  }
  return Status::Ok();
}

Result<Json> Scenario::DeriveCheckpoints(const LedgerModel& m) const {
  std::vector<FeedHeadSummary> heads;
  CheckpointScope scope;
  const Epoch& now = m.history.current();
  scope.epoch = now.number;
  scope.epoch_hash = now.hash;
  scope.members = now.members;
  for (const auto& [id, cf] : m.feeds) {
    heads.push_back({id, cf.counted_seq, cf.counted_id, cf.walk.stop_seq});
    scope.key_chains[id] = cf.walk.keys;
  }
  const KeyChainLookup chains = [&](const PublicKey& firm) {
    auto it = m.feeds.find(firm);
    return it == m.feeds.end() ? std::vector<KeySpan>{} : it->second.walk.keys;
  };
  Json out = Json::array();
  for (size_t i = 0; i < checkpoints_.size(); ++i) {
    const CheckpointSpec& spec = checkpoints_[i];
    const std::string where = "scenario " + name_ + ": checkpoint " + spec.label;
    const PublicKey firm = keys_.Pk(spec.firm);
    auto cf = m.feeds.find(firm);
    if (cf == m.feeds.end()) return Internal(where + ": the firm is no member");
    const std::string in_force = keys_.NameOf(cf->second.walk.KeyAt(cf->second.counted_seq));
    const uint64_t time_ms = kBaseTimeMs + 3'600'000 + i;
    auto made = MakeCheckpoint(heads, genesis_, scope, keys_.Get(in_force), time_ms);
    if (!made.ok()) return Internal(where + ": " + made.status().ToString());
    KEIRETSU_ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpoint(made->statement));
    if (spec.tamper == "epoch-hash") {
      if (c.epoch == 0) return Internal(where + ": epoch 0 has no previous hash");
      c.epoch_hash = m.history.epochs[c.epoch - 1].hash;
      c.state_digest = StateDigestV2(c.network, c.epoch, c.epoch_hash, c.feeds);
    } else if (spec.tamper == "digest") {
      c.state_digest.bytes[31] ^= 0x01;
    } else if (spec.tamper != "none") {
      return Internal(where + ": unknown tamper " + spec.tamper);
    }
    const std::string sign_key = spec.sign_key.empty() ? in_force : spec.sign_key;
    const Bytes statement = EncodeCheckpointStatement(c);
    const crypto::Signature sig = keys_.Get(sign_key).Sign(CheckpointSigningMessage(statement));
    const std::string verdict =
        VerdictOf(VerifyCheckpointV2(statement, firm, sig, genesis_, m.history.epochs, chains));
    if (verdict != spec.verdict)
      return Internal(where + ": verifies as " + verdict + ", not " + spec.verdict);
    out.push_back({{"label", spec.label},
                   {"note", spec.note},
                   {"signer", firm.Hex()},
                   {"signer_name", spec.firm},
                   {"signing_key", sign_key},
                   {"time_ms", time_ms},
                   {"statement", ToHex(statement)},
                   {"signature", ToHex(sig)},
                   {"verdict", verdict}});
  }
  return out;
}

Result<Json> Scenario::Derive() const {
  std::vector<ModelRecord> models;
  for (const Rec& r : recs_) {
    audit::ParsedRecord p = audit::ParseModelRecord(r.record, genesis_.network_id());
    if (!p.model) return Internal("scenario " + name_ + ": record " + r.label + ": " + p.why);
    models.push_back(std::move(*p.model));
  }
  LedgerModel m = RecomputeLedger(EpochZeroOf(genesis_), models);
  std::map<PublicKey, std::vector<size_t>> of_author;
  for (size_t i = 0; i < models.size(); ++i) of_author[models[i].author].push_back(i);
  std::set<EntryId> prefix_ids;
  for (const auto& [id, cf] : m.feeds)
    for (size_t k : cf.walk.prefix) prefix_ids.insert(models[of_author[id][k]].feed.id);

  Json records = Json::array();
  Json outcomes = Json::array();
  for (const Rec& r : recs_) {
    Json j = {{"label", r.label}};
    if (!r.note.empty()) j["note"] = r.note;
    j["author"] = keys_.Pk(r.author).Hex();
    j["author_name"] = r.author;
    j["signer"] = r.signer;
    j["seq"] = r.seq;
    j["prev"] = r.prev.Hex();
    j["timestamp_ms"] = r.timestamp_ms;
    j["kind"] = r.kind;
    j["body"] = r.body;
    j["content"] = ToHex(r.content);
    j["signature"] = ToHex(r.signature);
    j["id"] = r.id.Hex();
    records.push_back(std::move(j));
    outcomes.push_back(
        {{"label", r.label}, {"outcome", Outcome(r, keys_.Pk(r.author), m, prefix_ids)}});
  }

  Json feeds = Json::array();
  Json evidence = Json::array();
  for (const auto& [id, cf] : m.feeds) {
    const FeedWalk& w = cf.walk;
    Json keys = Json::array();
    for (const KeySpan& k : w.keys)
      keys.push_back({{"from_seq", k.from_seq},
                      {"key", k.key.Hex()},
                      {"next_key_digest", k.next_key_digest.Hex()}});
    feeds.push_back({{"firm", id.Hex()},
                     {"effective_seq", w.effective_seq()},
                     {"effective_id", w.effective_id.Hex()},
                     {"stop_seq", w.stop_seq},
                     {"stop_reason", std::string(StopReasonName(w.stop_reason))},
                     {"left_seq", w.left_seq},
                     {"counted_seq", cf.counted_seq},
                     {"counted_id", cf.counted_id.Hex()},
                     {"keys", keys}});
    for (const WalkEvidence& e : w.evidence) {
      static const char* kNames[] = {"", "fork", "invalid-entry", "key-recovery"};
      evidence.push_back({{"firm", id.Hex()},
                          {"kind", kNames[static_cast<int>(e.kind)]},
                          {"seq", e.seq},
                          {"first", e.first.Hex()},
                          {"second", e.second.IsZero() ? Json(nullptr) : Json(e.second.Hex())}});
    }
  }
  Json epochs = Json::array();
  for (const Epoch& e : m.history.epochs) {
    Json members = Json::array();
    for (const EpochMember& em : e.members)
      members.push_back({{"firm", em.id.Hex()},
                         {"name", em.name},
                         {"next_key_digest", em.next_key_digest.Hex()},
                         {"since_epoch", em.since_epoch},
                         {"removed", em.removed},
                         {"removed_in_epoch", em.removed_in_epoch},
                         {"last_seq", em.last_seq}});
    epochs.push_back({{"number", e.number},
                      {"hash", e.hash.Hex()},
                      {"threshold", e.threshold},
                      {"passed", e.passed.IsZero() ? Json(nullptr) : Json(e.passed.Hex())},
                      {"members", members}});
  }
  Json proposals = Json::array();
  for (const auto& [id, info] : m.history.proposals)
    proposals.push_back({{"id", id.Hex()},
                         {"epoch", info.epoch ? Json(*info.epoch) : Json(nullptr)},
                         {"round", info.body.round},
                         {"state", std::string(ProposalStateName(info.state))},
                         {"supporters", info.supporters}});
  Json pending = Json::array();
  for (const auto& [a, n] : m.pending_authors)
    pending.push_back({{"firm", a.Hex()}, {"records", n}});
  Json balances = Json::array();
  for (const auto& [key, net] : m.balances)
    balances.push_back({{"firm", std::get<0>(key).Hex()},
                        {"counterparty", std::get<1>(key).Hex()},
                        {"unit", std::get<2>(key)},
                        {"net", AmountToString(net)}});
  Json out{{"name", name_},
           {"note", note_},
           {"genesis", genesis_.version() == 2 ? "v2" : "v1"},
           {"records", records},
           {"expected",
            {{"outcomes", outcomes},
             {"feeds", feeds},
             {"evidence", evidence},
             {"epochs", epochs},
             {"proposals", proposals},
             {"pending_authors", pending},
             {"balances", balances},
             {"state_digest", m.state_digest.Hex()}}}};
  if (!checkpoints_.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(Json cps, DeriveCheckpoints(m));
    out["checkpoints"] = std::move(cps);
  }
  return out;
}

}  // namespace

Result<std::string> V2Json() {
  Keys keys;
  GenesisSpec spec;
  spec.network_name = "keiretsu-v2-vectors";
  spec.created_unix = kCreatedUnix;
  spec.version = 2;
  spec.threshold = 3;
  for (const Founder& f : kFounders)
    spec.members.push_back(Member{f.name, keys.Pk(f.key), keys.D(f.next)});
  KEIRETSU_ASSIGN_OR_RETURN(Genesis g, Genesis::Create(spec));
  const Digest h0 = GenesisEpochHash(g.network_id());
  std::vector<Json> scenarios;
  auto add = [&](const Scenario& s) -> Status {
    KEIRETSU_ASSIGN_OR_RETURN(Json j, s.Derive());
    scenarios.push_back(std::move(j));
    return Status::Ok();
  };
  // Keys used besides the founders', named up front so the key list is in a
  // readable order.
  for (const char* n : {"atlas-next", "atlas-next-2", "brightwater-next", "brightwater-next-2",
                        "brightwater-next-3", "cobalt-next", "delta-next", "delta-next-2", "eagle",
                        "eagle-next", "eagle-next-2", "stranger"})
    keys.Get(n);

  {
    Scenario s(keys, g, "admission",
               "eagle's entries arrive before its admission (they are listed first); atlas "
               "proposes to admit eagle, three of four founders vote: eagle becomes a member in "
               "epoch 1 and its early entries count, as does brightwater's entry naming eagle "
               "before it was a member");
    s.Owe("eagle-1", "eagle", "atlas", 30);
    s.Owe("eagle-2", "eagle", "atlas", 12);
    s.Owe("brightwater-owes-eagle", "brightwater", "eagle", 5);
    Rec p = s.Admit("admit-eagle", "atlas", "eagle", "eagle-freight", 4, h0);
    s.VoteFor("atlas-votes", "atlas", p, h0);
    s.VoteFor("brightwater-votes", "brightwater", p, h0);
    s.VoteFor("cobalt-votes", "cobalt", p, h0);
    s.Owe("eagle-3", "eagle", "delta", 7);
    s.RotateTo("eagle-rotates", "eagle", "eagle-next", "eagle-next-2");
    s.Owe("eagle-5", "eagle", "delta", 1);
    s.AddCheckpoint("atlas-checkpoint", "atlas", "none", "", "valid",
                    "atlas states the view after the admission: version 2, epoch 1");
    s.AddCheckpoint("eagle-checkpoint", "eagle", "none", "", "valid",
                    "eagle, admitted in epoch 1, signs with eagle-next, its key in force at its "
                    "head (seq 5), and is named by its id");
    s.AddCheckpoint("wrong-epoch-hash", "atlas", "epoch-hash", "", "epoch",
                    "epoch 1 stated with h(0) (the digest recomputed to match, well signed): "
                    "refused, the epoch chain has another hash at 1");
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "admission-short-of-votes",
               "the same admission with two votes of the three needed: the proposal is pending, "
               "eagle's entries are kept pending and count nothing, brightwater's entry naming "
               "eagle counts without effect");
    s.Owe("eagle-1", "eagle", "atlas", 30);
    s.Owe("brightwater-owes-eagle", "brightwater", "eagle", 5);
    Rec p = s.Admit("admit-eagle", "atlas", "eagle", "eagle-freight", 4, h0);
    s.VoteFor("atlas-votes", "atlas", p, h0);
    s.VoteFor("brightwater-votes", "brightwater", p, h0);
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "removal",
               "delta is removed with last_seq 2: its entry at seq 3 counts for nothing; in "
               "epoch 1 delta's vote no longer counts, so cobalt's set-threshold proposal stays "
               "pending with atlas's vote alone");
    s.Owe("delta-1", "delta", "atlas", 10);
    s.Owe("delta-2", "delta", "atlas", 20);
    s.Owe("delta-3", "delta", "atlas", 40);
    Rec p = s.Remove("remove-delta", "atlas", "delta", 2, 2, h0);
    s.VoteFor("atlas-votes", "atlas", p, h0);
    s.VoteFor("brightwater-votes", "brightwater", p, h0);
    s.VoteFor("cobalt-votes", "cobalt", p, h0);
    Digest h1 = s.NextEpoch(h0, p);
    Rec q = s.SetK("cobalt-proposes-k3", "cobalt", 3, h1);
    s.VoteFor("atlas-votes-e1", "atlas", q, h1);
    s.VoteFor("delta-votes-e1", "delta", q, h1);
    s.Note("delta is no longer a member in epoch 1: its vote is void");
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "leaving",
               "cobalt leaves at seq 2; its entry at seq 3 is above the leave. The leaver still "
               "counts in n until the others remove it with last_seq 2");
    s.Owe("cobalt-1", "cobalt", "atlas", 8);
    s.LeaveNow("cobalt-leaves", "cobalt");
    s.Owe("cobalt-3", "cobalt", "atlas", 99);
    Rec p = s.Remove("remove-cobalt", "brightwater", "cobalt", 2, 2, h0);
    s.VoteFor("atlas-votes", "atlas", p, h0);
    s.VoteFor("brightwater-votes", "brightwater", p, h0);
    s.VoteFor("delta-votes", "delta", p, h0);
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "rotation",
               "brightwater rotates twice (to its pre-committed next key, then to the one that "
               "key committed to); entries verify under the key in force at their seq; a record "
               "its retired inception key signs after the rotations is not attributable");
    s.Owe("brightwater-1", "brightwater", "atlas", 3);
    s.RotateTo("brightwater-rotates", "brightwater", "brightwater-next", "brightwater-next-2");
    s.Owe("brightwater-3", "brightwater", "atlas", 4);
    s.RotateTo("brightwater-rotates-again", "brightwater", "brightwater-next-2",
               "brightwater-next-3");
    s.Owe("brightwater-5", "brightwater", "atlas", 5);
    s.Owe("brightwater-6-old-key", "brightwater", "atlas", 600, "brightwater");
    s.Note("signed by the retired inception key at seq 6: verifies under no key in force");
    s.AddCheckpoint("brightwater-checkpoint", "brightwater", "none", "", "valid",
                    "epoch 0 after rotations: version 2 with h(0) and the v1 digest, signed by "
                    "brightwater-next-2, the key in force at brightwater's head (seq 5)");
    s.AddCheckpoint("retired-key", "brightwater", "none", "brightwater", "signature",
                    "the same statement signed by brightwater's retired inception key: refused");
    s.AddCheckpoint("digest-changed", "atlas", "digest", "", "digest",
                    "atlas's statement with one digest byte changed (then signed): refused, the "
                    "digest does not match the listed feeds");
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "rotation-by-wrong-key",
               "cobalt signs its rotation with its current key instead of the new one: "
               "attributable, it ends cobalt's feed at 2 (invalid entry). A stranger signs a "
               "rotation of delta to its own key: not attributable, delta's chain goes on with "
               "delta's own seq 2");
    s.Owe("cobalt-1", "cobalt", "atlas", 1);
    s.RotateTo("cobalt-rotates-signed-by-old-key", "cobalt", "cobalt-next", "atlas-next-2",
               "cobalt");
    s.Owe("delta-1", "delta", "atlas", 2);
    s.Raw(
        "stranger-rotates-delta", "delta", "stranger", 2, s.Last().id, kTagRotate,
        Scenario::Encode(Rotate{keys.Pk("stranger"), keys.D("eagle-next")}),
        {{"new_key", keys.Pk("stranger").Hex()}, {"next_key_digest", keys.D("eagle-next").Hex()}});
    s.Owe("delta-2", "delta", "atlas", 3);
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "reused-key",
               "atlas rotates to its next key, then rotates again committing to its inception "
               "key (a key once used): the second rotation ends atlas's feed. A proposal to "
               "admit brightwater's key, and one to admit a name a member has in other case, "
               "are void");
    s.RotateTo("atlas-rotates", "atlas", "atlas-next", "atlas-next-2");
    s.RotateTo("atlas-rotates-to-used", "atlas", "atlas-next-2", "atlas");
    s.Prop("admit-existing-key", "cobalt",
           Propose{h0, 0, 4,
                   AdmitAction{"bright-two", keys.Pk("brightwater"), keys.D("eagle-next")}, ""});
    s.Prop("admit-existing-name", "delta",
           Propose{h0, 0, 4, AdmitAction{"ATLAS-LOGISTICS", keys.Pk("eagle"), keys.D("eagle-next")},
                   ""});
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "fork-at-vote",
               "cobalt signs two votes at seq 1: a fork; its feed stops at 1 and neither vote "
               "counts, so the admission needs delta's vote to pass");
    Rec p = s.Admit("admit-eagle", "atlas", "eagle", "eagle-freight", 4, h0);
    s.VoteFor("atlas-votes", "atlas", p, h0);
    s.VoteFor("brightwater-votes", "brightwater", p, h0);
    s.VoteFor("cobalt-votes", "cobalt", p, h0);
    Rec q = s.SetK("brightwater-proposes-k4", "brightwater", 4, h0);
    s.Raw("cobalt-votes-twice", "cobalt", "cobalt", 1, EntryId{}, kTagVote,
          Scenario::Encode(Vote{h0, 0, q.id}),
          {{"epoch_hash", h0.Hex()}, {"round", 0}, {"proposal_id", q.id.Hex()}});
    s.VoteFor("delta-votes", "delta", p, h0);
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "forks-at-rotation",
               "delta's key is stolen: the thief signs delta's seq 2; delta rotates at seq 2 "
               "with its pre-committed key (key recovery: the thief's record is overridden) and "
               "goes on; the thief cannot rotate. brightwater signs two rotations at seq 2 with "
               "its next key: a fork at 2");
    s.Owe("delta-1", "delta", "atlas", 5);
    EntryId d1 = s.Last().id;
    s.Raw(
        "thief-signs-delta-2", "delta", "delta", 2, d1, 4,
        [&] {
          Bytes b;
          ByteWriter w(&b);
          w.Raw(keys.Pk("cobalt").View());
          w.U64(1000);
          w.U8(5);
          w.Raw(std::string_view("hours"));
          w.U16(0);
          return b;
        }(),
        {{"creditor", keys.Pk("cobalt").Hex()}, {"amount", 1000}, {"unit", "hours"}, {"memo", ""}});
    s.RotateTo("delta-recovers", "delta", "delta-next", "delta-next-2");
    s.Owe("delta-3", "delta", "atlas", 6);
    s.Raw(
        "thief-rotates-delta", "delta", "stranger", 4, s.Last().id, kTagRotate,
        Scenario::Encode(Rotate{keys.Pk("stranger"), keys.D("eagle-next")}),
        {{"new_key", keys.Pk("stranger").Hex()}, {"next_key_digest", keys.D("eagle-next").Hex()}});
    s.Owe("brightwater-1", "brightwater", "atlas", 2);
    EntryId b1 = s.Last().id;
    s.RotateTo("brightwater-rotates", "brightwater", "brightwater-next", "brightwater-next-2");
    s.Raw("brightwater-rotates-twice", "brightwater", "brightwater-next", 2, b1, kTagRotate,
          Scenario::Encode(Rotate{keys.Pk("brightwater-next"), keys.D("brightwater-next-3")}),
          {{"new_key", keys.Pk("brightwater-next").Hex()},
           {"next_key_digest", keys.D("brightwater-next-3").Hex()}});
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "stale-proposal",
               "a set-threshold passes in epoch 0; a removal proposed later for epoch 0's hash "
               "is stale and void, whatever votes name it");
    Rec p = s.SetK("atlas-proposes-k4", "atlas", 4, h0);
    s.VoteFor("atlas-votes", "atlas", p, h0);
    s.VoteFor("brightwater-votes", "brightwater", p, h0);
    s.VoteFor("cobalt-votes", "cobalt", p, h0);
    Rec q = s.Remove("stale-remove-delta", "brightwater", "delta", 0, 2, h0, 1);
    s.VoteFor("atlas-votes-stale", "atlas", q, h0, 1);
    s.VoteFor("brightwater-votes-stale", "brightwater", q, h0, 1);
    s.VoteFor("cobalt-votes-stale", "cobalt", q, h0, 1);
    s.SetK("names-no-epoch", "delta", 3, s.NextEpoch(h0, q));
    s.Note("names the epoch that would have followed the stale proposal: no such epoch exists");
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "competing-proposals",
               "two proposals in round 0: one gets three votes and passes, the other fails");
    Rec p = s.SetK("atlas-proposes-k4", "atlas", 4, h0);
    Rec q = s.Admit("brightwater-admits-eagle", "brightwater", "eagle", "eagle-freight", 3, h0);
    s.VoteFor("atlas-votes-own", "atlas", p, h0);
    s.VoteFor("brightwater-votes-own", "brightwater", q, h0);
    s.VoteFor("cobalt-votes-admit", "cobalt", q, h0);
    s.VoteFor("delta-votes-admit", "delta", q, h0);
    s.VoteFor("atlas-votes-again", "atlas", q, h0);
    s.Note("atlas's second vote in round 0: only its first counts");
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }
  {
    Scenario s(keys, g, "failed-round",
               "round 0 splits two against two and fails; round 1's proposal passes");
    Rec p = s.SetK("atlas-proposes-k4", "atlas", 4, h0);
    Rec q = s.Remove("brightwater-removes-delta", "brightwater", "delta", 0, 2, h0);
    s.VoteFor("atlas-votes", "atlas", p, h0);
    s.VoteFor("cobalt-votes", "cobalt", p, h0);
    s.VoteFor("brightwater-votes", "brightwater", q, h0);
    s.VoteFor("delta-votes", "delta", q, h0);
    Rec r = s.Admit("cobalt-admits-eagle-round-1", "cobalt", "eagle", "eagle-freight", 3, h0, 1);
    s.VoteFor("atlas-votes-r1", "atlas", r, h0, 1);
    s.VoteFor("brightwater-votes-r1", "brightwater", r, h0, 1);
    s.VoteFor("cobalt-votes-r1", "cobalt", r, h0, 1);
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }

  for (bool arrives : {false, true}) {
    // The proposal the votes name, signed by delta, but held back from the
    // first scenario (it has not arrived yet).
    Scenario scratch(keys, g, "", "");
    Rec x = scratch.SetK("delta-proposes-k4", "delta", 4, h0);
    Scenario s(keys, g,
               arrives ? "votes-before-their-proposal-arrived" : "votes-for-an-unseen-proposal",
               arrives ? "the same votes with delta's proposal present: it passes, and round 1's "
                         "proposal is void"
                       : "three members vote in round 0 for a proposal no one holds yet: round 0 "
                         "cannot fail (the proposal may still arrive and pass), so round 1's "
                         "proposal, though it has three votes, does not pass yet");
    if (arrives) s.SetK("delta-proposes-k4", "delta", 4, h0);
    s.VoteFor("atlas-votes-unseen", "atlas", x, h0);
    s.VoteFor("brightwater-votes-unseen", "brightwater", x, h0);
    s.VoteFor("cobalt-votes-unseen", "cobalt", x, h0);
    Rec r = s.SetK("atlas-proposes-k3-round-1", "atlas", 3, h0, 1);
    s.VoteFor("atlas-votes-r1", "atlas", r, h0, 1);
    s.VoteFor("brightwater-votes-r1", "brightwater", r, h0, 1);
    s.VoteFor("delta-votes-r1", "delta", r, h0, 1);
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }

  for (uint32_t seed = 1; seed <= 24; ++seed) {
    Scenario s(keys, g, "random-" + std::to_string(seed),
               "a seeded random governance history (std::mt19937 seed " + std::to_string(seed) +
                   "): entries, proposals, votes, leaves, rotations, forks, thieves' records");
    KEIRETSU_RETURN_IF_ERROR(RandomHistory(keys, g, seed, s));
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }

  // A version-1 genesis under the v2 rules (PROTOCOL.md 19.2): founders
  // commit to no next key, so their key never changes and the v1 fork rule
  // holds above a gap (19.7); epoch 0's threshold is floor(4/2)+1 = 3.
  GenesisSpec spec1;
  spec1.network_name = "keiretsu-v2-vectors-on-v1";
  spec1.created_unix = kCreatedUnix;
  spec1.admission_quorum = 2;
  for (const Founder& f : kFounders) spec1.members.push_back(Member{f.name, keys.Pk(f.key), {}});
  KEIRETSU_ASSIGN_OR_RETURN(Genesis g1, Genesis::Create(spec1));
  const Digest g1h0 = GenesisEpochHash(g1.network_id());
  {
    Scenario s(keys, g1, "v1-genesis",
               "a version-1 genesis: delta signs two records at seq 3 above a gap (a fork at 3, "
               "as in v1); cobalt signs a rotation with its own key (a founder committed to no "
               "next key: an invalid entry); three votes of four admit eagle");
    s.Owe("delta-1", "delta", "atlas", 4);
    Bytes b;
    ByteWriter w(&b);
    w.Raw(keys.Pk("atlas").View());
    w.U64(6);
    w.U8(5);
    w.Raw(std::string_view("hours"));
    w.U16(0);
    Json fields = {
        {"creditor", keys.Pk("atlas").Hex()}, {"amount", 6}, {"unit", "hours"}, {"memo", ""}};
    const EntryId unknown_prev{crypto::Blake2b256(AsBytes(std::string_view("delta-2, not held")))};
    s.Raw("delta-3", "delta", "delta", 3, unknown_prev, 4, b, fields);
    fields["amount"] = 7;
    b[32 + 7] = 7;
    s.Raw("delta-3-again", "delta", "delta", 3, unknown_prev, 4, b, fields);
    s.RotateTo("cobalt-rotates-own-key", "cobalt", "cobalt-next", "cobalt-next-2", "cobalt");
    Rec p = s.Admit("admit-eagle", "atlas", "eagle", "eagle-freight", 3, g1h0);
    s.VoteFor("atlas-votes", "atlas", p, g1h0);
    s.VoteFor("brightwater-votes", "brightwater", p, g1h0);
    s.VoteFor("delta-votes", "delta", p, g1h0);
    s.Note("delta's seq 2: its feed is stopped at 3 but seq 2 is still open");
    s.Owe("eagle-1", "eagle", "atlas", 9);
    KEIRETSU_RETURN_IF_ERROR(add(s));
  }

  Json out;
  out["about"] =
      "keiretsu protocol v2 test vectors (docs/PROTOCOL.md 16 and 19): membership by quorum, "
      "leaving, key rotation. Generated by keiretsu-vectors --v2; do not edit.";
  out["keys"] = keys.ToJson();
  out["genesis"] = {{"toml", g.ToToml()},
                    {"canonical", ToHex(g.canonical_bytes())},
                    {"network_id", g.network_id().Hex()},
                    {"epoch_hash", h0.Hex()}};
  out["genesis_v1"] = {{"toml", g1.ToToml()},
                       {"canonical", ToHex(g1.canonical_bytes())},
                       {"network_id", g1.network_id().Hex()},
                       {"epoch_hash", g1h0.Hex()}};
  out["scenarios"] = scenarios;
  return out.dump(1) + "\n";
}

}  // namespace keiretsu::vectors
