// Test vectors of protocol v2 (docs/PROTOCOL.md 16 "Version 2 vectors",
// tests/vectors/v2.json): membership by quorum, leaving and key rotation.
//
// Fixed scenarios (inputs: keys, a version-2 genesis, each record's fields
// and signer) and what they give (record bytes and ids, each record's
// outcome, every feed's walk and key chain, evidence, the epoch chain,
// proposal states, balances and the state digest), derived through the
// real encoders, signer, protocol::ParseModelRecord's parsing and the
// reference protocol::RecomputeLedger. Deterministic: Ed25519 signatures
// are, and so is every seed. Test and audit tooling only.
#pragma once

#include <string>

#include "keiretsu/common/status.h"

namespace keiretsu::vectors {

// The v2 vectors file's text (JSON, one value a line, fixed field order).
// Errors: kInternal when a scenario breaks a rule it means to keep (a bug
// in the scenario, not in the protocol).
Result<std::string> V2Json();

}  // namespace keiretsu::vectors
