// Kind 1, claim (author = creditor): "debtor owes me `amount` of `unit` for
// `memo`". No balance effect until the debtor accepts. Behaviour:
// protocol/src/kinds/claim.cc.
#pragma once

#include <cstdint>
#include <string>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

struct Claim {
  PublicKey debtor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
};

}  // namespace keiretsu::protocol
