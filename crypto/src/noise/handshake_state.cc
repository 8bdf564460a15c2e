#include "handshake_state.h"

#include <cstring>

namespace keiretsu::crypto::noise_internal {
namespace {

// The fundamental patterns of spec sections 7.4 (one-way) and 7.5
// (interactive), as text: messages separated by '|', tokens by spaces; the
// pre-messages list the keys each side knows of the other beforehand.
struct PatternText {
  std::string_view name;
  std::string_view initiator_pre;
  std::string_view responder_pre;
  std::string_view messages;
};
constexpr PatternText kPatterns[] = {
    {"N", "", "s", "e es"},
    {"K", "s", "s", "e es ss"},
    {"X", "", "s", "e es s ss"},
    {"NN", "", "", "e|e ee"},
    {"NK", "", "s", "e es|e ee"},
    {"NX", "", "", "e|e ee s es"},
    {"KN", "s", "", "e|e ee se"},
    {"KK", "s", "s", "e es ss|e ee se"},
    {"KX", "s", "", "e|e ee se s es"},
    {"XN", "", "", "e|e ee|s se"},
    {"XK", "", "s", "e es|e ee|s se"},
    {"XX", "", "", "e|e ee s es|s se"},
    {"IN", "", "", "e s|e ee se"},
    {"IK", "", "s", "e es s ss|e ee se"},
    {"IX", "", "", "e s|e ee se s es"},
};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<Token> ParseTokens(std::string_view text) {
  std::vector<Token> tokens;
  if (text.empty()) return tokens;
  for (std::string_view t : Split(text, ' ')) {
    if (t == "e") tokens.push_back(Token::kE);
    if (t == "s") tokens.push_back(Token::kS);
    if (t == "ee") tokens.push_back(Token::kEE);
    if (t == "es") tokens.push_back(Token::kES);
    if (t == "se") tokens.push_back(Token::kSE);
    if (t == "ss") tokens.push_back(Token::kSS);
  }
  return tokens;
}

bool Contains(const std::vector<Token>& tokens, Token t) {
  for (Token x : tokens)
    if (x == t) return true;
  return false;
}

// Applies "psk0", "psk1+psk2", ... (spec 9.2): psk0 goes first in the first
// message, pskN last in message N.
Status ApplyModifiers(std::string_view mods, Pattern* p) {
  if (mods.empty()) return Status::Ok();
  for (std::string_view m : Split(mods, '+')) {
    if (m.size() != 4 || m.substr(0, 3) != "psk" || m[3] < '0' || m[3] > '9')
      return InvalidArgument("unsupported Noise pattern modifier '" + std::string(m) + "'");
    size_t n = static_cast<size_t>(m[3] - '0');
    if (n > p->messages.size())
      return InvalidArgument("Noise modifier " + std::string(m) + " names a missing message");
    if (n == 0) {
      p->messages[0].insert(p->messages[0].begin(), Token::kPsk);
    } else {
      p->messages[n - 1].push_back(Token::kPsk);
    }
    p->has_psk = true;
  }
  return Status::Ok();
}

}  // namespace

Result<Protocol> ParseProtocolName(std::string_view name) {
  auto unsupported = [&](std::string_view what) {
    return InvalidArgument("unsupported Noise protocol " + std::string(name) + ": " +
                           std::string(what));
  };
  std::vector<std::string_view> parts = Split(name, '_');
  if (parts.size() != 5 || parts[0] != "Noise") return unsupported("not a Noise protocol name");
  if (parts[2] != "25519") return unsupported("DH must be 25519");
  if (parts[3] != "ChaChaPoly") return unsupported("cipher must be ChaChaPoly");
  std::optional<HashFn> hash = HashFn::FromName(parts[4]);
  if (!hash) return unsupported("hash must be BLAKE2b, SHA256 or SHA512");
  std::string_view handshake = parts[1];
  size_t base_len = 0;
  while (base_len < handshake.size() && handshake[base_len] >= 'A' && handshake[base_len] <= 'Z')
    ++base_len;
  const PatternText* text = nullptr;
  for (const PatternText& t : kPatterns)
    if (t.name == handshake.substr(0, base_len)) text = &t;
  if (text == nullptr) return unsupported("unknown handshake pattern");
  Protocol protocol{std::string(name), Pattern{}, *hash};
  Pattern& p = protocol.pattern;
  p.initiator_pre = ParseTokens(text->initiator_pre);
  p.responder_pre = ParseTokens(text->responder_pre);
  for (std::string_view m : Split(text->messages, '|')) p.messages.push_back(ParseTokens(m));
  p.one_way = text->name.size() == 1;
  KEIRETSU_RETURN_IF_ERROR(ApplyModifiers(handshake.substr(base_len), &p));
  return protocol;
}

SymmetricState::SymmetricState(const Protocol& protocol) : hash_(protocol.hash), ck_(kMaxHashLen) {
  // InitializeSymmetric: a name that fits is used as h directly, zero
  // padded; a longer one is hashed.
  const ByteView name = AsBytes(protocol.name);
  if (name.size() <= hash_.hash_len()) {
    std::memcpy(h_.data(), name.data(), name.size());
  } else {
    hash_.Hash(name, {}, h_.data());
  }
  std::memcpy(ck_.data(), h_.data(), hash_.hash_len());
}

void SymmetricState::MixKey(ByteView ikm) {
  const size_t len = hash_.hash_len();
  SecureBuffer out(3 * kMaxHashLen);
  hash_.Hkdf({ck_.data(), len}, ikm, 2, &out);
  std::memcpy(ck_.data(), out.data(), len);
  cs_.InitializeKey(out.data() + len);  // truncated to 32 bytes if HASHLEN is 64
}

void SymmetricState::MixHash(ByteView data) {
  std::array<uint8_t, kMaxHashLen> next;
  hash_.Hash(h(), data, next.data());
  h_ = next;
}

void SymmetricState::MixKeyAndHash(ByteView ikm) {
  const size_t len = hash_.hash_len();
  SecureBuffer out(3 * kMaxHashLen);
  hash_.Hkdf({ck_.data(), len}, ikm, 3, &out);
  std::memcpy(ck_.data(), out.data(), len);
  MixHash({out.data() + len, len});
  cs_.InitializeKey(out.data() + 2 * len);
}

Result<Bytes> SymmetricState::EncryptAndHash(ByteView plaintext) {
  KEIRETSU_ASSIGN_OR_RETURN(Bytes ciphertext, cs_.EncryptWithAd(h(), plaintext));
  MixHash(ciphertext);
  return ciphertext;
}

Result<Bytes> SymmetricState::DecryptAndHash(ByteView ciphertext) {
  KEIRETSU_ASSIGN_OR_RETURN(Bytes plaintext, cs_.DecryptWithAd(h(), ciphertext));
  MixHash(ciphertext);
  return plaintext;
}

std::pair<CipherState, CipherState> SymmetricState::Split() {
  const size_t len = hash_.hash_len();
  SecureBuffer out(3 * kMaxHashLen);
  hash_.Hkdf({ck_.data(), len}, {}, 2, &out);
  std::pair<CipherState, CipherState> result;
  result.first.InitializeKey(out.data());
  result.second.InitializeKey(out.data() + len);
  WipeKeys();
  return result;
}

void SymmetricState::WipeKeys() {
  ck_.Wipe();
  cs_ = CipherState();  // the old key's buffer is wiped as it is freed
}

HandshakeState::HandshakeState(Protocol protocol, bool initiator)
    : protocol_(std::move(protocol)), initiator_(initiator), ss_(protocol_), psk_(kNoisePskSize) {}

Result<std::unique_ptr<HandshakeState>> HandshakeState::Create(const HandshakeOptions& options) {
  KEIRETSU_ASSIGN_OR_RETURN(Protocol parsed, ParseProtocolName(options.protocol_name));
  const bool init = options.initiator;
  // Built first, so that the references below are to the pattern the state
  // owns, not to a moved-from copy.
  std::unique_ptr<HandshakeState> hs(new HandshakeState(std::move(parsed), init));
  const Protocol& protocol = hs->protocol_;
  const Pattern& p = protocol.pattern;
  if (p.has_psk && options.psk.size() != kNoisePskSize)
    return InvalidArgument("Noise psk must be 32 bytes, got " + std::to_string(options.psk.size()));
  if (!p.has_psk && !options.psk.empty())
    return InvalidArgument("a psk was given but " + protocol.name + " uses none");

  // Which keys the pattern needs: the local static if this side sends it or
  // uses it in a DH; the remote static beforehand if it is a pre-message.
  const std::vector<Token>& my_pre = init ? p.initiator_pre : p.responder_pre;
  const std::vector<Token>& their_pre = init ? p.responder_pre : p.initiator_pre;
  bool needs_s = Contains(my_pre, Token::kS);
  for (size_t i = 0; i < p.messages.size(); ++i) {
    const bool mine = (i % 2 == 0) == init;
    const auto& m = p.messages[i];
    if ((mine && Contains(m, Token::kS)) || Contains(m, Token::kSS) ||
        Contains(m, init ? Token::kSE : Token::kES))
      needs_s = true;
  }
  if (needs_s && options.s == nullptr)
    return InvalidArgument(protocol.name + " needs this side's static key");
  if (Contains(their_pre, Token::kS) && !options.remote_static)
    return InvalidArgument(protocol.name + " needs the peer's static key beforehand");

  if (options.s != nullptr) {
    KEIRETSU_ASSIGN_OR_RETURN(X25519KeyPair s,
                              X25519KeyPair::FromPrivate(options.s->private_key().span()));
    hs->s_.emplace(std::move(s));
  }
  if (options.fixed_e != nullptr) {
    KEIRETSU_ASSIGN_OR_RETURN(X25519KeyPair e,
                              X25519KeyPair::FromPrivate(options.fixed_e->private_key().span()));
    hs->fixed_e_.emplace(std::move(e));
  }
  if (Contains(their_pre, Token::kS)) hs->rs_ = options.remote_static;
  if (p.has_psk) std::memcpy(hs->psk_.data(), options.psk.data(), kNoisePskSize);

  // The transcript starts with the prologue, then the pre-message keys:
  // the initiator's first, then the responder's (spec 5.3 Initialize).
  hs->ss_.MixHash(options.prologue);
  if (Contains(p.initiator_pre, Token::kS))
    hs->ss_.MixHash(init ? hs->s_->public_key().View() : hs->rs_->View());
  if (Contains(p.responder_pre, Token::kS))
    hs->ss_.MixHash(init ? hs->rs_->View() : hs->s_->public_key().View());
  return hs;
}

bool HandshakeState::writes_next() const {
  return !failed_ && next_ < protocol_.pattern.messages.size() && (next_ % 2 == 0) == initiator_;
}

Status HandshakeState::Fail(Status s) {
  failed_ = true;
  // A remote static key decrypted before a later check failed is not
  // proven; forget it so nobody reads it as the peer's identity.
  rs_.reset();
  re_.reset();
  e_.reset();
  s_.reset();
  fixed_e_.reset();
  psk_.Wipe();
  ss_.WipeKeys();
  return s;
}

Status HandshakeState::ProcessDh(Token token, size_t msg_no) {
  const X25519KeyPair* local = nullptr;
  bool remote_is_ephemeral = false;
  switch (token) {
    case Token::kEE:
      local = e_ ? &*e_ : nullptr;
      remote_is_ephemeral = true;
      break;
    case Token::kES:
      local = initiator_ ? (e_ ? &*e_ : nullptr) : (s_ ? &*s_ : nullptr);
      remote_is_ephemeral = !initiator_;
      break;
    case Token::kSE:
      local = initiator_ ? (s_ ? &*s_ : nullptr) : (e_ ? &*e_ : nullptr);
      remote_is_ephemeral = initiator_;
      break;
    case Token::kSS: local = s_ ? &*s_ : nullptr; break;
    default: return Internal("ProcessDh called with a non-DH token");
  }
  const std::optional<X25519Public>& remote = remote_is_ephemeral ? re_ : rs_;
  const std::string where = "handshake message " + std::to_string(msg_no);
  if (local == nullptr || !remote) return Internal(where + ": DH with a key not yet known");
  SecureBuffer shared(kDhSize);
  if (!X25519(local->private_key(), *remote, &shared).ok()) {
    return Unauthenticated(where + ": remote " + (remote_is_ephemeral ? "ephemeral" : "static") +
                           " key is a low-order X25519 point; refusing it");
  }
  ss_.MixKey(shared.span());
  return Status::Ok();
}

Status HandshakeState::WriteTokens(ByteView payload, Bytes* out) {
  const size_t msg_no = next_ + 1;
  for (Token token : protocol_.pattern.messages[next_]) {
    switch (token) {
      case Token::kE: {
        if (fixed_e_) {
          e_.emplace(std::move(*fixed_e_));
          fixed_e_.reset();
        } else {
          e_.emplace(X25519KeyPair::Generate());
        }
        const ByteView pub = e_->public_key().View();
        out->insert(out->end(), pub.begin(), pub.end());
        ss_.MixHash(pub);
        // With a psk, e is also a key input (spec 9.2), so the psk-derived
        // key is never used twice with the same nonce across sessions.
        if (protocol_.pattern.has_psk) ss_.MixKey(pub);
        break;
      }
      case Token::kS: {
        if (!s_) return Internal("no local static key");
        KEIRETSU_ASSIGN_OR_RETURN(Bytes ct, ss_.EncryptAndHash(s_->public_key().View()));
        out->insert(out->end(), ct.begin(), ct.end());
        break;
      }
      case Token::kPsk: ss_.MixKeyAndHash(psk_.span()); break;
      default: KEIRETSU_RETURN_IF_ERROR(ProcessDh(token, msg_no));
    }
  }
  KEIRETSU_ASSIGN_OR_RETURN(Bytes ct, ss_.EncryptAndHash(payload));
  out->insert(out->end(), ct.begin(), ct.end());
  if (out->size() > kNoiseMaxMessageSize)
    return InvalidArgument("handshake message " + std::to_string(msg_no) + " would be " +
                           std::to_string(out->size()) + " bytes, over the 65535-byte limit");
  return Status::Ok();
}

Status HandshakeState::ReadTokens(ByteView message, Bytes* payload) {
  const size_t msg_no = next_ + 1;
  const std::string where = "handshake message " + std::to_string(msg_no);
  auto truncated = [&] {
    return InvalidArgument(where + " is truncated (" + std::to_string(message.size()) + " bytes)");
  };
  auto unauthenticated = [&] {
    return Unauthenticated(where +
                           " failed authentication: wrong network (psk or prologue) or tampered");
  };
  size_t pos = 0;
  for (Token token : protocol_.pattern.messages[next_]) {
    switch (token) {
      case Token::kE: {
        if (message.size() - pos < kDhSize) return truncated();
        X25519Public re;
        std::memcpy(re.bytes.data(), message.data() + pos, kDhSize);
        pos += kDhSize;
        re_ = re;
        ss_.MixHash(re.View());
        if (protocol_.pattern.has_psk) ss_.MixKey(re.View());
        break;
      }
      case Token::kS: {
        const size_t len = kDhSize + (ss_.HasKey() ? kNoiseTagSize : 0);
        if (message.size() - pos < len) return truncated();
        Result<Bytes> pub = ss_.DecryptAndHash(message.subspan(pos, len));
        if (!pub.ok()) return unauthenticated();
        pos += len;
        X25519Public rs;
        std::memcpy(rs.bytes.data(), pub->data(), kDhSize);
        rs_ = rs;
        break;
      }
      case Token::kPsk: ss_.MixKeyAndHash(psk_.span()); break;
      default: KEIRETSU_RETURN_IF_ERROR(ProcessDh(token, msg_no));
    }
  }
  const ByteView rest = message.subspan(pos);
  if (ss_.HasKey() && rest.size() < kNoiseTagSize) return truncated();
  Result<Bytes> plain = ss_.DecryptAndHash(rest);
  if (!plain.ok()) return unauthenticated();
  *payload = std::move(plain).value();
  return Status::Ok();
}

Result<Bytes> HandshakeState::WriteMessage(ByteView payload) {
  if (failed_) return FailedPrecondition("Noise handshake already failed; start a new one");
  if (next_ >= protocol_.pattern.messages.size())
    return FailedPrecondition("Noise handshake already complete");
  if (!writes_next())
    return FailedPrecondition("handshake message " + std::to_string(next_ + 1) +
                              " is the peer's to send; read it first");
  if (payload.size() > kNoiseMaxMessageSize)
    return Fail(InvalidArgument("handshake payload longer than 65535 bytes"));
  Bytes out;
  Status st = WriteTokens(payload, &out);
  if (!st.ok()) return Fail(std::move(st));
  ++next_;
  return out;
}

Result<Bytes> HandshakeState::ReadMessage(ByteView message) {
  if (failed_) return FailedPrecondition("Noise handshake already failed; start a new one");
  if (next_ >= protocol_.pattern.messages.size())
    return FailedPrecondition("Noise handshake already complete");
  if (writes_next())
    return FailedPrecondition("handshake message " + std::to_string(next_ + 1) +
                              " is ours to send; write it first");
  if (message.size() > kNoiseMaxMessageSize)
    return Fail(InvalidArgument("handshake message " + std::to_string(next_ + 1) + " is " +
                                std::to_string(message.size()) +
                                " bytes, over the 65535-byte Noise limit"));
  Bytes payload;
  Status st = ReadTokens(message, &payload);
  if (!st.ok()) return Fail(std::move(st));
  ++next_;
  return payload;
}

Result<std::pair<CipherState, CipherState>> HandshakeState::Split() {
  if (!complete()) return FailedPrecondition("Noise handshake not complete; cannot split");
  if (split_) return FailedPrecondition("Noise handshake already split");
  split_ = true;
  e_.reset();
  s_.reset();
  psk_.Wipe();
  return ss_.Split();
}

}  // namespace keiretsu::crypto::noise_internal
