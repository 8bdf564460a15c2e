// Test support for the auditor: a multi-firm ledger built through the real
// node::Ledger, and exports of it written byte by byte here, independently
// of the auditor (framing as tools/cli/export_file.h: 4-byte big-endian
// length, then a serialized keiretsu.v1.ExportChunk).
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "keiretsu/audit/audit.h"
#include "keiretsu/protocol/checkpoint.h"
#include "keiretsu/v1/api.pb.h"
#include "test_network.h"

namespace keiretsu::testing {

// Where each chunk of an export lies, so a test knows what a byte is.
struct ChunkInfo {
  enum Kind { kHeader, kEntry, kEvidence, kCheckpoint } kind = kHeader;
  size_t offset = 0;         // of the length prefix
  size_t size = 0;           // prefix + body
  PublicKey author;          // kEntry
  uint64_t seq = 0;          // kEntry
  size_t record_offset = 0;  // kEntry: the record is the body's last bytes
};

class ExportWriter {
 public:
  void Header(const protocol::Genesis& g, const std::string& exported_by, uint64_t at_ms) {
    v1::ExportChunk c;
    c.mutable_header()->set_format_version(1);
    const Bytes& gb = g.canonical_bytes();
    c.mutable_header()->mutable_genesis()->set_canonical(gb.data(), gb.size());
    c.mutable_header()->set_exported_by(exported_by);
    c.mutable_header()->set_exported_at_unix_ms(at_ms);
    Put(c, Info(ChunkInfo::kHeader));
  }
  void Entry(const Bytes& record) {
    v1::ExportChunk c;
    c.mutable_entry()->set_record(record.data(), record.size());
    ChunkInfo info = Info(ChunkInfo::kEntry);
    if (record.size() >= 73) {
      std::copy(record.begin() + 33, record.begin() + 65, info.author.bytes.begin());
      for (size_t i = 65; i < 73; ++i) info.seq = (info.seq << 8) | record[i];
    }
    Put(c, info);
    chunks_.back().record_offset = data_.size() - record.size();
  }
  void Evidence(const storage::Evidence& e) {
    v1::ExportChunk c;
    v1::Evidence* ev = c.mutable_evidence();
    ev->set_kind(e.kind == storage::StopReason::kFork ? v1::Evidence::KIND_FORK
                                                      : v1::Evidence::KIND_INVALID_ENTRY);
    ev->set_author(e.author.bytes.data(), e.author.bytes.size());
    ev->set_seq(e.seq);
    ev->set_first(e.first.data(), e.first.size());
    ev->set_second(e.second.data(), e.second.size());
    ev->set_reason(e.reason);
    Put(c, Info(ChunkInfo::kEvidence));
  }
  void Checkpoint(const protocol::SignedCheckpoint& cp) {
    v1::ExportChunk c;
    c.mutable_checkpoint()->set_statement(cp.statement.data(), cp.statement.size());
    c.mutable_checkpoint()->set_signer(cp.signer.bytes.data(), cp.signer.bytes.size());
    c.mutable_checkpoint()->set_signature(cp.signature.data(), cp.signature.size());
    Put(c, Info(ChunkInfo::kCheckpoint));
  }
  const std::string& data() const { return data_; }
  const std::vector<ChunkInfo>& chunks() const { return chunks_; }

