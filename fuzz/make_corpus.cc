// Writes the seed corpus of entry_fuzz: valid signed entries of every kind
// (raw, as one record), and framed batches that reach the ledger's paths:
// in-order and reversed chains (pending), a fork, an invalid entry mid-feed,
// an accept of a claim, an entry of another network; plus the genesis'
// canonical bytes for Genesis::Decode. Ed25519 signatures are deterministic
// and the keys fixed, so the output is the same on every run.
//
// Usage: make_entry_corpus OUT_DIR   (e.g. fuzz/corpus/entry)
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_network.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/governance.h"

namespace keiretsu::fuzz {
namespace {

using protocol::Entry;
using protocol::SignedEntry;

struct Feed {
  uint64_t seq = 0;
  EntryId head;
};

class Signer {
 public:
  explicit Signer(const protocol::Genesis& g) : genesis_(g) {
    for (int i = 0; i < kFuzzFirms; ++i) keys_.push_back(FuzzKey(i));
    feeds_.resize(kFuzzFirms);
  }
  const PublicKey& pk(int i) const { return keys_[static_cast<size_t>(i)].public_key(); }

  // The next entry of firm i, chained on its head; checked by the rules
  // unless `raw` (for invalid entries, which still chain).
  SignedEntry Next(int i, protocol::Body body, bool raw = false) {
    Feed& f = feeds_[static_cast<size_t>(i)];
    Entry e{genesis_.network_id(),     pk(i),          f.seq + 1, f.head,
            1'790'000'000'000 + f.seq, std::move(body)};
    SignedEntry se = raw ? Raw(e, i) : Checked(e, i);
    f.seq = e.seq;
    f.head = se.id;
    return se;
  }
  // A second entry at firm i's current seq: a fork.
  SignedEntry Fork(int i, uint64_t seq, const EntryId& prev, protocol::Body body) {
    return Checked(Entry{genesis_.network_id(), pk(i), seq, prev, 7, std::move(body)}, i);
  }
  Feed feed(int i) const { return feeds_[static_cast<size_t>(i)]; }

