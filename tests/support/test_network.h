// Test support: a small deterministic network (firm keys from fixed seeds,
// a genesis naming them), temporary data directories, and entry builders.
// Header-only so every test binary can use it without another library.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "keiretsu/crypto/signing.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/storage/store.h"
#include "open_ledger.h"
#include "temp_dir.h"

namespace keiretsu::testing {

// Firm i's key comes from the seed {i+1, 0, 0, ...}: the same in every run.
inline crypto::SigningKey FirmKey(int i) {
  std::array<uint8_t, 32> seed{};
  seed[0] = static_cast<uint8_t>(i + 1);
  seed[1] = 0x6b;  // 'k'
  return crypto::SigningKey::FromSeed(seed);
}

struct TestNetwork {
  std::vector<crypto::SigningKey> keys;
  protocol::Genesis genesis;

  const PublicKey& pk(int i) const { return keys[static_cast<size_t>(i)].public_key(); }
  const crypto::SigningKey& key(int i) const { return keys[static_cast<size_t>(i)]; }
  const NetworkId& id() const { return genesis.network_id(); }
};

inline TestNetwork MakeNetwork(int firms, const std::string& name = "test-keiretsu") {
  protocol::GenesisSpec spec;
  spec.network_name = name;
  spec.created_unix = 1'790'000'000;
  spec.admission_quorum = 1;
  std::vector<crypto::SigningKey> keys;
  for (int i = 0; i < firms; ++i) {
    keys.push_back(FirmKey(i));
    spec.members.push_back({"firm" + std::to_string(i), keys.back().public_key()});
  }
  auto g = protocol::Genesis::Create(spec);
  if (!g.ok()) throw std::runtime_error(g.status().ToString());
  return TestNetwork{std::move(keys), std::move(g).value()};
}

inline std::unique_ptr<node::Ledger> OpenLedger(const TestNetwork& net, const std::string& dir,
                                                node::LedgerOptions options = {}) {
  return OpenLedgerOf(net.genesis, dir, options);
}

// Builds feeds offline: tracks each firm's head so entries chain correctly.
class FeedBuilder {
 public:
  explicit FeedBuilder(const TestNetwork& net) : net_(net), heads_(net.keys.size()) {}

  // Signs the next entry of firm `i` with `body`. Throws if the rules refuse.
  protocol::SignedEntry Next(int i, protocol::Body body) {
    auto& h = heads_[static_cast<size_t>(i)];
    protocol::Entry e{net_.id(),      net_.pk(i), h.seq + 1, h.id, 1'790'000'000'000 + h.seq,
                      std::move(body)};
    auto se = protocol::SignEntry(e, net_.key(i), net_.genesis);
    if (!se.ok()) throw std::runtime_error(se.status().ToString());
    h.seq = e.seq;
    h.id = se->id;
    return std::move(se).value();
  }
  // Signs an entry with every field given, bypassing the rule checks (for
  // building invalid entries): encodes and signs the raw content.
  static protocol::SignedEntry SignRaw(const protocol::Entry& e, const crypto::SigningKey& key) {
    protocol::SignedEntry se;
    se.record = protocol::EncodeContent(e);
    se.id = *protocol::IdOfRecord(Pad(se.record));
    auto sig = key.Sign(protocol::SigningMessage(se.record));
    se.record.insert(se.record.end(), sig.begin(), sig.end());
    se.entry = e;
    return se;
  }
  struct Head {
    uint64_t seq = 0;
    EntryId id;
  };
  Head head(int i) const { return heads_[static_cast<size_t>(i)]; }

 private:
  static Bytes Pad(Bytes content) {  // IdOfRecord expects content||signature
    content.resize(content.size() + 64);
    return content;
  }
  const TestNetwork& net_;
  std::vector<Head> heads_;
};

// The materialised balances equal a recomputation from the stored entries.
inline void ExpectBalancesMatchRecompute(const node::Ledger& l) {
  auto stored = l.ListAllBalances();
  auto recomputed = l.RecomputeBalances();
  ASSERT_TRUE(stored.ok() && recomputed.ok());
  ASSERT_EQ(stored->size(), recomputed->size());
  for (size_t i = 0; i < stored->size(); ++i) {
    EXPECT_EQ((*stored)[i].firm, (*recomputed)[i].firm);
    EXPECT_EQ((*stored)[i].counterparty, (*recomputed)[i].counterparty);
    EXPECT_EQ((*stored)[i].unit, (*recomputed)[i].unit);
    EXPECT_TRUE((*stored)[i].net == (*recomputed)[i].net);
  }
}

inline protocol::Obligation Owe(const PublicKey& creditor, uint64_t amount,
                                const std::string& unit = "hours") {
  return protocol::Obligation{creditor, amount, unit, "test"};
}

}  // namespace keiretsu::testing
