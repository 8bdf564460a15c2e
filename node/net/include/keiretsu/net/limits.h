// Every limit of the peer protocol in one place (docs/replication.md
// "Limits").
//
// Two kinds:
//  - Wire constants: both ends must agree (a receiver enforces them and drops
//    a peer that exceeds them), so changing one is a protocol change.
//  - Local defaults: what this node tolerates or does on its own clock; they
//    seed ReplicatorOptions and may differ between nodes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace keiretsu::net {

using std::chrono::milliseconds;

// --- Wire constants (protocol v1)

// Largest frame body (one Noise message, tag included): the Noise maximum.
// The 2-byte length prefix cannot express more.
inline constexpr size_t kMaxFrameBytes = 65535;
// Largest PeerMessage plaintext (a frame minus the 16-byte tag).
inline constexpr size_t kMaxMessageBytes = kMaxFrameBytes - 16;
// Records in one Entries batch. 48 records of at most 1024 bytes plus
// protobuf framing stay well under kMaxMessageBytes.
inline constexpr size_t kMaxBatchRecords = 48;
// Evidence items in one EvidenceBatch (each carries up to two records).
inline constexpr size_t kMaxBatchEvidence = 16;
// Batches (Entries + EvidenceBatch) a sender may have unacknowledged. A
// receiver that sees more drops the session. 16 keeps the receiver's next
// ingest queued while it commits the current one (4 left it idle between
// Ack and refill: catch-up 15,100 -> 17,900 entries/s in bench/).
inline constexpr size_t kMaxInFlightBatches = 16;
// FeedHave items in one Have message (a Have of more feeds is chunked).
inline constexpr size_t kMaxHaveFeeds = 512;
// Each direction of a session rekeys (Noise spec 11.3) after every this many
// transport messages.
inline constexpr uint64_t kRekeyInterval = uint64_t{1} << 20;

// --- Local defaults

inline constexpr milliseconds kHandshakeTimeout{10'000};     // TCP connect + 3 messages
inline constexpr milliseconds kIdleTimeout{60'000};          // nothing received: drop
inline constexpr milliseconds kPingInterval{15'000};         // keepalive, under idle timeout
inline constexpr milliseconds kWriteTimeout{30'000};         // one write outstanding: drop
inline constexpr milliseconds kAntiEntropyInterval{5'000};   // resend Have
inline constexpr milliseconds kRedialMin{250};               // first redial delay
inline constexpr milliseconds kRedialMax{30'000};            // backoff ceiling
inline constexpr milliseconds kMisbehaviourBackoff{60'000};  // ban after the threshold
// Invalid records / messages from one firm (over this node's run) before it
// is dropped and banned for the misbehaviour backoff; the count then
// restarts. Honest peers send none (docs/replication.md "Hostile peers").
inline constexpr uint64_t kInvalidThreshold = 32;
// Encoded messages queued for one session's socket. Flow control keeps the
// real number far lower (<= in-flight batches + a few control messages);
// reaching it means a bug or a peer that stopped reading: drop it.
inline constexpr size_t kMaxQueuedMessages = 64;
// Sessions (established) and handshakes in progress, over all peers.
inline constexpr size_t kMaxSessions = 128;
inline constexpr size_t kMaxHandshakes = 16;

}  // namespace keiretsu::net
