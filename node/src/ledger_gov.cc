// The ledger's governance helpers: docs/PROTOCOL.md 19.
#include "node/src/ledger_gov.h"

#include <algorithm>

#include "keiretsu/protocol/governance.h"

namespace keiretsu::node {

GovFeed NewGovFeed(const protocol::InceptionCommitment& member) {
  GovFeed g;
  g.keys.push_back({1, member.id, member.next_key_digest});
  return g;
}

GovFeed NewGovFeed(const protocol::EpochHistory& h, const PublicKey& author) {
  const protocol::EpochMember* m = h.current().Find(author);
  return NewGovFeed({author, m ? m->next_key_digest : Digest{}});
}

const protocol::KeySpan& SpanBefore(const std::vector<protocol::KeySpan>& keys, uint64_t seq) {
  const protocol::KeySpan* span = &keys.front();
  for (const protocol::KeySpan& k : keys)
    if (k.from_seq < seq) span = &k;
  return *span;
}

std::string RotationProblem(const std::vector<protocol::KeySpan>& keys, const protocol::Rotate& r,
                            bool by_next_key) {
  if (!by_next_key) return "rotation signed by the key it replaces, not by its new key";
  for (const protocol::KeySpan& k : keys)
    if (k.key == r.new_key) return "rotation to a key the firm used before";
  if (r.next_key_digest == protocol::NextKeyDigest(r.new_key)) return "next key reused";
  for (const protocol::KeySpan& k : keys)
    if (r.next_key_digest == protocol::NextKeyDigest(k.key))
      return "rotation commits to a key the firm used before";
  return "";
}

uint64_t CountedSeq(const protocol::EpochHistory& h, const PublicKey& author, uint64_t eff) {
  const protocol::EpochMember* m = h.current().Find(author);
  if (!m) return 0;
  return m->removed ? std::min(eff, m->last_seq) : eff;
}

bool EntryCounts(const protocol::EpochHistory& h, const protocol::Entry& e) {
  if (e.seq > CountedSeq(h, e.author, e.seq)) return false;
  for (const PublicKey& named : protocol::PartiesOf(e.body).named)
    if (!h.EverMember(named)) return false;
  return true;
}

namespace {
class CacheSource final : public protocol::GovernanceSource {
 public:
  CacheSource(const std::function<const GovFeed&(const protocol::InceptionCommitment&)>& feed,
              const std::function<bool(const PublicKey&)>& not_stopped)
      : feed_(feed), not_stopped_(not_stopped) {}
  protocol::GovernanceFeed FeedOf(const protocol::InceptionCommitment& member) override {
    const GovFeed& g = feed_(member);
    protocol::GovernanceFeed out;
    for (const auto& [seq, r] : g.records) out.records.push_back(r);
    out.open = g.left_seq == 0 && not_stopped_(member.id);
    return out;
  }

 private:
  const std::function<const GovFeed&(const protocol::InceptionCommitment&)>& feed_;
  const std::function<bool(const PublicKey&)>& not_stopped_;
};
}  // namespace

std::shared_ptr<const protocol::EpochHistory> ComputeHistory(
    const protocol::EpochZero& zero,
    const std::function<const GovFeed&(const protocol::InceptionCommitment&)>& feed,
    const std::function<bool(const PublicKey&)>& not_stopped) {
  CacheSource source(feed, not_stopped);
  return std::make_shared<const protocol::EpochHistory>(protocol::ComputeEpochs(zero, source));
}

std::vector<PublicKey> VotersOf(const protocol::ProposalInfo& p, const protocol::EpochHistory& h,
                                const std::map<PublicKey, GovFeed>& feeds) {
  std::vector<PublicKey> out;
  if (!p.epoch || *p.epoch >= h.epochs.size()) return out;
  const protocol::Epoch& e = h.epochs[*p.epoch];
  for (const protocol::EpochMember& m : e.members) {
    if (m.removed) continue;
    auto f = feeds.find(m.id);
    if (f == feeds.end()) continue;
    // The member's ballot in (epoch, round): its lowest-seq vote naming it,
    // unless an earlier vote named a higher round (19.8).
    int64_t highest = -1;
    for (const auto& [seq, r] : f->second.records) {
      const auto* v = std::get_if<protocol::Vote>(&r.body);
      if (!v || v->epoch_hash != e.hash) continue;
      if (v->round == p.body.round && highest <= int64_t{v->round}) {
        if (v->proposal_id == p.id) out.push_back(m.id);
        break;
      }
      highest = std::max(highest, int64_t{v->round});
    }
  }
  return out;
}

}  // namespace keiretsu::node
