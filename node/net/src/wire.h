// PeerMessage encoding and validation (proto/keiretsu/v1/peer.proto,
// docs/replication.md "Messages"). Validation covers the wire's structural
// limits only; the records inside are judged by the ledger.
#pragma once

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/status.h"
#include "keiretsu/v1/peer.pb.h"

namespace keiretsu::net {

// Parses one message plaintext and checks its limits: exactly one known
// message set; Have: at most kMaxHaveFeeds feeds, 32-byte keys and ids;
// Entries: batch > 0, 1..kMaxBatchRecords records of 1..kMaxEntryBytes;
// EvidenceBatch: batch > 0, 1..kMaxBatchEvidence items with a known kind,
// records of 1..kMaxEntryBytes (two for a fork, one otherwise).
// Errors: kInvalidArgument naming the fault.
Result<v1::PeerMessage> DecodePeerMessage(ByteView plaintext);

// Serialises `m`. Errors: kInternal if it exceeds kMaxMessageBytes (the
// builders keep within it; this is the last check).
Result<Bytes> EncodePeerMessage(const v1::PeerMessage& m);

}  // namespace keiretsu::net
