// Test support for protocol v2: signed records of any kind built from the
// byte layout of docs/PROTOCOL.md (5.1 header, 5.2 and 18.3 bodies), so the
// tests encode independently of the code under test, and feeds that track
// their own heads and keys.
#pragma once

#include <map>
#include <random>
#include <string>
#include <vector>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/ledger_model.h"

namespace keiretsu::testing {

// Key number i (any i >= 0), from a fixed seed: the same in every run.
inline crypto::SigningKey GovKey(uint32_t i) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 0x67;  // 'g'
  seed[1] = static_cast<uint8_t>(i);
  seed[2] = static_cast<uint8_t>(i >> 8);
  seed[3] = static_cast<uint8_t>(i >> 16);
  return crypto::SigningKey::FromSeed(seed);
}

inline NetworkId GovNetwork() {
  return NetworkId{crypto::Blake2b256(AsBytes(std::string_view("governance-tests")))};
}

// What a record's body is, for the model.
struct BodySpec {
  uint8_t kind = 4;
  Bytes body;  // the body's bytes after the kind byte
  std::optional<std::variant<protocol::Propose, protocol::Vote>> governance;
  std::optional<protocol::Rotate> rotate;
  bool leave = false;
  std::optional<protocol::DebtChange> debt;
};

template <class T>
BodySpec GovBody(uint8_t kind, const T& body) {
  BodySpec b;
  b.kind = kind;
  ByteWriter w(&b.body);
  protocol::KindOps<T>::Encode(body, w);
  if constexpr (std::is_same_v<T, protocol::Propose> || std::is_same_v<T, protocol::Vote>)
    b.governance = body;
  if constexpr (std::is_same_v<T, protocol::Rotate>) b.rotate = body;
  if constexpr (std::is_same_v<T, protocol::Leave>) b.leave = true;
  return b;
}
inline BodySpec ProposeBody(const protocol::Propose& p) {
  return GovBody(static_cast<uint8_t>(protocol::BodyKind::kPropose), p);
}
inline BodySpec VoteBody(const protocol::Vote& v) {
  return GovBody(static_cast<uint8_t>(protocol::BodyKind::kVote), v);
}
inline BodySpec LeaveBody() {
  return GovBody(static_cast<uint8_t>(protocol::BodyKind::kLeave), protocol::Leave{"bye"});
}
inline BodySpec RotateBody(const PublicKey& n, const Digest& next) {
  return GovBody(static_cast<uint8_t>(protocol::BodyKind::kRotate), protocol::Rotate{n, next});
}
// An obligation (kind 4): the author owes `creditor` `amount` hours.
inline BodySpec OweBody(const PublicKey& author, const PublicKey& creditor, uint64_t amount) {
  BodySpec b;
  b.kind = 4;
  ByteWriter w(&b.body);
  w.Raw(creditor.View());
  w.U64(amount);
  w.U8(5);
  w.Raw(std::string_view("hours"));
  w.U16(0);
  b.debt =
      protocol::DebtChange{author, creditor, "hours", static_cast<protocol::Amount128>(amount)};
  return b;
}

// Content bytes by PROTOCOL.md 5.1: version 1, network, author, seq, prev,
// timestamp, kind, body.
inline Bytes Content(const PublicKey& author, uint64_t seq, const EntryId& prev, const BodySpec& b,
                     uint64_t ts = 1'790'000'000'000) {
  Bytes c;
  ByteWriter w(&c);
  w.U8(1);
  w.Raw(GovNetwork().View());
  w.Raw(author.View());
  w.U64(seq);
  w.Raw(prev.View());
  w.U64(ts);
  w.U8(b.kind);
  w.Raw(b.body);
  return c;
}

inline protocol::ModelRecord SignRecord(const PublicKey& author, uint64_t seq, const EntryId& prev,
                                        const BodySpec& b, const crypto::SigningKey& signer,
                                        uint64_t ts = 1'790'000'000'000) {
  protocol::ModelRecord r;
  r.author = author;
  r.feed.content = Content(author, seq, prev, b, ts);
  r.feed.id = EntryId{crypto::Blake2b256(r.feed.content)};
  r.feed.seq = seq;
  r.feed.prev = prev;
  r.feed.signature = signer.Sign(protocol::SigningMessage(r.feed.content));
  r.feed.rotate = b.rotate;
  r.feed.leave = b.leave;
  if (b.rotate)
    r.feed.body_status = protocol::KindOps<protocol::Rotate>::CheckBody(*b.rotate, author);
  if (b.governance) {
    if (const auto* p = std::get_if<protocol::Propose>(&*b.governance))
      r.feed.body_status = protocol::KindOps<protocol::Propose>::CheckBody(*p, author);
  }
  r.governance = b.governance;
  r.debt = b.debt;
  return r;
}

// One firm's feed as its honest node writes it: tracks head and key.
struct Writer {
  PublicKey id;
  uint32_t key_index = 0;   // the key in force
  uint32_t next_index = 0;  // the pre-committed next key
  uint64_t seq = 0;
  EntryId head;
  Digest inception_next;  // the digest the inception committed to

  static Writer Of(uint32_t inception, uint32_t next) {
    return Writer{GovKey(inception).public_key(),
                  inception,
                  next,
                  0,
                  EntryId{},
                  protocol::NextKeyDigest(GovKey(next).public_key())};
  }
  protocol::InceptionCommitment inception() const { return {id, inception_next}; }
  protocol::ModelRecord Next(const BodySpec& b) {
    auto r = SignRecord(id, seq + 1, head, b, GovKey(key_index));
    seq = r.feed.seq;
    head = r.feed.id;
    return r;
  }
  // Rotates to the pre-committed key, committing to key `after`.
  protocol::ModelRecord RotateTo(uint32_t after) {
    PublicKey n = GovKey(next_index).public_key();
    auto r = SignRecord(id, seq + 1, head,
                        RotateBody(n, protocol::NextKeyDigest(GovKey(after).public_key())),
                        GovKey(next_index));
    seq = r.feed.seq;
    head = r.feed.id;
    key_index = next_index;
    next_index = after;
    return r;
  }
};

inline std::vector<protocol::FeedRecord> FeedOf(const std::vector<protocol::ModelRecord>& rs) {
  std::vector<protocol::FeedRecord> out;
  for (const auto& r : rs) out.push_back(r.feed);
  return out;
}

}  // namespace keiretsu::testing
