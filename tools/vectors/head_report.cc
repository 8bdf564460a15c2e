// keiretsu-vectors-head-report: the head report test vectors
// (tests/vectors/head_report.json, docs/PROTOCOL.md 13.2.8) from fixed
// keys, through the real encoder, signer and verifier.
//
//   keiretsu-vectors-head-report --out tests/vectors/head_report.json   regenerate
//   keiretsu-vectors-head-report                                         print
//   keiretsu-vectors-head-report --check tests/vectors/head_report.json  compare
//
// Each case is a subject's query (network, subject, nonce), the verifier's
// member keys in force, and a report (statement, signature) with whether it
// counts and, when not, the rule it breaks. Valid cases cover the three
// held states; tampered ones break one rule each. Deterministic.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/head_report.h"

#include "vector_file.h"

namespace keiretsu::vectors {
namespace {

using Json = nlohmann::ordered_json;
using protocol::HeadHeld;
using protocol::HeadNonce;
using protocol::HeadReport;

std::array<uint8_t, 32> Seed(uint8_t i) {
  std::array<uint8_t, 32> s{};
  for (size_t k = 0; k < s.size(); ++k) s[k] = static_cast<uint8_t>(0x40 + i + k);
  return s;
}

std::string Hex(ByteView b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (uint8_t c : b) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

HeadNonce NonceFrom(std::string_view label) {
  const Digest h{crypto::Blake2b256(AsBytes(label))};
  HeadNonce n{};
  std::copy(h.bytes.begin(), h.bytes.end(), n.begin());
  return n;
}

EntryId IdFrom(std::string_view label) {
  return EntryId{crypto::Blake2b256(AsBytes(label))};
}

const char* HeldName(HeadHeld h) {
  switch (h) {
    case HeadHeld::kNone: return "none";
    case HeadHeld::kOpen: return "open";
    case HeadHeld::kStopped: return "stopped";
  }
  return "?";
}

Result<std::string> HeadReportJson() {
  // Members: 0 the subject, 1 and 2 reporters; 2 rotated to the key of
  // seed 4 (its inception key, seed 2, no longer in force); seed 3 is not a
  // member.
  std::vector<crypto::SigningKey> keys;
  for (uint8_t i = 0; i < 5; ++i) keys.push_back(crypto::SigningKey::FromSeed(Seed(i)));
  const PublicKey subject = keys[0].public_key(), r1 = keys[1].public_key(),
                  r2 = keys[2].public_key(), stranger = keys[3].public_key();
  NetworkId network{crypto::Blake2b256(AsBytes(std::string_view("head-report-vectors network")))};
  const HeadNonce nonce = NonceFrom("query nonce of this run");
  const HeadNonce old_nonce = NonceFrom("query nonce of the previous run");
  std::map<PublicKey, PublicKey> in_force{{subject, subject}, {r1, r1}, {r2, keys[4].public_key()}};
  protocol::MemberKeyLookup key_of = [&](const PublicKey& f) -> std::optional<PublicKey> {
    auto it = in_force.find(f);
    if (it == in_force.end()) return std::nullopt;
    return it->second;
  };

  Json out;
  out["about"] = "head reports, docs/PROTOCOL.md 13.2.8; keys from the seeds listed";
  out["signature_tag"] = std::string(protocol::kHeadReportSignatureTag);
  out["network_id"] = Hex(network.View());
  out["query"] = {{"subject", Hex(subject.View())}, {"nonce", Hex(ByteView(nonce))}};
  Json keys_json = Json::array();
  for (uint8_t i = 0; i < 5; ++i)
    keys_json.push_back(
        {{"seed", Hex(ByteView(Seed(i)))}, {"public_key", Hex(keys[i].public_key().View())}});
  out["keys"] = keys_json;
  Json members = Json::array();
  for (const auto& [firm, key] : in_force)
    members.push_back({{"firm", Hex(firm.View())}, {"key_in_force", Hex(key.View())}});
  out["members"] = members;

  auto base = [&](const PublicKey& reporter) {
    HeadReport r;
    r.network = network;
    r.reporter = reporter;
    r.subject = subject;
    r.nonce = nonce;
    r.held = HeadHeld::kOpen;
    r.head_seq = 12;
    r.head_id = IdFrom("entry 12 of the subject");
    r.effective_id = r.head_id;
    return r;
  };
  Json cases = Json::array();
  auto add = [&](std::string name, const HeadReport& r, const crypto::SigningKey& signer,
                 std::string broken, auto&& tamper) -> Status {
    Bytes statement = protocol::EncodeHeadReportStatement(r);
    crypto::Signature sig = protocol::SignHeadReport(statement, signer);
    tamper(statement, sig);
    auto v = protocol::VerifyHeadReport(statement, sig, network, subject, nonce, key_of);
    if (v.ok() != broken.empty())
      return Internal("case " + name + ": the verifier says " +
                      (v.ok() ? "valid" : v.status().ToString()));
    Json c;
    c["name"] = name;
    c["fields"] = {{"version", 1},
                   {"network", Hex(r.network.View())},
                   {"reporter", Hex(r.reporter.View())},
                   {"subject", Hex(r.subject.View())},
                   {"nonce", Hex(ByteView(r.nonce))},
                   {"held", HeldName(r.held)},
                   {"head_seq", r.head_seq},
                   {"head_id", Hex(r.head_id.View())},
                   {"stop_seq", r.stop_seq},
                   {"effective_id", Hex(r.effective_id.View())}};
    c["signer_seed"] =
        Hex(ByteView(Seed(static_cast<uint8_t>(std::find_if(keys.begin(), keys.end(),
                                                            [&](const crypto::SigningKey& k) {
                                                              return k.public_key() ==
                                                                     signer.public_key();
                                                            }) -
                                               keys.begin()))));
    c["statement"] = Hex(statement);
    c["signature"] = Hex(ByteView(sig));
    c["counts"] = broken.empty();
    if (!broken.empty()) c["broken_rule"] = broken;
    cases.push_back(c);
    return Status::Ok();
  };
  auto none = [](Bytes&, crypto::Signature&) {};

  KEIRETSU_RETURN_IF_ERROR(add("open", base(r1), keys[1], "", none));
  HeadReport held_none = base(r1);
  held_none.held = HeadHeld::kNone;
  held_none.head_seq = 0;
  held_none.head_id = EntryId{};
  held_none.effective_id = EntryId{};
  KEIRETSU_RETURN_IF_ERROR(add("none", held_none, keys[1], "", none));
  HeadReport stopped = base(r2);
  stopped.held = HeadHeld::kStopped;
  stopped.stop_seq = 9;
  stopped.effective_id = IdFrom("entry 8 of the subject");
  KEIRETSU_RETURN_IF_ERROR(add("stopped, by a rotated member", stopped, keys[4], "", none));

  HeadReport other_nonce = base(r1);
  other_nonce.nonce = NonceFrom("some other query");
  KEIRETSU_RETURN_IF_ERROR(add("wrong nonce", other_nonce, keys[1], "nonce", none));
  HeadReport replay = base(r1);
  replay.nonce = old_nonce;
  replay.head_seq = 10;
  replay.head_id = IdFrom("entry 10 of the subject");
  replay.effective_id = replay.head_id;
  KEIRETSU_RETURN_IF_ERROR(add("replayed from the previous run", replay, keys[1], "nonce", none));
  HeadReport other_net = base(r1);
  other_net.network = NetworkId{crypto::Blake2b256(AsBytes(std::string_view("another network")))};
  KEIRETSU_RETURN_IF_ERROR(add("wrong network", other_net, keys[1], "network", none));
  HeadReport other_subject = base(r1);
  other_subject.subject = r2;
  KEIRETSU_RETURN_IF_ERROR(add("wrong subject", other_subject, keys[1], "subject", none));
  KEIRETSU_RETURN_IF_ERROR(add("bad signature", base(r1), keys[1], "signature",
                               [](Bytes&, crypto::Signature& s) { s[0] ^= 0x80; }));
  KEIRETSU_RETURN_IF_ERROR(add("head raised by a relayer", base(r1), keys[1], "signature",
                               [](Bytes& st, crypto::Signature&) { st[137] = 13; }));
  KEIRETSU_RETURN_IF_ERROR(add("signed by another member", base(r1), keys[0], "signature", none));
  KEIRETSU_RETURN_IF_ERROR(
      add("signed with a rotated-away key", base(r2), keys[2], "signature", none));
  KEIRETSU_RETURN_IF_ERROR(add("non-member reporter", base(stranger), keys[3], "member", none));
  HeadReport bad_held = base(r1);
  bad_held.held = HeadHeld::kNone;  // but a head
  KEIRETSU_RETURN_IF_ERROR(add("held none with a head", bad_held, keys[1], "form", none));
  HeadReport about_self = base(subject);
  KEIRETSU_RETURN_IF_ERROR(add("reporter is the subject", about_self, keys[0], "form", none));
  out["cases"] = cases;
  return out.dump(2) + "\n";
}

}  // namespace
}  // namespace keiretsu::vectors

int main(int argc, char** argv) {
  CLI::App app{"keiretsu head report test vectors (docs/PROTOCOL.md 13.2.8)"};
  std::string out, check;
  app.add_option("--out", out, "write the vectors file here");
  app.add_option("--check", check, "compare a vectors file with what this build derives");
  CLI11_PARSE(app, argc, argv);
  auto text = keiretsu::vectors::HeadReportJson();
  if (!text.ok()) {
    std::cerr << "keiretsu-vectors-head-report: " << text.status().ToString() << "\n";
    return 1;
  }
  return keiretsu::vectors::WriteOrCheck("keiretsu-vectors-head-report", *text, out, check);
}
