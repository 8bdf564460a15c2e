// Test support for fault tests: a ledger over a store whose file system
// injects faults (storage::FaultInjector), and the checks every fault test
// makes afterwards. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "keiretsu/node/ledger.h"
#include "keiretsu/storage/fault_injector.h"
#include "test_network.h"

namespace keiretsu::testing {

inline storage::StoreOptions FaultyStoreOptions(const TestNetwork& net, const std::string& path,
                                                std::shared_ptr<storage::FaultInjector> faults) {
  return storage::StoreOptions{path, net.id(), true, std::move(faults)};
}

inline Result<std::unique_ptr<node::Ledger>> OpenFaultyLedger(
    const TestNetwork& net, const std::string& path, std::shared_ptr<storage::FaultInjector> faults,
    node::LedgerOptions options = {}) {
  KEIRETSU_ASSIGN_OR_RETURN(auto store,
                            storage::Store::Open(FaultyStoreOptions(net, path, std::move(faults))));
  return node::Ledger::Open(net.genesis, std::move(store), options);
}

// Feed states without the empty ones: a ledger may cache an empty state for
// a feed it has only seen pending entries of, which the store has no row for
// (and the digest skips).
inline std::map<PublicKey, storage::FeedState> NonEmpty(std::map<PublicKey, storage::FeedState> m) {
  std::erase_if(m, [](const auto& kv) { return kv.second == storage::FeedState{}; });
  return m;
}

// The ledger's caches (feed heads, pending count, log cursor) equal what
// its store holds, the store is consistent, and the balances equal a
// recomputation from the entries: nothing half-applied is visible.
inline void ExpectLedgerMatchesStore(node::Ledger& ledger) {
  storage::Store& store = ledger.store();
  EXPECT_EQ(NonEmpty(ledger.Feeds()), store.LoadFeedStates());
  auto pending = store.ListPending();
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(ledger.PendingCount(), pending->size());
  EXPECT_EQ(ledger.LastCursor(), store.LastLogCursor());
  Status consistent = store.CheckConsistency();
  EXPECT_TRUE(consistent.ok()) << consistent.ToString();
  ExpectBalancesMatchRecompute(ledger);
}

}  // namespace keiretsu::testing
