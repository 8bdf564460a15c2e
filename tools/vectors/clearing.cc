// keiretsu-vectors-clearing: the clearing test vectors
// (tests/vectors/clearing.json, docs/PROTOCOL.md 20) from fixed scenarios,
// derived through the real encoders, signer and the reference
// protocol::RecomputeLedger.
//
//   keiretsu-vectors-clearing --out tests/vectors/clearing.json   regenerate
//   keiretsu-vectors-clearing                                      print
//   keiretsu-vectors-clearing --check tests/vectors/clearing.json  compare
//
// Each scenario is a set of records on a version-2 network of four founders
// (whose outcome does not depend on their order) and what the reference
// makes of them: every proposal's outcome and participants' stances, each
// member's counted prefix, balances and the state digest. `bad_bodies` are
// records each breaking one stateless rule of 20.2. Deterministic.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/ledger_model.h"

#include "vector_file.h"

namespace keiretsu::vectors {
namespace {

using Json = nlohmann::ordered_json;
using protocol::Body;
using protocol::ClearingDecision;
using protocol::ClearingPropose;
using protocol::ClearingVote;

constexpr uint64_t kT0 = 1'790'000'000'000;
constexpr uint64_t kExpiry = kT0 + 1'000;
const char* const kNames[] = {"asahi", "biwa", "chikuma", "dewa"};

std::array<uint8_t, 32> Seed(int i) {
  std::array<uint8_t, 32> s{};
  s[0] = 'C';
  s[1] = static_cast<uint8_t>(i);
  return s;
}
crypto::SigningKey Key(int i) {
  return crypto::SigningKey::FromSeed(Seed(i));
}

std::string Hex(ByteView b) {
  return ToHex(b);
}
std::string Decimal(protocol::Amount128 v) {
  return protocol::AmountToString(v);
}

struct Firm {
  int index = 0;
  PublicKey id;
  uint64_t seq = 0;
  EntryId head;
};

Json BodyJson(const Body& body) {
  Json j = Json::object();
  if (const auto* o = std::get_if<protocol::Obligation>(&body)) {
    j["creditor"] = Hex(o->creditor.View());
    j["amount"] = o->amount;
    j["unit"] = o->unit;
    j["memo"] = o->memo;
  } else if (const auto* r = std::get_if<protocol::Release>(&body)) {
    j["debtor"] = Hex(r->debtor.View());
    j["amount"] = r->amount;
    j["unit"] = r->unit;
    j["memo"] = r->memo;
  } else if (const auto* p = std::get_if<ClearingPropose>(&body)) {
    j["unit"] = p->unit;
    j["expiry_ms"] = p->expiry_ms;
    j["participants"] = Json::array();
    for (const auto& h : p->participants)
      j["participants"].push_back({{"firm", Hex(h.firm.View())},
                                   {"head_seq", h.head_seq},
                                   {"head_id", Hex(h.head_id.View())}});
    j["legs"] = Json::array();
    for (const auto& l : p->legs)
      j["legs"].push_back({{"debtor", l.debtor}, {"creditor", l.creditor}, {"amount", l.amount}});
  } else if (const auto* v = std::get_if<ClearingVote>(&body)) {
    j["proposal_id"] = Hex(v->proposal_id.View());
    j["decision"] = static_cast<int>(v->decision);
  }
  return j;
}

// What RecomputeLedger takes of one record (its stateless rules passed).
protocol::ModelRecord ToModel(const Bytes& record, const NetworkId& network) {
  auto c = protocol::CheckFeedLocal(record, network, protocol::InceptionKeys{}, false);
  const protocol::SignedEntry& se = *c.signed_entry;
  protocol::ModelRecord m;
  m.author = se.entry.author;
  m.feed.id = se.id;
  m.feed.seq = se.entry.seq;
  m.feed.prev = se.entry.prev;
  m.feed.content.assign(se.content().begin(), se.content().end());
  std::copy(record.end() - 64, record.end(), m.feed.signature.begin());
  m.feed.body_status = c.fault == protocol::Fault::kNone ? Status::Ok() : c.status;
  if (c.fault == protocol::Fault::kNone) {
    m.debt = protocol::EffectOf(se.entry);
    if (const auto* p = std::get_if<ClearingPropose>(&se.entry.body)) m.clearing = *p;
    if (const auto* v = std::get_if<ClearingVote>(&se.entry.body)) m.clearing = *v;
  }
  return m;
}

class Scenario {
 public:
  Scenario(const protocol::Genesis& g, std::string name, std::string about)
      : g_(g), name_(std::move(name)), about_(std::move(about)) {
    for (int i = 0; i < 4; ++i) firms_.push_back({i, Key(i).public_key(), 0, EntryId{}});
  }
  const PublicKey& Id(int i) const { return firms_[static_cast<size_t>(i)].id; }

