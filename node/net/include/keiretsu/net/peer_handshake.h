// The peer handshake (docs/replication.md "Handshake"): Noise XXpsk0 bound
// to the network, plus a proof of firm identity in messages 2 and 3; and the
// framed, rekeying transport that follows it.
//
//   prologue = "keiretsu/v1/noise" || network_id              (49 bytes)
//   psk      = BLAKE2b-256("keiretsu/v1/psk" || network_id)
//   static   = X25519FromSigningKey(firm key)
//   message 1 payload: the initiator's hello (protocol v2; v1: empty)
//   message 2 payload: responder's Ed25519 key (32) || Ed25519 signature (64)
//                      over "keiretsu/v1/peer-identity" || 0x02 || h1
//                      || the responder's hello (only if message 1 had one)
//   message 3 payload: initiator's key (32) || signature (64)
//                      over "keiretsu/v1/peer-identity" || 0x03 || h2
//   hello = version u16 || n u8 || n kind bytes, ascending, distinct
//           (docs/PROTOCOL.md 13.2 §3 "Hello")
//
// h1 / h2 are the Noise transcript hashes (64 bytes) just before the payload
// is written: h1 covers the prologue, psk and message 1 (the initiator's
// fresh ephemeral key); h2 covers all of messages 1 and 2 (both fresh
// ephemeral keys and the responder's static key). Each signature is thus
// bound to this session and cannot be replayed into another one.
//
// The psk only separates networks (it is derived from the public network
// id, so anyone holding the genesis can compute it): a node of another
// network fails at message 1. Membership is proven by the static keys.
//
// Neither class is thread-safe: one object per connection.
#pragma once

#include <optional>
#include <string_view>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/noise.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/net/limits.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/protocol/kinds.h"

namespace keiretsu::net {

inline constexpr std::string_view kPrologueTag = "keiretsu/v1/noise";
inline constexpr std::string_view kPskTag = "keiretsu/v1/psk";
inline constexpr std::string_view kIdentityTag = "keiretsu/v1/peer-identity";
inline constexpr size_t kIdentityPayloadBytes = 32 + 64;

Bytes NoisePrologue(const NetworkId& network);
Hash32 NetworkPsk(const NetworkId& network);

// The hello version this build states: 3 is protocol v2 plus the restore
// rule's HeadQuery/HeadReports messages (docs/PROTOCOL.md 13.2.8), which are
// sent only to a peer whose hello states at least this version.
inline constexpr uint16_t kHelloVersionHeadReports = 3;

// What a peer speaks: its protocol version and the entry kinds it applies.
// A peer that sends no hello is a v1 node: version 1, kinds 1-5.
struct PeerHello {
  uint16_t version = 1;
  protocol::KindSet kinds;
  static PeerHello V1();
  static PeerHello Ours();  // kHelloVersionHeadReports, protocol::KindSet::All()
  friend bool operator==(const PeerHello&, const PeerHello&) = default;
};
Bytes EncodeHello(const PeerHello& hello);
// Errors: kInvalidArgument (version 0 or 1 in a hello, no kinds, kinds not
// ascending and distinct, trailing bytes, truncated).
Result<PeerHello> DecodeHello(ByteView bytes);

// Protocol v2: who may connect (docs/PROTOCOL.md 13.2 §3 "Key chain"): the
// current membership and every firm's key chain. The replicator implements
// it over the ledger; without one a handshake accepts the genesis members
// under their inception keys (v1). Implementations are thread-safe.
class PeerDirectory {
 public:
  virtual ~PeerDirectory() = default;
  // The firm whose key in force is `key`, given the rotate records `chain`
  // the peer sent (oldest first; empty when it never rotated), when that
  // firm is an active member. Errors: kPermissionDenied (no active member
  // has that key, or the chain does not lead to it).
  virtual Result<PublicKey> FirmOf(const PublicKey& key, const std::vector<Bytes>& chain) const = 0;
  // This node's own rotate records, oldest first (empty: it never rotated).
  virtual std::vector<Bytes> OwnChain() const = 0;
};

// At most this many rotate records in a key chain section.
inline constexpr size_t kMaxKeyChainRecords = 8;
// A key chain section: u8 n (1..8), then n times u16 length || record.
Bytes EncodeKeyChain(const std::vector<Bytes>& records);
// Errors: kInvalidArgument (n = 0 or above the limit, truncated, trailing).
Result<std::vector<Bytes>> DecodeKeyChain(ByteView bytes);

// One side of the peer handshake. The initiator calls Start() and sends its
// result, then passes each received message to Receive() and sends what it
// returns; the responder only calls Receive(). Once complete(), remote() is
// the authenticated firm and Split() gives the transport.
//
// Errors (every one is final: the connection must be closed):
//   kUnauthenticated   Noise failure (wrong network, tampering, replayed
//                      message 3, low-order key), malformed identity
//                      payload, static key not the claimed firm's, bad
//                      identity signature
//   kPermissionDenied  the peer is not an active member (with a directory;
//                      else not a genesis member), is this node's own
//                      key, or (initiator) is not the firm that was dialled
//   kInvalidArgument   a message over 65535 bytes or too short
//   kFailedPrecondition  called out of turn or after a failure
//
// `genesis` and `self` must outlive the object.
class PeerHandshake {
 public:
  static Result<PeerHandshake> Initiator(const protocol::Genesis& genesis,
                                         const crypto::SigningKey& self, const PublicKey& expected);
  static Result<PeerHandshake> Responder(const protocol::Genesis& genesis,
                                         const crypto::SigningKey& self);
  // Authenticates peers against `directory` (current members, key chains)
  // and sends this node's key chain. Call before Start/Receive; `directory`
  // must outlive the object.
  void SetDirectory(const PeerDirectory* directory) { directory_ = directory; }
  // Initiator: whether message 1 carries this node's hello (default). false
  // speaks protocol v1 (an empty message 1), for a peer that refused the
  // hello (PROTOCOL.md 13.2 §3 "Compatibility"). Call before Start.
  void SetSayHello(bool say) { say_hello_ = say; }
  // Tests and fuzzing only: a fixed ephemeral key (destroys forward secrecy).
  static Result<PeerHandshake> ForTest(bool initiator, const protocol::Genesis& genesis,
                                       const crypto::SigningKey& self,
                                       const std::optional<PublicKey>& expected,
                                       const crypto::X25519KeyPair& ephemeral);

