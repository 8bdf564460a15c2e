// libFuzzer target: arbitrary bytes as every message a Noise peer can
// receive — message 1 at a responder, message 2 at an initiator, message 3
// at a responder, and a transport message after the handshake.
//
// Input: byte 0 picks the stage (bits 0-1) and how the rest is used (bit 2):
// raw, as the whole message; or XORed onto the genuine message of that
// stage (longer input appends), so mutations stay close to valid messages
// and get past the length checks. Besides "never crash", it checks a
// property: a message that differs from the genuine one must be refused
// (all of them are authenticated; the handshake runs with fixed keys, so the
// genuine messages are the same on every run).
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "fuzz_input.h"
#include "keiretsu/crypto/noise.h"

namespace {

using keiretsu::Bytes;
using keiretsu::ByteView;
using keiretsu::crypto::NoiseHandshake;
using keiretsu::crypto::TransportCiphers;
using keiretsu::crypto::X25519KeyPair;

X25519KeyPair Key(uint8_t fill) {
  return X25519KeyPair::FromPrivate(Bytes(32, fill)).value();
}

struct Fixture {
  X25519KeyPair is = Key(1), ie = Key(2), rs = Key(3), re = Key(4);
  Bytes prologue = Bytes(40, 0x11);
  Bytes psk = Bytes(32, 0x22);
  Bytes genuine[4];  // messages 1-3, then the first transport message

  Fixture() {
    NoiseHandshake i = Initiator(), r = Responder();
    genuine[0] = i.WriteMessage(Bytes{'h', 'i'}).value();
    (void)r.ReadMessage(genuine[0]).value();
    genuine[1] = r.WriteMessage(Bytes{'m', '2'}).value();
    (void)i.ReadMessage(genuine[1]).value();
    genuine[2] = i.WriteMessage(Bytes{'m', '3'}).value();
    (void)r.ReadMessage(genuine[2]).value();
    TransportCiphers c = i.Split().value();
    genuine[3] = c.send.Encrypt(Bytes{'t'}).value();
  }
  NoiseHandshake Initiator() const {
    return NoiseHandshake::ForTest(true, is, ie, prologue, psk).value();
  }
  NoiseHandshake Responder() const {
    return NoiseHandshake::ForTest(false, rs, re, prologue, psk).value();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fx;
  if (size == 0) return 0;
  const int stage = data[0] & 3;
  const bool xor_mode = (data[0] & 4) != 0;
  const ByteView in(data + 1, size - 1);
  const Bytes msg = keiretsu::fuzz::MessageFrom(in, fx.genuine[stage], xor_mode);

  switch (stage) {
    case 0: {  // message 1 at a fresh responder
      NoiseHandshake r = fx.Responder();
      auto p = r.ReadMessage(msg);
      keiretsu::fuzz::Check(p.ok(), msg, fx.genuine[0]);
      if (p.ok()) (void)r.WriteMessage(*p);
      (void)r.ReadMessage(msg);  // out of turn / after failure
      break;
    }
    case 1: {  // message 2 at the initiator
      NoiseHandshake i = fx.Initiator();
      (void)i.WriteMessage(Bytes{'h', 'i'});
      auto p = i.ReadMessage(msg);
      keiretsu::fuzz::Check(p.ok(), msg, fx.genuine[1]);
      if (p.ok()) {
        (void)i.WriteMessage(*p);
        (void)i.Split();
      }
      (void)i.Split();
      break;
    }
    case 2: {  // message 3 at the responder
      NoiseHandshake r = fx.Responder();
      (void)r.ReadMessage(fx.genuine[0]);
      (void)r.WriteMessage(Bytes{'m', '2'});
      auto p = r.ReadMessage(msg);
      keiretsu::fuzz::Check(p.ok(), msg, fx.genuine[2]);
      auto c = r.Split();
      if (c.ok() && p.ok()) (void)c->send.Encrypt(*p);
      break;
    }
    case 3: {  // a transport message at the responder
      NoiseHandshake i = fx.Initiator(), r = fx.Responder();
      (void)r.ReadMessage(i.WriteMessage(Bytes{'h', 'i'}).value());
      (void)i.ReadMessage(r.WriteMessage(Bytes{'m', '2'}).value());
      (void)r.ReadMessage(i.WriteMessage(Bytes{'m', '3'}).value());
      auto c = r.Split();
      if (!c.ok()) std::abort();  // the genuine handshake must complete
      auto p = c->receive.Decrypt(msg);
      keiretsu::fuzz::Check(p.ok(), msg, fx.genuine[3]);
      c->receive.Rekey();
      (void)c->receive.Decrypt(msg);
      break;
    }
  }
  return 0;
}