 private:
  SignedEntry Checked(const Entry& e, int i) {
    auto se = protocol::SignEntry(e, keys_[static_cast<size_t>(i)], genesis_);
    if (!se.ok()) {
      std::fprintf(stderr, "make_entry_corpus: %s\n", se.status().ToString().c_str());
      std::exit(1);
    }
    return std::move(se).value();
  }
  SignedEntry Raw(const Entry& e, int i) {
    SignedEntry se;
    se.record = protocol::EncodeContent(e);
    auto sig = keys_[static_cast<size_t>(i)].Sign(protocol::SigningMessage(se.record));
    se.record.insert(se.record.end(), sig.begin(), sig.end());
    se.id = *protocol::IdOfRecord(se.record);
    se.entry = e;
    return se;
  }
  const protocol::Genesis& genesis_;
  std::vector<crypto::SigningKey> keys_;
  std::vector<Feed> feeds_;
};

void Write(const std::string& dir, const std::string& name, const Bytes& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make_entry_corpus: cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}
Bytes Framed(const std::vector<const SignedEntry*>& entries) {
  Bytes out;
  for (const SignedEntry* e : entries) AppendFramed(out, e->record);
  return out;
}

int Main(const std::string& dir) {
  const protocol::Genesis g = FuzzGenesis();
  Signer s(g);
  Write(dir, "genesis", g.canonical_bytes());

  // Firm 0: an obligation, a claim against firm 2, a release.
  auto o1 = s.Next(0, protocol::Obligation{s.pk(1), 1200, "hours", "crane hire"});
  auto c2 = s.Next(0, protocol::Claim{s.pk(2), 300, "EUR", "spare parts"});
  auto r3 = s.Next(0, protocol::Release{s.pk(1), 100, "hours", "Überstunden"});
  // Firm 2 accepts the claim, then declines a made-up one.
  auto a1 = s.Next(2, protocol::Accept{c2.id, s.pk(0), 300, "EUR", "spare parts"});
  auto d2 = s.Next(2, protocol::Decline{o1.id, s.pk(0), "not ours"});
  Write(dir, "raw-obligation", o1.record);
  Write(dir, "raw-claim", c2.record);
  Write(dir, "raw-release", r3.record);
  Write(dir, "raw-accept", a1.record);
  Write(dir, "raw-decline", d2.record);
  Write(dir, "framed-chain", Framed({&o1, &c2, &r3, &a1, &d2}));
  Write(dir, "framed-reversed", Framed({&d2, &r3, &a1, &c2, &o1}));

  // Firm 1 forks at seq 2.
  auto f1 = s.Next(1, protocol::Obligation{s.pk(3), 50, "kWh", ""});
  auto f2 = s.Next(1, protocol::Obligation{s.pk(3), 60, "kWh", ""});
  auto f2b = s.Fork(1, 2, f1.id, protocol::Obligation{s.pk(0), 999, "kWh", "other branch"});
  auto f3 = s.Next(1, protocol::Claim{s.pk(0), 5, "kWh", ""});
  Write(dir, "framed-fork", Framed({&f1, &f2, &f3, &f2b, &f2}));
  Write(dir, "framed-fork-pending", Framed({&f3, &f2b, &f2, &f1}));

  // Firm 3 signs a self-debt at seq 2 and chains one more entry onto it.
  auto i1 = s.Next(3, protocol::Release{s.pk(0), 7, "t.steel", ""});
  auto i2 = s.Next(3, protocol::Obligation{s.pk(3), 5, "hours", "self"}, /*raw=*/true);
  auto i3 = s.Next(3, protocol::Obligation{s.pk(2), 8, "hours", ""});
  auto bad_unit = s.Next(3, protocol::Obligation{s.pk(2), 8, "no spaces!", ""}, /*raw=*/true);
  Write(dir, "raw-invalid-self-debt", i2.record);
  Write(dir, "raw-invalid-unit", bad_unit.record);
  Write(dir, "framed-invalid", Framed({&i3, &i1, &i2, &bad_unit, &i1}));

  // Governance (PROTOCOL.md 19): firm 0 proposes admitting a fifth firm,
  // firms 1 and 2 vote for it.
  const Digest h0 = protocol::GenesisEpochHash(g.network_id());
  const PublicKey newcomer = FuzzKey(kFuzzFirms).public_key();
  const Digest newcomer_next = protocol::NextKeyDigest(FuzzKey(kFuzzFirms + 1).public_key());
  auto p1 = s.Next(
      0, protocol::Propose{
             h0, 0, 3, protocol::AdmitAction{"fuzz-newcomer", newcomer, newcomer_next}, "welcome"});
  auto vote1 = s.Next(1, protocol::Vote{h0, 0, p1.id});
  auto vote2 = s.Next(2, protocol::Vote{h0, 0, p1.id});
  Write(dir, "raw-propose", p1.record);
  Write(dir, "raw-vote", vote1.record);
  // Clearing (PROTOCOL.md 20): a 3-cycle among firms 0-2 on empty heads,
  // proposed by firm 0, accepted by firm 1, rejected by firm 2.
  std::vector<protocol::ClearingHead> heads;
  for (int i = 0; i < 3; ++i) heads.push_back({s.pk(i), 0, EntryId{}});
  std::sort(heads.begin(), heads.end(),
            [](const auto& a, const auto& b) { return a.firm < b.firm; });
  auto cp = s.Next(0, protocol::ClearingPropose{
                          "hours", 1'790'000'900'000, heads, {{0, 1, 5}, {1, 2, 5}, {2, 0, 5}}});
  auto ca = s.Next(1, protocol::ClearingVote{cp.id, protocol::ClearingDecision::kAccept});
  auto cr = s.Next(2, protocol::ClearingVote{cp.id, protocol::ClearingDecision::kReject});
  Write(dir, "raw-clearing-propose", cp.record);
  Write(dir, "raw-clearing-vote", ca.record);
  // Firm 1 leaves after its votes.
  auto l1 = s.Next(1, protocol::Leave{"closing down"});
  Write(dir, "raw-leave", l1.record);
  Write(dir, "framed-governance", Framed({&cr, &vote2, &l1, &p1, &ca, &cp, &vote1, &vote2}));

  // An entry of another network signed by a member key.
  protocol::GenesisSpec other;
  other.network_name = "other-net";
  other.created_unix = 1;
  other.members = g.members();
  auto og = protocol::Genesis::Create(other);
  if (!og.ok()) return 1;
  Signer os(*og);
  auto x1 = os.Next(0, protocol::Obligation{os.pk(1), 1, "hours", ""});
  Write(dir, "raw-other-network", x1.record);
  Write(dir, "framed-everything",
        Framed({&x1, &f2b, &o1, &i2, &a1, &f1, &c2, &i1, &f2, &r3, &d2, &i3, &f3, &o1}));
  return 0;
}

}  // namespace
}  // namespace keiretsu::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  return keiretsu::fuzz::Main(argv[1]);
}
