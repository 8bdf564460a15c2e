// The whole of protocol v2's three strata over a set of records, computed
// from scratch (docs/PROTOCOL.md 19.12): each member's feed-local walk, the
// epoch chain, counted prefixes, balances and the state digest.
//
// The reference an incremental ledger must equal, whatever the arrival
// order, and what the property tests compare against. Pure; cost grows
// with the number of records (every signature is checked again).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <tuple>
#include <variant>

#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/digest.h"
#include "keiretsu/protocol/epoch_chain.h"
#include "keiretsu/protocol/key_chain.h"

namespace keiretsu::protocol {

// One signed record with what strata 2 and 3 need of its body, parsed once.
struct ModelRecord {
  PublicKey author;
  FeedRecord feed;
  std::optional<std::variant<Propose, Vote>> governance;  // a well-formed propose/vote
  std::optional<DebtChange> debt;  // a well-formed accept, obligation or release
};

struct CountedFeed {
  FeedWalk walk;
  uint64_t counted_seq = 0;  // walk prefix, cut at last_seq when removed
  EntryId counted_id;
};

using BalanceKey = std::tuple<PublicKey, PublicKey, std::string>;  // firm, counterparty, unit

struct LedgerModel {
  EpochHistory history;
  std::map<PublicKey, CountedFeed> feeds;    // every member of some epoch
  std::map<BalanceKey, Amount128> balances;  // non-zero net(firm, counterparty, unit)
  Digest state_digest;
  // Records of authors that were never admitted, by author: still pending.
  std::map<PublicKey, size_t> pending_authors;
};

// Computes everything from `records` (any order; duplicates allowed).
LedgerModel RecomputeLedger(const EpochZero& zero, std::span<const ModelRecord> records);

}  // namespace keiretsu::protocol
