// Kind 5, release (author = creditor): reduces what `debtor` owes the author
// (settlement, repayment, forgiveness). Behaviour:
// protocol/src/kinds/release.cc.
#pragma once

#include <cstdint>
#include <string>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

struct Release {
  PublicKey debtor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
};

}  // namespace keiretsu::protocol
