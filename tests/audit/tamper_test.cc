// Tamper evidence: one export of a five-firm ledger (about 300 entries, one
// fork), damaged in every way the issue names. Each damaged copy must fail
// the audit, naming the feed and seq when the damage is inside an entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "audit_fixture.h"

namespace keiretsu::audit {
namespace {

using testing::ChunkInfo;
using testing::FeedBuilder;
using testing::Names;

class TamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    net_ = new testing::TestNetwork(testing::MakeNetwork(5));
    dir_ = new testing::TempDir;
    ledger_ = testing::OpenLedger(*net_, dir_->Sub("db")).release();
    FeedBuilder fb(*net_);
    testing::FillLedger(*net_, *ledger_, fb, 300);
    testing::ForkFeed(*net_, *ledger_, 3, ledger_->Feed(net_->pk(3)).head_seq - 5);
    export_ = new testing::ExportWriter(testing::ExportLedger(*net_, *ledger_, 0));
    cache_ = new std::shared_ptr<SignatureCache>(std::make_shared<SignatureCache>());
  }
  static void TearDownTestSuite() {
    delete cache_;
    delete export_;
    delete ledger_;
    delete dir_;
    delete net_;
  }
  // One thread per audit (the tests run audits side by side), sharing the
  // cache of records already verified: a damaged record never hits it.
  static Options Opt() {
    Options o;
    o.threads = 1;
    o.signature_cache = *cache_;
    return o;
  }
  static const std::string& Data() { return export_->data(); }
  static const std::vector<ChunkInfo>& Chunks() { return export_->chunks(); }
  static const ChunkInfo& ChunkAt(size_t pos) {
    auto it = std::upper_bound(Chunks().begin(), Chunks().end(), pos,
                               [](size_t p, const ChunkInfo& c) { return p < c.offset; });
    return *std::prev(it);
  }
  static std::vector<size_t> EntryChunks() {
    std::vector<size_t> out;
    for (size_t i = 0; i < Chunks().size(); ++i)
      if (Chunks()[i].kind == ChunkInfo::kEntry) out.push_back(i);
    return out;
  }
  static std::string Without(size_t chunk) {
    const ChunkInfo& c = Chunks()[chunk];
    return Data().substr(0, c.offset) + Data().substr(c.offset + c.size);
  }
  static std::string Raw(size_t chunk) {
    return Data().substr(Chunks()[chunk].offset, Chunks()[chunk].size);
  }

  static testing::TestNetwork* net_;
  static testing::TempDir* dir_;
  static node::Ledger* ledger_;
  static testing::ExportWriter* export_;
  static std::shared_ptr<SignatureCache>* cache_;
};
testing::TestNetwork* TamperTest::net_;
testing::TempDir* TamperTest::dir_;
node::Ledger* TamperTest::ledger_;
testing::ExportWriter* TamperTest::export_;
std::shared_ptr<SignatureCache>* TamperTest::cache_;

TEST_F(TamperTest, TheUntouchedExportIsClean) {
  Report r = testing::AuditString(Data(), Opt());
  EXPECT_EQ(r.exit_code(), kExitVerified) << testing::Dump(r);
  EXPECT_EQ(r.state_digest, ledger_->StateDigest());
  EXPECT_GE(EntryChunks().size(), 300u);
}

// Every byte of the header, evidence and checkpoint chunks, and 2,000
// random positions anywhere, each changed alone.
TEST_F(TamperTest, EverySingleByteChangeIsReported) {
  std::vector<size_t> positions;
  for (const ChunkInfo& c : Chunks())
    if (c.kind != ChunkInfo::kEntry)
      for (size_t p = c.offset; p < c.offset + c.size; ++p) positions.push_back(p);
  std::mt19937_64 rng(20261122);
  for (int i = 0; i < 2000; ++i) positions.push_back(rng() % Data().size());

  struct Miss {
    size_t pos;
    std::string why;
  };
  std::mutex mu;
  std::vector<Miss> misses;
  size_t in_records = 0;
  auto work = [&](size_t first, size_t step) {
    for (size_t k = first; k < positions.size(); k += step) {
      const size_t pos = positions[k];
      std::string copy = Data();
      copy[pos] = static_cast<char>(copy[pos] ^ static_cast<char>(1 + (pos * 131 + k) % 255));
      Report r = testing::AuditString(copy, Opt());
      const ChunkInfo& c = ChunkAt(pos);
      const bool in_record = c.kind == ChunkInfo::kEntry && pos >= c.record_offset;
      std::string why;
      if (r.exit_code() == kExitVerified || r.exit_code() == kExitDisagreement)
        why = "exit " + std::to_string(r.exit_code());
      else if (in_record && !Names(r, c.author, c.seq))
        why = "no issue names " + c.author.Short() + "/" + std::to_string(c.seq);
      std::lock_guard lock(mu);
      in_records += in_record;
      if (!why.empty()) misses.push_back({pos, why + "\n" + testing::Dump(r)});
    }
  };
  std::thread other(work, 1, 2);
  work(0, 2);
  other.join();
  EXPECT_GE(positions.size(), 2000u);
  EXPECT_GE(in_records, 1000u);  // most of the file is entry records
  for (const Miss& m : misses) ADD_FAILURE() << "byte " << m.pos << ": " << m.why;
}

TEST_F(TamperTest, TruncationAtEveryChunkBoundaryIsReported) {
  for (size_t i = 0; i < Chunks().size(); ++i) {
    const size_t cut = Chunks()[i].offset;
    Report r = testing::AuditString(Data().substr(0, cut), Opt());
    EXPECT_EQ(r.exit_code(), kExitFailed) << "cut at chunk " << i + 1;
    EXPECT_TRUE(testing::HasKind(r, i == 0 ? "header" : "unsealed")) << testing::Dump(r);
    // Cutting inside a chunk is a broken frame.
    Report mid = testing::AuditString(Data().substr(0, cut + 2 + i % 40), Opt());
    EXPECT_EQ(mid.exit_code(), kExitFailed);
    EXPECT_TRUE(testing::HasKind(mid, i == 0 ? "no-genesis" : "unreadable")) << testing::Dump(mid);
  }
}

