// Checkpoints in the audit: verifying them, the export's seal, and split
// views (docs/audit.md "Checkpoints in an audit").
#include <fstream>
#include <set>
#include <sstream>

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include "keiretsu/proto/strict_parse.h"
#include "keiretsu/v1/api.pb.h"
#include "tools/audit/src/auditor.h"

namespace keiretsu::audit {

namespace {
std::string Hex(const Bytes& b) {
  return ToHex(b);
}
std::string Claim(const protocol::FeedHeadSummary& f) {
  return "effective seq " + std::to_string(f.effective_seq) +
         (f.effective_seq ? " (" + f.effective_id.Short() + ")" : "") +
         (f.stop_seq ? ", stopped at " + std::to_string(f.stop_seq) : ", open");
}
}  // namespace

Result<CheckpointItem> LoadCheckpointFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read checkpoint file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IOError("cannot read checkpoint file " + path);
  std::string text = ss.str();
  v1::Checkpoint msg;
  google::protobuf::LogSilencer quiet;  // failures are reported below
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    if (!google::protobuf::util::JsonStringToMessage(text, &msg).ok())
      return InvalidArgument("checkpoint file " + path +
                             " is not a keiretsu.v1.Checkpoint (binary or JSON)");
  } else {
    // As strictly as an export's chunks (PROTOCOL.md 14.1): a field twice,
    // a wrong wire type or an unknown field is bytes nobody checks.
    proto::StrictOptions strict;
    strict.allow_unknown_fields = false;
    if (Status s = proto::ParseStrict(text, &msg, strict); !s.ok())
      return InvalidArgument("checkpoint file " + path +
                             " is not a keiretsu.v1.Checkpoint (binary or JSON): " + s.message());
  }
  auto b = [](const std::string& s) { return Bytes(s.begin(), s.end()); };
  return CheckpointItem{b(msg.statement()), b(msg.signer()), b(msg.signature())};
}

