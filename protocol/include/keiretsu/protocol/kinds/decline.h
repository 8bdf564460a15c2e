// Kind 3, decline (author = debtor): refuses a claim. No balance effect.
// Behaviour: protocol/src/kinds/decline.cc.
#pragma once

#include <string>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

struct Decline {
  EntryId claim_id;
  PublicKey creditor;
  std::string memo;  // the reason, may be empty
};

}  // namespace keiretsu::protocol
