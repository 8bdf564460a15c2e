// The state digest: one hash over all feed heads, so two nodes can compare
// whole ledgers by comparing 32 bytes. Equal digests mean equal sets of
// effective entries (each head id commits to its whole chain) and equal
// stop points, hence equal balances.
#pragma once

#include <cstdint>
#include <vector>

#include "keiretsu/common/id32.h"

namespace keiretsu::protocol {

// What the digest covers of one feed.
struct FeedHeadSummary {
  PublicKey author;
  uint64_t effective_seq = 0;  // entries 1..effective_seq count
  EntryId effective_id;        // id of entry effective_seq; zero when 0
  uint64_t stop_seq = 0;       // 0: open; else the seq where the feed stopped
};

// BLAKE2b-256("keiretsu/v1/state" || network_id || feeds sorted by author),
// skipping feeds with effective_seq == 0 and stop_seq == 0. See
// docs/PROTOCOL.md "State digest".
Digest StateDigest(const NetworkId& network, std::vector<FeedHeadSummary> feeds);

// Protocol v2 (docs/PROTOCOL.md 19.11): in epoch 0, the v1 digest; from
// epoch 1 on, BLAKE2b-256("keiretsu/v2/state" || network_id || u64 epoch ||
// epoch_hash || feeds), so equal digests mean equal epoch chains (hence
// equal membership histories) as well as equal counted entries.
Digest StateDigestV2(const NetworkId& network, uint64_t epoch, const Digest& epoch_hash,
                     std::vector<FeedHeadSummary> feeds);

}  // namespace keiretsu::protocol