  PeerHandshake(PeerHandshake&&) noexcept = default;
  PeerHandshake& operator=(PeerHandshake&&) noexcept = default;

  bool is_initiator() const { return initiator_; }
  // Initiator: message 1.
  Result<Bytes> Start();
  // The peer's next message; returns the reply to send (message 2 or 3), or
  // nullopt when the handshake completed without a reply (responder, after
  // message 3).
  Result<std::optional<Bytes>> Receive(ByteView message);

  bool complete() const { return stage_ == Stage::kComplete; }
  // The peer's firm. REQUIRES: complete().
  const PublicKey& remote() const { return remote_; }
  // The Ed25519 key the peer proved: its firm's key in force as this node's
  // directory knew it (the firm id until the firm rotates).
  // REQUIRES: complete().
  const PublicKey& remote_key() const { return remote_key_; }
  // What the peer speaks (PeerHello::V1() when it sent no hello).
  // REQUIRES: complete().
  const PeerHello& remote_hello() const { return remote_hello_; }
  // The transport ciphers. REQUIRES: complete(); once.
  Result<crypto::TransportCiphers> Split();

 private:
  enum class Stage { kStart, kAwait2, kAwait1, kAwait3, kComplete, kFailed };
  PeerHandshake(bool initiator, const protocol::Genesis& genesis, const crypto::SigningKey& self,
                std::optional<PublicKey> expected, crypto::NoiseHandshake noise);
  Bytes IdentityPayload(uint8_t message_number) const;
  void AppendOwnChain(Bytes& payload) const;
  Status CheckIdentity(ByteView payload, uint8_t message_number, ByteView transcript);
  Status Fail(Status s);

  bool initiator_;
  const protocol::Genesis* genesis_;
  const PeerDirectory* directory_ = nullptr;
  const crypto::SigningKey* self_;
  std::optional<PublicKey> expected_;
  crypto::NoiseHandshake noise_;
  Stage stage_;
  Bytes transcript_;  // h1 or h2: what the next identity signature covers
  PublicKey remote_;
  PublicKey remote_key_;
  PeerHello remote_hello_ = PeerHello::V1();
  bool peer_said_hello_ = false;  // responder: message 1 carried a hello
  bool say_hello_ = true;         // initiator: message 1 carries our hello
};

// The transport after the handshake: each PeerMessage plaintext becomes one
// framed Noise transport message. Each direction rekeys after every
// `rekey_interval` messages (kRekeyInterval on the wire; tests lower it).
class SecureChannel {
 public:
  explicit SecureChannel(crypto::TransportCiphers ciphers,
                         uint64_t rekey_interval = kRekeyInterval);

  // Encrypts `plaintext` and appends the frame to `out`. Errors:
  // kInvalidArgument (over kMaxMessageBytes), kResourceExhausted.
  Status Seal(ByteView plaintext, Bytes* out);
  // Decrypts one frame body, which must be the peer's next message.
  // Errors: kCorruption (tampered, truncated, reordered, replayed),
  // kInvalidArgument (size), kResourceExhausted.
  Result<Bytes> Open(ByteView frame);

  uint64_t sent() const { return ciphers_.send.nonce(); }
  uint64_t received() const { return ciphers_.receive.nonce(); }

 private:
  crypto::TransportCiphers ciphers_;
  uint64_t rekey_interval_;
};

}  // namespace keiretsu::net
