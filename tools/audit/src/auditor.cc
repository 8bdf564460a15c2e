// The audit passes: header, records and chains, evidence, the fork rule.
// The rules mirror node/src/ledger_apply.cc; docs/audit.md says why each
// check exists.
#include "tools/audit/src/auditor.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "keiretsu/protocol/balance.h"

namespace keiretsu::audit {

using protocol::Fault;
using protocol::RecordCheck;

namespace {

constexpr size_t kBatch = 1024;         // records checked per parallel batch
constexpr size_t kMaxProofs = 100'000;  // evidence records kept for the checks

std::string Where(const PublicKey& a, uint64_t seq) {
  return a.Short() + "/" + std::to_string(seq);
}

// The author and seq a refused record claims, for the report (the bytes at
// their places in the content; see docs/PROTOCOL.md "Entries").
std::optional<std::pair<PublicKey, uint64_t>> Claimed(const Bytes& r) {
  if (r.size() < 73) return std::nullopt;
  PublicKey a;
  std::copy(r.begin() + 33, r.begin() + 65, a.bytes.begin());
  uint64_t seq = 0;
  for (size_t i = 65; i < 73; ++i) seq = (seq << 8) | r[i];
  return std::make_pair(a, seq);
}

}  // namespace

Auditor::Auditor(const Options& options, Report* report, std::optional<protocol::Genesis> given)
    : options_(options), report_(report), given_(std::move(given)) {
  started_ = last_progress_ = std::chrono::steady_clock::now();
}
Auditor::~Auditor() = default;

std::string Auditor::Name(const PublicKey& key) const {
  if (auto it = v2_names_.find(key); it != v2_names_.end())
    return it->second + " (" + key.Short() + ")";
  const protocol::Member* m = genesis_ ? genesis_->FindByKey(key) : nullptr;
  return m != nullptr ? m->name + " (" + key.Short() + ")" : key.Short();
}

void Auditor::AddIssue(Severity severity, std::string kind, std::optional<PublicKey> author,
                       uint64_t seq, uint64_t chunk, std::string message,
                       std::vector<std::string> evidence) {
  switch (severity) {
    case Severity::kProblem: report_->any_problem = true; break;
    case Severity::kError: report_->any_error = true; break;
    case Severity::kDisagreement: report_->any_disagreement = true; break;
    default: break;
  }
  if (report_->issues.size() >= Report::kMaxIssues) {
    ++report_->issues_omitted;
    return;
  }
  report_->issues.push_back(Issue{severity, std::move(kind), author, seq, chunk, std::move(message),
                                  std::move(evidence)});
}

FeedAudit& Auditor::Feed(const PublicKey& author) {
  auto [it, fresh] = feeds_.try_emplace(author);
  if (fresh) it->second.author = author;
  return it->second;
}

void Auditor::UseGivenGenesis() {
  genesis_ = given_;
  verifier_ = std::make_unique<Verifier>(*genesis_, options_.threads, options_.signature_cache);
}

bool Auditor::ReadHeader(Source& src) {
  Position start = src.Tell();
  Item item;
  auto r = src.Next(&item);
  if (!r.ok()) {  // Pass1 reports it
    read_error_ = r.status();
    read_error_chunk_ = 1;
  } else if (*r && item.kind == Item::Kind::kHeader) {
    HandleHeader(item);
  } else {
    AddIssue(Severity::kProblem, "header", std::nullopt, 0, 1,
             (!*r ? std::string("the export is empty")
                  : "chunk 1 is not the export header" +
                        (item.invalid.empty() ? "" : " (" + item.invalid + ")")) +
                 "; an export starts with its header");
    if (*r) (void)src.Seek(start);  // read it again as an ordinary chunk
  }
  if (!have_header_ && given_) genesis_ = given_;
  if (!genesis_) {
    AddIssue(Severity::kProblem, "no-genesis", std::nullopt, 0, 0,
             "no usable genesis: nothing can be verified (pass --genesis to audit against a "
             "known network)");
    if (!read_error_.ok())
      AddIssue(Severity::kProblem, "unreadable", std::nullopt, 0, 1, read_error_.message());
    return false;
  }
  report_->network_known = true;
  verifier_ = std::make_unique<Verifier>(*genesis_, options_.threads, options_.signature_cache);
  return true;
}

void Auditor::HandleHeader(const Item& item) {
  const HeaderItem& h = item.header;
  if (have_header_) {
    AddIssue(Severity::kProblem, "header", std::nullopt, 0, item.chunk,
             "a second header; an export has exactly one, first");
    return;
  }
  have_header_ = true;
  header_ = h;
  report_->exported_by = h.exported_by;
  report_->exported_at_ms = h.exported_at_ms;
  if (h.format_version != 1)
    AddIssue(Severity::kProblem, "header", std::nullopt, 0, item.chunk,
             "export format version " + std::to_string(h.format_version) +
                 " is not supported (this auditor reads version 1)");
  auto g = protocol::Genesis::Decode(h.genesis);
  if (!g.ok()) {
    AddIssue(Severity::kProblem, "header", std::nullopt, 0, item.chunk,
             "the export's genesis does not decode: " + g.status().message());
    if (given_) genesis_ = given_;
    return;
  }
  if (given_ && given_->network_id() != g->network_id()) {
    AddIssue(Severity::kProblem, "wrong-network", std::nullopt, 0, item.chunk,
             "the export is of network " + g->network_name() + " (" + g->network_id().Short() +
                 "), not the expected " + given_->network_name() + " (" +
                 given_->network_id().Short() + ")");
    genesis_ = given_;
    return;
  }
  genesis_ = std::move(g).value();
}

void Auditor::EnterSection(Section s, uint64_t chunk) {
  static constexpr const char* kNames[] = {"header", "entries", "evidence", "checkpoints"};
  if (s < section_)
    AddIssue(Severity::kProblem, "order", std::nullopt, 0, chunk,
             std::string("chunk of the ") + kNames[static_cast<int>(s)] + " section after the " +
                 kNames[static_cast<int>(section_)] +
                 " section; an export lists header, entries, evidence, checkpoints in that order");
  section_ = std::max(section_, s);
}

bool Auditor::ReadSlots(Source& src, std::vector<Slot>* batch) {
  batch->clear();
  bool more = true;
  while (batch->size() < kBatch) {
    Slot slot{src.Tell(), Item{}};
    auto r = src.Next(&slot.item);
    if (!r.ok()) {
      read_error_ = r.status();
      read_error_chunk_ = slot.pos.chunk + 1;
      more = false;
      break;
    }
    if (!*r) {
      more = false;
      break;
    }
    batch->push_back(std::move(slot));
  }
  return more;
}

// A batch on its way through: read, verified (in the background in Pass1),
// handled.
struct Auditor::Pending {
  std::vector<Slot> slots;
  std::vector<const Bytes*> records;  // the entries' records among slots ...
  std::vector<size_t> where;          // ... and their places in slots
  std::vector<RecordCheck> found;     // the verifier's results, per record
  bool more = false;                  // the input goes on after this batch

