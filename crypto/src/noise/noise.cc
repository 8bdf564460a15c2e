// The public face of the Noise code: keiretsu's one protocol, its keys, and
// the transport ciphers. The state machine is in handshake_state.cc.
#include "keiretsu/crypto/noise.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

#include "handshake_state.h"
#include "primitives.h"

namespace keiretsu::crypto {

using noise_internal::CipherState;
using noise_internal::HandshakeOptions;
using noise_internal::HandshakeState;

static_assert(crypto_sign_ed25519_SECRETKEYBYTES == 64);
static_assert(crypto_scalarmult_curve25519_BYTES == 32);

// --- keys ---

X25519KeyPair X25519KeyPair::Generate() {
  EnsureSodium();
  SecureBuffer priv(noise_internal::kDhSize);
  randombytes_buf(priv.data(), priv.size());
  X25519Public pub;
  crypto_scalarmult_base(pub.bytes.data(), priv.data());
  return X25519KeyPair(std::move(priv), pub);
}

Result<X25519KeyPair> X25519KeyPair::FromPrivate(ByteView private_key) {
  EnsureSodium();
  if (private_key.size() != noise_internal::kDhSize)
    return InvalidArgument("X25519 private key must be 32 bytes, got " +
                           std::to_string(private_key.size()));
  SecureBuffer priv(noise_internal::kDhSize);
  std::memcpy(priv.data(), private_key.data(), priv.size());
  X25519Public pub;
  // Fails only for a scalar that clamps to zero, which clamping rules out.
  if (crypto_scalarmult_base(pub.bytes.data(), priv.data()) != 0)
    return InvalidArgument("X25519 private key gives no public key");
  return X25519KeyPair(std::move(priv), pub);
}

X25519KeyPair X25519FromSigningKey(const SigningKey& key) {
  EnsureSodium();
  // SigningKey exposes only its seed; expand it again, in secure memory, to
  // the 64-byte form libsodium's converter takes.
  SecureBuffer ed_secret(crypto_sign_ed25519_SECRETKEYBYTES);
  PublicKey ed_public;
  crypto_sign_seed_keypair(ed_public.bytes.data(), ed_secret.data(), key.seed().data());
  SecureBuffer priv(noise_internal::kDhSize);
  crypto_sign_ed25519_sk_to_curve25519(priv.data(), ed_secret.data());
  Result<X25519KeyPair> pair = X25519KeyPair::FromPrivate(priv.span());
  if (!pair.ok()) std::abort();  // 32 bytes by construction
  return std::move(pair).value();
}

Result<X25519Public> X25519FromEd25519Public(const PublicKey& pk) {
  EnsureSodium();
  X25519Public out;
  if (crypto_sign_ed25519_pk_to_curve25519(out.bytes.data(), pk.bytes.data()) != 0)
    return InvalidArgument("public key " + pk.Short() +
                           " is not a valid Ed25519 key (not on the curve, or small order)");
  return out;
}

// --- TransportCipher ---

TransportCipher::TransportCipher(std::unique_ptr<CipherState> cs) : cs_(std::move(cs)) {}
TransportCipher::TransportCipher(TransportCipher&&) noexcept = default;
TransportCipher& TransportCipher::operator=(TransportCipher&&) noexcept = default;
TransportCipher::~TransportCipher() = default;

Result<Bytes> TransportCipher::Encrypt(ByteView plaintext) {
  if (plaintext.size() > kNoiseMaxTransportPayload)
    return InvalidArgument("transport payload of " + std::to_string(plaintext.size()) +
                           " bytes is over the 65519-byte limit; split it");
  return cs_->EncryptWithAd({}, plaintext);
}

Result<Bytes> TransportCipher::Decrypt(ByteView ciphertext) {
  Result<Bytes> plain = cs_->DecryptWithAd({}, ciphertext);
  if (!plain.ok() && plain.status().code() == Code::kCorruption) {
    return Corruption("transport message " + std::to_string(cs_->nonce()) +
                      " failed authentication: " + plain.status().message() +
                      "; tampered, truncated, reordered or replayed");
  }
  return plain;
}

void TransportCipher::Rekey() {
  cs_->Rekey();
}
uint64_t TransportCipher::nonce() const {
  return cs_->nonce();
}

// --- NoiseHandshake ---

Result<NoiseHandshake> NoiseHandshake::Make(bool initiator, const X25519KeyPair& s,
                                            const X25519KeyPair* e, ByteView prologue,
                                            ByteView psk) {
  HandshakeOptions options;
  options.protocol_name = kNoiseProtocolName;
  options.initiator = initiator;
  options.prologue = prologue;
  options.s = &s;
  options.fixed_e = e;
  options.psk = psk;
  KEIRETSU_ASSIGN_OR_RETURN(auto state, HandshakeState::Create(options));
  return NoiseHandshake(std::move(state));
}

NoiseHandshake::NoiseHandshake(std::unique_ptr<HandshakeState> state) : state_(std::move(state)) {}
NoiseHandshake::NoiseHandshake(NoiseHandshake&&) noexcept = default;
NoiseHandshake& NoiseHandshake::operator=(NoiseHandshake&&) noexcept = default;
NoiseHandshake::~NoiseHandshake() = default;

Result<NoiseHandshake> NoiseHandshake::Initiator(const X25519KeyPair& s, ByteView prologue,
                                                 ByteView psk) {
  return Make(true, s, nullptr, prologue, psk);
}

Result<NoiseHandshake> NoiseHandshake::Responder(const X25519KeyPair& s, ByteView prologue,
                                                 ByteView psk) {
  return Make(false, s, nullptr, prologue, psk);
}

Result<NoiseHandshake> NoiseHandshake::ForTest(bool initiator, const X25519KeyPair& s,
                                               const X25519KeyPair& e, ByteView prologue,
                                               ByteView psk) {
  return Make(initiator, s, &e, prologue, psk);
}

bool NoiseHandshake::is_initiator() const {
  return state_->is_initiator();
}
bool NoiseHandshake::writes_next() const {
  return state_->writes_next();
}
bool NoiseHandshake::complete() const {
  return state_->complete();
}
bool NoiseHandshake::failed() const {
  return state_->failed();
}

Result<Bytes> NoiseHandshake::WriteMessage(ByteView payload) {
  return state_->WriteMessage(payload);
}

Result<Bytes> NoiseHandshake::ReadMessage(ByteView message) {
  return state_->ReadMessage(message);
}

std::optional<X25519Public> NoiseHandshake::remote_static() const {
  return state_->remote_static();
}

Bytes NoiseHandshake::handshake_hash() const {
  ByteView h = state_->handshake_hash();
  return Bytes(h.begin(), h.end());
}

Result<TransportCiphers> NoiseHandshake::Split() {
  KEIRETSU_ASSIGN_OR_RETURN(auto pair, state_->Split());
  auto c1 = std::make_unique<CipherState>(std::move(pair.first));
  auto c2 = std::make_unique<CipherState>(std::move(pair.second));
  // c1 carries initiator -> responder, c2 the other way (spec 5.3 Split).
  if (state_->is_initiator())
    return TransportCiphers{TransportCipher(std::move(c1)), TransportCipher(std::move(c2))};
  return TransportCiphers{TransportCipher(std::move(c2)), TransportCipher(std::move(c1))};
}

}  // namespace keiretsu::crypto
