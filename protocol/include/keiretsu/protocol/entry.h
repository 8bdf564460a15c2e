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
#include "keiretsu/protocol/kinds.h"

namespace keiretsu::protocol {

struct Entry {
  NetworkId network;
  PublicKey author;
  uint64_t seq = 0;           // 1, 2, 3... within the author's feed
  EntryId prev;               // id of entry seq-1; all zero for seq 1
  uint64_t timestamp_ms = 0;  // author's clock, advisory only
  Body body;
};

// The counterparty of a bilateral entry: the firm its body names besides
// the author (debtor of a Claim/Release, creditor of the others); the zero
// key for kinds with no counterparty (governance, rotation).
const PublicKey& Counterparty(const Body& body);

// Everything an entry does once effective (stratum 3), from its kind's
// KindOps::Effects.
EffectList EffectsOf(const Entry& entry, const EntryId& id);

// An authenticated entry: its exact record, its id and its decoded fields.
struct SignedEntry {
  Bytes record;  // content || signature
  EntryId id;
  Entry entry;

  ByteView content() const { return ByteView(record).first(record.size() - 64); }
};

// Stratum 1 rules of `entry` alone: seq >= 1, prev zero exactly when seq
// == 1, the body names no firm twice as the author, and its kind's
// well-formedness rules. Errors: kInvalidArgument naming the rule.
Status CheckRules(const Entry& entry);
// Stratum 1 and the v1 stratum-2 rule on the body (every firm it names is
// a member of `genesis`): what an author must pass to sign.
Status CheckRules(const Entry& entry, const Genesis& genesis);

// Canonical content bytes of `entry` (no checks).
Bytes EncodeContent(const Entry& entry);

// The message the author signs: "keiretsu/v1/entry" || content.
Bytes SigningMessage(ByteView content);

// Checks the rules, then encodes and signs. The key must be the author's.
// Errors: kInvalidArgument (a rule; nothing is signed).
Result<SignedEntry> SignEntry(const Entry& entry, const crypto::SigningKey& key,
                              const Genesis& genesis);

// Why a record was refused or held back.
enum class Fault {
  kNone,
  kMalformed,      // not an entry envelope: size, version, too short for a header
  kWrongNetwork,   // signed for another network
  kUnknownKey,     // no key in force is known for the author at that seq
  kBadSignature,   // signature does not verify under the key in force
  kUnknownKind,    // signed, but its kind is not one this build knows: kept
                   // pending until it does ("upgrade needed")
  kUnknownAuthor,  // signed, but the author is not (yet) known as a member:
                   // kept pending until it is (stratum 2)
  kInvalidBody,    // signed by the author but breaks a body rule
};
std::string_view FaultName(Fault fault);

// True for faults that prove nothing about the author (anyone can make such
// bytes): the record is refused and never kept.
bool IsUnattributable(Fault fault);

// The outcome of checking a record on its own, with no feed context.
// `signed_entry` is set when the signature verified (kNone, kUnknownKind,
// kUnknownAuthor, kInvalidBody). For kUnknownKind its `entry.body` is not
// meaningful (the body was not decoded): use `kind_tag` and the record.
struct RecordCheck {
  Fault fault = Fault::kNone;
  Status status;                            // OK, or what is wrong, for people
  std::optional<SignedEntry> signed_entry;  // set when attributable
  uint8_t kind_tag = 0;                     // the header's kind byte, once read
};

// --- Stratum 1 (docs/PROTOCOL.md "Protocol v2", "Strata"): one record, its
// own feed only.

// The key an author's entry at a seq must be signed by. Key succession is
// feed-local (a firm's inception and its own rotation entries); until a
// kind rotates keys, every firm signs with its id. Implementations are
// called from many verifying threads at once and must be thread-safe.
class KeyInForce {
 public:
  virtual ~KeyInForce() = default;
  // nullopt: no key is known for `author` at `seq` (yet).
  virtual std::optional<PublicKey> KeyAt(const PublicKey& author, uint64_t seq) const = 0;
};

// Protocol v1 keys: every firm's key in force is its id, forever.
class InceptionKeys final : public KeyInForce {
 public:
  std::optional<PublicKey> KeyAt(const PublicKey& author, uint64_t) const override {
    return author;
  }
};

// Decodes the header, checks network, the signature under the key in
// force, then decodes the body and checks CheckRules(entry). Never looks at
// membership or other feeds. Faults: kMalformed, kWrongNetwork,
// kUnknownKey, kBadSignature, kUnknownKind (a kind not in `kinds`, or not
// one this build knows), kInvalidBody. Pure and thread-safe.
// verify_signature = false is only for records this node verified before
// and kept in its own storage.
RecordCheck CheckFeedLocal(ByteView record, const NetworkId& network, const KeyInForce& keys,
                           bool verify_signature = true, const KindSet& kinds = KindSet::All());

// --- Stratum 2: governance. Who is a member (from the genesis today;
// from the genesis and governance entries once they exist).
class Membership {
 public:
  virtual ~Membership() = default;
  // Whether `firm`'s entry at `seq` is authored by a member. false: not
  // (yet) known as one; the entry is kept pending until it is.
  virtual bool AuthorIsMember(const PublicKey& firm, uint64_t seq) const = 0;
  // Whether a firm an entry names (a counterparty) is a member.
  virtual bool IsMember(const PublicKey& firm) const = 0;
};

// Membership frozen in the genesis (protocol v1 networks).
class GenesisMembership final : public Membership {
 public:
  explicit GenesisMembership(const Genesis& genesis) : genesis_(genesis) {}
  bool AuthorIsMember(const PublicKey& firm, uint64_t) const override {
    return genesis_.IsMember(firm);
  }
  bool IsMember(const PublicKey& firm) const override { return genesis_.IsMember(firm); }

 private:
  const Genesis& genesis_;  // outlives this
};

// Stratum 2 of a record that passed stratum 1 (kNone, kInvalidBody,
// kUnknownKind): kUnknownAuthor when its author is not a member at its
// seq; kInvalidBody when its body names a firm that is not a member (a
// decoded body only); else the stratum-1 fault unchanged. Updates `check`.
void CheckMembership(RecordCheck& check, const Membership& membership);

// Both strata against a genesis (v1 membership, inception keys): what the
// tools and vectors use to classify a record on its own.
RecordCheck CheckRecord(ByteView record, const Genesis& genesis, bool verify_signature = true);

// The entry id of a record's content (no checks beyond the size).
std::optional<EntryId> IdOfRecord(ByteView record);

}  // namespace keiretsu::protocol
