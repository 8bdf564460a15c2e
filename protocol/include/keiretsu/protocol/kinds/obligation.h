// Kind 4, obligation (author = debtor): an IOU recorded directly by the
// debtor: the author owes `creditor`. Behaviour:
// protocol/src/kinds/obligation.cc.
#pragma once

#include <cstdint>
#include <string>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

struct Obligation {
  PublicKey creditor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
};

}  // namespace keiretsu::protocol
