// Known-answer tests: every published vector of the flynn/noise test suite
// whose protocol this code supports (25519, ChaChaPoly, and BLAKE2b, SHA256
// or SHA512 — any pattern, any psk placement), run through the private state
// machine, and the keiretsu protocol's vectors also through the public API.
// Every handshake and transport message is compared byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "handshake_state.h"
#include "keiretsu/crypto/noise.h"

namespace keiretsu::crypto {
namespace {

using noise_internal::CipherState;
using noise_internal::HandshakeOptions;
using noise_internal::HandshakeState;
using noise_internal::Token;

constexpr const char* kVectorsPath = "/usr/share/gocode/src/github.com/flynn/noise/vectors.txt";

struct Vector {
  int line = 0;
  std::map<std::string, Bytes> fields;            // init_static, prologue, ...
  std::vector<std::pair<Bytes, Bytes>> messages;  // (payload, ciphertext)
  std::string name;
};

Bytes Hex(const std::string& s) {
  auto b = FromHex(s);
  EXPECT_TRUE(b.has_value()) << "bad hex in vectors file: " << s;
  return b.value_or(Bytes{});
}

// The file is blocks of key=value lines; "handshake=" starts a block and
// msg_<i>_payload / msg_<i>_ciphertext come in order.
std::vector<Vector> LoadVectors(std::ifstream& in) {
  std::vector<Vector> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "handshake") {
      out.emplace_back();
      out.back().name = value;
      out.back().line = line_no;
    } else if (out.empty()) {
      continue;
    } else if (key.rfind("msg_", 0) == 0 && key.size() > 8 &&
               key.compare(key.size() - 8, 8, "_payload") == 0) {
      out.back().messages.emplace_back(Hex(value), Bytes{});
    } else if (key.rfind("msg_", 0) == 0) {
      if (!out.back().messages.empty()) out.back().messages.back().second = Hex(value);
    } else {
      out.back().fields[key] = Hex(value);
    }
  }
  return out;
}

std::optional<X25519KeyPair> Key(const Vector& v, const std::string& field) {
  auto it = v.fields.find(field);
  if (it == v.fields.end()) return std::nullopt;
  auto k = X25519KeyPair::FromPrivate(it->second);
  if (!k.ok()) return std::nullopt;
  return std::move(k).value();
}

bool Contains(const std::vector<Token>& t, Token x) {
  return std::find(t.begin(), t.end(), x) != t.end();
}

// Runs one vector through two HandshakeStates (failures are recorded with
// the vector's name and line).
void RunVector(const Vector& v, const noise_internal::Protocol& protocol) {
  SCOPED_TRACE(v.name + " (vectors.txt line " + std::to_string(v.line) + ")");
  auto is = Key(v, "init_static"), rs = Key(v, "resp_static");
  auto ie = Key(v, "gen_init_ephemeral"), re = Key(v, "gen_resp_ephemeral");
  ASSERT_TRUE(ie && re);
  const Bytes prologue = v.fields.count("prologue") ? v.fields.at("prologue") : Bytes{};
  const Bytes psk = protocol.pattern.has_psk ? v.fields.at("preshared_key") : Bytes{};

  HandshakeOptions io, ro;
  io.protocol_name = ro.protocol_name = v.name;
  io.initiator = true;
  ro.initiator = false;
  io.prologue = ro.prologue = prologue;
  io.psk = ro.psk = psk;
  io.s = is ? &*is : nullptr;
  ro.s = rs ? &*rs : nullptr;
  io.fixed_e = &*ie;
  ro.fixed_e = &*re;
  if (Contains(protocol.pattern.responder_pre, Token::kS)) io.remote_static = rs->public_key();
  if (Contains(protocol.pattern.initiator_pre, Token::kS)) ro.remote_static = is->public_key();
  auto init = HandshakeState::Create(io);
  auto resp = HandshakeState::Create(ro);
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();

  const size_t n_handshake = protocol.pattern.messages.size();
  ASSERT_GT(v.messages.size(), n_handshake);
  std::optional<std::pair<CipherState, CipherState>> ic, rc;
  for (size_t i = 0; i < v.messages.size(); ++i) {
    const auto& [payload, expected] = v.messages[i];
    SCOPED_TRACE("message " + std::to_string(i));
    if (i < n_handshake) {
      HandshakeState& writer = i % 2 == 0 ? **init : **resp;
      HandshakeState& reader = i % 2 == 0 ? **resp : **init;
      auto msg = writer.WriteMessage(payload);
      ASSERT_TRUE(msg.ok()) << msg.status().ToString();
      ASSERT_EQ(ToHex(*msg), ToHex(expected));
      auto got = reader.ReadMessage(expected);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(ToHex(*got), ToHex(payload));
      if (i + 1 == n_handshake) {
        ASSERT_TRUE((*init)->complete() && (*resp)->complete());
        ASSERT_EQ(ToHex((*init)->handshake_hash()), ToHex((*resp)->handshake_hash()));
        auto a = (*init)->Split();
        auto b = (*resp)->Split();
        ASSERT_TRUE(a.ok() && b.ok());
        ic.emplace(std::move(a).value());
        rc.emplace(std::move(b).value());
      }
      continue;
    }
    // Transport: even-numbered after the handshake go initiator->responder
    // (c1), odd ones back (c2), as the vectors were generated.
    const bool forward = (i - n_handshake) % 2 == 0;
    CipherState& enc = forward ? ic->first : rc->second;
    CipherState& dec = forward ? rc->first : ic->second;
    auto ct = enc.EncryptWithAd({}, payload);
    ASSERT_TRUE(ct.ok()) << ct.status().ToString();
    ASSERT_EQ(ToHex(*ct), ToHex(expected));
    auto pt = dec.DecryptWithAd({}, expected);
    ASSERT_TRUE(pt.ok()) << pt.status().ToString();
    ASSERT_EQ(ToHex(*pt), ToHex(payload));
  }
}

