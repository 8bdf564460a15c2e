// The vectors file: writing (a small pretty-printer with a fixed field
// order) and reading (protobuf's JSON parser into a google.protobuf.Struct,
// then field by field with the path of the first bad field in the error).
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>

#include "keiretsu/common/overloaded.h"
#include "vectors.h"

namespace keiretsu::vectors {
namespace {

namespace pb = google::protobuf;

// ---------------------------------------------------------------- writing

class JsonWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // The next call writes the value of `k`.
  JsonWriter& Key(std::string_view k) {
    Frame& f = stack_.back();
    if (f.n++ > 0) out_ += ',';
    Newline();
    Quote(k);
    out_ += ": ";
    after_key_ = true;
    return *this;
  }
  void Str(std::string_view s) {
    Prefix();
    Quote(s);
  }
  void Hex(ByteView b) { Str(ToHex(b)); }
  void Num(uint64_t n) {
    Prefix();
    out_ += std::to_string(n);
  }
  void Bool(bool b) {
    Prefix();
    out_ += b ? "true" : "false";
  }
  void Null() {
    Prefix();
    out_ += "null";
  }
  std::string Take() { return std::move(out_) + "\n"; }

 private:
  struct Frame {
    size_t n = 0;
  };
  void Prefix() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (stack_.empty()) return;
    if (stack_.back().n++ > 0) out_ += ',';
    Newline();
  }
  void Open(char c) {
    Prefix();
    out_ += c;
    stack_.push_back({});
  }
  void Close(char c) {
    bool empty = stack_.back().n == 0;
    stack_.pop_back();
    if (!empty) Newline();
    out_ += c;
  }
  void Newline() {
    out_ += '\n';
    out_.append(2 * stack_.size(), ' ');
  }
  void Quote(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += '"';
    for (char c : s) {
      auto u = static_cast<uint8_t>(c);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += c;
      } else if (u < 0x20) {
        out_ += "\\u00";
        out_ += kHex[u >> 4];
        out_ += kHex[u & 0xf];
      } else {
        out_ += c;  // UTF-8 passes through
      }
    }
    out_ += '"';
  }
  std::string out_;
  std::vector<Frame> stack_;
  bool after_key_ = false;
};

// One lambda per kind, so a new kind does not build until its fields have
// a JSON form here (and in ReadBody below).
void WriteBody(JsonWriter& w, const protocol::Body& body) {
  auto key = [&](const char* k, ByteView v) {
    w.Key(k);
    w.Hex(v);
  };
  auto terms = [&](uint64_t amount, const std::string& unit) {
    w.Key("amount");
    w.Num(amount);
    w.Key("unit");
    w.Str(unit);
  };
  auto memo = [&](const std::string& m) {
    w.Key("memo");
    w.Str(m);
  };
  w.BeginObject();
  std::visit(
      Overloaded{
          [&](const protocol::Claim& b) {
            key("debtor", b.debtor.View());
            terms(b.amount, b.unit);
            memo(b.memo);
          },
          [&](const protocol::Accept& b) {
            key("claim_id", b.claim_id.View());
            key("creditor", b.creditor.View());
            terms(b.amount, b.unit);
            memo(b.memo);
          },
          [&](const protocol::Decline& b) {
            key("claim_id", b.claim_id.View());
            key("creditor", b.creditor.View());
            memo(b.memo);
          },
          [&](const protocol::Obligation& b) {
            key("creditor", b.creditor.View());
            terms(b.amount, b.unit);
            memo(b.memo);
          },
          [&](const protocol::Release& b) {
            key("debtor", b.debtor.View());
            terms(b.amount, b.unit);
            memo(b.memo);
          },
          [&](const protocol::Propose& b) {
            key("epoch_hash", b.epoch_hash.View());
            w.Key("round").Num(b.round);
            w.Key("action").Str(std::string(protocol::ActionName(protocol::TagOf(b.action))));
            w.Key("threshold").Num(b.threshold);
            if (const auto* a = std::get_if<protocol::AdmitAction>(&b.action)) {
              w.Key("name").Str(a->name);
              key("inception_key", a->inception_key.View());
              key("next_key_digest", a->next_key_digest.View());
            } else if (const auto* rm = std::get_if<protocol::RemoveAction>(&b.action)) {
              key("member", rm->member.View());
              w.Key("last_seq").Num(rm->last_seq);
            }
            memo(b.memo);
          },
          [&](const protocol::Vote& b) {
            key("epoch_hash", b.epoch_hash.View());
            w.Key("round").Num(b.round);
            key("proposal_id", b.proposal_id.View());
          },
          [&](const protocol::Leave& b) { memo(b.memo); },
          [&](const protocol::Rotate& b) {
            key("new_key", b.new_key.View());
            key("next_key_digest", b.next_key_digest.View());
          },
          [&](const protocol::ClearingPropose& b) {  // as tests/vectors/clearing.json
            w.Key("unit").Str(b.unit);
            w.Key("expiry_ms").Num(b.expiry_ms);
            w.Key("participants");
            w.BeginArray();
            for (const protocol::ClearingHead& h : b.participants) {
              w.BeginObject();
              key("firm", h.firm.View());
              w.Key("head_seq").Num(h.head_seq);
              key("head_id", h.head_id.View());
              w.EndObject();
            }
            w.EndArray();
            w.Key("legs");
            w.BeginArray();
            for (const protocol::ClearingLeg& l : b.legs) {
              w.BeginObject();
              w.Key("debtor").Num(l.debtor);
              w.Key("creditor").Num(l.creditor);
              w.Key("amount").Num(l.amount);
              w.EndObject();
            }
            w.EndArray();
          },
          [&](const protocol::ClearingVote& b) {
            key("proposal_id", b.proposal_id.View());
            w.Key("decision").Num(static_cast<uint64_t>(b.decision));
          },
      },
      body);
  w.EndObject();
}

