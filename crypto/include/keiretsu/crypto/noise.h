// The handshake and transport encryption of keiretsu's peer links:
// Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b (Noise Protocol Framework, revision
// 34). The bytes on the wire are specified in docs/noise-transport.md.
//
// Why this protocol: XX lets each side learn the other's static key during
// the handshake, so a node can accept peers it did not know beforehand. psk0
// mixes a 32-byte network key in before the first message, and the prologue
// (the network id with a domain tag; the caller builds it) is hashed into the
// transcript, so a node of another network or a scanner fails on message 1,
// before either side has revealed its static key.
//
//   initiator                        responder
//   WriteMessage(p1) -- psk, e ----> ReadMessage        message 1
//   ReadMessage <-- e, ee, s, es --- WriteMessage(p2)   message 2
//   WriteMessage(p3) -- s, se -----> ReadMessage        message 3
//   Split()                          Split()
//
// What the caller must still do:
//  - Bind the remote X25519 key to a firm. The handshake proves the peer
//    holds the private key of remote_static(), nothing more. Send the Ed25519
//    identity in the payload of message 2 / 3 and check that
//    X25519FromEd25519Public(identity) == remote_static(). (That map is
//    2-to-1: an Ed25519 key and its negation give the same X25519 key, and
//    the same secret holder controls both; compare identities, not the
//    reverse map.)
//  - Send nothing secret or authoritative in message 1: it is encrypted only
//    under the psk and the initiator's ephemeral key, so anyone holding the
//    psk can read it, and it can be replayed to any responder.
//  - Frame messages (they carry no length) and drop the connection on any
//    error.
//
// Errors: kInvalidArgument (wrong sizes, a truncated or over-65535-byte
// message); kUnauthenticated (a handshake message failed its tag — wrong psk,
// wrong prologue, or tampering — or carried a low-order X25519 key);
// kFailedPrecondition (out of turn, or after an earlier failure: any
// handshake error is final); kCorruption (a transport message failed
// authentication); kResourceExhausted (nonce space used up).
//
// Secrets (private keys, chaining key, cipher keys, psk copy) live only in
// SecureBuffers. Nothing here is thread-safe: one object per connection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/secure_buffer.h"
#include "keiretsu/crypto/signing.h"

namespace keiretsu::crypto {

namespace noise_internal {
class HandshakeState;
class CipherState;
}  // namespace noise_internal

inline constexpr std::string_view kNoiseProtocolName = "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b";
inline constexpr size_t kNoiseMaxMessageSize = 65535;  // every Noise message, tag included
inline constexpr size_t kNoiseTagSize = 16;
inline constexpr size_t kNoisePskSize = 32;
inline constexpr size_t kNoiseMaxTransportPayload = kNoiseMaxMessageSize - kNoiseTagSize;

struct X25519PublicTag {};
using X25519Public = Id32<X25519PublicTag>;

// An X25519 (Curve25519 Diffie-Hellman) key pair; the private key stays in
// secure memory.
class X25519KeyPair {
 public:
  static X25519KeyPair Generate();
  // The pair for a given 32-byte private key (X25519 clamps it when used).
  // Errors: kInvalidArgument if `private_key` is not 32 bytes.
  static Result<X25519KeyPair> FromPrivate(ByteView private_key);

  X25519KeyPair(X25519KeyPair&&) noexcept = default;
  X25519KeyPair& operator=(X25519KeyPair&&) noexcept = default;

  const X25519Public& public_key() const { return public_key_; }
  const SecureBuffer& private_key() const { return private_key_; }  // 32 bytes

 private:
  X25519KeyPair(SecureBuffer private_key, X25519Public public_key)
      : private_key_(std::move(private_key)), public_key_(public_key) {}
  SecureBuffer private_key_;
  X25519Public public_key_;
};

// A firm's Noise static key, derived from its Ed25519 identity (libsodium's
// ed25519 -> curve25519 maps), so no second key file is needed. The X25519
// private key is the Ed25519 secret scalar itself.
X25519KeyPair X25519FromSigningKey(const SigningKey& key);
// What the peer's static key must be if it is `pk`.
// Errors: kInvalidArgument if `pk` is not a valid Ed25519 point (or has
// small order).
Result<X25519Public> X25519FromEd25519Public(const PublicKey& pk);

// One direction of a transport session: ChaChaPoly with a 64-bit message
// counter as nonce. Messages must be decrypted in the order they were
// encrypted; there is no replay window.
class TransportCipher {
 public:
  TransportCipher(TransportCipher&&) noexcept;
  TransportCipher& operator=(TransportCipher&&) noexcept;
  ~TransportCipher();

