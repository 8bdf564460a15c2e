#include "keiretsu/net/peer_handshake.h"

#include <algorithm>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/net/frame.h"
#include "keiretsu/protocol/limits.h"

namespace keiretsu::net {

Bytes NoisePrologue(const NetworkId& network) {
  Bytes out;
  ByteWriter w(&out);
  w.Raw(kPrologueTag);
  w.Raw(network.View());
  return out;
}

Hash32 NetworkPsk(const NetworkId& network) {
  Bytes in;
  ByteWriter w(&in);
  w.Raw(kPskTag);
  w.Raw(network.View());
  return crypto::Blake2b256(in);
}

PeerHello PeerHello::V1() {
  constexpr uint8_t kV1Kinds[] = {1, 2, 3, 4, 5};
  return PeerHello{1, protocol::KindSet::Of(kV1Kinds)};
}

PeerHello PeerHello::Ours() {
  return PeerHello{kHelloVersionHeadReports, protocol::KindSet::All()};
}

Bytes EncodeHello(const PeerHello& hello) {
  Bytes out;
  ByteWriter w(&out);
  std::vector<uint8_t> tags = hello.kinds.Tags();
  w.U16(hello.version);
  w.U8(static_cast<uint8_t>(tags.size()));
  for (uint8_t t : tags) w.U8(t);
  return out;
}

Result<PeerHello> DecodeHello(ByteView bytes) {
  ByteReader r(bytes);
  PeerHello hello;
  hello.version = r.U16();
  const uint8_t n = r.U8();
  if (!r.ok())
    return InvalidArgument("hello truncated: " + std::to_string(bytes.size()) + " bytes");
  if (hello.version < 2)
    return InvalidArgument("hello states protocol version " + std::to_string(hello.version) +
                           "; a hello starts at version 2");
  if (n == 0) return InvalidArgument("hello lists no entry kinds");
  int last = -1;
  for (uint8_t i = 0; i < n; ++i) {
    const uint8_t tag = r.U8();
    if (!r.ok()) return InvalidArgument("hello truncated in its kind list");
    if (tag <= last) return InvalidArgument("hello kinds are not ascending and distinct");
    last = tag;
    hello.kinds.Add(tag);
  }
  if (r.remaining() != 0)
    return InvalidArgument(std::to_string(r.remaining()) + " trailing bytes after the hello");
  return hello;
}

Bytes EncodeKeyChain(const std::vector<Bytes>& records) {
  Bytes out;
  ByteWriter w(&out);
  w.U8(static_cast<uint8_t>(records.size()));
  for (const Bytes& r : records) {
    w.U16(static_cast<uint16_t>(r.size()));
    w.Raw(r);
  }
  return out;
}

Result<std::vector<Bytes>> DecodeKeyChain(ByteView bytes) {
  ByteReader r(bytes);
  const uint8_t n = r.U8();
  if (!r.ok()) return InvalidArgument("key chain truncated");
  if (n == 0 || n > kMaxKeyChainRecords)
    return InvalidArgument("key chain of " + std::to_string(n) + " records (1.." +
                           std::to_string(kMaxKeyChainRecords) + ")");
  std::vector<Bytes> out;
  for (uint8_t i = 0; i < n; ++i) {
    const uint16_t len = r.U16();
    ByteView rec = r.Raw(len);
    if (!r.ok()) return InvalidArgument("key chain truncated");
    out.emplace_back(rec.begin(), rec.end());
  }
  if (r.remaining() != 0)
    return InvalidArgument(std::to_string(r.remaining()) + " trailing bytes after the key chain");
  return out;
}

namespace {

// The hello at the start of `bytes` is 3 + n bytes (n its kind count).
size_t HelloLength(ByteView bytes) {
  return bytes.size() < 3 ? bytes.size() : std::min(bytes.size(), size_t{3} + bytes[2]);
}

Bytes IdentityMessage(uint8_t message_number, ByteView transcript) {
  Bytes m;
  ByteWriter w(&m);
  w.Raw(kIdentityTag);
  w.U8(message_number);
  w.Raw(transcript);
  return m;
}

Result<crypto::NoiseHandshake> MakeNoise(bool initiator, const protocol::Genesis& genesis,
                                         const crypto::SigningKey& self,
                                         const crypto::X25519KeyPair* ephemeral) {
  crypto::X25519KeyPair s = crypto::X25519FromSigningKey(self);
  Bytes prologue = NoisePrologue(genesis.network_id());
  Hash32 psk = NetworkPsk(genesis.network_id());
  if (ephemeral != nullptr)
    return crypto::NoiseHandshake::ForTest(initiator, s, *ephemeral, prologue, psk);
  return initiator ? crypto::NoiseHandshake::Initiator(s, prologue, psk)
                   : crypto::NoiseHandshake::Responder(s, prologue, psk);
}

}  // namespace

PeerHandshake::PeerHandshake(bool initiator, const protocol::Genesis& genesis,
                             const crypto::SigningKey& self, std::optional<PublicKey> expected,
                             crypto::NoiseHandshake noise)
    : initiator_(initiator),
      genesis_(&genesis),
      self_(&self),
      expected_(expected),
      noise_(std::move(noise)),
      stage_(initiator ? Stage::kStart : Stage::kAwait1) {}

Result<PeerHandshake> PeerHandshake::Initiator(const protocol::Genesis& genesis,
                                               const crypto::SigningKey& self,
                                               const PublicKey& expected) {
  KEIRETSU_ASSIGN_OR_RETURN(auto noise, MakeNoise(true, genesis, self, nullptr));
  return PeerHandshake(true, genesis, self, expected, std::move(noise));
}

Result<PeerHandshake> PeerHandshake::Responder(const protocol::Genesis& genesis,
                                               const crypto::SigningKey& self) {
  KEIRETSU_ASSIGN_OR_RETURN(auto noise, MakeNoise(false, genesis, self, nullptr));
  return PeerHandshake(false, genesis, self, std::nullopt, std::move(noise));
}

Result<PeerHandshake> PeerHandshake::ForTest(bool initiator, const protocol::Genesis& genesis,
                                             const crypto::SigningKey& self,
                                             const std::optional<PublicKey>& expected,
                                             const crypto::X25519KeyPair& ephemeral) {
  KEIRETSU_ASSIGN_OR_RETURN(auto noise, MakeNoise(initiator, genesis, self, &ephemeral));
  return PeerHandshake(initiator, genesis, self, initiator ? expected : std::nullopt,
                       std::move(noise));
}

void PeerHandshake::AppendOwnChain(Bytes& payload) const {
  if (directory_ == nullptr) return;
  std::vector<Bytes> chain = directory_->OwnChain();
  if (chain.empty()) return;
  if (chain.size() > kMaxKeyChainRecords)
    chain.erase(chain.begin(), chain.end() - static_cast<std::ptrdiff_t>(kMaxKeyChainRecords));
  Bytes bytes = EncodeKeyChain(chain);
  payload.insert(payload.end(), bytes.begin(), bytes.end());
}

Status PeerHandshake::Fail(Status s) {
  stage_ = Stage::kFailed;
  transcript_.clear();
  return s;
}

Bytes PeerHandshake::IdentityPayload(uint8_t message_number) const {
  Bytes out;
  ByteWriter w(&out);
  w.Raw(self_->public_key().View());
  crypto::Signature sig = self_->Sign(IdentityMessage(message_number, transcript_));
  w.Raw(sig);
  return out;
}

Status PeerHandshake::CheckIdentity(ByteView payload, uint8_t message_number, ByteView transcript) {
  // Message 2 to an initiator that said hello carries the responder's
  // hello after the identity (exactly 96 bytes: the responder spoke v1).
  // Then, in protocol v2, the sender's key chain when it has rotated.
  ByteView chain_bytes;
  if (message_number == 2 && payload.size() > kIdentityPayloadBytes) {
    ByteView rest = payload.subspan(kIdentityPayloadBytes);
    const size_t hello_len = HelloLength(rest);
    auto hello = DecodeHello(rest.first(hello_len));
    if (!hello.ok()) return hello.status().WithContext("handshake message 2");
    remote_hello_ = *hello;
    chain_bytes = rest.subspan(hello_len);
    payload = payload.first(kIdentityPayloadBytes);
  } else if (message_number == 3 && peer_said_hello_ && payload.size() > kIdentityPayloadBytes) {
    chain_bytes = payload.subspan(kIdentityPayloadBytes);
    payload = payload.first(kIdentityPayloadBytes);
  }
  std::vector<Bytes> chain;
  if (!chain_bytes.empty()) {
    auto decoded = DecodeKeyChain(chain_bytes);
    if (!decoded.ok())
      return decoded.status().WithContext("handshake message " + std::to_string(message_number));
    chain = std::move(decoded).value();
  }
  if (payload.size() != kIdentityPayloadBytes)
    return Unauthenticated("identity payload of " + std::to_string(payload.size()) +
                           " bytes, expected " + std::to_string(kIdentityPayloadBytes));
  Hash32 key_bytes;
  std::copy(payload.begin(), payload.begin() + 32, key_bytes.begin());
  const PublicKey key{key_bytes};
  PublicKey firm = key;
  if (directory_ != nullptr) {
    auto f = directory_->FirmOf(key, chain);
    if (!f.ok()) return f.status();
    firm = *f;
  } else if (!genesis_->IsMember(key) || !chain.empty()) {
    return PermissionDenied("peer key " + key.Short() + " is not a member of this network");
  }
  if (key == self_->public_key()) return PermissionDenied("connected to this node itself");
  auto x = crypto::X25519FromEd25519Public(key);
  auto remote_static = noise_.remote_static();
  if (!x.ok() || !remote_static || *x != *remote_static)
    return Unauthenticated("peer's Noise static key is not the key of firm " + key.Short());
  crypto::Signature sig;
  std::copy(payload.begin() + 32, payload.end(), sig.begin());
  if (!crypto::Verify(key, IdentityMessage(message_number, transcript), sig))
    return Unauthenticated("identity signature of firm " + key.Short() + " does not verify");
  if (expected_ && firm != *expected_)
    return PermissionDenied("dialled firm " + expected_->Short() + " but reached firm " +
                            firm.Short());
  remote_ = firm;
  remote_key_ = key;
  return Status::Ok();
}

Result<Bytes> PeerHandshake::Start() {
  if (stage_ != Stage::kStart) return FailedPrecondition("handshake already started");
  // Message 1 carries only the hello: the psk alone protects it (anyone
  // with the genesis can read it) and it can be replayed
  // (docs/noise-transport.md section 6); the initiator's signature over h2
  // in message 3 binds it to this session.
  auto msg = noise_.WriteMessage(say_hello_ ? EncodeHello(PeerHello::Ours()) : Bytes{});
  if (!msg.ok()) return Fail(msg.status());
  transcript_ = noise_.handshake_hash();  // h1
  stage_ = Stage::kAwait2;
  return msg;
}

Result<std::optional<Bytes>> PeerHandshake::Receive(ByteView message) {
  switch (stage_) {
    case Stage::kAwait1: {
      auto payload = noise_.ReadMessage(message);
      if (!payload.ok()) return Fail(payload.status());
      if (!payload->empty()) {  // a v2 initiator's hello; v1 sends none
        auto hello = DecodeHello(*payload);
        if (!hello.ok()) return Fail(hello.status().WithContext("handshake message 1"));
        remote_hello_ = *hello;
        peer_said_hello_ = true;
      }
      transcript_ = noise_.handshake_hash();  // h1
      Bytes reply_payload = IdentityPayload(2);
      if (peer_said_hello_) {  // answer in kind; a v1 initiator gets exactly 96 bytes
        Bytes hello = EncodeHello(PeerHello::Ours());
        reply_payload.insert(reply_payload.end(), hello.begin(), hello.end());
        AppendOwnChain(reply_payload);
      }
      auto reply = noise_.WriteMessage(reply_payload);
      if (!reply.ok()) return Fail(reply.status());
      transcript_ = noise_.handshake_hash();  // h2: what the initiator signs
      stage_ = Stage::kAwait3;
      return std::optional<Bytes>(std::move(reply).value());
    }
    case Stage::kAwait2: {
      auto payload = noise_.ReadMessage(message);
      if (!payload.ok()) return Fail(payload.status());
      Status id = CheckIdentity(*payload, 2, transcript_);
      if (!id.ok()) return Fail(id);
      transcript_ = noise_.handshake_hash();  // h2
      Bytes identity = IdentityPayload(3);
      if (remote_hello_.version >= 2) AppendOwnChain(identity);
      auto reply = noise_.WriteMessage(identity);
      if (!reply.ok()) return Fail(reply.status());
      stage_ = Stage::kComplete;
      return std::optional<Bytes>(std::move(reply).value());
    }
    case Stage::kAwait3: {
      auto payload = noise_.ReadMessage(message);
      if (!payload.ok()) return Fail(payload.status());
      Status id = CheckIdentity(*payload, 3, transcript_);
      if (!id.ok()) return Fail(id);
      stage_ = Stage::kComplete;
      return std::optional<Bytes>();
    }
    case Stage::kStart:
    case Stage::kComplete:
    case Stage::kFailed: break;
  }
  return FailedPrecondition("handshake message received out of turn");
}

Result<crypto::TransportCiphers> PeerHandshake::Split() {
  if (stage_ != Stage::kComplete) return FailedPrecondition("handshake not complete");
  return noise_.Split();
}

SecureChannel::SecureChannel(crypto::TransportCiphers ciphers, uint64_t rekey_interval)
    : ciphers_(std::move(ciphers)), rekey_interval_(std::max<uint64_t>(1, rekey_interval)) {}

Status SecureChannel::Seal(ByteView plaintext, Bytes* out) {
  if (plaintext.size() > kMaxMessageBytes)
    return InvalidArgument("peer message of " + std::to_string(plaintext.size()) +
                           " bytes, more than the limit of " + std::to_string(kMaxMessageBytes));
  KEIRETSU_ASSIGN_OR_RETURN(Bytes sealed, ciphers_.send.Encrypt(plaintext));
  // Both ends rekey at the same boundary: after every rekey_interval_
  // messages of a direction.
  if (ciphers_.send.nonce() % rekey_interval_ == 0) ciphers_.send.Rekey();
  return AppendFrame(sealed, out);
}

Result<Bytes> SecureChannel::Open(ByteView frame) {
  KEIRETSU_ASSIGN_OR_RETURN(Bytes plain, ciphers_.receive.Decrypt(frame));
  if (ciphers_.receive.nonce() % rekey_interval_ == 0) ciphers_.receive.Rekey();
  return plain;
}

}  // namespace keiretsu::net
