// The fixed scenario behind tests/vectors/v1.json: four firms, one outsider,
// and entries chosen so that every rule of docs/PROTOCOL.md "Validity" and
// "Positions" shows up at least once (see the notes in the file itself).
#include <map>

#include "keiretsu/crypto/hash.h"
#include "vectors.h"

namespace keiretsu::vectors {
namespace {

using protocol::Accept;
using protocol::Body;
using protocol::Claim;
using protocol::Decline;
using protocol::Obligation;
using protocol::Release;

constexpr uint64_t kCreatedUnix = 1'790'000'000;
constexpr uint64_t kFirstTimestampMs = kCreatedUnix * 1000 + 3'600'000;

// How an entry departs from a plain, correctly signed one.
struct Opts {
  std::string signer;  // empty: the author
  std::string tamper;  // "none" or "s-plus-l"
  uint8_t version;
  std::optional<NetworkId> network;  // empty: the genesis' network
};
Opts Plain() {
  return Opts{"", "none", 1, std::nullopt};
}
Opts SignedBy(const std::string& name) {
  Opts o = Plain();
  o.signer = name;
  return o;
}
Opts Tampered(const std::string& how) {
  Opts o = Plain();
  o.tamper = how;
  return o;
}
Opts Version(uint8_t version) {
  Opts o = Plain();
  o.version = version;
  return o;
}
Opts OnNetwork(const NetworkId& network) {
  Opts o = Plain();
  o.network = network;
  return o;
}

// Builds the inputs: keys from fixed seeds, and entries whose prev and
// claim ids are the ids of entries built before them. Ids depend on the
// content only, so no signing is needed here.
class Builder {
 public:
  Vectors v;

  void Key(const std::string& name, bool member) {
    KeyVector k;
    k.name = name;
    k.seed = crypto::Blake2b256(AsBytes("keiretsu/v1/test-vectors/seed/" + name));
    k.member = member;
    pks_[name] = crypto::SigningKey::FromSeed(k.seed).public_key();
    v.keys.push_back(std::move(k));
  }
  const PublicKey& Pk(const std::string& name) { return pks_.at(name); }
  const EntryId& Id(const std::string& label) { return ids_.at(label); }

  // An entry of `author` at `seq` whose prev is the id of entry `prev`
  // (empty: zero).
  void Add(const std::string& label, const std::string& note, const std::string& author,
           uint64_t seq, const std::string& prev, Body body, const Opts& opts = Plain()) {
    EntryVector e;
    e.label = label;
    e.note = note;
    e.version = opts.version;
    e.entry.network = opts.network.value_or(v.genesis.network_id);
    e.entry.author = Pk(author);
    e.entry.seq = seq;
    e.entry.prev = prev.empty() ? EntryId{} : Id(prev);
    e.entry.timestamp_ms = kFirstTimestampMs + 60'000 * v.entries.size();
    e.entry.body = std::move(body);
    e.signer = opts.signer.empty() ? author : opts.signer;
    e.tamper = opts.tamper;
    Record(std::move(e));
  }
  // A copy of entry `of` (same fields, same timestamp) as `opts` alters it.
  void AddCopy(const std::string& label, const std::string& note, const std::string& of,
               const Opts& opts) {
    const EntryVector* base = nullptr;
    for (const EntryVector& e : v.entries)
      if (e.label == of) base = &e;
    EntryVector e = *base;
    e.label = label;
    e.note = note;
    e.version = opts.version;
    if (opts.network) e.entry.network = *opts.network;
    if (!opts.signer.empty()) e.signer = opts.signer;
    e.tamper = opts.tamper;
    Record(std::move(e));
  }
  void Ingest(const std::string& label) { v.ingest.push_back({label, "", {}}); }

