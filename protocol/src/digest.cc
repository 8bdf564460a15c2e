#include "keiretsu/protocol/digest.h"

#include <algorithm>
#include <string_view>

#include "keiretsu/crypto/hash.h"

namespace keiretsu::protocol {

Digest StateDigest(const NetworkId& network, std::vector<FeedHeadSummary> feeds) {
  std::sort(feeds.begin(), feeds.end(),
            [](const auto& a, const auto& b) { return a.author < b.author; });
  crypto::Blake2b256Hasher h;
  h.Update(AsBytes(std::string_view("keiretsu/v1/state")));
  h.Update(network.View());
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
  return Digest{h.Final()};
}

}  // namespace keiretsu::protocol
