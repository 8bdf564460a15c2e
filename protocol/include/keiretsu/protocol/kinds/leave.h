// Kind 8, leave (author: a member): the author's final entry; records above
// it never count (docs/PROTOCOL.md 19.3, 19.6). Behaviour:
// protocol/src/kinds/leave.cc.
#pragma once

#include <string>

namespace keiretsu::protocol {

struct Leave {
  std::string memo;
};

}  // namespace keiretsu::protocol