 private:
  void Record(EntryVector e) {
    Bytes content = protocol::EncodeContent(e.entry);
    content[0] = e.version;
    ids_[e.label] = EntryId{crypto::Blake2b256(content)};
    v.entries.push_back(std::move(e));
  }
  std::map<std::string, PublicKey> pks_;
  std::map<std::string, EntryId> ids_;
};

constexpr const char* kAtlas = "atlas-logistics";
constexpr const char* kBright = "brightwater-foods";
constexpr const char* kCobalt = "cobalt-machining";
constexpr const char* kDelta = "delta-textiles";
constexpr const char* kOutsider = "eve-outsider";

void AddGenesis(Builder& b) {
  protocol::GenesisSpec& spec = b.v.genesis.spec;
  spec.network_name = "keiretsu-test-vectors";
  spec.created_unix = kCreatedUnix;
  spec.admission_quorum = 2;
  std::string toml =
      "# keiretsu genesis for the v1 test vectors. Members are listed in the\n"
      "# order people wrote them; the canonical bytes sort them by key.\n"
      "network = \"" +
      spec.network_name + "\"\n" + "created_unix = " + std::to_string(spec.created_unix) + "\n" +
      "admission_quorum = " + std::to_string(spec.admission_quorum) + "\n";
  for (const char* name : {kAtlas, kBright, kCobalt, kDelta}) {
    spec.members.push_back({name, b.Pk(name)});
    toml += "\n[[members]]\nname = \"" + std::string(name) + "\"\npublic_key = \"" +
            b.Pk(name).Hex() + "\"\n";
  }
  b.v.genesis.toml = toml;
  // The scenario needs the network id for the entries' content.
  b.v.genesis.network_id = protocol::Genesis::Create(spec)->network_id();
}

void AddEntries(Builder& b) {
  const PublicKey A = b.Pk(kAtlas), B = b.Pk(kBright), C = b.Pk(kCobalt), D = b.Pk(kDelta);
  b.Add("a1", "atlas owes brightwater 70 hours", kAtlas, 1, "",
        Obligation{B, 70, "hours", "forklift and driver, week 23"});
  b.Add("b1", "brightwater claims 40 hours from atlas (UTF-8 memo)", kBright, 1, "",
        Claim{A, 40, "hours", "Gabelstapler-Leihe f\xc3\xbcr M\xc3\xa4rz"});
  b.Add("a2", "atlas accepts b1: atlas owes brightwater 40 more hours", kAtlas, 2, "a1",
        Accept{b.Id("b1"), B, 40, "hours", "ok"});
  b.Add("a3", "atlas claims 250 EUR from brightwater", kAtlas, 3, "a2",
        Claim{B, 250, "EUR", "cold storage, 5 pallets"});
  b.Add("b2", "brightwater declines a3 (empty memo)", kBright, 2, "b1", Decline{b.Id("a3"), A, ""});
  b.Add("b3", "brightwater releases 15 hours of atlas' debt", kBright, 3, "b2",
        Release{A, 15, "hours", "returned the favour"});
  b.Add("c1", "cobalt owes atlas 1200 kWh", kCobalt, 1, "",
        Obligation{A, 1200, "kWh", "spare furnace capacity"});
  b.Add("c2", "cobalt owes brightwater 45 EUR", kCobalt, 2, "c1",
        Obligation{B, 45, "EUR", "machining, order 7731"});
  b.Add("c3", "cobalt claims 30 EUR from delta", kCobalt, 3, "c2",
        Claim{D, 30, "EUR", "bolts, 600 pieces"});
  b.Add("d1", "delta owes brightwater 8 pallet-days", kDelta, 1, "",
        Obligation{B, 8, "pallet-days", "winter stock"});
  b.Add("d2", "delta accepts c3 (later undone by the fork at seq 2)", kDelta, 2, "d1",
        Accept{b.Id("c3"), C, 30, "EUR", "received"});
  b.Add("d3", "delta seq 3, first version", kDelta, 3, "d2",
        Obligation{A, 5, "hours", "loading dock"});
  b.Add("d3b", "delta seq 3, second version: a fork", kDelta, 3, "d2",
        Obligation{A, 50, "hours", "loading dock"});
  b.Add("d2b", "delta seq 2, second version: a fork below the first", kDelta, 2, "d1",
        Obligation{A, 999, "EUR", "never happened"});
  b.Add("c4", "cobalt signs an amount above the maximum 10^15: invalid, ends its feed", kCobalt, 4,
        "c3", Release{A, 1'000'000'000'000'001ULL, "kWh", "too much"});
  b.Add("c5", "cobalt's next entry after the invalid one: no effect", kCobalt, 5, "c4",
        Obligation{B, 1, "EUR", "after the end"});
  b.Add("e1", "a key that is not a member signs an entry", kOutsider, 1, "",
        Obligation{A, 10, "hours", "let me in"});
  b.Add("a4", "atlas releases 200 kWh of cobalt's debt", kAtlas, 4, "a3",
        Release{C, 200, "kWh", "net against furnace time"});
  b.AddCopy("a4-other-network", "a4's fields signed for another network: refused", "a4",
            OnNetwork(NetworkId{crypto::Blake2b256(AsBytes("some other keiretsu"))}));
  b.AddCopy("a4-malleated",
            "a4 with its signature's S replaced by S + L: same content and id, must be refused",
            "a4", Tampered("s-plus-l"));
  b.Add("b4", "brightwater owes delta 12 pallet-days", kBright, 4, "b3",
        Obligation{D, 12, "pallet-days", "spring stock"});
  b.AddCopy("b4-wrong-signer", "b4's content signed with cobalt's key: same id, refused", "b4",
            SignedBy(kCobalt));
  b.AddCopy("b4-version-2", "b4's fields with content version 2: malformed", "b4", Version(2));
  b.Add("a5-wrong-prev", "atlas seq 5 naming a3, not a4, as prev: kept without effect", kAtlas, 5,
        "a3", Obligation{C, 7, "hours", "wrong link"});
}

void AddIngestOrder(Builder& b) {
  for (const char* label :
       {"a1", "b1", "a2", "a3", "b2", "b3", "c1",
        "c3",  // pending: c2 missing
        "c2",  // applied, then c3 promoted
        "d1",
        "d3",   // d3 pending
        "d3b",  // fork against the pending d3
        "d2",   // applied below the stop
        "d2b",  // fork against the stored d2: d2 undone
        "c4",
        "c5",  // invalid entry ends cobalt's feed; c5 ignored
        "e1", "a4-other-network", "b4-wrong-signer", "a4-malleated", "a4", "b4-version-2", "b4",
        "b1",  // duplicate
        "a5-wrong-prev",
        // protocol v2: a kind this version does not know, and the
        // entry after it, are kept pending; the feed does not end
        "b6-after-unknown-kind", "b5-unknown-kind"})
    b.Ingest(label);
}

// Verifications an auditor's Ed25519 must get right, built on a1's and a2's
// signing messages.
void AddSignatureChecks(Builder& b) {
  auto message_of = [&](const std::string& label) {
    for (const EntryVector& e : b.v.entries)
      if (e.label == label) return protocol::SigningMessage(protocol::EncodeContent(e.entry));
    return Bytes{};
  };
  const Bytes m1 = message_of("a1"), m2 = message_of("a2");
  const crypto::Signature s1 =
      crypto::SigningKey::FromSeed(b.v.keys.front().seed).Sign(m1);  // keys[0] is atlas
  const PublicKey A = b.Pk(kAtlas);
  b.v.signature_checks.push_back(
      {"valid", "atlas' signature of a1's signing message", A, m1, s1, false});
  b.v.signature_checks.push_back({"s-plus-l",
                                  "the same with S replaced by S + L (non-canonical S): "
                                  "RFC 8032 and libsodium refuse it",
                                  A, m1, AddGroupOrderToS(s1), false});
  b.v.signature_checks.push_back(
      {"other-message", "a1's signature presented for a2's signing message", A, m2, s1, false});
  // The identity point (order 1) as the key and as R, with S = 0: a
  // verifier without the small-order checks accepts this for any message.
  PublicKey identity;
  identity.bytes[0] = 1;
  crypto::Signature forged{};
  forged[0] = 1;
  b.v.signature_checks.push_back({"small-order-key",
                                  "identity point as public key and as R, S = 0: must be refused",
                                  identity, m1, forged, false});
}

// Protocol v2: brightwater's seq 5 of kind 200 (a kind no version knows yet,
// with a 3-byte body no node can read) chained onto b4, and seq 6 (an
// obligation) chained onto it. Both are ingested: both stay pending.
void AddUnknownKindRecords(Builder& b) {
  protocol::Entry e5 = b.v.entries.front().entry;
  e5.author = b.Pk(kBright);
  e5.seq = 5;
  e5.prev = b.Id("b4");
  e5.body = Obligation{b.Pk(kAtlas), 1, "hours", ""};
  Bytes c5 = protocol::EncodeContent(e5);
  c5.resize(114);
  c5[113] = 200;
  for (uint8_t byte : {0x01, 0x02, 0x03}) c5.push_back(byte);
  protocol::Entry e6 = e5;
  e6.seq = 6;
  e6.prev = EntryId{crypto::Blake2b256(c5)};
  e6.body = Obligation{b.Pk(kAtlas), 6, "hours", "after the unknown kind"};
  b.v.records.push_back(
      {"b5-unknown-kind",
       "brightwater seq 5 after b4, of kind 200 with a 3-byte body: unknown-kind, "
       "kept pending (upgrade needed); the feed does not end",
       std::move(c5),
       kBright,
       {},
       {},
       {},
       ""});
  b.v.records.push_back({"b6-after-unknown-kind",
                         "brightwater seq 6 chained onto b5-unknown-kind: valid, kept pending "
                         "behind it",
                         protocol::EncodeContent(e6),
                         kBright,
                         {},
                         {},
                         {},
                         ""});
}

// Records at the edges of the checks, as raw content signed by atlas.
void AddRawRecords(Builder& b) {
  const protocol::Entry base = b.v.entries.front().entry;  // a1
  auto add = [&](const std::string& label, const std::string& note, Bytes content) {
    b.v.records.push_back({label, note, std::move(content), kAtlas, {}, {}, {}, ""});
  };
  auto with = [&](auto body) {
    protocol::Entry e = base;
    e.body = body;
    return protocol::EncodeContent(e);
  };
  const Bytes a1 = protocol::EncodeContent(base);
  auto patched = [&](size_t from_end, std::initializer_list<uint8_t> bytes) {
    Bytes c = a1;
    std::copy(bytes.begin(), bytes.end(), c.end() - static_cast<std::ptrdiff_t>(from_end));
    return c;
  };
  const PublicKey B = b.Pk(kBright);
  Bytes trailing = a1;
  trailing.push_back(0);
  add("trailing-byte", "a1's content and one more byte: invalid-body", trailing);
  add("truncated-body", "a1's content less its last byte: invalid-body",
      Bytes(a1.begin(), a1.end() - 1));
  Bytes kind = a1;
  kind[113] = 200;
  add("unknown-kind",
      "a1's content with kind 200: unknown-kind since protocol v2 (kept pending; v1 said "
      "invalid-body)",
      kind);
  add("memo-bad-utf8", "memo ending in byte 0xff: invalid-body", patched(1, {0xff}));
  add("memo-overlong-utf8", "memo ending in C0 80, an overlong NUL: invalid-body",
      patched(2, {0xc0, 0x80}));
  add("memo-surrogate", "memo ending in ED A0 80, a UTF-16 surrogate: invalid-body",
      patched(3, {0xed, 0xa0, 0x80}));
  add("memo-control-chars", "memo ending in NUL, TAB, DEL: control characters are allowed",
      patched(3, {0x00, 0x09, 0x7f}));
  protocol::Entry seq0 = base;
  seq0.seq = 0;
  add("seq-zero", "a1 at seq 0: invalid-body", protocol::EncodeContent(seq0));
  protocol::Entry prev_at_1 = base;
  prev_at_1.prev = b.Id("b1");
  add("seq-one-with-prev", "a1 with a non-zero prev: invalid-body",
      protocol::EncodeContent(prev_at_1));
  add("owes-itself", "obligation to the author: invalid-body",
      with(Obligation{base.author, 1, "hours", ""}));
  add("non-member-counterparty", "obligation to a non-member: invalid-body",
      with(Obligation{b.Pk(kOutsider), 1, "hours", ""}));
  add("amount-zero", "amount 0: invalid-body", with(Obligation{B, 0, "hours", ""}));
  add("amount-max", "amount 10^15 exactly: valid",
      with(Obligation{B, 1'000'000'000'000'000ULL, "hours", ""}));
  add("unit-17-bytes", "unit of 17 name characters: invalid-body",
      with(Obligation{B, 1, std::string(17, 'u'), ""}));
  add("unit-space", "unit with a space: invalid-body", with(Obligation{B, 1, "man hours", ""}));
  add("unit-empty", "empty unit: invalid-body", with(Obligation{B, 1, "", ""}));
  add("accept-zero-claim", "accept naming the zero claim id: invalid-body",
      with(Accept{EntryId{}, B, 1, "hours", ""}));
  add("memo-513-bytes", "memo of 513 bytes in a 739-byte record: invalid-body",
      with(Obligation{B, 1, "hours", std::string(513, 'm')}));
  add("largest", "accept with a 16-byte unit and a 512-byte memo: 781 bytes, valid",
      with(Accept{b.Id("b1"), B, 1, std::string(16, 'u'), std::string(512, 'm')}));
  add("record-1025-bytes", "a 1025-byte record: malformed before anything else",
      with(Obligation{B, 1, "hours", std::string(799, 'm')}));
  add("record-177-bytes", "a 177-byte record, shorter than header and signature: malformed",
      Bytes(a1.begin(), a1.begin() + 113));
  AddUnknownKindRecords(b);
}

}  // namespace

Vectors Scenario() {
  Builder b;
  b.v.about =
      "keiretsu protocol v1 test vectors, read by protocol v2 rules (docs/PROTOCOL.md 18). Inputs: "
      "keys[].name/seed/member, genesis.toml and its "
      "fields, signature_checks[] except `valid`, entries[].version/fields/signer/tamper, "
      "records[].content/signer, "
      "ingest[].entry (an entry's or a record's label). Everything else is derived; "
      "docs/PROTOCOL.md says how. Regenerate with "
      "`keiretsu-vectors --out tests/vectors/v1.json`.";
  for (const char* name : {kAtlas, kBright, kCobalt, kDelta}) b.Key(name, true);
  b.Key(kOutsider, false);
  AddGenesis(b);
  AddEntries(b);
  AddRawRecords(b);
  AddIngestOrder(b);
  AddSignatureChecks(b);
  return std::move(b.v);
}

}  // namespace keiretsu::vectors
