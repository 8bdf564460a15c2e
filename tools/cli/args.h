// Checks of command-line values done before anything is sent or written, so
// a typo fails fast with a message naming the argument. Each returns
// kInvalidArgument (exit 4) with a one-line message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "keiretsu/common/status.h"

namespace keiretsu::cli {

// A positive decimal integer no larger than protocol::kMaxAmount: no sign,
// no spaces, no exponent, no leading "+". `what` names the argument.
Result<uint64_t> ParseAmount(std::string_view text, std::string_view what = "amount");

// A positive decimal integer of any size up to 2^64-1 (seq numbers, counts).
Result<uint64_t> ParsePositive(std::string_view text, std::string_view what);

// Exactly 64 hex characters (an entry id or public key); returns it lower-case.
Result<std::string> ParseHex64(std::string_view text, std::string_view what);

// "name=value" with both sides non-empty.
Result<std::pair<std::string, std::string>> ParseNamed(std::string_view text,
                                                       std::string_view what);

// "host:port" or "[v6]:port" with a port 1..65535.
Status CheckHostPort(std::string_view text, std::string_view what);

}  // namespace keiretsu::cli
