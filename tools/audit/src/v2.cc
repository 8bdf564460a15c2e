// The audit under protocol v2 rules (docs/PROTOCOL.md 19, docs/audit.md
// "Protocol v2"): every record is held, each member's feed is walked under
// its key chain (protocol::WalkFeed), the epoch chain computed
// (protocol::ComputeEpochs), both through protocol::RecomputeLedger, the
// reference every node must equal. Nothing here re-implements a rule.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "keiretsu/audit/model_record.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/ledger_model.h"
#include "tools/audit/src/auditor.h"

namespace keiretsu::audit {

using protocol::Fault;

namespace {

constexpr size_t kMaxV2Records = 4'000'000;  // held in memory at once
constexpr uint8_t kTagPropose = static_cast<uint8_t>(protocol::BodyKind::kPropose);
constexpr uint8_t kTagRotate = static_cast<uint8_t>(protocol::BodyKind::kRotate);

std::string Where(const PublicKey& a, uint64_t seq) {
  return a.Short() + "/" + std::to_string(seq);
}

bool IsGovernanceKind(uint8_t tag) {
  return tag >= kTagPropose && tag <= kTagRotate;
}
// Kinds 10-11 (PROTOCOL.md 20): their outcome is decided under v2 rules too.
bool IsClearingKind(uint8_t tag) {
  return tag == static_cast<uint8_t>(protocol::BodyKind::kClearingPropose) ||
         tag == static_cast<uint8_t>(protocol::BodyKind::kClearingVote);
}

// The subject of a proposal's action: the firm admitted or removed.
void SubjectOf(const protocol::Propose& p, PublicKey* subject, std::string* name,
               uint64_t* last_seq) {
  if (const auto* a = std::get_if<protocol::AdmitAction>(&p.action)) {
    *subject = a->inception_key;
    *name = a->name;
  } else if (const auto* rm = std::get_if<protocol::RemoveAction>(&p.action)) {
    *subject = rm->member;
    if (last_seq) *last_seq = rm->last_seq;
  }
}

std::string_view StanceName(protocol::ClearingStance s) {
  switch (s) {
    case protocol::ClearingStance::kUndecided: return "undecided";
    case protocol::ClearingStance::kAccepted: return "accepted";
    case protocol::ClearingStance::kRejected: return "rejected";
    case protocol::ClearingStance::kLapsed: return "lapsed";
  }
  return "unknown";
}

// Every clearing proposal the outcome decided (PROTOCOL.md 20.4), and the
// debt set off per unit by the committed ones.
ClearingReport ClearingOf(const protocol::ClearingResult& result) {
  ClearingReport out;
  std::map<std::string, protocol::Amount128> cleared;
  for (const auto& [id, o] : result.proposals) {
    ClearingProposalReport p;
    p.id = id;
    p.proposer = o.proposer;
    p.seq = o.seq;
    p.unit = o.body.unit;
    p.expiry_ms = o.body.expiry_ms;
    p.valid = o.state != protocol::ClearingState::kVoid;
    p.state = std::string(protocol::ClearingStateName(o.state));
    for (const protocol::ClearingLeg& leg : o.body.legs) {
      p.legs.push_back({o.body.participants.at(leg.debtor).firm,
                        o.body.participants.at(leg.creditor).firm, leg.amount});
      if (o.state == protocol::ClearingState::kCommitted) cleared[o.body.unit] += leg.amount;
    }
    for (size_t i = 0; i < o.body.participants.size(); ++i)
      p.stances.emplace_back(
          o.body.participants[i].firm,
          i < o.stances.size() ? std::string(StanceName(o.stances[i])) : std::string("undecided"));
    out.proposals.push_back(std::move(p));
  }
  std::sort(out.proposals.begin(), out.proposals.end(), [](const auto& a, const auto& b) {
    return std::tie(a.proposer, a.seq, a.id) < std::tie(b.proposer, b.seq, b.id);
  });
  out.cleared.assign(cleared.begin(), cleared.end());
  return out;
}

std::string_view EvidenceName(protocol::EvidenceKind k) {
  switch (k) {
    case protocol::EvidenceKind::kFork: return "fork";
    case protocol::EvidenceKind::kInvalidEntry: return "invalid-entry";
    case protocol::EvidenceKind::kKeyRecovery: return "key-recovery";
  }
  return "unknown";
}

struct DeclaredEvidence {
  int kind = 0;
  PublicKey author;
  uint64_t seq = 0;
  uint64_t chunk = 0;
  std::vector<EntryId> ids;  // the records it carries that parsed
};

}  // namespace

bool Auditor::NeedsV2(Source& src) {
  if (genesis_ && genesis_->version() >= 2) return true;
  Position start = src.Tell();
  bool found = false;
  std::optional<uint8_t> kind;
  for (;;) {
    auto r = src.NextKind(&kind);  // reads the kind byte alone where it can
    if (!r.ok() || !*r) break;
    if (kind && (IsGovernanceKind(*kind) || IsClearingKind(*kind))) {
      found = true;
      break;
    }
  }
  (void)src.Seek(start);  // Pass1 reports a failure to read again
  return found;
}

void Auditor::RunV2(Source& src, bool export_input) {
  report_->protocol_rules = 2;
  const NetworkId& network = genesis_->network_id();
  std::vector<protocol::ModelRecord> records;
  std::map<EntryId, size_t> by_id;               // every record once
  std::set<EntryId> entry_ids;                   // ids among the entry chunks
  std::map<PublicKey, uint64_t> first_chunk_of;  // per author: where its entries begin
  std::vector<DeclaredEvidence> declared;
  // Per author, the lowest seq of a record of a kind this auditor does not
  // know: the feed is not assessed from there on.
  std::map<PublicKey, uint64_t> unassessable;
  bool too_many = false;

  auto add = [&](const Bytes& record, uint64_t chunk, bool from_entries) -> std::optional<EntryId> {
    ParsedRecord p = ParseModelRecord(record, network);
    if (p.fault == Fault::kUnknownKind) {
      AddIssue(Severity::kError, "upgrade-needed", p.claimed->first, p.claimed->second, chunk,
               p.why + ": this auditor cannot assess that feed from there on");
      unassessable[p.claimed->first] = std::min(
          unassessable.contains(p.claimed->first) ? unassessable[p.claimed->first] : UINT64_MAX,
          p.claimed->second);
      return std::nullopt;
    }
    if (!p.model) {
      AddIssue(Severity::kProblem, std::string(protocol::FaultName(p.fault)), std::nullopt, 0,
               chunk, p.why);
      return std::nullopt;
    }
    const EntryId id = p.model->feed.id;
    if (from_entries && !entry_ids.insert(id).second)
      AddIssue(Severity::kProblem, "duplicate", p.model->author, p.model->feed.seq, chunk,
               "entry " + Where(p.model->author, p.model->feed.seq) + " is listed twice");
    if (by_id.contains(id)) return id;
    if (records.size() >= kMaxV2Records) {
      if (!too_many)
        AddIssue(Severity::kError, "too-many-records", std::nullopt, 0, chunk,
                 "more than " + std::to_string(kMaxV2Records) +
                     " records: a protocol-v2 audit holds them all in memory; the rest are "
                     "not assessed");
      too_many = true;
      return std::nullopt;
    }
    by_id.emplace(id, records.size());
    records.push_back(std::move(*p.model));
    return id;
  };

  std::vector<Slot> batch;
  bool more = read_error_.ok();
  while (more) {
    more = ReadSlots(src, &batch);
    for (const Slot& slot : batch) {
      const Item& item = slot.item;
      switch (item.kind) {
        case Item::Kind::kHeader: HandleHeader(item); break;
        case Item::Kind::kEntry: {
          EnterSection(Section::kEntries, item.chunk);
          ++report_->entries_checked;
          auto id = add(item.record, item.chunk, true);
          if (!id) break;
          const PublicKey& author = records[by_id.at(*id)].author;
          if (current_run_ != author) {
            if (first_chunk_of.contains(author))
              AddIssue(Severity::kProblem, "split-feed", author, records[by_id.at(*id)].feed.seq,
                       item.chunk,
                       "entries of " + Name(author) +
                           " resume here after other feeds' entries; an export lists each "
                           "feed's entries together");
            else
              first_chunk_of[author] = item.chunk;
            current_run_ = author;
          }
          break;
        }
        case Item::Kind::kEvidence: {
          EnterSection(Section::kEvidence, item.chunk);
          ++report_->evidence;
          const EvidenceItem& e = item.evidence;
          DeclaredEvidence d{e.kind, PublicKey{}, e.seq, item.chunk, {}};
          if (e.author.size() != 32 || e.seq == 0 || e.kind < 1 || e.kind > 3) {
            AddIssue(
                Severity::kProblem, "bad-evidence", std::nullopt, e.seq, item.chunk,
                "evidence with a bad author, seq 0, or an unknown kind " + std::to_string(e.kind));
            break;
          }
          std::copy(e.author.begin(), e.author.end(), d.author.bytes.begin());
          for (const Bytes* rec : {&e.first, &e.second}) {
            if (rec->empty()) continue;
            if (auto id = add(*rec, item.chunk, false)) {
              const protocol::ModelRecord& m = records[by_id.at(*id)];
              if (m.author != d.author || m.feed.seq != e.seq)
                AddIssue(Severity::kProblem, "bad-evidence", d.author, e.seq, item.chunk,
                         "evidence for " + Where(d.author, e.seq) + " carries the record " +
                             Where(m.author, m.feed.seq));
              else
                d.ids.push_back(*id);
            }
          }
          declared.push_back(std::move(d));
          break;
        }
        case Item::Kind::kCheckpoint:
          EnterSection(Section::kCheckpoints, item.chunk);
          checkpoint_inputs_.push_back(CheckpointInput{
              item.checkpoint, "export chunk " + std::to_string(item.chunk), item.chunk});
          break;
        case Item::Kind::kInvalid:
          AddIssue(Severity::kProblem, "bad-chunk", std::nullopt, 0, item.chunk,
                   "chunk " + std::to_string(item.chunk) + ": " + item.invalid);
          break;
      }
      report_->chunks = item.chunk;
    }
    Progress(false);
  }
  if (!read_error_.ok())
    AddIssue(Severity::kProblem, "unreadable", std::nullopt, 0, read_error_chunk_,
             read_error_.message() + "; nothing after this point could be read");

  // Strata 1-3 over the set.
  const protocol::EpochZero zero = protocol::EpochZeroOf(*genesis_);
  protocol::LedgerModel model = protocol::RecomputeLedger(zero, records);
  const protocol::Epoch& now = model.history.current();
  for (const protocol::EpochMember& m : now.members) v2_names_[m.id] = m.name;
  v2_epochs_ = model.history.epochs;

  std::map<PublicKey, std::vector<size_t>> of_author;
  for (size_t i = 0; i < records.size(); ++i) of_author[records[i].author].push_back(i);

  GovernanceReport gov;
  std::vector<protocol::FeedHeadSummary> heads;
  for (const protocol::EpochMember& m : now.members) {
    const protocol::CountedFeed& cf = model.feeds.at(m.id);
    const protocol::FeedWalk& w = cf.walk;
    // The key chain, with the rotate entry behind each key.
    MemberReport mr{m.id,       m.name, m.since_epoch, m.removed, m.removed_in_epoch, m.last_seq,
                    w.left_seq, {}};
    v2_keys_[m.id] = w.keys;
    std::set<EntryId> in_prefix;
    for (size_t k = 0; k < w.prefix.size(); ++k)
      in_prefix.insert(records[of_author[m.id][w.prefix[k]]].feed.id);
    for (const protocol::KeySpan& span : w.keys) {
      KeyReport kr{span.from_seq, span.key, span.next_key_digest, EntryId{}};
      if (span.from_seq > 1 || span.key != m.id)
        kr.rotation = records[of_author[m.id][w.prefix[span.from_seq - 1]]].feed.id;
      mr.keys.push_back(kr);
    }
    gov.members.push_back(std::move(mr));

    // Every record of the feed verifies under a key of its chain (or is a
    // rotation by a key the chain committed to); the prefix ends only at a
    // stop, a leave, or the end of what the input holds.
    uint64_t max_seq = 0;  // of the records attributable to the firm
    for (size_t i : of_author[m.id]) {
      const protocol::ModelRecord& r = records[i];
      if (in_prefix.contains(r.feed.id)) {
        max_seq = std::max(max_seq, r.feed.seq);
        continue;
      }
      bool attributable = std::any_of(
          w.keys.begin(), w.keys.end(),
          [&](const protocol::KeySpan& k) { return protocol::VerifiesUnder(r.feed, k.key); });
      if (!attributable && r.feed.rotate)
        for (const protocol::KeySpan& span : w.keys)
          if (protocol::NextKeyDigest(r.feed.rotate->new_key) == span.next_key_digest &&
              protocol::VerifiesUnder(r.feed, r.feed.rotate->new_key))
            attributable = true;
      if (attributable) max_seq = std::max(max_seq, r.feed.seq);
      if (!attributable)
        AddIssue(Severity::kProblem, "bad-signature", m.id, r.feed.seq, 0,
                 "entry " + Where(m.id, r.feed.seq) + " (" + r.feed.id.Short() +
                     ") verifies under no key of " + Name(m.id) + "'s key chain");
    }
    const uint64_t eff = w.effective_seq();
    if (w.open() && max_seq > eff && !unassessable.contains(m.id))
      AddIssue(Severity::kProblem, "missing", m.id, eff + 1, 0,
               Name(m.id) + "'s chain ends at seq " + std::to_string(eff) +
                   " but the input holds entries up to seq " + std::to_string(max_seq) +
                   ": entry " + std::to_string(eff + 1) +
                   " is missing, names the wrong prev, or is signed by a key not in force");
    for (const protocol::WalkEvidence& ev : w.evidence)
      AddIssue(Severity::kFinding, std::string(EvidenceName(ev.kind)), m.id, ev.seq, 0,
               Name(m.id) + " at seq " + std::to_string(ev.seq) + ": " +
                   std::string(EvidenceName(ev.kind)) +
                   (ev.reason.empty() ? "" : " (" + ev.reason + ")") + "; records " +
                   ev.first.Short() + (ev.second.IsZero() ? "" : " and " + ev.second.Short()));
    if (w.left_seq != 0)
      AddIssue(Severity::kFinding, "left", m.id, w.left_seq, 0,
               Name(m.id) + " left the network at seq " + std::to_string(w.left_seq));
    if (m.removed)
      AddIssue(Severity::kFinding, "removed", m.id, m.last_seq, 0,
               Name(m.id) + " was removed in epoch " + std::to_string(m.removed_in_epoch) +
                   "; its entries after seq " + std::to_string(m.last_seq) + " count for nothing");

    // The feed's line in the report, and its FeedAudit so the checkpoint
    // comparisons (checkpoints.cc) read the counted state.
    FeedReport fr;
    fr.author = m.id;
    fr.name = m.name;
    fr.head_seq = max_seq;
    fr.effective_seq = cf.counted_seq;
    fr.effective_id = cf.counted_id;
    fr.stop_seq = w.stop_seq;
    fr.left_seq = w.left_seq;
    fr.last_seq = m.removed ? m.last_seq : 0;
    fr.status = w.stop_seq != 0
                    ? (w.stop_reason == protocol::StopReason::kFork ? FeedStatus::kForked
                                                                    : FeedStatus::kEnded)
                : m.removed  ? FeedStatus::kRemoved
                : w.left_seq ? FeedStatus::kLeft
                             : FeedStatus::kOpen;
    if (!w.prefix.empty()) fr.head_id = w.effective_id;
    report_->feeds.push_back(fr);
    FeedAudit& fa = Feed(m.id);
    fa.head = cf.counted_seq;
    fa.head_id = cf.counted_id;
    fa.effective = cf.counted_seq;
    fa.effective_id = cf.counted_id;
    fa.stop = w.stop_seq;
    fa.stop_is_fork = w.stop_reason == protocol::StopReason::kFork;
    heads.push_back({m.id, cf.counted_seq, cf.counted_id, w.stop_seq});
  }

  // Declared evidence must be what the walk finds: a stop at or below its
  // seq (fork, invalid entry), or the same key recovery.
  for (const DeclaredEvidence& d : declared) {
    auto it = model.feeds.find(d.author);
    if (it == model.feeds.end()) {
      AddIssue(Severity::kProblem, "bad-evidence", d.author, d.seq, d.chunk,
               "evidence for " + Where(d.author, d.seq) + ", which is no member's feed");
      continue;
    }
    const protocol::FeedWalk& w = it->second.walk;
    bool ok = false;
    if (d.kind == 3)
      ok = std::any_of(w.evidence.begin(), w.evidence.end(), [&](const auto& ev) {
        return ev.kind == protocol::EvidenceKind::kKeyRecovery && ev.seq == d.seq;
      });
    else
      ok = w.stop_seq != 0 && w.stop_seq <= d.seq;
    if (!ok)
      AddIssue(Severity::kProblem, "bad-evidence", d.author, d.seq, d.chunk,
               "the evidence for " + Where(d.author, d.seq) +
                   " does not prove what it claims under the key chain of " + Name(d.author));
  }

  for (const auto& [author, count] : model.pending_authors) {
    gov.pending_authors.emplace_back(author, count);
    AddIssue(Severity::kWarning, "unknown-author", author, 0, 0,
             std::to_string(count) + " records of " + author.Short() +
                 ", a firm never admitted: kept pending, they count for nothing");
  }

  // The epoch chain and every proposal.
  for (const protocol::Epoch& e : model.history.epochs) {
    EpochReport er;
    er.number = e.number;
    er.hash = e.hash;
    er.threshold = e.threshold;
    er.active = e.ActiveCount();
    er.passed = e.passed;
    er.action = "genesis";
    if (auto p = model.history.proposals.find(e.passed);
        e.number > 0 && p != model.history.proposals.end()) {
      const protocol::ProposalInfo& info = p->second;
      er.action = std::string(protocol::ActionName(protocol::TagOf(info.body.action)));
      er.proposer = info.author;
      er.round = info.body.round;
      er.supporters = info.supporters;
      SubjectOf(info.body, &er.subject, &er.subject_name, &er.last_seq);
      if (er.subject_name.empty())
        if (auto n = v2_names_.find(er.subject); n != v2_names_.end()) er.subject_name = n->second;
    }
    gov.epochs.push_back(std::move(er));
  }
  for (const auto& [id, info] : model.history.proposals) {
    ProposalReport pr;
    pr.id = id;
    pr.author = info.author;
    pr.seq = info.seq;
    pr.epoch = info.epoch;
    pr.round = info.body.round;
    pr.action = std::string(protocol::ActionName(protocol::TagOf(info.body.action)));
    pr.threshold = info.body.threshold;
    SubjectOf(info.body, &pr.subject, &pr.subject_name, nullptr);
    if (pr.subject_name.empty())
      if (auto n = v2_names_.find(pr.subject); n != v2_names_.end()) pr.subject_name = n->second;
    pr.state = std::string(protocol::ProposalStateName(info.state));
    pr.supporters = info.supporters;
    pr.why = info.why;
    gov.proposals.push_back(std::move(pr));
  }
  std::sort(gov.proposals.begin(), gov.proposals.end(), [](const auto& a, const auto& b) {
    return std::tuple(a.epoch.value_or(UINT64_MAX), a.round, a.id) <
           std::tuple(b.epoch.value_or(UINT64_MAX), b.round, b.id);
  });

  report_->network = network;
  report_->network_name = genesis_->network_name();
  for (const protocol::EpochMember& m : now.members) report_->members.emplace_back(m.name, m.id);
  report_->state_digest = model.state_digest;
  for (const auto& [key, net] : model.balances)
    report_->balances.push_back(
        BalanceRow{std::get<0>(key), std::get<1>(key), std::get<2>(key), net});
  report_->governance = std::move(gov);
  report_->clearing = ClearingOf(model.clearing);

  VerifyCheckpointsV2();
  CompareCheckpoints(export_input);
  report_->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

// A checkpoint under v2 rules (PROTOCOL.md 15): version 1 against the
// genesis, version 2 against the epoch chain and key chains computed here.
void Auditor::VerifyCheckpointsV2() {
  const protocol::KeyChainLookup chain_of = [this](const PublicKey& firm) {
    auto it = v2_keys_.find(firm);
    return it == v2_keys_.end() ? std::vector<protocol::KeySpan>{} : it->second;
  };
  for (CheckpointInput& in : checkpoint_inputs_) {
    CheckpointReport rep;
    rep.source = in.source;
    const CheckpointItem& c = in.item;
    Result<protocol::Checkpoint> v = InvalidArgument(
        "checkpoint signer is " + std::to_string(c.signer.size()) + " bytes, not a 32-byte key");
    if (c.signer.size() == 32) {
      std::copy(c.signer.begin(), c.signer.end(), rep.signer.bytes.begin());
      v = protocol::VerifyCheckpointV2(c.statement, rep.signer, c.signature, *genesis_, v2_epochs_,
                                       chain_of);
    }
    if (!v.ok()) {
      rep.error = v.status().message();
      AddIssue(Severity::kProblem, "bad-checkpoint", std::nullopt, 0, in.chunk,
               "checkpoint from " + in.source + " does not verify: " + rep.error);
      report_->checkpoints.push_back(rep);
      continue;
    }
    rep.verified = true;
    rep.time_ms = v->time_ms;
    rep.state_digest = v->state_digest;
    report_->checkpoints.push_back(rep);
    verified_.push_back(Verified{report_->checkpoints.size() - 1, std::move(v).value(), in});
  }
}

}  // namespace keiretsu::audit
