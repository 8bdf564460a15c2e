// Protocol v2 in the audit: one record parsed for the reference model
// (protocol::RecomputeLedger), from its bytes alone.
//
// The signature is not checked here: which key must verify a record is what
// the feed walk (protocol::WalkFeed) decides from the firm's key chain. Pure
// and thread-safe.
#pragma once

#include <optional>
#include <string>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/ledger_model.h"

namespace keiretsu::audit {

struct ParsedRecord {
  // kNone: `model` is set (its body status says whether the body breaks a
  // rule). kMalformed, kWrongNetwork: nothing about it is attributable.
  // kUnknownKind: a kind neither v1 nor v2 defines (upgrade needed).
  protocol::Fault fault = protocol::Fault::kNone;
  std::string why;       // for people, when fault != kNone
  uint8_t kind_tag = 0;  // the header's kind byte, once read
  // The header's author and seq, once read (also for kUnknownKind).
  std::optional<std::pair<PublicKey, uint64_t>> claimed;
  std::optional<protocol::ModelRecord> model;
};

// Parses `record` (content || signature) of network `network` by
// docs/PROTOCOL.md 5, 18.3 and 19.3: header, body of kinds 1-9, and the
// stateless body rules (v1 rules 1-3 and 5-7, 19.3 rules 1-7).
ParsedRecord ParseModelRecord(ByteView record, const NetworkId& network);

}  // namespace keiretsu::audit