void WriteEntry(JsonWriter& w, const EntryVector& e) {
  w.BeginObject();
  w.Key("label").Str(e.label);
  w.Key("note").Str(e.note);
  w.Key("signer").Str(e.signer);
  w.Key("tamper").Str(e.tamper);
  w.Key("fields");
  w.BeginObject();
  w.Key("version").Num(e.version);
  w.Key("network_id").Hex(e.entry.network.View());
  w.Key("author").Hex(e.entry.author.View());
  w.Key("seq").Num(e.entry.seq);
  w.Key("prev").Hex(e.entry.prev.View());
  w.Key("timestamp_ms").Num(e.entry.timestamp_ms);
  w.Key("kind").Str(protocol::KindName(protocol::KindOf(e.entry.body)));
  w.Key("body");
  WriteBody(w, e.entry.body);
  w.EndObject();
  w.Key("content").Hex(e.content);
  w.Key("signature").Hex(e.signature);
  w.Key("record").Hex(e.record);
  w.Key("id").Hex(e.id.View());
  w.Key("check").Str(e.check);
  w.EndObject();
}

void WriteFinal(JsonWriter& w, const FinalState& f) {
  w.BeginObject();
  w.Key("feeds").BeginArray();
  for (const FeedVector& x : f.feeds) {
    w.BeginObject();
    w.Key("author").Hex(x.author.View());
    w.Key("head_seq").Num(x.head_seq);
    w.Key("head_id").Hex(x.head_id.View());
    w.Key("effective_seq").Num(x.effective_seq);
    w.Key("effective_id").Hex(x.effective_id.View());
    w.Key("stop_seq").Num(x.stop_seq);
    w.Key("stop_reason").Str(x.stop_reason);
    w.EndObject();
  }
  w.EndArray();
  w.Key("balances").BeginArray();
  for (const BalanceVector& x : f.balances) {
    w.BeginObject();
    w.Key("firm").Hex(x.firm.View());
    w.Key("counterparty").Hex(x.counterparty.View());
    w.Key("unit").Str(x.unit);
    w.Key("net").Str(x.net);
    w.EndObject();
  }
  w.EndArray();
  w.Key("evidence").BeginArray();
  for (const EvidenceVector& x : f.evidence) {
    w.BeginObject();
    w.Key("kind").Str(x.kind);
    w.Key("author").Hex(x.author.View());
    w.Key("seq").Num(x.seq);
    w.Key("first").Hex(x.first.View());
    w.Key("second");
    if (x.second)
      w.Hex(x.second->View());
    else
      w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.Key("open_claims").BeginArray();
  for (const OpenClaimsVector& x : f.open_claims) {
    w.BeginObject();
    w.Key("debtor").Hex(x.debtor.View());
    w.Key("claims").BeginArray();
    for (const EntryId& id : x.claims) w.Hex(id.View());
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("answers").BeginArray();
  for (const AnswerVector& x : f.answers) {
    w.BeginObject();
    w.Key("debtor").Hex(x.debtor.View());
    w.Key("claim_id").Hex(x.claim_id.View());
    w.Key("answer_id").Hex(x.answer_id.View());
    w.EndObject();
  }
  w.EndArray();
  w.Key("pending").Num(f.pending);
  w.Key("state_digest_input").Hex(f.state_digest_input);
  w.Key("state_digest").Hex(f.state_digest.View());
  w.EndObject();
}

// ---------------------------------------------------------------- reading

// A view of one JSON object; the first error anywhere is kept in *err and
// later reads return empty values, so a reader can read a whole object and
// check once (the same idea as ByteReader).
class In {
 public:
  In(const pb::Struct* s, std::string path, Status* err)
      : s_(s), path_(std::move(path)), err_(err) {}

  std::string Str(const char* key) {
    const pb::Value* v = Get(key, pb::Value::kStringValue, "a string");
    return v ? v->string_value() : std::string();
  }
  bool Bool(const char* key) {
    const pb::Value* v = Get(key, pb::Value::kBoolValue, "true or false");
    return v && v->bool_value();
  }
  uint64_t U64(const char* key) {
    const pb::Value* v = Get(key, pb::Value::kNumberValue, "a number");
    if (!v) return 0;
    double d = v->number_value();
    // JSON numbers are doubles to most readers: only integers below 2^53.
    if (d < 0 || d > 9007199254740991.0 || std::floor(d) != d) {
      Fail(key, "an integer between 0 and 2^53 - 1");
      return 0;
    }
    return static_cast<uint64_t>(d);
  }
  Bytes Hex(const char* key) {
    std::string s = Str(key);
    auto b = FromHex(s);
    if (!b) Fail(key, "hex");
    return b.value_or(Bytes{});
  }
  Hash32 H32(const char* key) {
    Bytes b = Hex(key);
    Hash32 h{};
    if (b.size() != 32)
      Fail(key, "64 hex digits");
    else
      std::copy(b.begin(), b.end(), h.begin());
    return h;
  }
  std::optional<Hash32> H32OrNull(const char* key) {
    if (s_ != nullptr) {
      auto it = s_->fields().find(key);
      if (it != s_->fields().end() && it->second.kind_case() == pb::Value::kNullValue)
        return std::nullopt;
    }
    return H32(key);
  }
  In Obj(const char* key) {
    const pb::Value* v = Get(key, pb::Value::kStructValue, "an object");
    return In(v ? &v->struct_value() : nullptr, path_ + "." + key, err_);
  }
  // The objects of an array.
  std::vector<In> Objs(const char* key) {
    std::vector<In> out;
    const pb::Value* v = Get(key, pb::Value::kListValue, "an array");
    if (!v) return out;
    for (int i = 0; i < v->list_value().values_size(); ++i) {
      const pb::Value& item = v->list_value().values(i);
      std::string p = path_ + "." + key + "[" + std::to_string(i) + "]";
      if (item.kind_case() != pb::Value::kStructValue) {
        SetError(p + " must be an object");
        break;
      }
      out.emplace_back(&item.struct_value(), p, err_);
    }
    return out;
  }
  // An array of 64-hex strings.
  std::vector<Hash32> Hashes(const char* key) {
    std::vector<Hash32> out;
    const pb::Value* v = Get(key, pb::Value::kListValue, "an array");
    if (!v) return out;
    for (const pb::Value& item : v->list_value().values()) {
      auto h = Hash32FromHex(item.string_value());
      if (item.kind_case() != pb::Value::kStringValue || !h) {
        Fail(key, "an array of 64-hex strings");
        break;
      }
      out.push_back(*h);
    }
    return out;
  }
  void Fail(const char* key, const std::string& want) {
    SetError(path_ + "." + key + " must be " + want);
  }

 private:
  const pb::Value* Get(const char* key, pb::Value::KindCase kind, const char* want) {
    if (!err_->ok() || s_ == nullptr) return nullptr;
    auto it = s_->fields().find(key);
    if (it == s_->fields().end()) {
      SetError(path_ + "." + key + " is missing");
      return nullptr;
    }
    if (it->second.kind_case() != kind) {
      Fail(key, want);
      return nullptr;
    }
    return &it->second;
  }
  void SetError(const std::string& m) {
    if (err_->ok()) *err_ = InvalidArgument("vectors: " + m);
  }
  const pb::Struct* s_;
  std::string path_;
  Status* err_;
};

protocol::Body ReadBody(const std::string& kind, In b, In& fields) {
  auto pk = [&](const char* k) { return PublicKey{b.H32(k)}; };
  if (kind == "claim")
    return protocol::Claim{pk("debtor"), b.U64("amount"), b.Str("unit"), b.Str("memo")};
  if (kind == "accept")
    return protocol::Accept{EntryId{b.H32("claim_id")}, pk("creditor"), b.U64("amount"),
                            b.Str("unit"), b.Str("memo")};
  if (kind == "decline")
    return protocol::Decline{EntryId{b.H32("claim_id")}, pk("creditor"), b.Str("memo")};
  if (kind == "obligation")
    return protocol::Obligation{pk("creditor"), b.U64("amount"), b.Str("unit"), b.Str("memo")};
  if (kind == "release")
    return protocol::Release{pk("debtor"), b.U64("amount"), b.Str("unit"), b.Str("memo")};
  if (kind == "propose") {
    protocol::Propose p;
    p.epoch_hash = Digest{b.H32("epoch_hash")};
    p.round = static_cast<uint32_t>(b.U64("round"));
    p.threshold = static_cast<uint16_t>(b.U64("threshold"));
    const std::string action = b.Str("action");
    if (action == "admit")
      p.action = protocol::AdmitAction{b.Str("name"), pk("inception_key"),
                                       Digest{b.H32("next_key_digest")}};
    else if (action == "remove")
      p.action = protocol::RemoveAction{pk("member"), b.U64("last_seq")};
    else if (action == "set-threshold")
      p.action = protocol::SetThresholdAction{};
    else
      fields.Fail("action", "admit, remove or set-threshold");
    p.memo = b.Str("memo");
    return p;
  }
  if (kind == "vote")
    return protocol::Vote{Digest{b.H32("epoch_hash")}, static_cast<uint32_t>(b.U64("round")),
                          EntryId{b.H32("proposal_id")}};
  if (kind == "leave") return protocol::Leave{b.Str("memo")};
  if (kind == "rotate") return protocol::Rotate{pk("new_key"), Digest{b.H32("next_key_digest")}};
  if (kind == "clearing-propose") {
    protocol::ClearingPropose p;
    p.unit = b.Str("unit");
    p.expiry_ms = b.U64("expiry_ms");
    for (In h : b.Objs("participants"))
      p.participants.push_back(
          {PublicKey{h.H32("firm")}, h.U64("head_seq"), EntryId{h.H32("head_id")}});
    for (In l : b.Objs("legs"))
      p.legs.push_back({static_cast<uint8_t>(l.U64("debtor")),
                        static_cast<uint8_t>(l.U64("creditor")), l.U64("amount")});
    return p;
  }
  if (kind == "clearing-vote")
    return protocol::ClearingVote{EntryId{b.H32("proposal_id")},
                                  static_cast<protocol::ClearingDecision>(b.U64("decision"))};
  fields.Fail("kind",
              "claim, accept, decline, obligation, release, propose, vote, leave, rotate, "
              "clearing-propose or clearing-vote");
  return {};
}

void ReadFinal(In f, FinalState* out) {
  for (In x : f.Objs("feeds"))
    out->feeds.push_back({PublicKey{x.H32("author")}, x.U64("head_seq"), EntryId{x.H32("head_id")},
                          x.U64("effective_seq"), EntryId{x.H32("effective_id")}, x.U64("stop_seq"),
                          x.Str("stop_reason")});
  for (In x : f.Objs("balances"))
    out->balances.push_back(
        {PublicKey{x.H32("firm")}, PublicKey{x.H32("counterparty")}, x.Str("unit"), x.Str("net")});
  for (In x : f.Objs("evidence")) {
    EvidenceVector ev{x.Str("kind"), PublicKey{x.H32("author")}, x.U64("seq"),
                      EntryId{x.H32("first")}, std::nullopt};
    if (auto second = x.H32OrNull("second")) ev.second = EntryId{*second};
    out->evidence.push_back(ev);
  }
  for (In x : f.Objs("open_claims")) {
    OpenClaimsVector oc{PublicKey{x.H32("debtor")}, {}};
    for (const Hash32& h : x.Hashes("claims")) oc.claims.push_back(EntryId{h});
    out->open_claims.push_back(std::move(oc));
  }
  for (In x : f.Objs("answers"))
    out->answers.push_back(
        {PublicKey{x.H32("debtor")}, EntryId{x.H32("claim_id")}, EntryId{x.H32("answer_id")}});
  out->pending = f.U64("pending");
  out->state_digest_input = f.Hex("state_digest_input");
  out->state_digest = Digest{f.H32("state_digest")};
}

crypto::Signature ToSignature(const Bytes& b, In& in, const char* key) {
  crypto::Signature s{};
  if (b.size() != s.size())
    in.Fail(key, "128 hex digits");
  else
    std::copy(b.begin(), b.end(), s.begin());
  return s;
}

}  // namespace

std::string ToJson(const Vectors& v) {
  JsonWriter w;
  w.BeginObject();
  w.Key("format").Str("keiretsu-test-vectors");
  w.Key("protocol").Str("keiretsu/v1");
  w.Key("about").Str(v.about);
  w.Key("keys").BeginArray();
  for (const KeyVector& k : v.keys) {
    w.BeginObject();
    w.Key("name").Str(k.name);
    w.Key("seed").Hex(k.seed);
    w.Key("member").Bool(k.member);
    w.Key("public_key").Hex(k.public_key.View());
    w.Key("key_file").Str(k.key_file);
    w.EndObject();
  }
  w.EndArray();
  const GenesisVector& g = v.genesis;
  w.Key("genesis").BeginObject();
  w.Key("toml").Str(g.toml);
  w.Key("network").Str(g.spec.network_name);
  w.Key("created_unix").Num(g.spec.created_unix);
  w.Key("admission_quorum").Num(g.spec.admission_quorum);
  w.Key("members").BeginArray();
  for (const auto& m : g.spec.members) {
    w.BeginObject();
    w.Key("name").Str(m.name);
    w.Key("public_key").Hex(m.key.View());
    w.EndObject();
  }
  w.EndArray();
  w.Key("canonical").Hex(g.canonical);
  w.Key("network_id").Hex(g.network_id.View());
  w.EndObject();
  w.Key("signature_checks").BeginArray();
  for (const SignatureCase& c : v.signature_checks) {
    w.BeginObject();
    w.Key("label").Str(c.label);
    w.Key("note").Str(c.note);
    w.Key("public_key").Hex(c.public_key.View());
    w.Key("message").Hex(c.message);
    w.Key("signature").Hex(c.signature);
    w.Key("valid").Bool(c.valid);
    w.EndObject();
  }
  w.EndArray();
  w.Key("entries").BeginArray();
  for (const EntryVector& e : v.entries) WriteEntry(w, e);
  w.EndArray();
  w.Key("records").BeginArray();
  for (const RawRecordVector& r : v.records) {
    w.BeginObject();
    w.Key("label").Str(r.label);
    w.Key("note").Str(r.note);
    w.Key("signer").Str(r.signer);
    w.Key("content").Hex(r.content);
    w.Key("signature").Hex(r.signature);
    w.Key("record").Hex(r.record);
    w.Key("id").Hex(r.id.View());
    w.Key("check").Str(r.check);
    w.EndObject();
  }
  w.EndArray();
  w.Key("ingest").BeginArray();
  for (size_t i = 0; i < v.ingest.size(); ++i) {
    w.BeginObject();
    w.Key("step").Num(i + 1);
    w.Key("entry").Str(v.ingest[i].entry);
    w.Key("outcome").Str(v.ingest[i].outcome);
    w.Key("state_digest").Hex(v.ingest[i].state_digest.View());
    w.EndObject();
  }
  w.EndArray();
  w.Key("final");
  WriteFinal(w, v.final_state);
  w.EndObject();
  return w.Take();
}

Result<Vectors> FromJson(std::string_view json) {
  pb::Struct doc;
  auto parsed = pb::util::JsonStringToMessage(std::string(json), &doc);
  if (!parsed.ok()) return InvalidArgument("vectors: not JSON: " + parsed.ToString());
  Status err;
  In root(&doc, "$", &err);
  Vectors v;
  if (root.Str("format") != "keiretsu-test-vectors" || root.Str("protocol") != "keiretsu/v1")
    root.Fail("format", "\"keiretsu-test-vectors\" with protocol \"keiretsu/v1\"");
  v.about = root.Str("about");
  for (In k : root.Objs("keys"))
    v.keys.push_back({k.Str("name"), k.H32("seed"), k.Bool("member"),
                      PublicKey{k.H32("public_key")}, k.Str("key_file")});
  In g = root.Obj("genesis");
  v.genesis.toml = g.Str("toml");
  v.genesis.spec.network_name = g.Str("network");
  v.genesis.spec.created_unix = g.U64("created_unix");
  uint64_t quorum = g.U64("admission_quorum");
  if (quorum > 0xffff) g.Fail("admission_quorum", "at most 65535");
  v.genesis.spec.admission_quorum = static_cast<uint16_t>(quorum);
  for (In m : g.Objs("members"))
    v.genesis.spec.members.push_back({m.Str("name"), PublicKey{m.H32("public_key")}});
  v.genesis.canonical = g.Hex("canonical");
  v.genesis.network_id = NetworkId{g.H32("network_id")};
  for (In c : root.Objs("signature_checks")) {
    SignatureCase sc{
        c.Str("label"), c.Str("note"), PublicKey{c.H32("public_key")}, c.Hex("message"), {},
        c.Bool("valid")};
    sc.signature = ToSignature(c.Hex("signature"), c, "signature");
    v.signature_checks.push_back(std::move(sc));
  }
  for (In e : root.Objs("entries")) {
    EntryVector ev;
    ev.label = e.Str("label");
    ev.note = e.Str("note");
    ev.signer = e.Str("signer");
    ev.tamper = e.Str("tamper");
    In f = e.Obj("fields");
    uint64_t version = f.U64("version");
    if (version > 0xff) f.Fail("version", "a byte");
    ev.version = static_cast<uint8_t>(version);
    ev.entry.network = NetworkId{f.H32("network_id")};
    ev.entry.author = PublicKey{f.H32("author")};
    ev.entry.seq = f.U64("seq");
    ev.entry.prev = EntryId{f.H32("prev")};
    ev.entry.timestamp_ms = f.U64("timestamp_ms");
    ev.entry.body = ReadBody(f.Str("kind"), f.Obj("body"), f);
    ev.content = e.Hex("content");
    ev.signature = ToSignature(e.Hex("signature"), e, "signature");
    ev.record = e.Hex("record");
    ev.id = EntryId{e.H32("id")};
    ev.check = e.Str("check");
    v.entries.push_back(std::move(ev));
  }
  for (In r : root.Objs("records")) {
    RawRecordVector rv{r.Str("label"),  r.Str("note"),        r.Hex("content"), r.Str("signer"), {},
                       r.Hex("record"), EntryId{r.H32("id")}, r.Str("check")};
    rv.signature = ToSignature(r.Hex("signature"), r, "signature");
    v.records.push_back(std::move(rv));
  }
  for (In s : root.Objs("ingest"))
    v.ingest.push_back({s.Str("entry"), s.Str("outcome"), Digest{s.H32("state_digest")}});
  ReadFinal(root.Obj("final"), &v.final_state);
  if (!err.ok()) return err;
  return v;
}

}  // namespace keiretsu::vectors