  EntryId Write(int i, Body body, uint64_t ts = 0) {
    Firm& f = firms_[static_cast<size_t>(i)];
    protocol::Entry e{g_.network_id(),           f.id,           f.seq + 1, f.head,
                      ts ? ts : kT0 + f.seq + 1, std::move(body)};
    Bytes content = protocol::EncodeContent(e);
    auto sig = Key(i).Sign(protocol::SigningMessage(content));
    Bytes record = content;
    record.insert(record.end(), sig.begin(), sig.end());
    const EntryId id{crypto::Blake2b256(content)};
    Json r;
    r["author"] = kNames[i];
    r["seq"] = e.seq;
    r["prev"] = Hex(e.prev.View());
    r["timestamp_ms"] = e.timestamp_ms;
    r["kind"] = static_cast<int>(protocol::KindOf(e.body));
    r["body"] = BodyJson(e.body);
    r["record"] = Hex(record);
    r["id"] = Hex(id.View());
    records_.push_back(r);
    raw_.push_back(record);
    f.seq = e.seq;
    f.head = id;
    return id;
  }
  // A second record at firm i's last seq: a fork.
  EntryId Sibling(int i, Body body, uint64_t ts = 0) {
    Firm& f = firms_[static_cast<size_t>(i)];
    const Firm now = f;
    f = before_last_[i];
    EntryId id = Write(i, std::move(body), ts);
    f = now;
    return id;
  }
  void Owe(int d, int c, uint64_t amount) {
    Write(d, protocol::Obligation{Id(c), amount, "hours", ""});
  }
  void Release(int c, int d, uint64_t amount) {
    Write(c, protocol::Release{Id(d), amount, "hours", ""});
  }
  ClearingPropose Proposal(const std::vector<std::tuple<int, int, uint64_t>>& legs) const {
    std::vector<int> fs;
    for (const auto& [d, c, a] : legs) fs.insert(fs.end(), {d, c});
    std::sort(fs.begin(), fs.end(), [&](int a, int b) { return Id(a) < Id(b); });
    fs.erase(std::unique(fs.begin(), fs.end()), fs.end());
    ClearingPropose p{"hours", kExpiry, {}, {}};
    std::map<int, uint8_t> at;
    for (int f : fs) {
      at[f] = static_cast<uint8_t>(p.participants.size());
      p.participants.push_back(
          {Id(f), firms_[static_cast<size_t>(f)].seq, firms_[static_cast<size_t>(f)].head});
    }
    for (const auto& [d, c, a] : legs) p.legs.push_back({at[d], at[c], a});
    std::sort(p.legs.begin(), p.legs.end(), [](const auto& x, const auto& y) {
      return std::pair(x.debtor, x.creditor) < std::pair(y.debtor, y.creditor);
    });
    return p;
  }
  EntryId Vote(int i, const EntryId& p, bool accept, uint64_t ts = 0) {
    before_last_[i] = firms_[static_cast<size_t>(i)];
    return Write(i, ClearingVote{p, accept ? ClearingDecision::kAccept : ClearingDecision::kReject},
                 ts);
  }
  // The standard cycle: 0 owes 1, 1 owes 2, 2 owes 0, 10 hours each.
  void Cycle() {
    Owe(0, 1, 10);
    Owe(1, 2, 10);
    Owe(2, 0, 10);
  }

  Json ToJson() const {
    std::vector<protocol::ModelRecord> recs;
    for (const Bytes& r : raw_) recs.push_back(ToModel(r, g_.network_id()));
    protocol::LedgerModel m = protocol::RecomputeLedger(protocol::EpochZeroOf(g_), recs);
    auto name_of = [&](const PublicKey& k) {
      for (int i = 0; i < 4; ++i)
        if (Id(i) == k) return std::string(kNames[i]);
      return Hex(k.View());
    };
    Json out;
    out["name"] = name_;
    out["about"] = about_;
    out["records"] = records_;
    Json want;
    want["proposals"] = Json::array();
    for (const auto& [id, o] : m.clearing.proposals) {
      Json p;
      p["id"] = Hex(id.View());
      p["outcome"] = protocol::ClearingStateName(o.state);
      p["stances"] = Json::array();
      static const char* const kStance[] = {"undecided", "accepted", "rejected", "lapsed"};
      for (protocol::ClearingStance s : o.stances)
        p["stances"].push_back(kStance[static_cast<int>(s)]);
      want["proposals"].push_back(p);
    }
    want["feeds"] = Json::array();
    for (const auto& [firm, f] : m.feeds)
      want["feeds"].push_back(
          {{"firm", name_of(firm)}, {"counted_seq", f.counted_seq}, {"stop_seq", f.walk.stop_seq}});
    want["balances"] = Json::array();
    for (const auto& [k, v] : m.balances)
      want["balances"].push_back({{"firm", name_of(std::get<0>(k))},
                                  {"counterparty", name_of(std::get<1>(k))},
                                  {"unit", std::get<2>(k)},
                                  {"net", Decimal(v)}});
    want["state_digest"] = Hex(m.state_digest.View());
    out["expected"] = want;
    return out;
  }

