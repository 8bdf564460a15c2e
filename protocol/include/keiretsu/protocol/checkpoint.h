// Signed checkpoints: a firm's signed statement of its node's view of the
// ledger at one moment: network, state digest and the feed heads the digest
// covers (byte layout in docs/audit.md "Checkpoints").
//
// A checkpoint carries its own feed list, so anyone can recompute its digest
// from it; VerifyCheckpoint does, and refuses a statement whose digest does
// not match its feeds. Two checkpoints about one author's feed that cannot
// both be true (same effective seq, different id) prove a split view.
//
//   statement = "keiretsu-checkpoint" | u8 version (1) | network id (32)
//             | signer public key (32) | u64 time_ms | state digest (32)
//             | u32 feed count | feed count x (author (32) | u64 effective_seq
//             | effective id (32) | u64 stop_seq), sorted by author
//   signature = Ed25519 by signer over "keiretsu/v1/checkpoint" || statement
//
// All integers big-endian. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/digest.h"
#include "keiretsu/protocol/genesis.h"

namespace keiretsu::protocol {

inline constexpr std::string_view kCheckpointMagic = "keiretsu-checkpoint";
inline constexpr std::string_view kCheckpointSignatureTag = "keiretsu/v1/checkpoint";
inline constexpr uint8_t kCheckpointVersion = 1;
// magic + version + network + signer + time + digest + count
inline constexpr size_t kCheckpointFixedBytes = 19 + 1 + 32 + 32 + 8 + 32 + 4;
inline constexpr size_t kCheckpointFeedBytes = 32 + 8 + 32 + 8;

// The decoded statement. `feeds` are exactly those the digest covers
// (effective_seq or stop_seq non-zero), sorted by author, no author twice.
struct Checkpoint {
  NetworkId network;
  PublicKey signer;
  uint64_t time_ms = 0;  // the signer's clock, unix milliseconds
  Digest state_digest;
  std::vector<FeedHeadSummary> feeds;

  // The claim about `author`'s feed; nullptr when the statement lists none
  // (the signer held no entry of it and had not seen it stop).
  const FeedHeadSummary* Find(const PublicKey& author) const;
};

// A checkpoint as carried: the exact signed statement, signer and signature.
struct SignedCheckpoint {
  Bytes statement;
  PublicKey signer;
  crypto::Signature signature{};
};

// Canonical statement bytes of `checkpoint` (no checks; the feeds must
// already be sorted and filtered as described above).
Bytes EncodeCheckpointStatement(const Checkpoint& checkpoint);

// The message the signer signs: "keiretsu/v1/checkpoint" || statement.
Bytes CheckpointSigningMessage(ByteView statement);

// Builds and signs the checkpoint of a ledger whose feed heads are
// `summaries` (any order; feeds with nothing effective and no stop are
// dropped, as the digest drops them). The digest is computed here.
// Errors (nothing signed): kPermissionDenied if `key` is not a member;
// kInvalidArgument for an author listed twice or not a member, an
// effective id that is zero exactly when it should not be, or an
// effective_seq not below stop_seq.
Result<SignedCheckpoint> MakeCheckpoint(std::vector<FeedHeadSummary> summaries,
                                        const Genesis& genesis, const crypto::SigningKey& key,
                                        uint64_t time_ms);

// Decodes a statement and checks its structure: magic, version, exact
// length, feeds strictly sorted by author, each feed well-formed, and the
// digest equal to the one recomputed from its feed list. Does not check any
// signature or membership. Errors: kInvalidArgument naming what is wrong.
Result<Checkpoint> ParseCheckpoint(ByteView statement);

// ParseCheckpoint, then: the statement's signer equals `signer`, the network
// is `genesis`' network, the signer and every listed author are members,
// and `signature` (64 bytes) verifies. Errors: kInvalidArgument (structure,
// network, membership, signer mismatch, signature size), kUnauthenticated
// (the signature does not verify).
Result<Checkpoint> VerifyCheckpoint(ByteView statement, const PublicKey& signer, ByteView signature,
                                    const Genesis& genesis);

}  // namespace keiretsu::protocol
