// Signed checkpoints: a firm's signed statement of its node's view of the
// ledger at one moment: network, state digest and the feed heads the digest
// covers (byte layout in docs/PROTOCOL.md 15).
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
// Version 2 (protocol v2 governance, docs/PROTOCOL.md 15.2), used exactly
// when the ledger is past epoch 0 or some member's key chain holds a
// rotation:
//
//   statement = "keiretsu-checkpoint" | u8 version (2) | network id (32)
//             | signer firm id (32) | u64 time_ms | u64 epoch
//             | epoch hash (32) | state digest (32) | u32 feed count | feeds
//   signature = Ed25519 by the signer's key in force at its feed head over
//               "keiretsu/v2/checkpoint" || statement
//
// where the digest is StateDigestV2 under that epoch.
//
// All integers big-endian. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string_view>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/digest.h"
#include "keiretsu/protocol/epoch_chain.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/protocol/key_chain.h"

namespace keiretsu::protocol {

inline constexpr std::string_view kCheckpointMagic = "keiretsu-checkpoint";
inline constexpr std::string_view kCheckpointSignatureTag = "keiretsu/v1/checkpoint";
inline constexpr uint8_t kCheckpointVersion = 1;
// magic + version + network + signer + time + digest + count
inline constexpr size_t kCheckpointFixedBytes = 19 + 1 + 32 + 32 + 8 + 32 + 4;
inline constexpr size_t kCheckpointFeedBytes = 32 + 8 + 32 + 8;
inline constexpr std::string_view kCheckpointSignatureTagV2 = "keiretsu/v2/checkpoint";
inline constexpr uint8_t kCheckpointVersionV2 = 2;
// magic + version + network + signer + time + epoch + epoch hash + digest + count
inline constexpr size_t kCheckpointV2FixedBytes = 19 + 1 + 32 + 32 + 8 + 8 + 32 + 32 + 4;

// The decoded statement. `feeds` are exactly those the digest covers
// (effective_seq or stop_seq non-zero), sorted by author, no author twice.
struct Checkpoint {
  uint8_t version = kCheckpointVersion;  // 1 or 2
  NetworkId network;
  PublicKey signer;      // version 2: the signing firm's id (its inception key)
  uint64_t time_ms = 0;  // the signer's clock, unix milliseconds
  uint64_t epoch = 0;    // version 2: the epoch the digest was computed under
  Digest epoch_hash;     // version 2: that epoch's hash; zero in version 1
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

// Canonical statement bytes of `checkpoint` in its `version`'s layout (no
// checks; the feeds must already be sorted and filtered as described above).
Bytes EncodeCheckpointStatement(const Checkpoint& checkpoint);

// The message the signer signs: "keiretsu/v1/checkpoint" || statement, or
// "keiretsu/v2/checkpoint" || statement when byte 19 (the version) is 2.
Bytes CheckpointSigningMessage(ByteView statement);

// The governance state a version-2 checkpoint is made in (one consistent
// snapshot of a ledger): the current epoch, its members and every member's
// key chain.
struct CheckpointScope {
  uint64_t epoch = 0;
  Digest epoch_hash;
  std::vector<EpochMember> members;  // the epoch's: every member of some epoch so far
  std::map<PublicKey, std::vector<KeySpan>> key_chains;  // by firm id, inception key first
};

// Whether a ledger in `scope` states its view in a version-2 checkpoint:
// its epoch is 1 or later, or some member's key chain holds a rotation.
bool NeedsCheckpointV2(const CheckpointScope& scope);

// A firm's key chain as the verifier knows it (inception key first); empty
// when `firm` is unknown.
using KeyChainLookup = std::function<std::vector<KeySpan>(const PublicKey& firm)>;

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

// The checkpoint of a protocol-v2 ledger in `scope` with feed heads
// `summaries` (the counted prefixes the v2 digest covers): version 1 by the
// overload above when !NeedsCheckpointV2(scope), else version 2, signed by
// `key` for the active member whose key in force at its feed head is `key`.
// Errors (nothing signed): kPermissionDenied if no active member's key in
// force is `key`; kInvalidArgument as above (authors must be members of
// some epoch).
Result<SignedCheckpoint> MakeCheckpoint(std::vector<FeedHeadSummary> summaries,
                                        const Genesis& genesis, const CheckpointScope& scope,
                                        const crypto::SigningKey& key, uint64_t time_ms);

// Decodes a statement of either version and checks its structure: magic,
// version, exact length, feeds strictly sorted by author, each feed
// well-formed, and the digest equal to the one recomputed from its feed
// list (version 2: under its epoch and epoch hash). Does not check any
// signature, epoch or membership. Errors: kInvalidArgument naming what is
// wrong.
Result<Checkpoint> ParseCheckpoint(ByteView statement);

// ParseCheckpoint, then: the statement is version 1, its signer equals
// `signer`, the network is `genesis`' network, the signer and every listed
// author are genesis members, and `signature` (64 bytes) verifies under
// the signer's key. Errors: kInvalidArgument (structure, version, network,
// membership, signer mismatch, signature size), kUnauthenticated (the
// signature does not verify).
Result<Checkpoint> VerifyCheckpoint(ByteView statement, const PublicKey& signer, ByteView signature,
                                    const Genesis& genesis);

// A checkpoint of either version under protocol v2 rules, against the
// verifier's own epoch chain `epochs` (epochs[0] from `genesis`) and key
// chains. Version 1: VerifyCheckpoint. Version 2: ParseCheckpoint, then the
// signer equals `signer`; the network is the genesis'; the epoch is in
// `epochs` and its hash equals the stated one; the signer is an active
// member of that epoch and every listed author a member of it; and
// `signature` verifies under the signer's key in force at the seq the
// statement lists for it (its inception key when it lists none).
// Errors: kInvalidArgument (structure, network, epoch, membership, signer
// mismatch, signature size), kUnauthenticated (the signature does not
// verify under that key; a retired key's signature included).
Result<Checkpoint> VerifyCheckpointV2(ByteView statement, const PublicKey& signer,
                                      ByteView signature, const Genesis& genesis,
                                      std::span<const Epoch> epochs,
                                      const KeyChainLookup& key_chain);

}  // namespace keiretsu::protocol
