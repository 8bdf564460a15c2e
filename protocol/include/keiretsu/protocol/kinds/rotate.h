// Kind 9, rotate (author: the firm): the firm's key from this seq on is
// `new_key`, and the record is signed by it; `next_key_digest` commits to
// the key after it (docs/PROTOCOL.md 19.3, 19.5). Behaviour:
// protocol/src/kinds/rotate.cc.
#pragma once

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

struct Rotate {
  PublicKey new_key;
  Digest next_key_digest;
};

}  // namespace keiretsu::protocol