void Auditor::VerifyCheckpoints() {
  for (CheckpointInput& in : checkpoint_inputs_) {
    CheckpointReport rep;
    rep.source = in.source;
    const CheckpointItem& c = in.item;
    Result<protocol::Checkpoint> v = InvalidArgument(
        "checkpoint signer is " + std::to_string(c.signer.size()) + " bytes, not a 32-byte key");
    if (c.signer.size() == 32) {
      std::copy(c.signer.begin(), c.signer.end(), rep.signer.bytes.begin());
      v = protocol::VerifyCheckpoint(c.statement, rep.signer, c.signature, *genesis_);
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

void Auditor::WantCheckpointClaims() {
  for (const Verified& v : verified_)
    for (const auto& claim : v.cp.feeds) {
      auto it = feeds_.find(claim.author);
      if (it == feeds_.end()) continue;
      FeedAudit& f = it->second;
      if (claim.effective_seq >= 1 && claim.effective_seq < f.head) f.wanted[claim.effective_seq];
    }
}

void Auditor::CheckSeal(const protocol::Checkpoint& seal, CheckpointReport& rep) {
  bool ok = true;
  if (seal.time_ms != header_.exported_at_ms) {
    ok = false;
    AddIssue(Severity::kProblem, "seal-mismatch", std::nullopt, 0, 0,
             "the export's checkpoint is dated " + std::to_string(seal.time_ms) +
                 " ms but its header says it was exported at " +
                 std::to_string(header_.exported_at_ms) + " ms");
  }
  // Every feed either side names, compared claim by claim, so a difference
  // is reported against the feed and seq it concerns.
  std::set<PublicKey> authors;
  for (const auto& c : seal.feeds) authors.insert(c.author);
  for (const auto& [a, f] : feeds_)
    if (f.effective != 0 || f.stop != 0) authors.insert(a);
  for (const PublicKey& a : authors) {
    const protocol::FeedHeadSummary* claim = seal.Find(a);
    protocol::FeedHeadSummary none{a, 0, {}, 0};
    const protocol::FeedHeadSummary& c = claim ? *claim : none;
    auto it = feeds_.find(a);
    protocol::FeedHeadSummary ours{a, 0, {}, 0};
    if (it != feeds_.end())
      ours = {a, it->second.effective, it->second.effective_id, it->second.stop};
    if (c.effective_seq == ours.effective_seq && c.effective_id == ours.effective_id &&
        c.stop_seq == ours.stop_seq)
      continue;
    ok = false;
    uint64_t seq = c.effective_seq > ours.effective_seq   ? ours.effective_seq + 1
                   : c.effective_seq < ours.effective_seq ? c.effective_seq + 1
                                                          : c.effective_seq;
    std::string why =
        c.effective_seq > ours.effective_seq
            ? "entries from seq " + std::to_string(seq) + " are missing from the export"
        : c.effective_seq < ours.effective_seq
            ? "the export holds effective entries its checkpoint does not"
        : c.effective_id != ours.effective_id ? "the export's entry at that seq is another one"
                                              : "the stop differs";
    if (c.stop_seq != ours.stop_seq && c.effective_seq == ours.effective_seq &&
        c.effective_id == ours.effective_id)
      seq = c.stop_seq != 0 ? c.stop_seq : ours.stop_seq;
    AddIssue(Severity::kProblem, "seal-mismatch", a, seq, 0,
             "the export's own checkpoint says " + Name(a) + "'s feed has " + Claim(c) +
                 "; the audit finds " + Claim(ours) + ": " + why);
  }
  rep.matches = seal.state_digest == report_->state_digest;
  if (ok && !rep.matches)
    AddIssue(Severity::kProblem, "seal-mismatch", std::nullopt, 0, 0,
             "the export's checkpoint digest differs from the audit's");
  report_->sealed = ok && rep.matches;
}

void Auditor::ConcludeSeal(bool live_digest_matches) {
  if (seal_found_) return;
  if (live_digest_matches) {
    report_->sealed = true;  // the live node holds exactly what was audited
    return;
  }
  std::string msg =
      "the export carries no verified checkpoint by its exporter (" +
      (header_.exported_by.empty() ? std::string("none named") : header_.exported_by) +
      "), so entries cut from its end would go unnoticed; export it with a checkpoint";
  if (options_.allow_unsealed)
    AddIssue(Severity::kWarning, "unsealed", std::nullopt, 0, 0, msg);
  else
    AddIssue(Severity::kProblem, "unsealed", std::nullopt, 0, 0,
             msg + " (or pass --allow-unsealed)");
}

// The header names the exporter by its firm key; after a rotation a node
// may name its key in force instead, which the firm's chain links to it.
bool Auditor::IsExporter(const PublicKey& firm) const {
  if (firm.Hex() == header_.exported_by) return true;
  auto chain = v2_keys_.find(firm);
  return chain != v2_keys_.end() &&
         std::any_of(chain->second.begin(), chain->second.end(), [&](const protocol::KeySpan& k) {
           return k.key.Hex() == header_.exported_by;
         });
}

void Auditor::CompareCheckpoints(bool export_input) {
  const Verified* seal = nullptr;
  for (const Verified& v : verified_) {
    CheckpointReport& rep = report_->checkpoints[v.report_index];
    rep.matches = v.cp.state_digest == report_->state_digest;
    if (export_input && v.input.chunk != 0 && have_header_ && IsExporter(v.cp.signer) &&
        seal == nullptr) {
      seal = &v;
      rep.seal = true;
    }
  }
  if (seal != nullptr) CheckSeal(seal->cp, report_->checkpoints[seal->report_index]);
  seal_found_ = seal != nullptr;
  // Every other checkpoint: its claims against the entries the audit holds.
  for (const Verified& v : verified_) {
    if (&v == seal) continue;
    const std::string who = Name(v.cp.signer);
    for (const auto& claim : v.cp.feeds) {
      auto it = feeds_.find(claim.author);
      uint64_t head = it == feeds_.end() ? 0 : it->second.head;
      if (claim.effective_seq == 0) continue;
      if (claim.effective_seq > head) {
        AddIssue(Severity::kWarning, "checkpoint-ahead", claim.author, claim.effective_seq,
                 v.input.chunk,
                 who + "'s checkpoint (" + v.input.source + ") knows " + Name(claim.author) +
                     "'s feed through seq " + std::to_string(claim.effective_seq) +
                     "; the audited input holds it through seq " + std::to_string(head));
        continue;
      }
      auto ours = IdAt(it->second, claim.effective_seq);
      if (!ours || *ours == claim.effective_id) continue;
      std::vector<std::string> ev{Hex(v.input.item.statement), Hex(v.input.item.signature)};
      if (auto rec = RecordAt(it->second, claim.effective_seq)) ev.push_back(Hex(*rec));
      AddIssue(Severity::kDisagreement, "checkpoint-contradicts", claim.author, claim.effective_seq,
               v.input.chunk,
               who + " signed (" + v.input.source + ") that " + Name(claim.author) +
                   "'s entry seq " + std::to_string(claim.effective_seq) + " is " +
                   claim.effective_id.Short() +
                   ", but the entry the author signed at that seq "
                   "here is " +
                   ours->Short(),
               std::move(ev));
    }
  }
  FindSplitViews();
}

// Two checkpoints whose claims about one feed cannot both be true: equal
// effective seqs with different ids, or one contradicting the audited chain
// at its seq while the other's later claim is that very chain's.
void Auditor::FindSplitViews() {
  for (size_t i = 0; i < verified_.size(); ++i)
    for (size_t j = i + 1; j < verified_.size(); ++j) {
      const Verified& x = verified_[i];
      const Verified& y = verified_[j];
      if (x.cp.signer == y.cp.signer && x.cp.time_ms == y.cp.time_ms) continue;
      for (const auto& cx : x.cp.feeds) {
        const protocol::FeedHeadSummary* cy = y.cp.Find(cx.author);
        if (cy == nullptr || cx.effective_seq == 0 || cy->effective_seq == 0) continue;
        auto it = feeds_.find(cx.author);
        std::string why;
        uint64_t seq = 0;
        if (cx.effective_seq == cy->effective_seq && cx.effective_id != cy->effective_id) {
          seq = cx.effective_seq;
          why = "both claim seq " + std::to_string(seq) + " with different ids (" +
                cx.effective_id.Short() + " vs " + cy->effective_id.Short() + ")";
        } else if (it != feeds_.end() && cx.effective_seq != cy->effective_seq) {
          const auto& lo = cx.effective_seq < cy->effective_seq ? cx : *cy;
          const auto& hi = cx.effective_seq < cy->effective_seq ? *cy : cx;
          auto id_lo = IdAt(it->second, lo.effective_seq);
          auto id_hi = IdAt(it->second, hi.effective_seq);
          // hi's id commits to the whole chain below it, which the audited
          // entries show; lo's claim contradicts that chain.
          if (id_lo && id_hi && *id_hi == hi.effective_id && *id_lo != lo.effective_id) {
            seq = lo.effective_seq;
            why = "one claims seq " + std::to_string(lo.effective_seq) + " is " +
                  lo.effective_id.Short() + ", the other's seq " +
                  std::to_string(hi.effective_seq) + " chains to " + id_lo->Short() + " there";
          }
        }
        if (seq == 0) continue;
        std::vector<std::string> ev{Hex(x.input.item.statement), Hex(x.input.item.signature),
                                    Hex(y.input.item.statement), Hex(y.input.item.signature)};
        if (it != feeds_.end())
          if (auto rec = RecordAt(it->second, seq)) ev.push_back(Hex(*rec));
        AddIssue(Severity::kDisagreement, "split-view", cx.author, seq, 0,
                 "split view of " + Name(cx.author) + "'s feed: checkpoints by " +
                     Name(x.cp.signer) + " (" + x.input.source + ") and " + Name(y.cp.signer) +
                     " (" + y.input.source + ") cannot both be true: " + why,
                 std::move(ev));
      }
    }
}

}  // namespace keiretsu::audit
