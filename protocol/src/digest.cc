#include "keiretsu/protocol/digest.h"

#include <algorithm>
#include <string_view>

#include "keiretsu/crypto/hash.h"

namespace keiretsu::protocol {

namespace {

void HashFeeds(crypto::Blake2b256Hasher& h, std::vector<FeedHeadSummary> feeds) {
  std::sort(feeds.begin(), feeds.end(),
            [](const auto& a, const auto& b) { return a.author < b.author; });
  Bytes buf;
  for (const auto& f : feeds) {
    if (f.effective_seq == 0 && f.stop_seq == 0) continue;
    buf.clear();
    ByteWriter w(&buf);
    w.Raw(f.author.View());
    w.U64(f.effective_seq);
    w.Raw(f.effective_id.View());
    w.U64(f.stop_seq);
    h.Update(buf);
  }
}

}  // namespace

Digest StateDigest(const NetworkId& network, std::vector<FeedHeadSummary> feeds) {
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(std::string_view("keiretsu/v1/state")));
  h.Update(network.View());
  HashFeeds(h, std::move(feeds));
  return Digest{h.Final()};
}

Digest StateDigestV2(const NetworkId& network, uint64_t epoch, const Digest& epoch_hash,
                     std::vector<FeedHeadSummary> feeds) {
  if (epoch == 0) return StateDigest(network, std::move(feeds));
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(std::string_view("keiretsu/v2/state")));
  h.Update(network.View());
  Bytes epoch_bytes;
  ByteWriter(&epoch_bytes).U64(epoch);
  h.Update(epoch_bytes);
  h.Update(epoch_hash.View());
  HashFeeds(h, std::move(feeds));
  return Digest{h.Final()};
}

}  // namespace keiretsu::protocol
