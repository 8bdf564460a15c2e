// Entries: the signed records every firm appends to its own feed, and their
// canonical encoding (byte layout in docs/PROTOCOL.md "Entries").
//
// An entry's *record* is `content || signature`: `content` is the canonical
// encoding of the header and body; the signature is Ed25519 by the author
// over "keiretsu/v1/entry" || content; the entry id is BLAKE2b-256(content).
// The record is kept and sent exactly as signed: nothing is ever
// re-serialised before it is verified or hashed.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/genesis.h"

namespace keiretsu::protocol {

// "debtor owes me (the author) `amount` of `unit` for `memo`". No balance
// effect until the debtor accepts.
struct Claim {
  PublicKey debtor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
};
// The debtor (author) accepts a claim; carries its terms so its effect is
// self-contained: author owes creditor `amount` of `unit`.
struct Accept {
  EntryId claim_id;
  PublicKey creditor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
};
// The debtor (author) refuses a claim. No balance effect.
struct Decline {
  EntryId claim_id;
  PublicKey creditor;
  std::string memo;  // the reason, may be empty
};
// An IOU recorded directly by the debtor (author): author owes creditor.
struct Obligation {
  PublicKey creditor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
};
// The creditor (author) reduces what `debtor` owes it: settlement,
// repayment, forgiveness.
struct Release {
  PublicKey debtor;
  uint64_t amount = 0;
  std::string unit;
  std::string memo;
};

using Body = std::variant<Claim, Accept, Decline, Obligation, Release>;

// Body kind bytes on the wire; never reused.
enum class BodyKind : uint8_t {
  kClaim = 1,
  kAccept = 2,
  kDecline = 3,
  kObligation = 4,
  kRelease = 5
};
BodyKind KindOf(const Body& body);
std::string_view KindName(BodyKind kind);  // "claim", "accept", ...

struct Entry {
  NetworkId network;
  PublicKey author;
  uint64_t seq = 0;           // 1, 2, 3... within the author's feed
  EntryId prev;               // id of entry seq-1; all zero for seq 1
  uint64_t timestamp_ms = 0;  // author's clock, advisory only
  Body body;
};

// The counterparty of an entry: debtor of a Claim/Release, creditor of the
// others.
const PublicKey& Counterparty(const Body& body);

// An authenticated entry: its exact record, its id and its decoded fields.
struct SignedEntry {
  Bytes record;  // content || signature
  EntryId id;
  Entry entry;

  ByteView content() const { return ByteView(record).first(record.size() - 64); }
};

// Checks the body rules of `entry` against `genesis` (amount range, unit and
// memo form, counterparty a member and not the author, seq >= 1, prev zero
// exactly when seq == 1). Errors: kInvalidArgument naming the rule.
Status CheckRules(const Entry& entry, const Genesis& genesis);

// Canonical content bytes of `entry` (no checks).
Bytes EncodeContent(const Entry& entry);

// The message the author signs: "keiretsu/v1/entry" || content.
Bytes SigningMessage(ByteView content);

// Checks the rules, then encodes and signs. The key must be the author's.
// Errors: kInvalidArgument (a rule; nothing is signed).
Result<SignedEntry> SignEntry(const Entry& entry, const crypto::SigningKey& key,
                              const Genesis& genesis);

// Why an entry's bytes were refused by CheckRecord.
enum class Fault {
  kNone,
  kMalformed,      // not an entry envelope: size, version, too short for a header
  kWrongNetwork,   // signed for another network
  kUnknownAuthor,  // author is not a member
  kBadSignature,   // signature does not verify
  kInvalidBody,    // signed by the author but breaks a body rule
};
std::string_view FaultName(Fault fault);

// The outcome of checking a record on its own, with no feed context. Only
// kInvalidBody entries are *attributable* (the author signed them), so only
// they may end the author's feed; every other fault is refused outright.
struct RecordCheck {
  Fault fault = Fault::kNone;
  Status status;                            // OK, or what is wrong, for people
  std::optional<SignedEntry> signed_entry;  // set for kNone and kInvalidBody
};

// Parses `record`, checks network, membership and signature, then the body
// rules. Pure and thread-safe: ingest runs it on many cores at once.
// verify_signature = false is only for records this node verified before
// and kept in its own storage (pending entries being promoted).
RecordCheck CheckRecord(ByteView record, const Genesis& genesis, bool verify_signature = true);

// The entry id of a record's content (no checks beyond the size).
std::optional<EntryId> IdOfRecord(ByteView record);

}  // namespace keiretsu::protocol