 private:
  static ChunkInfo Info(ChunkInfo::Kind kind) {
    ChunkInfo info;
    info.kind = kind;
    return info;
  }
  void Put(const v1::ExportChunk& c, ChunkInfo info) {
    std::string body = c.SerializeAsString();
    uint32_t n = static_cast<uint32_t>(body.size());
    info.offset = data_.size();
    info.size = 4 + body.size();
    for (int shift = 24; shift >= 0; shift -= 8)
      data_.push_back(static_cast<char>((n >> shift) & 0xff));
    data_ += body;
    chunks_.push_back(info);
  }
  std::string data_;
  std::vector<ChunkInfo> chunks_;
};

// The feed heads a ledger's digest covers.
inline std::vector<protocol::FeedHeadSummary> Summaries(const node::Ledger& l) {
  std::vector<protocol::FeedHeadSummary> out;
  for (const auto& [a, st] : l.Feeds())
    out.push_back({a, st.effective_seq(), st.effective_id, st.stop_seq});
  return out;
}

// Exports `l` as a node does (docs/audit.md): header, every stored entry
// feed by feed in seq order, evidence, and (when `seal`) a checkpoint by
// `exporter` dated at the export time.
inline ExportWriter ExportLedger(const TestNetwork& net, const node::Ledger& l, int exporter,
                                 bool seal = true, uint64_t at_ms = 1'790'000'123'456,
                                 const std::vector<storage::Evidence>* evidence = nullptr) {
  ExportWriter w;
  w.Header(net.genesis, net.pk(exporter).Hex(), at_ms);
  for (const auto& [author, st] : l.Feeds()) {
    auto recs = l.ReadFeed(author, 1, st.head_seq);
    EXPECT_TRUE(recs.ok());
    for (const Bytes& r : *recs) w.Entry(r);
  }
  auto stored = l.ListEvidence();  // named: the loop must not outlive the Result
  EXPECT_TRUE(stored.ok());
  for (const auto& e : evidence ? *evidence : *stored) w.Evidence(e);
  if (seal) {
    auto cp = protocol::MakeCheckpoint(Summaries(l), net.genesis, net.key(exporter), at_ms);
    EXPECT_TRUE(cp.ok()) << cp.status().ToString();
    w.Checkpoint(*cp);
  }
  return w;
}

// Fills a ledger with `n` entries across all firms: obligations, claims
// and their accepts or declines, releases, in three units. Deterministic.
inline void FillLedger(const TestNetwork& net, node::Ledger& l, FeedBuilder& fb, int n,
                       uint32_t seed = 7) {
  std::mt19937 rng(seed);
  const int firms = static_cast<int>(net.keys.size());
  const char* units[] = {"hours", "eur", "steel.t"};
  std::vector<std::pair<int, protocol::SignedEntry>> open_claims;
  std::vector<Bytes> records;
  for (int i = 0; i < n; ++i) {
    int a = static_cast<int>(rng() % firms);
    int b = (a + 1 + static_cast<int>(rng() % (firms - 1))) % firms;
    std::string unit = units[rng() % 3];
    uint64_t amount = 1 + rng() % 5000;
    protocol::Body body;
    switch (rng() % 5) {
      case 0: body = protocol::Obligation{net.pk(b), amount, unit, "o" + std::to_string(i)}; break;
      case 1: body = protocol::Release{net.pk(b), 1 + amount / 4, unit, ""}; break;
      case 2: {
        auto claim = fb.Next(a, protocol::Claim{net.pk(b), amount, unit, "c" + std::to_string(i)});
        records.push_back(claim.record);
        open_claims.emplace_back(b, claim);
        continue;
      }
      default: {
        if (open_claims.empty()) {
          body = protocol::Obligation{net.pk(b), amount, unit, ""};
          break;
        }
        auto [debtor, claim] = open_claims.back();
        open_claims.pop_back();
        const auto& c = std::get<protocol::Claim>(claim.entry.body);
        if (rng() % 4 == 0)
          records.push_back(
              fb.Next(debtor, protocol::Decline{claim.id, claim.entry.author, "no"}).record);
        else
          records.push_back(
              fb.Next(debtor, protocol::Accept{claim.id, claim.entry.author, c.amount, c.unit, ""})
                  .record);
        continue;
      }
    }
    records.push_back(fb.Next(a, std::move(body)).record);
  }
  for (const auto& r : l.Ingest(records, false))
    ASSERT_EQ(r.outcome, node::Outcome::kApplied) << r.status.ToString();
}

// Signs a second, different entry at `seq` of firm `i` (chained like the
// real one) and ingests it: the ledger proves the fork and stops the feed.
inline protocol::SignedEntry ForkFeed(const TestNetwork& net, node::Ledger& l, int i,
                                      uint64_t seq) {
  auto prev = seq == 1 ? std::optional<Bytes>() : *l.ReadFeed(net.pk(i), seq - 1, 1)->data();
  protocol::Entry e{net.id(),
                    net.pk(i),
                    seq,
                    prev ? *protocol::IdOfRecord(*prev) : EntryId{},
                    42,
                    protocol::Obligation{net.pk((i + 1) % static_cast<int>(net.keys.size())), 999,
                                         "hours", "the other branch"}};
  auto se = FeedBuilder::SignRaw(e, net.key(i));
  auto r = l.Ingest(std::vector<Bytes>{se.record}, false);
  EXPECT_EQ(r.at(0).outcome, node::Outcome::kForkProven) << r.at(0).status.ToString();
  return se;
}

inline audit::Report AuditString(const std::string& data, audit::Options o = {}) {
  std::istringstream in(data);
  if (o.input.empty()) o.input = "test.export";
  auto r = audit::AuditExport(in, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : audit::Report{};
}

// True when some issue of `kind` ("" : any) names author/seq.
inline bool Names(const audit::Report& r, const PublicKey& author, uint64_t seq,
                  const std::string& kind = "") {
  for (const auto& i : r.issues)
    if (i.author == author && i.seq == seq && (kind.empty() || i.kind == kind)) return true;
  return false;
}

inline bool HasKind(const audit::Report& r, const std::string& kind) {
  for (const auto& i : r.issues)
    if (i.kind == kind) return true;
  return false;
}

inline std::string Dump(const audit::Report& r) {
  std::ostringstream s;
  audit::WriteTextReport(r, s);
  return s.str();
}

}  // namespace keiretsu::testing
