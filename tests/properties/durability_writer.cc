// The child of durability_test: opens the ledger in a data directory and
// appends to one firm's feed until killed, reporting every entry whose
// Append returned OK as "<seq> <id hex>\n" on stdout, flushed at once, so
// the parent knows exactly what the ledger acknowledged.
//
// Usage: durability_writer DATA_DIR FIRM_INDEX RNG_SEED
// The network is testing::MakeNetwork(4): the parent derives the same keys.
// Exit codes: 0 after kMaxEntries appends (the parent normally kills it
// first), 2 on bad usage, 3 when opening or an Append fails.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "keiretsu/node/ledger.h"
#include "test_network.h"

namespace {

constexpr int kFirms = 4;
constexpr int kMaxEntries = 100'000;

using keiretsu::protocol::Body;

Body NextBody(const keiretsu::testing::TestNetwork& net, int self, std::mt19937_64& rng) {
  int other = static_cast<int>(rng() % (kFirms - 1));
  if (other >= self) ++other;
  const auto& pk = net.pk(other);
  const uint64_t amount = 1 + rng() % 100'000;
  static const char* const kUnits[] = {"hours", "EUR", "kWh"};
  const std::string unit = kUnits[rng() % 3];
  switch (rng() % 4) {
    case 0: return keiretsu::protocol::Claim{pk, amount, unit, "claimed"};
    case 1: return keiretsu::protocol::Release{pk, amount, unit, "settled"};
    default: return keiretsu::protocol::Obligation{pk, amount, unit, "owed"};
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DATA_DIR FIRM_INDEX RNG_SEED\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int self = std::atoi(argv[2]);
  if (self < 0 || self >= kFirms) {
    std::fprintf(stderr, "firm index must be 0..%d\n", kFirms - 1);
    return 2;
  }
  std::mt19937_64 rng(std::strtoull(argv[3], nullptr, 10));
  auto net = keiretsu::testing::MakeNetwork(kFirms);

  auto store = keiretsu::storage::Store::Open({dir, net.id(), true});
  if (!store.ok()) {
    std::fprintf(stderr, "writer: open store: %s\n", store.status().ToString().c_str());
    return 3;
  }
  auto ledger = keiretsu::node::Ledger::Open(net.genesis, std::move(store).value());
  if (!ledger.ok()) {
    std::fprintf(stderr, "writer: open ledger: %s\n", ledger.status().ToString().c_str());
    return 3;
  }
  for (int i = 0; i < kMaxEntries; ++i) {
    auto se = (*ledger)->Append(net.key(self), NextBody(net, self, rng), 1'790'000'000'000 + i);
    if (!se.ok()) {
      std::fprintf(stderr, "writer: append: %s\n", se.status().ToString().c_str());
      return 3;
    }
    // One short line per write(2): a pipe delivers it whole or not at all.
    std::printf("%llu %s\n", static_cast<unsigned long long>(se->entry.seq), se->id.Hex().c_str());
    std::fflush(stdout);
  }
  return 0;
}