// The same vector through the public NoiseHandshake / TransportCipher API.
void RunPublicApi(const Vector& v) {
  SCOPED_TRACE(v.name + " via NoiseHandshake (vectors.txt line " + std::to_string(v.line) + ")");
  auto is = Key(v, "init_static"), rs = Key(v, "resp_static");
  auto ie = Key(v, "gen_init_ephemeral"), re = Key(v, "gen_resp_ephemeral");
  ASSERT_TRUE(is && rs && ie && re);
  const Bytes prologue = v.fields.count("prologue") ? v.fields.at("prologue") : Bytes{};
  const Bytes& psk = v.fields.at("preshared_key");
  auto init = NoiseHandshake::ForTest(true, *is, *ie, prologue, psk);
  auto resp = NoiseHandshake::ForTest(false, *rs, *re, prologue, psk);
  ASSERT_TRUE(init.ok() && resp.ok());
  std::optional<TransportCiphers> ic, rc;
  for (size_t i = 0; i < v.messages.size(); ++i) {
    const auto& [payload, expected] = v.messages[i];
    SCOPED_TRACE("message " + std::to_string(i));
    if (i < 3) {
      NoiseHandshake& writer = i % 2 == 0 ? *init : *resp;
      NoiseHandshake& reader = i % 2 == 0 ? *resp : *init;
      ASSERT_TRUE(writer.writes_next());
      auto msg = writer.WriteMessage(payload);
      ASSERT_TRUE(msg.ok()) << msg.status().ToString();
      ASSERT_EQ(ToHex(*msg), ToHex(expected));
      auto got = reader.ReadMessage(expected);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(ToHex(*got), ToHex(payload));
      continue;
    }
    if (!ic) {
      ASSERT_EQ(init->remote_static(), rs->public_key());
      ASSERT_EQ(resp->remote_static(), is->public_key());
      auto a = init->Split();
      auto b = resp->Split();
      ASSERT_TRUE(a.ok() && b.ok());
      ic.emplace(std::move(a).value());
      rc.emplace(std::move(b).value());
    }
    const bool forward = (i - 3) % 2 == 0;
    TransportCipher& enc = forward ? ic->send : rc->send;
    TransportCipher& dec = forward ? rc->receive : ic->receive;
    auto ct = enc.Encrypt(payload);
    ASSERT_TRUE(ct.ok()) << ct.status().ToString();
    ASSERT_EQ(ToHex(*ct), ToHex(expected));
    auto pt = dec.Decrypt(expected);
    ASSERT_TRUE(pt.ok()) << pt.status().ToString();
    ASSERT_EQ(ToHex(*pt), ToHex(payload));
  }
}

TEST(NoiseVectors, AllSupportedPublishedVectorsMatch) {
  std::ifstream in(kVectorsPath);
  ASSERT_TRUE(in.good()) << kVectorsPath
                         << " is missing: it comes from the Debian package "
                            "golang-github-flynn-noise-dev, which scripts/bootstrap.sh installs";
  const std::vector<Vector> vectors = LoadVectors(in);
  ASSERT_GT(vectors.size(), 0u) << "no vectors parsed from " << kVectorsPath;

  std::map<std::string, int> ran;
  int total = 0, public_api = 0;
  for (const Vector& v : vectors) {
    auto protocol = noise_internal::ParseProtocolName(v.name);
    if (!protocol.ok()) continue;  // AESGCM, BLAKE2s: not implemented
    RunVector(v, *protocol);
    if (v.name == kNoiseProtocolName) {
      RunPublicApi(v);
      ++public_api;
    }
    ++ran[v.name];
    ++total;
    if (HasFatalFailure()) return;
  }
  // A filter that silently matched nothing would make this test vacuous.
  EXPECT_GE(ran["Noise_XX_25519_ChaChaPoly_BLAKE2b"], 1);
  EXPECT_GE(ran["Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"], 1);
  EXPECT_GE(public_api, 1);
  // 15 patterns x psk placements x 3 hashes: the file has 720 such vectors.
  EXPECT_GE(total, 600);
  std::printf("ran %d Noise vectors (%zu protocols; %d through the public API)\n", total,
              ran.size(), public_api);
}

}  // namespace
}  // namespace keiretsu::crypto
