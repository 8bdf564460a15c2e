// Stratum 1 of protocol v2: one feed's chain, key succession, leaving,
// forks and key recovery, as a pure function of the set of records held for
// the feed and the firm's inception commitment (docs/PROTOCOL.md 19.5-19.7).
//
// This is the reference definition: the ledger decides records one at a
// time as they arrive and must always agree with WalkFeed over the records
// it holds. Pure and thread-safe; nothing here touches storage.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/governance.h"

namespace keiretsu::protocol {

// A firm's id (its first key) and the digest of its next key; a zero digest
// commits to no key (a v1 founder: it can never rotate).
struct InceptionCommitment {
  PublicKey id;
  Digest next_key_digest;
};

// One record of a feed, parsed once at the edge: its header, its signature
// (not yet checked: which key must verify it is what the walk decides), and
// what the walk needs of its body.
struct FeedRecord {
  EntryId id;
  uint64_t seq = 0;
  EntryId prev;
  Bytes content;  // the signed content (the record less its signature)
  crypto::Signature signature{};
  // The stateless body rules (18.3 and 7): OK, or why the body is invalid.
  Status body_status;
  std::optional<Rotate> rotate;  // set for a well-formed rotate
  bool leave = false;            // a well-formed leave
};

struct KeySpan {
  uint64_t from_seq = 1;  // in force from this seq (a rotate's own seq)
  PublicKey key;
  Digest next_key_digest;  // what this key commits to
};

enum class StopReason : uint8_t { kNone, kFork, kInvalidEntry };
std::string_view StopReasonName(StopReason reason);  // "", "fork", "invalid-entry"

enum class EvidenceKind : uint8_t { kFork = 1, kInvalidEntry = 2, kKeyRecovery = 3 };

// Evidence found by the walk (PROTOCOL.md 11 and 18.7). first/second are
// record ids; for kKeyRecovery first is the rotate, second the old-key
// record it overrides.
struct WalkEvidence {
  EvidenceKind kind;
  uint64_t seq = 0;
  EntryId first;
  EntryId second;  // zero for kInvalidEntry
  std::string reason;
};

// The feed-local state of one feed.
struct FeedWalk {
  // The feed-local prefix: entries 1..prefix.size(), as indexes into the
  // records given to WalkFeed.
  std::vector<size_t> prefix;
  EntryId effective_id;   // id of the last prefix entry; zero when empty
  uint64_t stop_seq = 0;  // 0: not stopped
  StopReason stop_reason = StopReason::kNone;
  uint64_t left_seq = 0;      // seq of an effective leave; 0: none
  std::vector<KeySpan> keys;  // the key chain, first = the inception key
  std::vector<WalkEvidence> evidence;

  uint64_t effective_seq() const { return prefix.size(); }
  // Neither stopped nor left (18.8 open(a)).
  bool open() const { return stop_seq == 0 && left_seq == 0; }
  // The key entries at `seq` verify under, per the chain known so far: the
  // last span starting at or below `seq`.
  const PublicKey& KeyAt(uint64_t seq) const;
  // Every key of the chain, in order (the inception key first).
  std::vector<PublicKey> Keys() const;
};

// Walks the records of one feed (any order, duplicates by id allowed; all
// must carry the same author, the commitment's id) by PROTOCOL.md 19.7.
FeedWalk WalkFeed(const InceptionCommitment& inception, std::span<const FeedRecord> records);

// True when `record` verifies under `key`: Ed25519 over
// "keiretsu/v1/entry" || content (PROTOCOL.md 5).
bool VerifiesUnder(const FeedRecord& record, const PublicKey& key);

}  // namespace keiretsu::protocol
