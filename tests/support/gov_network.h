// Test support for protocol v2 at the ledger level: a version-2 genesis
// whose founders committed to next keys, honest firm writers that track
// their own head and key (and rotate), and the conversion of a record into
// what protocol::RecomputeLedger takes. Header-only.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/ledger_model.h"
#include "keiretsu/storage/store.h"
#include "open_ledger.h"

namespace keiretsu::testing {

// Key number i, from a fixed seed: the same in every run.
inline crypto::SigningKey GovLedgerKey(uint32_t i) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 0x47;  // 'G'
  seed[1] = static_cast<uint8_t>(i);
  seed[2] = static_cast<uint8_t>(i >> 8);
  return crypto::SigningKey::FromSeed(seed);
}
inline Digest DigestOfKey(uint32_t i) {
  return protocol::NextKeyDigest(GovLedgerKey(i).public_key());
}

// One firm as its honest node writes: its head, the key in force and the
// pre-committed next key (key numbers for GovLedgerKey).
struct GovFirm {
  std::string name;
  uint32_t key_index = 0;
  uint32_t next_index = 0;
  PublicKey id;
  uint64_t seq = 0;
  EntryId head;

  static GovFirm Of(std::string name, uint32_t key, uint32_t next) {
    return GovFirm{std::move(name), key, next, GovLedgerKey(key).public_key(), 0, EntryId{}};
  }
  Digest inception_next() const { return DigestOfKey(next_index); }
};

struct GovNet {
  protocol::Genesis genesis;
  std::vector<GovFirm> founders;
  const NetworkId& id() const { return genesis.network_id(); }
};

// A version-2 network of `n` founders (keys 1..n, next keys 101..100+n)
// with threshold `k`.
inline GovNet MakeGovNet(int n, uint16_t k) {
  protocol::GenesisSpec spec;
  spec.network_name = "governance-ledger";
  spec.created_unix = 1'790'000'000;
  spec.version = 2;
  spec.threshold = k;
  std::vector<GovFirm> firms;
  for (int i = 1; i <= n; ++i) {
    firms.push_back(GovFirm::Of("firm" + std::to_string(i), static_cast<uint32_t>(i),
                                static_cast<uint32_t>(100 + i)));
    spec.members.push_back({firms.back().name, firms.back().id, firms.back().inception_next()});
  }
  auto g = protocol::Genesis::Create(spec);
  if (!g.ok()) throw std::runtime_error(g.status().ToString());
  return GovNet{std::move(g).value(), std::move(firms)};
}

// Signs `body` as `f`'s next entry under `key` (the key in force unless
// given) and advances f.
inline protocol::SignedEntry SignAs(const GovNet& net, GovFirm& f, protocol::Body body,
                                    const crypto::SigningKey* key = nullptr) {
  protocol::Entry e{net.id(), f.id, f.seq + 1, f.head, 1'790'000'000'000 + f.seq, std::move(body)};
  crypto::SigningKey in_force = GovLedgerKey(f.key_index);
  auto se = protocol::SignEntryUnder(e, key ? *key : in_force);
  if (!se.ok()) throw std::runtime_error(se.status().ToString());
  f.seq = e.seq;
  f.head = se->id;
  return std::move(se).value();
}
// f's rotation to its pre-committed key, committing to key `after`.
inline protocol::SignedEntry RotateFirm(const GovNet& net, GovFirm& f, uint32_t after) {
  crypto::SigningKey next = GovLedgerKey(f.next_index);
  auto se = SignAs(net, f, protocol::Rotate{next.public_key(), DigestOfKey(after)}, &next);
  f.key_index = f.next_index;
  f.next_index = after;
  return se;
}
inline protocol::Body Owe(const PublicKey& creditor, uint64_t amount) {
  return protocol::Obligation{creditor, amount, "hours", ""};
}

// What RecomputeLedger takes of one record, decoded from its bytes.
inline protocol::ModelRecord ToModel(const Bytes& record) {
  NetworkId network;  // the record's own (content bytes 1..32)
  std::copy(record.begin() + 1, record.begin() + 33, network.bytes.begin());
  auto c = protocol::CheckFeedLocal(record, network, protocol::InceptionKeys{},
                                    /*verify_signature=*/false);
  if (!c.signed_entry) throw std::runtime_error("record does not decode");
  const protocol::SignedEntry& se = *c.signed_entry;
  protocol::ModelRecord m;
  m.author = se.entry.author;
  m.feed.id = se.id;
  m.feed.seq = se.entry.seq;
  m.feed.prev = se.entry.prev;
  m.feed.content.assign(se.content().begin(), se.content().end());
  std::copy(record.end() - 64, record.end(), m.feed.signature.begin());
  m.feed.body_status = c.fault == protocol::Fault::kNone ? Status::Ok() : c.status;
  if (c.fault == protocol::Fault::kNone) {
    if (const auto* r = std::get_if<protocol::Rotate>(&se.entry.body)) m.feed.rotate = *r;
    m.feed.leave = std::holds_alternative<protocol::Leave>(se.entry.body);
    if (const auto* p = std::get_if<protocol::Propose>(&se.entry.body)) m.governance = *p;
    if (const auto* v = std::get_if<protocol::Vote>(&se.entry.body)) m.governance = *v;
    if (const auto* p = std::get_if<protocol::ClearingPropose>(&se.entry.body)) m.clearing = *p;
    if (const auto* v = std::get_if<protocol::ClearingVote>(&se.entry.body)) m.clearing = *v;
    m.debt = protocol::EffectOf(se.entry);
  }
  return m;
}

inline std::unique_ptr<node::Ledger> OpenGovLedger(const GovNet& net, const std::string& dir,
                                                   node::LedgerOptions options = {}) {
  return OpenLedgerOf(net.genesis, dir, options);
}

}  // namespace keiretsu::testing
