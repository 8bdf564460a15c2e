// Test vectors of the keiretsu v1 protocol (docs/PROTOCOL.md "Test vectors").
//
// A Vectors value holds *inputs* (key seeds, the genesis as people write it,
// each entry's fields and who signs it, the order entries are ingested in)
// and *derived* values (canonical bytes, ids, signatures, check faults,
// ingest outcomes, final feeds, balances, evidence, indexes, state digests).
// Derive() computes every derived value from the inputs alone, through the
// real protocol, crypto, storage and ledger code; the committed vectors file
// is ToJson() of the result, and tests/vectors/ holds that file against a
// fresh derivation (C++) and against an independent verifier (Python).
//
// Nothing here is used by the node; it is test and audit tooling.
// Thread-safety: plain values and free functions; no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vector_file.h"

#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/genesis.h"

namespace keiretsu::vectors {

struct KeyVector {
  std::string name;      // input: a member name, or any label for a non-member
  Hash32 seed{};         // input: the RFC 8032 secret key
  bool member = false;   // input: named in the genesis
  PublicKey public_key;  // derived
  std::string key_file;  // derived: the key file's exact text
};

struct GenesisVector {
  std::string toml;            // input: the document as people write it
  protocol::GenesisSpec spec;  // input: its fields, members in document order
  Bytes canonical;             // derived
  NetworkId network_id;        // derived
};

// One Ed25519 verification with its expected verdict, for the strict rules
// of docs/PROTOCOL.md "Identities".
struct SignatureCase {
  std::string label;
  std::string note;
  PublicKey public_key;           // input
  Bytes message;                  // input
  crypto::Signature signature{};  // input
  bool valid = false;             // derived
};

struct EntryVector {
  std::string label;
  std::string note;
  uint8_t version = 1;            // input: content byte 0 (1; another value is malformed)
  protocol::Entry entry;          // input: every field of the content
  std::string signer;             // input: name of the key that signs
  std::string tamper;             // input: "none", or "s-plus-l" (S replaced by S + L)
  Bytes content;                  // derived
  crypto::Signature signature{};  // derived
  Bytes record;                   // derived: content || signature
  EntryId id;                     // derived
  std::string check;              // derived: the check fault ("none", "bad-signature", ...)
};

// A record given as raw content bytes, for the edges of the checks in
// docs/PROTOCOL.md "Validity" that entry fields cannot express (trailing
// bytes, unknown kinds, bad UTF-8, sizes). Checked only, never ingested.
struct RawRecordVector {
  std::string label;
  std::string note;
  Bytes content;                  // input
  std::string signer;             // input: name of the key that signs
  crypto::Signature signature{};  // derived
  Bytes record;                   // derived: content || signature
  EntryId id;                     // derived: BLAKE2b-256(content)
  std::string check;              // derived: the check fault
};

struct IngestStep {
  std::string entry;    // input: label of the entry ingested
  std::string outcome;  // derived
  Digest state_digest;  // derived: after this step
};

struct FeedVector {
  PublicKey author;
  uint64_t head_seq = 0;
  EntryId head_id;
  uint64_t effective_seq = 0;
  EntryId effective_id;
  uint64_t stop_seq = 0;
  std::string stop_reason;  // "", "fork", "invalid-entry"
};

struct BalanceVector {
  PublicKey firm;
  PublicKey counterparty;
  std::string unit;
  std::string net;  // decimal
};

struct EvidenceVector {
  std::string kind;  // "fork" or "invalid-entry"
  PublicKey author;
  uint64_t seq = 0;
  EntryId first;
  std::optional<EntryId> second;  // forks only
};

struct OpenClaimsVector {
  PublicKey debtor;
  std::vector<EntryId> claims;  // sorted by id
};

struct AnswerVector {
  PublicKey debtor;
  EntryId claim_id;
  EntryId answer_id;
};

// Everything derived from the whole ingest.
struct FinalState {
  std::vector<FeedVector> feeds;  // by author; feeds with nothing stored or stopped are left out
  std::vector<BalanceVector> balances;        // non-zero, by firm, counterparty, unit
  std::vector<EvidenceVector> evidence;       // by author, seq
  std::vector<OpenClaimsVector> open_claims;  // by debtor; debtors with none left out
  std::vector<AnswerVector> answers;          // by debtor, claim id
  uint64_t pending = 0;
  Bytes state_digest_input;  // the exact bytes hashed
  Digest state_digest;
};

struct Vectors {
  std::string about;
  std::vector<KeyVector> keys;
  GenesisVector genesis;
  std::vector<SignatureCase> signature_checks;
  std::vector<EntryVector> entries;
  std::vector<RawRecordVector> records;
  std::vector<IngestStep> ingest;
  FinalState final_state;
};

// The fixed scenario of tests/vectors/v1.json: inputs only.
Vectors Scenario();

// Resets every derived value to empty, so a later Derive() cannot lean on one.
void ClearDerived(Vectors* v);

// Computes every derived value from the inputs: genesis (from the TOML and
// from the fields, which must agree), keys and key files, signature
// verdicts, entry bytes, then ingests the entries one by one into a ledger
// in a temporary directory and reads back its state.
// Errors: kInvalidArgument (inputs inconsistent: unknown signer or label,
// a genesis the rules refuse, TOML and fields that disagree), kInternal or
// storage errors (the implementation contradicts itself).
Status Derive(Vectors* v);

// The vectors file's text: deterministic, pretty-printed JSON, one value a
// line, so two derivations can be compared line by line.
std::string ToJson(const Vectors& v);

// Parses a vectors file (inputs and derived values).
// Errors: kInvalidArgument naming the first missing or malformed field.
Result<Vectors> FromJson(std::string_view json);

// The "s-plus-l" tamper: `sig` with its scalar S (bytes 32..63, little-
// endian) replaced by S + L, L the order of the Ed25519 base point. The
// result verifies under a lax verifier and must not under keiretsu's.
crypto::Signature AddGroupOrderToS(const crypto::Signature& sig);

}  // namespace keiretsu::vectors
