// Test support for the epoch chain: governance feeds built by hand (no
// signatures: stratum 1 is the walk's business), and a source serving them.
#pragma once

#include <map>

#include "governance_fixture.h"
#include "keiretsu/protocol/epoch_chain.h"

namespace keiretsu::testing {

class FakeSource final : public protocol::GovernanceSource {
 public:
  std::map<PublicKey, protocol::GovernanceFeed> feeds;
  std::vector<PublicKey> asked;  // in the order the chain asked
  protocol::GovernanceFeed FeedOf(const protocol::InceptionCommitment& m) override {
    asked.push_back(m.id);
    return feeds[m.id];
  }
};

// A governance history: members' feeds of propose and vote records.
struct GovHistory {
  protocol::EpochZero zero;
  FakeSource source;

  // Key i's public key (derived once: the property tests ask millions of times).
  static PublicKey M(uint32_t i) {
    static std::map<uint32_t, PublicKey> cache;
    auto it = cache.find(i);
    if (it == cache.end()) it = cache.emplace(i, GovKey(i).public_key()).first;
    return it->second;
  }

  // Founders 0..n-1, threshold k.
  GovHistory(uint32_t n, uint16_t k) {
    zero.network = GovNetwork();
    zero.threshold = k;
    for (uint32_t i = 0; i < n; ++i)
      zero.members.push_back(
          {M(i), "firm" + std::to_string(i), protocol::NextKeyDigest(M(1000 + i)), 0});
  }
  Digest h0() const { return protocol::GenesisEpochHash(zero.network); }

  EntryId Add(const PublicKey& author, std::variant<protocol::Propose, protocol::Vote> body) {
    auto& recs = source.feeds[author].records;
    uint64_t seq = recs.size() + 1;
    Bytes seed(author.bytes.begin(), author.bytes.end());
    ByteWriter(&seed).U64(seq);
    ByteWriter(&seed).U64(salt++);
    EntryId id{crypto::Blake2b256(seed)};
    recs.push_back({seq, id, std::move(body)});
    return id;
  }
  EntryId Admit(uint32_t by, const Digest& epoch, uint32_t round, uint32_t newcomer, uint16_t k,
                std::string name = "") {
    if (name.empty()) name = "new" + std::to_string(newcomer);
    return Add(M(by),
               protocol::Propose{epoch, round, k,
                                 protocol::AdmitAction{name, M(newcomer),
                                                       protocol::NextKeyDigest(M(5000 + newcomer))},
                                 ""});
  }
  EntryId Remove(uint32_t by, const Digest& epoch, uint32_t round, uint32_t member,
                 uint64_t last_seq, uint16_t k) {
    return Add(M(by),
               protocol::Propose{epoch, round, k, protocol::RemoveAction{M(member), last_seq}, ""});
  }
  EntryId SetThreshold(uint32_t by, const Digest& epoch, uint32_t round, uint16_t k) {
    return Add(M(by), protocol::Propose{epoch, round, k, protocol::SetThresholdAction{}, ""});
  }
  void Vote(uint32_t by, const Digest& epoch, uint32_t round, const EntryId& p) {
    Add(M(by), protocol::Vote{epoch, round, p});
  }
  void Close(uint32_t member) { source.feeds[M(member)].open = false; }

  protocol::EpochHistory Run() { return protocol::ComputeEpochs(zero, source); }

  uint64_t salt = 0;
};

}  // namespace keiretsu::testing
