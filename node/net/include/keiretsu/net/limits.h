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

// Pre-handshake deadline: TCP connect plus the three handshake messages. A
// connection that has not authenticated by then is closed, so a silent
// connection holds a handshake slot (below) for at most this long. 3 s is
// far above an honest handshake (1.5 round trips and three signature
// operations: well under 1 s even between continents).
inline constexpr milliseconds kHandshakeTimeout{3'000};
// Dialling: the TCP connect alone. Shorter than the kernel's SYN
// retransmission backoff (1, 3, 7 s ...), so after a network heals the next
// attempt starts within about a second instead of waiting for the kernel.
inline constexpr milliseconds kConnectTimeout{2'000};
// Keepalive: a session that receives nothing for kIdleTimeout is closed.
// Each side sends a Ping every kPingInterval when idle, so an honest peer
// is never silent for longer than that. The same value bounds unacknowledged
// data on the socket (TCP_USER_TIMEOUT), so a cut link is noticed in
// seconds, not after minutes of TCP retransmission.
inline constexpr milliseconds kIdleTimeout{5'000};
inline constexpr milliseconds kPingInterval{1'000};
inline constexpr milliseconds kWriteTimeout{30'000};        // one write outstanding: drop
inline constexpr milliseconds kAntiEntropyInterval{5'000};  // resend Have
// Redials back off from kRedialMin to kRedialMax (with jitter). The ceiling
// is low on purpose: a member that comes back (or a network that heals) is
// dialled again within about a second; an attempt costs one SYN.
inline constexpr milliseconds kRedialMin{250};
inline constexpr milliseconds kRedialMax{1'000};
inline constexpr milliseconds kMisbehaviourBackoff{60'000};  // ban after the threshold
// Invalid records / messages from one firm (over this node's run) before it
// is dropped and banned for the misbehaviour backoff; the count then
// restarts. Honest peers send none (docs/replication.md "Hostile peers").
inline constexpr uint64_t kInvalidThreshold = 32;
// Encoded messages queued for one session's socket. Flow control keeps the
// real number far lower (<= in-flight batches + a few control messages);
// reaching it means a bug or a peer that stopped reading: drop it.
inline constexpr size_t kMaxQueuedMessages = 64;

// The restore rule's relayed head reports (docs/PROTOCOL.md 13.2.8): at most
// this many reports in one HeadReports message, and at most this many
// query/report items waiting for room in one session's send queue (beyond
// it, the oldest are dropped: the node keeps them and sends them again to
// every new session).
inline constexpr size_t kMaxHeadReportsPerMessage = 64;
inline constexpr size_t kMaxHeadFloodBacklog = 16'384;
// Sessions (established), over all peers.
inline constexpr size_t kMaxSessions = 128;
// Inbound handshakes in progress: over all sources, and per source (one
// IPv4 address, or one IPv6 /64). A connection beyond either is closed on
// accept. The per-source bound keeps one flooding host from taking every
// slot; with the short pre-handshake deadline a slot turns over every few
// seconds. Dialled (outbound) handshakes are not counted: this node chose
// them.
inline constexpr size_t kMaxHandshakes = 64;
inline constexpr size_t kMaxHandshakesPerSource = 4;

}  // namespace keiretsu::net
