// libFuzzer target: the peer handshake (node/net PeerHandshake: Noise XXpsk0
// plus the Ed25519 identity proof in messages 2 and 3) receiving arbitrary
// bytes as each of its three messages.
//
// Input: byte 0 picks the stage (bits 0-1: message 1 at a responder,
// message 2 at an initiator, message 3 at a responder) and whether the rest
// replaces the message (bit 2 clear) or is XORed onto the genuine one (set;
// longer input appends), so mutations stay close to valid messages. Besides
// "never crash", it checks that a message other than the genuine one is
// always refused, that the genuine handshake authenticates the right firms,
// and that a refused handshake stays refused.
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "fuzz_input.h"
#include "fuzz_network.h"
#include "keiretsu/net/peer_handshake.h"

namespace {

using keiretsu::Bytes;
using keiretsu::ByteView;
using keiretsu::net::PeerHandshake;

struct Fixture {
  keiretsu::protocol::Genesis genesis = keiretsu::fuzz::FuzzGenesis();
  keiretsu::crypto::SigningKey k0 = keiretsu::fuzz::FuzzKey(0), k1 = keiretsu::fuzz::FuzzKey(1);
  keiretsu::crypto::X25519KeyPair e0 =
      keiretsu::crypto::X25519KeyPair::FromPrivate(Bytes(32, 5)).value();
  keiretsu::crypto::X25519KeyPair e1 =
      keiretsu::crypto::X25519KeyPair::FromPrivate(Bytes(32, 6)).value();
  Bytes genuine[3];

  Fixture() {
    PeerHandshake i = Initiator(), r = Responder();
    genuine[0] = i.Start().value();
    genuine[1] = r.Receive(genuine[0]).value().value();
    genuine[2] = i.Receive(genuine[1]).value().value();
    auto done = r.Receive(genuine[2]);
    if (!done.ok() || done->has_value() || !i.complete() || !r.complete()) std::abort();
    if (i.remote() != k1.public_key() || r.remote() != k0.public_key()) std::abort();
  }
  PeerHandshake Initiator() const {
    return PeerHandshake::ForTest(true, genesis, k0, k1.public_key(), e0).value();
  }
  PeerHandshake Responder() const {
    return PeerHandshake::ForTest(false, genesis, k1, std::nullopt, e1).value();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fx;
  if (size == 0) return 0;
  const int stage = data[0] % 3;
  const bool xor_mode = (data[0] & 4) != 0;
  const ByteView in(data + 1, size - 1);
  const Bytes msg = keiretsu::fuzz::MessageFrom(in, fx.genuine[stage], xor_mode);

  switch (stage) {
    case 0: {  // message 1 at a responder
      PeerHandshake r = fx.Responder();
      auto reply = r.Receive(msg);
      keiretsu::fuzz::Check(reply.ok(), msg, fx.genuine[0]);
      if (!reply.ok() && r.Receive(fx.genuine[0]).ok()) std::abort();  // refusal is final
      break;
    }
    case 1: {  // message 2 at the initiator
      PeerHandshake i = fx.Initiator();
      (void)i.Start();
      auto reply = i.Receive(msg);
      keiretsu::fuzz::Check(reply.ok(), msg, fx.genuine[1]);
      if (reply.ok() && (!i.complete() || !i.Split().ok())) std::abort();
      if (!reply.ok() && (i.complete() || i.Split().ok())) std::abort();
      break;
    }
    case 2: {  // message 3 at the responder
      PeerHandshake r = fx.Responder();
      (void)r.Receive(fx.genuine[0]);
      auto done = r.Receive(msg);
      keiretsu::fuzz::Check(done.ok(), msg, fx.genuine[2]);
      if (done.ok() != r.complete()) std::abort();
      break;
    }
  }
  return 0;
}