TEST_F(TamperTest, SwappedEntriesAreReported) {
  auto entries = EntryChunks();
  size_t same_feed = 0, across = 0;
  for (size_t k = 0; k + 1 < entries.size(); k += 7) {
    const size_t a = entries[k], b = entries[k + 1];
    const ChunkInfo& ca = Chunks()[a];
    const ChunkInfo& cb = Chunks()[b];
    std::string copy =
        Data().substr(0, ca.offset) + Raw(b) + Raw(a) + Data().substr(cb.offset + cb.size);
    Report r = testing::AuditString(copy, Opt());
    EXPECT_EQ(r.exit_code(), kExitFailed) << testing::Dump(r);
    if (ca.author == cb.author) {
      ++same_feed;
      EXPECT_TRUE(Names(r, ca.author, ca.seq, "missing")) << testing::Dump(r);
    } else {
      ++across;
    }
  }
  EXPECT_GE(same_feed, 20u);
}

TEST_F(TamperTest, DroppedOrRepeatedEntriesAreReported) {
  auto entries = EntryChunks();
  for (size_t k = 3; k < entries.size(); k += 29) {
    const ChunkInfo& c = Chunks()[entries[k]];
    Report dropped = testing::AuditString(Without(entries[k]), Opt());
    EXPECT_EQ(dropped.exit_code(), kExitFailed);
    EXPECT_TRUE(Names(dropped, c.author, c.seq)) << testing::Dump(dropped);
    std::string twice =
        Data().substr(0, c.offset + c.size) + Raw(entries[k]) + Data().substr(c.offset + c.size);
    Report repeated = testing::AuditString(twice, Opt());
    EXPECT_EQ(repeated.exit_code(), kExitFailed);
    EXPECT_TRUE(Names(repeated, c.author, c.seq, "duplicate")) << testing::Dump(repeated);
  }
}

TEST_F(TamperTest, SplicedEntryFromAnotherNetworkIsReported) {
  // Same firm keys, another genesis: the records are well signed, for the
  // wrong network.
  auto foreign = testing::MakeNetwork(5, "another-keiretsu");
  FeedBuilder fb(foreign);
  std::vector<protocol::SignedEntry> theirs;
  for (int i = 0; i < 12; ++i) theirs.push_back(fb.Next(1, testing::Owe(foreign.pk(2), 10 + i)));
  auto entries = EntryChunks();
  for (size_t k = 0; k < entries.size(); k += 37) {
    const ChunkInfo& c = Chunks()[entries[k]];
    const auto& alien = theirs[k % theirs.size()];
    testing::ExportWriter one;
    one.Entry(alien.record);
    std::string copy = Data().substr(0, c.offset) + one.data() + Data().substr(c.offset);
    Report r = testing::AuditString(copy, Opt());
    EXPECT_EQ(r.exit_code(), kExitFailed);
    bool named = false;
    for (const auto& i : r.issues) named |= i.kind == "wrong-network" && i.chunk == entries[k] + 1;
    EXPECT_TRUE(named) << testing::Dump(r);
  }
}

// Before: protobuf kept the last copy of a field sent twice, so a chunk
// could carry a second record that nobody checked.
TEST_F(TamperTest, AChunkWithAFieldSentTwiceIsRefused) {
  size_t k = EntryChunks()[5];
  const ChunkInfo& c = Chunks()[k];
  std::string body = Data().substr(c.offset + 4, c.size - 4);
  // A second `entry` (field 2) after the first: protobuf would merge them.
  v1::ExportChunk other;
  other.mutable_entry()->set_record("a different record");
  body += other.SerializeAsString();
  std::string framed;
  for (int shift = 24; shift >= 0; shift -= 8)
    framed.push_back(static_cast<char>((body.size() >> shift) & 0xff));
  framed += body;
  std::string copy = Data().substr(0, c.offset) + framed + Data().substr(c.offset + c.size);
  Report r = testing::AuditString(copy, Opt());
  EXPECT_EQ(r.exit_code(), kExitFailed);
  EXPECT_NE(testing::Dump(r).find("field entry (2) appears more than once"), std::string::npos)
      << testing::Dump(r);
}

// Before: evidence at seq 0 was reported as stopping the feed "at seq
// 18446744073709551615" (0 - 1 wrapped around).
TEST_F(TamperTest, EvidenceAtSeqZeroIsRefusedWithoutAWrappedSeq) {
  for (auto kind : {storage::StopReason::kFork, storage::StopReason::kInvalidEntry}) {
    storage::Evidence e;
    e.author = net_->pk(1);
    e.seq = 0;
    e.kind = kind;
    e.first = ledger_->ReadFeed(net_->pk(1), 1, 1)->at(0);
    if (kind == storage::StopReason::kFork) e.second = ledger_->ReadFeed(net_->pk(1), 2, 1)->at(0);
    testing::ExportWriter one;
    one.Evidence(e);
    size_t at = Chunks().back().offset;  // before the seal
    std::string copy = Data().substr(0, at) + one.data() + Data().substr(at);
    Report r = testing::AuditString(copy, Opt());
    EXPECT_EQ(r.exit_code(), kExitFailed);
    std::string text = testing::Dump(r);
    EXPECT_NE(text.find("evidence at seq 0 for " + net_->pk(1).Short() + ": feeds start at seq 1"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("18446744073709551615"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace keiretsu::audit