  // ciphertext || 16-byte tag under nonce(), which then advances.
  // Errors: kInvalidArgument (over kNoiseMaxTransportPayload);
  // kResourceExhausted once the nonce reaches 2^64-1 (reserved by the spec).
  Result<Bytes> Encrypt(ByteView plaintext);
  // The plaintext, if `ciphertext` is the next message of this direction.
  // Errors: kCorruption (tampered, truncated, reordered, replayed, wrong key);
  // kInvalidArgument (over 65535 bytes); kResourceExhausted (as above). On
  // failure the nonce does not advance (spec 5.1).
  Result<Bytes> Decrypt(ByteView ciphertext);
  // key = first 32 bytes of ChaChaPoly(key, nonce 2^64-1, "", 32 zero bytes).
  // The nonce is kept. Both ends must rekey at the same message boundary;
  // when is the caller's protocol to decide.
  void Rekey();
  // The nonce the next message will use (= messages processed so far).
  uint64_t nonce() const;

 private:
  friend class NoiseHandshake;
  explicit TransportCipher(std::unique_ptr<noise_internal::CipherState> cs);
  std::unique_ptr<noise_internal::CipherState> cs_;
};

struct TransportCiphers {
  TransportCipher send;
  TransportCipher receive;
};

// One side of a Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b handshake.
class NoiseHandshake {
 public:
  // `s` is copied; `prologue` is any bytes both sides agree on; `psk` must be
  // 32 bytes. Errors: kInvalidArgument (psk size).
  static Result<NoiseHandshake> Initiator(const X25519KeyPair& s, ByteView prologue, ByteView psk);
  static Result<NoiseHandshake> Responder(const X25519KeyPair& s, ByteView prologue, ByteView psk);
  // Tests only (known-answer vectors, fuzzing): uses `e` as the ephemeral key.
  // On a live link this destroys forward secrecy; never call it there.
  static Result<NoiseHandshake> ForTest(bool initiator, const X25519KeyPair& s,
                                        const X25519KeyPair& e, ByteView prologue, ByteView psk);

  NoiseHandshake(NoiseHandshake&&) noexcept;
  NoiseHandshake& operator=(NoiseHandshake&&) noexcept;
  ~NoiseHandshake();

  bool is_initiator() const;
  // True when the next call must be WriteMessage (false once complete or
  // failed).
  bool writes_next() const;
  bool complete() const;
  bool failed() const;

  // The next handshake message, carrying `payload` (encrypted in all three
  // messages). Payload limits: 65487 bytes in message 1, 65439 in message 2,
  // 65471 in message 3.
  Result<Bytes> WriteMessage(ByteView payload);
  // Processes the peer's next message; returns its payload.
  Result<Bytes> ReadMessage(ByteView message);

  // The peer's static key, once a message carrying it was read successfully
  // (message 2 for the initiator, message 3 for the responder); never set
  // after a failure.
  std::optional<X25519Public> remote_static() const;
  // The transcript hash h (64 bytes). Once complete it is the same on both
  // sides and unique to this session: sign it to bind identities to it.
  Bytes handshake_hash() const;
  // The transport ciphers, once complete; may be called once (the handshake
  // secrets are wiped). Errors: kFailedPrecondition.
  Result<TransportCiphers> Split();

 private:
  static Result<NoiseHandshake> Make(bool initiator, const X25519KeyPair& s, const X25519KeyPair* e,
                                     ByteView prologue, ByteView psk);
  explicit NoiseHandshake(std::unique_ptr<noise_internal::HandshakeState> state);
  std::unique_ptr<noise_internal::HandshakeState> state_;
};

}  // namespace keiretsu::crypto
