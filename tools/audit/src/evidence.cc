// Evidence in the audit: each item re-proven from its signed records, then
// held against the feed it stops (PROTOCOL.md §8.4, §8.5, §11).
#include "tools/audit/src/auditor.h"

namespace keiretsu::audit {

using protocol::Fault;
using protocol::RecordCheck;

namespace {

std::string Where(const PublicKey& a, uint64_t seq) {
  return a.Short() + "/" + std::to_string(seq);
}

// Text the input supplies (an evidence reason), safe to print: printable
// ASCII kept, everything else escaped, at most 200 characters.
std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 200)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return s.size() > 200 ? out + "..." : out;
}

}  // namespace

void Auditor::HandleEvidence(const Item& item) {
  const EvidenceItem& e = item.evidence;
  ++report_->evidence;
  if (e.author.size() != 32) {
    AddIssue(Severity::kProblem, "bad-evidence", std::nullopt, e.seq, item.chunk,
             "evidence names an author of " + std::to_string(e.author.size()) +
                 " bytes, not a 32-byte key");
    return;
  }
  PublicKey author;
  std::copy(e.author.begin(), e.author.end(), author.bytes.begin());
  if (e.seq == 0) {
    // Feeds start at seq 1: nothing can stop at 0 (and "counts up to seq
    // 0 - 1" would wrap around).
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             "evidence at seq 0 for " + author.Short() + ": feeds start at seq 1");
    return;
  }
  auto known = feeds_.find(author);
  if (known != feeds_.end())
    for (const Proof& p : known->second.proofs)
      if (p.seq == e.seq && p.declared) {
        AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
                 "second evidence record for " + Where(author, e.seq) +
                     "; a node keeps one per feed and seq");
        return;
      }
  if (e.kind == 1) return HandleFork(item, author);
  if (e.kind == 2) return HandleInvalid(item, author);
  AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
           "evidence of unknown kind " + std::to_string(e.kind));
}

void Auditor::HandleFork(const Item& item, const PublicKey& author) {
  const EvidenceItem& e = item.evidence;
  const std::string what = "fork evidence for " + Where(author, e.seq);
  if (e.first.empty() || e.second.empty()) {
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             what + " lacks one of its two records");
    return;
  }
  RecordCheck ca = verifier_->Check(e.first), cb = verifier_->Check(e.second);
  for (const RecordCheck* c : {&ca, &cb})
    if (!c->signed_entry) {
      AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
               what + ": a record does not verify: " + c->status.message());
      return;
    }
  const protocol::SignedEntry& a = *ca.signed_entry;
  const protocol::SignedEntry& b = *cb.signed_entry;
  if (a.entry.author != author || b.entry.author != author || a.entry.seq != e.seq ||
      b.entry.seq != e.seq) {
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             what + " holds entries " + Where(a.entry.author, a.entry.seq) + " and " +
                 Where(b.entry.author, b.entry.seq) + ", not two of " + Where(author, e.seq));
    return;
  }
  if (a.id == b.id) {
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             what + " holds the same entry twice: that proves no fork");
    return;
  }
  if (b.id < a.id)
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             what + " lists its records out of canonical order (lower id first)");
  if (!e.reason.empty())
    AddIssue(Severity::kWarning, "evidence-reason", author, e.seq, item.chunk,
             what + " carries a reason text; a fork's proof is its two records alone");
  Proof p{e.seq, true, a.id, b.id, {}, e.first, e.second, item.chunk};
  if (p.b < p.a) {
    std::swap(p.a, p.b);
    std::swap(p.record_a, p.record_b);
  }
  AddIssue(Severity::kFinding, "fork", author, e.seq, item.chunk,
           Name(author) + " signed two different entries at seq " + std::to_string(e.seq) + " (" +
               p.a.Short() + ", " + p.b.Short() + "): the feed counts only up to seq " +
               std::to_string(e.seq - 1),
           {ToHex(p.record_a), ToHex(p.record_b)});
  AddProof(Feed(author), std::move(p));
}

void Auditor::HandleInvalid(const Item& item, const PublicKey& author) {
  const EvidenceItem& e = item.evidence;
  const std::string what = "invalid-entry evidence for " + Where(author, e.seq);
  if (e.first.empty() || !e.second.empty()) {
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             what + " must hold exactly one record");
    return;
  }
  RecordCheck c = verifier_->Check(e.first);
  if (!c.signed_entry) {
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             what + ": the record does not verify: " + c.status.message());
    return;
  }
  const protocol::SignedEntry& se = *c.signed_entry;
  if (se.entry.author != author || se.entry.seq != e.seq) {
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             what + " holds entry " + Where(se.entry.author, se.entry.seq));
    return;
  }
  if (c.fault != Fault::kInvalidBody) {
    AddIssue(Severity::kProblem, "bad-evidence", author, e.seq, item.chunk,
             what + ": the record breaks no rule");
    return;
  }
  if (e.reason != c.status.message())
    AddIssue(Severity::kWarning, "evidence-reason", author, e.seq, item.chunk,
             what + " states the reason '" + Printable(e.reason) + "'; the audit finds '" +
                 c.status.message() + "'");
  AddIssue(Severity::kFinding, "ended", author, e.seq, item.chunk,
           Name(author) + " signed entry seq " + std::to_string(e.seq) + " that breaks a rule (" +
               c.status.message() + "): the feed ends there",
           {ToHex(e.first)});
  AddProof(Feed(author), Proof{e.seq, false, se.id, {}, se.entry.prev, e.first, {}, item.chunk});
}

void Auditor::Settle() {
  for (auto& [author, f] : feeds_) {
    for (const Proof& p : f.proofs) {
      if (p.fork) {
        if (p.seq < f.head) f.wanted[p.seq];
        continue;
      }
      if (f.broken_at != 0) continue;  // already failing; no second-guessing
      if (f.head + 1 < p.seq)
        AddIssue(Severity::kProblem, "missing", author, f.head + 1, p.chunk,
                 "the feed ends at seq " + std::to_string(p.seq) +
                     " by an invalid entry that follows seq " + std::to_string(p.seq - 1) +
                     ", but the export holds " + Name(author) + "'s entries only through seq " +
                     std::to_string(f.head));
      else if (f.head >= p.seq)
        AddIssue(Severity::kProblem, "bad-evidence", author, p.seq, p.chunk,
                 "the export holds an entry at seq " + std::to_string(p.seq) +
                     " and also evidence that the author's entry there breaks a rule");
      else if (p.prev != f.head_id)
        AddIssue(Severity::kProblem, "bad-evidence", author, p.seq, p.chunk,
                 "the invalid entry at seq " + std::to_string(p.seq) + " names prev " +
                     p.prev.Short() + ", but the export's entry at seq " + std::to_string(f.head) +
                     " is " + f.head_id.Short());
    }
    if (f.stop != 0 && f.stop <= f.head) {
      f.undo = true;
      if (f.stop >= 2) f.wanted[f.stop - 1];
    }
  }
  VerifyCheckpoints();
  WantCheckpointClaims();
}

}  // namespace keiretsu::audit