 private:
  const protocol::Genesis& g_;
  std::string name_, about_;
  std::vector<Firm> firms_;
  std::map<int, Firm> before_last_;
  Json records_ = Json::array();
  std::vector<Bytes> raw_;
};

Json BadBodies(const protocol::Genesis& g) {
  Json out = Json::array();
  const PublicKey a = Key(0).public_key(), b = Key(1).public_key(), c = Key(2).public_key();
  std::vector<PublicKey> sorted{a, b, c};
  std::sort(sorted.begin(), sorted.end());
  auto base = [&]() {
    ClearingPropose p{"hours", kExpiry, {}, {}};
    for (const PublicKey& k : sorted) p.participants.push_back({k, 0, EntryId{}});
    p.legs = {{0, 1, 5}, {1, 2, 5}, {2, 0, 5}};
    return p;
  };
  auto add = [&](const std::string& label, const std::string& rule, Body body) {
    protocol::Entry e{g.network_id(), a, 1, EntryId{}, kT0, std::move(body)};
    Bytes content = protocol::EncodeContent(e);
    auto sig = Key(0).Sign(protocol::SigningMessage(content));
    Bytes record = content;
    record.insert(record.end(), sig.begin(), sig.end());
    auto check = protocol::CheckFeedLocal(record, g.network_id(), protocol::InceptionKeys{}, true);
    Json j;
    j["label"] = label;
    j["rule"] = rule;
    j["author"] = kNames[0];
    j["seq"] = 1;
    j["prev"] = Hex(EntryId{}.View());
    j["timestamp_ms"] = kT0;
    j["kind"] = static_cast<int>(protocol::KindOf(e.body));
    j["body"] = BodyJson(e.body);
    j["record"] = Hex(record);
    j["check"] = std::string(protocol::FaultName(check.fault));
    out.push_back(j);
  };
  add("well-formed", "none", base());
  {
    auto p = base();
    p.unit = "h rs";
    add("bad-unit", "20.2 rule 1", p);
  }
  {
    auto p = base();
    p.participants.resize(1);
    p.legs = {{0, 0, 5}, {0, 0, 5}};
    add("one-participant", "20.2 rule 2", p);
  }
  {
    auto p = base();
    std::swap(p.participants[0], p.participants[1]);
    add("unsorted-participants", "20.2 rule 2", p);
  }
  {
    auto p = base();
    p.participants[0].head_id = EntryId{b.bytes};
    add("head-id-at-seq-0", "20.2 rule 2", p);
  }
  {
    auto p = base();
    const PublicKey d = Key(3).public_key();
    std::vector<PublicKey> others{b, c, d};
    std::sort(others.begin(), others.end());
    for (size_t i = 0; i < 3; ++i) p.participants[i].firm = others[i];
    add("proposer-not-participant", "20.2 rule 3", p);
  }
  {
    auto p = base();
    p.legs = {{0, 1, 5}};
    add("one-leg", "20.2 rule 4", p);
  }
  {
    auto p = base();
    p.legs[2].creditor = 3;
    add("leg-names-no-participant", "20.2 rule 4", p);
  }
  {
    auto p = base();
    std::swap(p.legs[0], p.legs[1]);
    add("unsorted-legs", "20.2 rule 4", p);
  }
  {
    auto p = base();
    p.legs = {{0, 1, 2}, {0, 1, 3}, {1, 2, 5}, {2, 0, 5}};
    add("duplicate-pair", "20.2 rule 4", p);
  }
  {
    auto p = base();
    for (auto& l : p.legs) l.amount = 0;
    add("zero-amount", "20.2 rule 4", p);
  }
  {
    ClearingPropose p{"hours", kExpiry, {}, {}};
    std::vector<PublicKey> four{a, b, c, Key(3).public_key()};
    std::sort(four.begin(), four.end());
    for (const PublicKey& k : four) p.participants.push_back({k, 0, EntryId{}});
    size_t ia = static_cast<size_t>(std::find(four.begin(), four.end(), a) - four.begin());
    size_t other = ia == 0 ? 1 : 0;
    p.legs = {
        {static_cast<uint8_t>(std::min(ia, other)), static_cast<uint8_t>(std::max(ia, other)), 5},
        {static_cast<uint8_t>(std::max(ia, other)), static_cast<uint8_t>(std::min(ia, other)), 5}};
    add("idle-participant", "20.2 rule 5", p);
  }
  {
    auto p = base();
    p.legs[1].amount = 4;
    add("not-a-circulation", "20.2 rule 6", p);
  }
  add("vote-names-no-proposal", "20.2 rule 7", ClearingVote{EntryId{}, ClearingDecision::kAccept});
  add("vote-decision-3", "20.2 rule 7",
      ClearingVote{EntryId{b.bytes}, static_cast<ClearingDecision>(3)});
  add("vote-reject", "none", ClearingVote{EntryId{b.bytes}, ClearingDecision::kReject});
  return out;
}

Result<std::string> ClearingJson() {
  protocol::GenesisSpec spec;
  spec.network_name = "keiretsu-clearing-vectors";
  spec.created_unix = 1'790'000'000;
  spec.version = 2;
  spec.threshold = 3;
  Json keys = Json::array();
  for (int i = 0; i < 4; ++i) {
    const PublicKey next = Key(100 + i).public_key();
    spec.members.push_back({kNames[i], Key(i).public_key(), protocol::NextKeyDigest(next)});
    keys.push_back({{"name", kNames[i]},
                    {"seed", Hex(Seed(i))},
                    {"public_key", Hex(Key(i).public_key().View())},
                    {"next_key_digest", Hex(protocol::NextKeyDigest(next).View())}});
  }
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis g, protocol::Genesis::Create(spec));
  Json doc;
  doc["about"] =
      "keiretsu clearing vectors (docs/PROTOCOL.md 20); generated by keiretsu-vectors-clearing";
  doc["keys"] = keys;
  doc["genesis"] = {{"network", spec.network_name},
                    {"created_unix", spec.created_unix},
                    {"threshold", spec.threshold},
                    {"canonical", Hex(g.canonical_bytes())},
                    {"network_id", Hex(g.network_id().View())}};
  doc["expiry_ms"] = kExpiry;
  Json scenarios = Json::array();
  auto run = [&](const std::string& name, const std::string& about, auto&& body) {
    Scenario s(g, name, about);
    body(s);
    scenarios.push_back(s.ToJson());
  };
  run("commit", "all three accept in time; a non-participant's reject counts for nothing",
      [](Scenario& s) {
        s.Cycle();
        s.Owe(0, 3, 4);
        EntryId p = s.Write(0, s.Proposal({{0, 1, 6}, {1, 2, 6}, {2, 0, 6}}));
        s.Vote(3, p, false);
        for (int i : {2, 1, 0}) s.Vote(i, p, true);
      });
  run("first-vote-counts", "biwa rejects, then accepts: rejected", [](Scenario& s) {
    s.Cycle();
    EntryId p = s.Write(1, s.Proposal({{0, 1, 10}, {1, 2, 10}, {2, 0, 10}}));
    s.Vote(0, p, true);
    s.Vote(1, p, false);
    s.Vote(1, p, true);
    s.Vote(2, p, true);
  });
  run("expired-by-later-entry", "chikuma writes after the expiry before accepting",
      [](Scenario& s) {
        s.Cycle();
        EntryId p = s.Write(0, s.Proposal({{0, 1, 10}, {1, 2, 10}, {2, 0, 10}}));
        s.Vote(0, p, true);
        s.Vote(1, p, true);
        s.Write(2, protocol::Obligation{s.Id(3), 1, "hours", ""}, kExpiry + 1);
        s.Vote(2, p, true, kExpiry + 2);
      });
  run("accept-after-expiry", "chikuma's only entry after the proposal is an accept dated late",
      [](Scenario& s) {
        s.Cycle();
        EntryId p = s.Write(0, s.Proposal({{0, 1, 10}, {1, 2, 10}, {2, 0, 10}}));
        s.Vote(0, p, true);
        s.Vote(1, p, true);
        s.Vote(2, p, true, kExpiry + 1);
      });
  run("accepter-writes-late", "asahi accepts at the expiry exactly, then writes later: committed",
      [](Scenario& s) {
        s.Cycle();
        EntryId p = s.Write(0, s.Proposal({{0, 1, 10}, {1, 2, 10}, {2, 0, 10}}));
        s.Vote(0, p, true, kExpiry);
        s.Write(0, protocol::Obligation{s.Id(3), 2, "hours", ""}, kExpiry + 9);
        s.Vote(1, p, true);
        s.Vote(2, p, true);
      });
  run("pending", "chikuma has not voted", [](Scenario& s) {
    s.Cycle();
    EntryId p = s.Write(2, s.Proposal({{0, 1, 10}, {1, 2, 10}, {2, 0, 10}}));
    s.Vote(0, p, true);
    s.Vote(1, p, true);
  });
  run("stale-leg", "each leg one unit more than owed at the heads: void", [](Scenario& s) {
    s.Cycle();
    EntryId p = s.Write(0, s.Proposal({{0, 1, 11}, {1, 2, 11}, {2, 0, 11}}));
    for (int i : {0, 1, 2}) s.Vote(i, p, true);
  });
  run("owed-at-heads", "debts added after the named heads do not count: void", [](Scenario& s) {
    s.Cycle();
    ClearingPropose p = s.Proposal({{0, 1, 11}, {1, 2, 11}, {2, 0, 11}});
    s.Owe(0, 1, 1);
    s.Owe(1, 2, 1);
    s.Owe(2, 0, 1);
    EntryId id = s.Write(0, p);
    for (int i : {0, 1, 2}) s.Vote(i, id, true);
  });
  run("releases-and-reverse-debts", "owed nets releases and debts the other way: committed",
      [](Scenario& s) {
        s.Cycle();
        s.Release(1, 0, 2);  // biwa releases 2 of asahi's debt: 8 left
        s.Owe(1, 0, 1);      // biwa owes asahi 1: asahi owes biwa 7 net
        EntryId p = s.Write(0, s.Proposal({{0, 1, 7}, {1, 2, 7}, {2, 0, 7}}));
        for (int i : {0, 1, 2}) s.Vote(i, p, true);
      });
  run("head-mismatch", "a head names an id its feed does not hold at that seq: void",
      [](Scenario& s) {
        s.Cycle();
        ClearingPropose p = s.Proposal({{0, 1, 5}, {1, 2, 5}, {2, 0, 5}});
        for (auto& h : p.participants)
          if (h.firm == s.Id(1)) h.head_id = EntryId{s.Id(3).bytes};
        EntryId id = s.Write(0, p);
        for (int i : {0, 1, 2}) s.Vote(i, id, true);
      });
  run("head-beyond", "a head above its feed's counted prefix: pending", [](Scenario& s) {
    s.Cycle();
    ClearingPropose p = s.Proposal({{0, 1, 5}, {1, 2, 5}, {2, 0, 5}});
    for (auto& h : p.participants)
      if (h.firm == s.Id(2)) h.head_seq += 5;
    EntryId id = s.Write(0, p);
    for (int i : {0, 1, 2}) s.Vote(i, id, true);
  });
  run("fork-around-vote", "chikuma signs an accept and a reject at one seq: its feed stops there",
      [](Scenario& s) {
        s.Cycle();
        EntryId p = s.Write(0, s.Proposal({{0, 1, 10}, {1, 2, 10}, {2, 0, 10}}));
        s.Vote(0, p, true);
        s.Vote(1, p, true);
        s.Vote(2, p, true);
        s.Sibling(2, ClearingVote{p, ClearingDecision::kReject});
      });
  doc["scenarios"] = scenarios;
  doc["bad_bodies"] = BadBodies(g);
  return doc.dump(1) + "\n";
}

}  // namespace
}  // namespace keiretsu::vectors

int main(int argc, char** argv) {
  CLI::App app{"keiretsu clearing test vectors (docs/PROTOCOL.md 20)"};
  std::string out, check;
  app.add_option("--out", out, "write the vectors file here");
  app.add_option("--check", check, "compare a vectors file with what this build derives");
  CLI11_PARSE(app, argc, argv);
  auto text = keiretsu::vectors::ClearingJson();
  if (!text.ok()) {
    std::cerr << "keiretsu-vectors-clearing: " << text.status().ToString() << "\n";
    return 1;
  }
  return keiretsu::vectors::WriteOrCheck("keiretsu-vectors-clearing", *text, out, check);
}