  void Read(Auditor& a, Source& src) {
    more = a.ReadSlots(src, &slots);
    records.clear();
    where.clear();
    for (size_t i = 0; i < slots.size(); ++i)
      if (slots[i].item.kind == Item::Kind::kEntry) {
        records.push_back(&slots[i].item.record);
        where.push_back(i);
      }
  }
  // The verifier's results placed by slot (default checks for non-entries).
  std::vector<RecordCheck> TakeChecks() {
    std::vector<RecordCheck> checks(slots.size());
    for (size_t k = 0; k < where.size(); ++k) checks[where[k]] = std::move(found[k]);
    return checks;
  }
};

bool Auditor::ReadBatch(Source& src, std::vector<Slot>* batch, std::vector<RecordCheck>* checks) {
  Pending p;
  p.Read(*this, src);
  verifier_->CheckAll(p.records, &p.found);
  *checks = p.TakeChecks();
  *batch = std::move(p.slots);
  return p.more;
}

void Auditor::Pass1(Source& src) {
  // Two batches in turn, so no core waits on another: while the workers
  // verify one batch, this thread reads the next and then handles the one
  // verified before it. Items are still handled strictly in input order.
  Pending a, b;
  Pending* cur = &a;
  Pending* next = &b;
  if (read_error_.ok()) {
    cur->Read(*this, src);
    verifier_->Start(cur->records, &cur->found);
    for (;;) {
      const bool read_next = cur->more;
      if (read_next) next->Read(*this, src);  // while `cur` is verified
      verifier_->Wait();
      std::vector<RecordCheck> checks = cur->TakeChecks();
      if (read_next) verifier_->Start(next->records, &next->found);
      for (size_t i = 0; i < cur->slots.size(); ++i) Handle(cur->slots[i], checks[i]);
      if (!cur->slots.empty()) report_->chunks = cur->slots.back().item.chunk;
      Progress(false);
      if (!read_next) break;
      std::swap(cur, next);
    }
  }
  if (!read_error_.ok())
    AddIssue(Severity::kProblem, "unreadable", std::nullopt, 0, read_error_chunk_,
             read_error_.message() + "; nothing after this point could be read");
  Progress(true);
}

void Auditor::Handle(const Slot& slot, const RecordCheck& check) {
  const Item& item = slot.item;
  switch (item.kind) {
    case Item::Kind::kHeader: HandleHeader(item); return;
    case Item::Kind::kEntry:
      EnterSection(Section::kEntries, item.chunk);
      HandleEntry(slot, check);
      return;
    case Item::Kind::kEvidence:
      EnterSection(Section::kEvidence, item.chunk);
      HandleEvidence(item);
      return;
    case Item::Kind::kCheckpoint:
      EnterSection(Section::kCheckpoints, item.chunk);
      checkpoint_inputs_.push_back(CheckpointInput{
          item.checkpoint, "export chunk " + std::to_string(item.chunk), item.chunk});
      return;
    case Item::Kind::kInvalid: {
      auto [author, seq, where] =
          section_ == Section::kEntries
              ? Locate(std::nullopt)
              : std::tuple<std::optional<PublicKey>, uint64_t, std::string>{};
      AddIssue(Severity::kProblem, "bad-chunk", author, seq, item.chunk,
               "chunk " + std::to_string(item.chunk) + ": " + item.invalid + where);
      return;
    }
  }
}

void Auditor::HandleEntry(const Slot& slot, const RecordCheck& check) {
  const uint64_t chunk = slot.item.chunk;
  ++report_->entries_checked;
  if (!check.signed_entry) {  // not attributable to anyone: refused outright
    auto [author, seq, where] = Locate(Claimed(slot.item.record));
    AddIssue(Severity::kProblem, std::string(protocol::FaultName(check.fault)), author, seq, chunk,
             check.status.message() + where);
    return;
  }
  const protocol::SignedEntry& se = *check.signed_entry;
  const PublicKey& author = se.entry.author;
  const uint64_t seq = se.entry.seq;
  if (check.fault == Fault::kUnknownAuthor) {
    AddIssue(Severity::kProblem, "unknown-author", author, seq, chunk,
             check.status.message() + "; an export lists only the entries of members");
    return;
  }
  if (check.fault == Fault::kUnknownKind) {
    FeedAudit& f = Feed(author);
    if (f.broken_at == 0 || seq < f.broken_at) {
      AddIssue(Severity::kError, "upgrade-needed", author, seq, chunk,
               check.status.message() + ": this auditor cannot assess " + Name(author) +
                   "'s feed from seq " + std::to_string(seq) + " on");
      f.broken_at = f.broken_at == 0 ? seq : std::min(f.broken_at, seq);
    }
    return;
  }
  if (check.fault == Fault::kInvalidBody) {
    AddIssue(Severity::kProblem, "invalid-body", author, seq, chunk,
             check.status.message() +
                 "; a node keeps such a record only as evidence, never among a feed's entries");
    return;
  }
  FeedAudit& f = Feed(author);
  if (current_run_ != author) {
    if (f.run_started) {
      AddIssue(Severity::kProblem, "split-feed", author, seq, chunk,
               "entries of " + Name(author) +
                   " resume here after other feeds' entries; an export lists each feed's "
                   "entries together, in seq order");
      if (f.broken_at == 0) f.broken_at = f.head + 1;
    } else {
      f.run_started = true;
      f.run_start = slot.pos;
    }
    current_run_ = author;
  }
  ++f.records;
  const uint64_t seen_before = f.max_seen;
  f.max_seen = std::max(f.max_seen, seq);
  if (f.broken_at != 0) {
    if (seq < seen_before)
      AddIssue(
          Severity::kProblem, "out-of-order", author, seq, chunk,
          "entry " + Where(author, seq) + " is listed after seq " + std::to_string(seen_before));
    return;
  }
  if (seq == f.head + 1) {
    if (se.entry.prev != f.head_id) {
      AddIssue(
          Severity::kProblem, "wrong-prev", author, seq, chunk,
          "entry " + Where(author, seq) + " names prev " + se.entry.prev.Short() +
              " but the export's entry at seq " + std::to_string(f.head) + " is " +
              (f.head == 0 ? std::string("absent (seq 1 needs a zero prev)") : f.head_id.Short()) +
              ": the hash chain is broken");
      f.broken_at = seq;
      return;
    }
    f.head = seq;
    f.head_id = se.id;
    f.head_record = se.record;
    AddEffect(se.entry, +1);
    return;
  }
  if (seq == f.head && seq != 0) {
    if (se.id == f.head_id) {
      AddIssue(Severity::kProblem, "duplicate", author, seq, chunk,
               "entry " + Where(author, seq) + " is listed twice");
      return;
    }
    // Two records signed by the author at one seq: a fork proof, but one an
    // honest export states as evidence, never among the entries.
    AddIssue(Severity::kProblem, "undeclared-fork", author, seq, chunk,
             "a second, different entry " + Where(author, seq) +
                 " among the entries; the export carries it as evidence only if the node "
                 "recorded the fork");
    Proof p{seq, true, f.head_id, se.id, {}, f.head_record, se.record, chunk, false};
    if (p.b < p.a) {
      std::swap(p.a, p.b);
      std::swap(p.record_a, p.record_b);
    }
    AddProof(f, std::move(p));
    return;
  }
  if (seq < f.head) {
    AddIssue(Severity::kProblem, "out-of-order", author, seq, chunk,
             "entry " + Where(author, seq) + " is listed after seq " + std::to_string(f.head));
    return;
  }
  AddIssue(Severity::kProblem, "missing", author, f.head + 1, chunk,
           "entries " + Where(author, f.head + 1) +
               (seq - 1 > f.head + 1 ? ".." + std::to_string(seq - 1) : "") +
               " are missing: the next one listed is seq " + std::to_string(seq));
  f.broken_at = f.head + 1;
}

std::tuple<std::optional<PublicKey>, uint64_t, std::string> Auditor::Locate(
    std::optional<std::pair<PublicKey, uint64_t>> claimed) const {
  // A record that fits where it sits (its feed's next seq, or seq 1 of a
  // feed not yet begun) is named as it claims. Otherwise its claim may be
  // the damaged part (a changed author or seq byte), so it is named by its
  // place: the next seq of the feed whose entries it sits among.
  if (claimed) {
    auto it = feeds_.find(claimed->first);
    bool fits = it == feeds_.end()
                    ? claimed->second == 1
                    : (current_run_ == claimed->first && claimed->second == it->second.head + 1) ||
                          (!it->second.run_started && claimed->second == 1);
    if (fits || !current_run_) return {claimed->first, claimed->second, ""};
  }
  if (!current_run_) return {std::nullopt, 0, ""};
  const FeedAudit& f = feeds_.at(*current_run_);
  std::string where = " (it sits where " + Where(f.author, f.head + 1) + " would follow";
  if (claimed) where += "; it claims to be " + Where(claimed->first, claimed->second);
  return {f.author, f.head + 1, where + ")"};
}

void Auditor::AddEffect(const protocol::Entry& entry, int sign) {
  auto change = protocol::EffectOf(entry);
  if (!change) return;
  protocol::Amount128 d = sign > 0 ? change->delta : -change->delta;
  sums_[{change->creditor, change->debtor, change->unit}] += d;
  sums_[{change->debtor, change->creditor, change->unit}] -= d;
}

void Auditor::AddProof(FeedAudit& f, Proof p) {
  if (f.stop == 0 || p.seq < f.stop) {
    f.stop = p.seq;
    f.stop_is_fork = p.fork;
  }
  if (proofs_kept_ >= kMaxProofs) {
    AddIssue(Severity::kError, "too-much-evidence", f.author, p.seq, p.chunk,
             "more than " + std::to_string(kMaxProofs) +
                 " evidence records; the rest are applied but not cross-checked");
    return;
  }
  ++proofs_kept_;
  f.proofs.push_back(std::move(p));
}

void Auditor::Pass2(Source& src) {
  std::vector<FeedAudit*> todo;
  for (auto& [author, f] : feeds_)
    if (f.run_started && (f.undo || !f.wanted.empty())) todo.push_back(&f);
  std::sort(todo.begin(), todo.end(), [](const FeedAudit* a, const FeedAudit* b) {
    return a->run_start.chunk < b->run_start.chunk;
  });
  std::vector<Slot> batch;
  std::vector<RecordCheck> checks;
  for (FeedAudit* f : todo) {
    read_error_ = Status::Ok();
    Status s = src.Seek(f->run_start);
    uint64_t cur = 0;
    EntryId cur_id;
    bool done = !s.ok(), more = s.ok();
    while (!done && more) {
      more = ReadBatch(src, &batch, &checks);
      for (size_t i = 0; i < batch.size() && !done; ++i) {
        const Item::Kind kind = batch[i].item.kind;
        if (kind == Item::Kind::kInvalid) continue;  // reported by the first pass
        if (kind != Item::Kind::kEntry) {
          done = true;
          break;
        }
        const RecordCheck& c = checks[i];
        if (c.fault != Fault::kNone) continue;
        const protocol::SignedEntry& se = *c.signed_entry;
        if (se.entry.author != f->author) {
          done = true;
          break;
        }
        if (se.entry.seq != cur + 1 || se.entry.prev != cur_id) continue;
        cur = se.entry.seq;
        cur_id = se.id;
        auto w = f->wanted.find(cur);
        if (w != f->wanted.end()) w->second.emplace(se.id, se.record);
        if (f->undo && cur >= f->stop) AddEffect(se.entry, -1);
        if (cur == f->head) done = true;
      }
      Progress(false);
    }
    if (cur != f->head || cur_id != f->head_id) {
      AddIssue(Severity::kError, "input-changed", f->author, 0, 0,
               "reading " + Name(f->author) + "'s entries a second time gave a different chain" +
                   (s.ok() ? std::string() : " (" + s.message() + ")") +
                   ": the input changed during the audit");
      f->wanted.clear();
    }
  }
}

void Auditor::Progress(bool force) {
  if (options_.progress == nullptr) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_progress_ < options_.progress_interval) return;
  if (force && report_->entries_checked < 100'000 && now - started_ < options_.progress_interval)
    return;  // a short audit needs no progress line
  last_progress_ = now;
  double secs = std::chrono::duration<double>(now - started_).count();
  std::ostringstream line;
  line << "audit: " << report_->entries_checked << " entries checked";
  if (secs > 0) line << ", " << static_cast<uint64_t>(report_->entries_checked / secs) << "/s";
  line << ", " << std::fixed << std::setprecision(1) << secs << " s\n";
  *options_.progress << line.str() << std::flush;
}

std::optional<EntryId> Auditor::IdAt(const FeedAudit& f, uint64_t seq) const {
  if (seq == 0) return EntryId{};
  if (seq == f.head) return f.head_id;
  auto it = f.wanted.find(seq);
  if (it != f.wanted.end() && it->second) return it->second->first;
  return std::nullopt;
}

std::optional<Bytes> Auditor::RecordAt(const FeedAudit& f, uint64_t seq) const {
  if (seq != 0 && seq == f.head) return f.head_record;
  auto it = f.wanted.find(seq);
  if (it != f.wanted.end() && it->second) return it->second->second;
  return std::nullopt;
}

void Auditor::Finish(bool export_input) {
  std::vector<protocol::FeedHeadSummary> heads;
  for (auto& [author, f] : feeds_) {
    f.effective = f.stop == 0 ? f.head : std::min(f.head, f.stop - 1);
    f.effective_id = IdAt(f, f.effective).value_or(EntryId{});
    for (const Proof& p : f.proofs) {
      if (!p.fork || p.seq > f.head) continue;
      auto id = IdAt(f, p.seq);
      if (id && *id != p.a && *id != p.b)
        AddIssue(Severity::kProblem, "bad-evidence", author, p.seq, p.chunk,
                 "the export's entry " + Where(author, p.seq) + " (" + id->Short() +
                     ") is neither record of the fork evidence at that seq");
    }
    heads.push_back({author, f.effective, f.effective_id, f.stop});
  }
  report_->network = genesis_->network_id();
  report_->network_name = genesis_->network_name();
  for (const auto& m : genesis_->members()) report_->members.emplace_back(m.name, m.key);
  report_->state_digest = protocol::StateDigest(genesis_->network_id(), heads);
  for (const auto& [key, net] : sums_)
    if (net != 0)
      report_->balances.push_back(
          BalanceRow{std::get<0>(key), std::get<1>(key), std::get<2>(key), net});
  std::set<PublicKey> authors;
  for (const auto& m : genesis_->members()) authors.insert(m.key);
  for (const auto& [author, f] : feeds_) authors.insert(author);
  for (const PublicKey& a : authors) {
    FeedReport fr;
    fr.author = a;
    const protocol::Member* m = genesis_->FindByKey(a);
    fr.name = m != nullptr ? m->name : "";
    auto it = feeds_.find(a);
    if (it != feeds_.end()) {
      const FeedAudit& f = it->second;
      fr.head_seq = f.head;
      fr.head_id = f.head_id;
      fr.effective_seq = f.effective;
      fr.effective_id = f.effective_id;
      fr.stop_seq = f.stop;
      fr.status = f.stop == 0 ? FeedStatus::kOpen
                              : (f.stop_is_fork ? FeedStatus::kForked : FeedStatus::kEnded);
    }
    report_->feeds.push_back(fr);
  }
  CompareCheckpoints(export_input);
  report_->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

}  // namespace keiretsu::audit
