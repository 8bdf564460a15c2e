// Head reports: a member's signed statement of how far it holds another
// member's feed, answering that member's head query (the restore rule,
// docs/PROTOCOL.md 13.2.8). Relayed over the peer graph, so a node that
// restarts learns its own feed's head from members it has no session with;
// the signature keeps a relayer from forging or altering one, the subject's
// fresh per-run nonce keeps an old one from being replayed.
//
//   statement = u8 version (1) | network id (32) | reporter firm id (32)
//             | subject firm id (32) | nonce (32) | u8 held (0 none,
//             1 open, 2 stopped) | u64 head_seq | head id (32)
//             | u64 stop_seq | effective id (32)              (210 bytes)
//   signature = Ed25519 by the reporter's key in force over
//               "keiretsu/v1/head-report" || statement
//
// All integers big-endian. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"

namespace keiretsu::protocol {

inline constexpr std::string_view kHeadReportSignatureTag = "keiretsu/v1/head-report";
inline constexpr uint8_t kHeadReportVersion = 1;
// version + network + reporter + subject + nonce + held + head_seq + head id
// + stop_seq + effective id
inline constexpr size_t kHeadReportStatementBytes = 1 + 32 + 32 + 32 + 32 + 1 + 8 + 32 + 8 + 32;

// A subject's query nonce: 32 random bytes drawn afresh at every start.
using HeadNonce = std::array<uint8_t, 32>;

// What the reporter holds of the subject's feed (its FeedState).
enum class HeadHeld : uint8_t { kNone = 0, kOpen = 1, kStopped = 2 };

struct HeadReport {
  NetworkId network;
  PublicKey reporter;  // the reporting firm's id (its inception key)
  PublicKey subject;   // the firm whose feed is reported on
  HeadNonce nonce{};   // the subject's query nonce it answers
  HeadHeld held = HeadHeld::kNone;
  // kNone: all zero. kOpen: head_seq >= 1, stop_seq 0, effective_id =
  // head_id. kStopped: stop_seq >= 1, effective id of min(head_seq,
  // stop_seq - 1) (zero when that is 0).
  uint64_t head_seq = 0;
  EntryId head_id;
  uint64_t stop_seq = 0;
  EntryId effective_id;
};

// The held state of a feed (head_seq, stop_seq) as a report states it.
HeadHeld HeldOf(uint64_t head_seq, uint64_t stop_seq);

// The canonical 210 statement bytes (no checks).
Bytes EncodeHeadReportStatement(const HeadReport& report);
// Parses and checks the form of a statement. Errors (kInvalidArgument): a
// length other than 210, an unknown version or held byte, fields
// inconsistent with `held`, reporter equal to subject.
Result<HeadReport> DecodeHeadReportStatement(ByteView statement);
// "keiretsu/v1/head-report" || statement: what the reporter signs.
Bytes HeadReportSigningMessage(ByteView statement);
// The statement of `report`, signed with `key` (the reporter's key in force).
crypto::Signature SignHeadReport(ByteView statement, const crypto::SigningKey& key);

// The key a verifier holds in force for `firm`, or nullopt when `firm` is
// not a current member it knows.
using MemberKeyLookup = std::function<std::optional<PublicKey>(const PublicKey& firm)>;

// Whether `statement` and `signature` form a report that counts for the
// query (`network`, `subject`, `nonce`): the statement is well formed, names
// exactly that network, subject and nonce, its reporter is a current member
// (`key_of` gives its key in force) and the signature verifies under that
// key. Errors (kInvalidArgument or kPermissionDenied for the signature and
// membership) say which rule failed; nothing is counted then.
Result<HeadReport> VerifyHeadReport(ByteView statement, const crypto::Signature& signature,
                                    const NetworkId& network, const PublicKey& subject,
                                    const HeadNonce& nonce, const MemberKeyLookup& key_of);

}  // namespace keiretsu::protocol
