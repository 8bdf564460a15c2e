// Strict parsing of protobuf messages received from outside (API requests,
// export files). Protobuf's own parser is lenient where a verifier must not
// be: a non-repeated field sent twice keeps the last copy (or merges two
// messages), two members of one oneof keep the last, a field sent with the
// wrong wire type is kept as an unknown field, and its failures (bad UTF-8
// in a proto3 string, a truncated varint) carry no message. ParseStrict
// walks the wire bytes against the message's descriptor first and refuses
// all of these with a message that names the field, then parses.
//
// Pure functions; thread-safe.
#pragma once

#include <google/protobuf/message.h>

#include <string_view>

#include "keiretsu/common/status.h"

namespace keiretsu::proto {

struct StrictOptions {
  // Fields the descriptor does not know. Requests ignore them (a newer
  // client may send fields this node does not have yet); export files
  // refuse them (bytes nobody checks).
  bool allow_unknown_fields = true;
};

// Parses `wire` into `out` (cleared first) after checking, recursively:
// every field number is known (unless allowed) and sent with its declared
// wire type; no non-repeated field and no oneof appears twice; every string
// field is valid UTF-8; nesting is at most 32 deep; no groups.
// Errors: kInvalidArgument naming the message type and the field
// ("keiretsu.v1.ClaimRequest: field memo (4) is not valid UTF-8").
Status ParseStrict(std::string_view wire, google::protobuf::Message* out,
                   const StrictOptions& options = {});

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace keiretsu::proto
