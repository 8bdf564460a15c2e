// The spec's SymmetricState and HandshakeState (Noise rev. 34, sections 5.2
// to 5.3, 7 and 9), generic over the handshake pattern and the hash, fixed to
// 25519 and ChaChaPoly. keiretsu runs one protocol (kNoiseProtocolName); the
// generality is what lets the tests run every published vector whose name
// this code understands, which checks far more of the state machine than
// the XX vectors alone.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "primitives.h"

namespace keiretsu::crypto::noise_internal {

enum class Token : uint8_t { kE, kS, kEE, kES, kSE, kSS, kPsk };

// A handshake pattern with its psk modifiers applied.
struct Pattern {
  std::vector<Token> initiator_pre;  // pre-message keys ("s" only here)
  std::vector<Token> responder_pre;
  std::vector<std::vector<Token>> messages;  // alternate, initiator first
  bool has_psk = false;
  bool one_way = false;  // N, K, X: only the initiator ever sends
};

// A parsed protocol name "Noise_<pattern><mods>_25519_ChaChaPoly_<hash>".
struct Protocol {
  std::string name;
  Pattern pattern;
  HashFn hash{HashFn::Kind::kBlake2b};
};

// Errors: kInvalidArgument naming what is not supported (an unknown
// pattern, modifier, DH, cipher or hash).
Result<Protocol> ParseProtocolName(std::string_view name);

class SymmetricState {
 public:
  explicit SymmetricState(const Protocol& protocol);

  void MixKey(ByteView ikm);
  void MixHash(ByteView data);
  void MixKeyAndHash(ByteView ikm);
  Result<Bytes> EncryptAndHash(ByteView plaintext);
  Result<Bytes> DecryptAndHash(ByteView ciphertext);
  // The two transport CipherStates: initiator->responder, then back.
  std::pair<CipherState, CipherState> Split();

  bool HasKey() const { return cs_.HasKey(); }
  // Forgets ck and k (after Split, or when the handshake fails).
  void WipeKeys();
  ByteView h() const { return {h_.data(), hash_.hash_len()}; }

 private:
  HashFn hash_;
  SecureBuffer ck_;
  std::array<uint8_t, kMaxHashLen> h_{};  // public: it is the transcript hash
  CipherState cs_;
};

struct HandshakeOptions {
  std::string_view protocol_name;
  bool initiator = true;
  ByteView prologue;
  const X25519KeyPair* s = nullptr;           // local static, if the pattern has one
  const X25519KeyPair* fixed_e = nullptr;     // tests only: the ephemeral to use
  std::optional<X25519Public> remote_static;  // known beforehand (K/N/X patterns)
  ByteView psk;                               // 32 bytes when the pattern has psk
};

class HandshakeState {
 public:
  // Errors: kInvalidArgument (unsupported name, a key the pattern needs is
  // missing, psk not 32 bytes).
  static Result<std::unique_ptr<HandshakeState>> Create(const HandshakeOptions& options);

  // Both fail permanently: after any error every later call fails too, since
  // a failed message leaves the transcript half-updated.
  Result<Bytes> WriteMessage(ByteView payload);
  Result<Bytes> ReadMessage(ByteView message);

  bool is_initiator() const { return initiator_; }
  bool writes_next() const;
  bool complete() const { return !failed_ && next_ == protocol_.pattern.messages.size(); }
  bool failed() const { return failed_; }
  // Set only by a message that was read successfully (cleared on failure).
  const std::optional<X25519Public>& remote_static() const { return rs_; }
  ByteView handshake_hash() const { return ss_.h(); }
  // The transport CipherStates (initiator->responder, responder->initiator).
  // Errors: kFailedPrecondition unless complete; may be called once.
  Result<std::pair<CipherState, CipherState>> Split();

 private:
  HandshakeState(Protocol protocol, bool initiator);
  Status ProcessDh(Token token, size_t msg_no);
  Status WriteTokens(ByteView payload, Bytes* out);
  Status ReadTokens(ByteView message, Bytes* payload);
  Status Fail(Status s);

  Protocol protocol_;
  bool initiator_;
  SymmetricState ss_;
  std::optional<X25519KeyPair> s_;
  std::optional<X25519KeyPair> e_;
  std::optional<X25519KeyPair> fixed_e_;
  std::optional<X25519Public> rs_;
  std::optional<X25519Public> re_;
  SecureBuffer psk_;
  size_t next_ = 0;  // index of the next message in the pattern
  bool failed_ = false;
  bool split_ = false;
};

}  // namespace keiretsu::crypto::noise_internal
