// Kind 2, accept (author = debtor): accepts a claim and carries its terms, so
// its effect is self-contained: the author owes `creditor` `amount` of
// `unit`. Behaviour: protocol/src/kinds/accept.cc.
#pragma once

#include <cstdint>
#include <string>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

struct Accept {
  EntryId claim_id;
  PublicKey creditor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
};

}  // namespace keiretsu::protocol
