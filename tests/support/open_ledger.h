// OpenLedgerOf: a real ledger on a real store, for tests of any network.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/storage/store.h"

namespace keiretsu::testing {

// A ledger of `genesis`'s network on a fresh (or reopened) store in `dir`.
inline std::unique_ptr<node::Ledger> OpenLedgerOf(const protocol::Genesis& genesis,
                                                  const std::string& dir,
                                                  node::LedgerOptions options = {}) {
  auto store = storage::Store::Open({dir, genesis.network_id(), true});
  if (!store.ok()) throw std::runtime_error(store.status().ToString());
  auto ledger = node::Ledger::Open(genesis, std::move(store).value(), options);
  if (!ledger.ok()) throw std::runtime_error(ledger.status().ToString());
  return std::move(ledger).value();
}

}  // namespace keiretsu::testing
