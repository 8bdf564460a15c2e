// Private: one audit run. The passes, in order:
//
//   ReadHeader  the export's header: genesis, exporter (exports only)
//   Pass1       every chunk once: records checked in parallel batches, then
//               in input order: per feed, seq from 1 and the hash chain;
//               each chained entry's balance effect is added. Evidence is
//               verified as it comes; checkpoints are collected.
//   Settle      evidence against the feeds, checkpoint signatures, and what
//               the second pass must look up
//   Pass2       only feeds that stopped below their head or whose ids at
//               some seq are needed: re-read from where their entries
//               begin, re-verified, undoing the effects of entries at and
//               after the stop (the fork rule) and noting the ids wanted
//   Finish      effective heads, digest, balances, the seal and the
//               checkpoint comparisons, into the Report
//
// Memory: per-feed state (a few ids, the head record, its proofs), the
// balance sums and one batch of records; never the input as a whole.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "keiretsu/audit/audit.h"
#include "keiretsu/protocol/checkpoint.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/genesis.h"
#include "tools/audit/src/source.h"
#include "tools/audit/src/verifier.h"

namespace keiretsu::audit {

// Verified evidence that a feed stops at `seq`.
struct Proof {
  uint64_t seq = 0;
  bool fork = false;  // else: an invalid entry
  EntryId a, b;       // fork: both ids (a < b); invalid: the entry's id in a
  EntryId prev;       // invalid: the prev the entry names
  Bytes record_a, record_b;
  uint64_t chunk = 0;
  bool declared = true;  // false: found among the entries, not as evidence
};

struct FeedAudit {
  PublicKey author;
  uint64_t head = 0;  // entries 1..head verified and chained
  EntryId head_id;
  Bytes head_record;
  uint64_t records = 0;    // entry chunks of this feed
  uint64_t broken_at = 0;  // 0: chain intact; else the seq where it broke
  uint64_t max_seen = 0;   // highest seq listed (for out-of-order reports)
  bool run_started = false;
  Position run_start;  // where its entries begin, for the second pass
  std::vector<Proof> proofs;
  uint64_t stop = 0;  // lowest proven stop; 0: open
  bool stop_is_fork = false;
  // Seqs whose id (and record) the later checks need, filled by Pass2.
  std::map<uint64_t, std::optional<std::pair<EntryId, Bytes>>> wanted;
  bool undo = false;       // Pass2 must undo effects from `stop` on
  uint64_t effective = 0;  // set by Finish
  EntryId effective_id;
};

struct CheckpointInput {
  CheckpointItem item;
  std::string source;  // "export chunk N" or the file's path
  uint64_t chunk = 0;  // 0: from a file
};

// Reads a checkpoint file: a serialized keiretsu.v1.Checkpoint, binary or
// its protobuf JSON form. Errors: kNotFound/kIOError (unreadable),
// kInvalidArgument (not a Checkpoint message).
Result<CheckpointItem> LoadCheckpointFile(const std::string& path);

class Auditor {
 public:
  // `given` is the --genesis document, if any. Report must outlive this.
  Auditor(const Options& options, Report* report, std::optional<protocol::Genesis> given);
  ~Auditor();

  void AddCheckpointInput(CheckpointInput in) { checkpoint_inputs_.push_back(std::move(in)); }

  // Export only: reads and checks the first chunk. False when no genesis is
  // known afterwards (nothing can be verified; the report says why).
  bool ReadHeader(Source& src);
  // Data directory: the genesis is the given one. REQUIRES: given.
  void UseGivenGenesis();

  void Pass1(Source& src);
  void Settle();
  void Pass2(Source& src);
  void Finish(bool export_input);
  // Exports: reports an export that no checkpoint of its exporter seals,
  // unless a live node's digest equals the audit's. After Finish.
  void ConcludeSeal(bool live_digest_matches);

  // Protocol v2 (v2.cc). Whether the input needs the v2 rules: a v2
  // genesis, or an entry of kinds 6-9 (found by reading the input once
  // without checking anything, then seeking back).
  bool NeedsV2(Source& src);
  // The whole audit under the v2 rules, instead of Pass1..Finish: reads
  // every item, holds the records in memory (the v2 outcome is a function
  // of the set: docs/PROTOCOL.md 19), recomputes everything with
  // protocol::RecomputeLedger and fills the report, membership history
  // included.
  void RunV2(Source& src, bool export_input);

  const protocol::Genesis& genesis() const { return *genesis_; }
  const std::map<PublicKey, FeedAudit>& feeds() const { return feeds_; }

  // Adds an issue to the report (bounded by Report::kMaxIssues).
  void AddIssue(Severity severity, std::string kind, std::optional<PublicKey> author, uint64_t seq,
                uint64_t chunk, std::string message, std::vector<std::string> evidence = {});
  // "firm2 (1a2b3c4d)" or "1a2b3c4d" for a non-member.
  std::string Name(const PublicKey& key) const;

 private:
  enum class Section { kHeader, kEntries, kEvidence, kCheckpoints };
  struct Slot {
    Position pos;
    Item item;
  };

  // Reads up to a batch of items and checks their records in parallel.
  // Returns false at the end of the input (or after a read error, which is
  // stored in read_error_).
  bool ReadBatch(Source& src, std::vector<Slot>* batch, std::vector<protocol::RecordCheck>* checks);
  // Reads up to a batch of items, unchecked (same return as ReadBatch).
  bool ReadSlots(Source& src, std::vector<Slot>* batch);
  // A batch's items with the records the verifier checks (auditor.cc);
  // ReadBatch and Pass1's pipeline both go through it.
  struct Pending;

  void Handle(const Slot& slot, const protocol::RecordCheck& check);
  void HandleHeader(const Item& item);
  void HandleEntry(const Slot& slot, const protocol::RecordCheck& check);
  void HandleEvidence(const Item& item);
  void HandleFork(const Item& item, const PublicKey& author);
  void HandleInvalid(const Item& item, const PublicKey& author);
  void EnterSection(Section s, uint64_t chunk);
  void AddProof(FeedAudit& f, Proof p);
  void AddEffect(const protocol::Entry& entry, int sign);
  // Which feed and seq to name for a record that could not be verified.
  std::tuple<std::optional<PublicKey>, uint64_t, std::string> Locate(
      std::optional<std::pair<PublicKey, uint64_t>> claimed) const;
  void Progress(bool force);
  FeedAudit& Feed(const PublicKey& author);

  // Checkpoints (checkpoints.cc).
  void VerifyCheckpoints();
  void WantCheckpointClaims();
  void CompareCheckpoints(bool export_input);
  void CheckSeal(const protocol::Checkpoint& seal, CheckpointReport& rep);
  void FindSplitViews();
  bool IsExporter(const PublicKey& firm) const;
  std::optional<EntryId> IdAt(const FeedAudit& f, uint64_t seq) const;
  void VerifyCheckpointsV2();
  std::optional<Bytes> RecordAt(const FeedAudit& f, uint64_t seq) const;

  const Options& options_;
  Report* report_;
  std::optional<protocol::Genesis> given_;
  std::optional<protocol::Genesis> genesis_;
  std::unique_ptr<Verifier> verifier_;
  HeaderItem header_;
  bool have_header_ = false;

  Section section_ = Section::kHeader;
  std::optional<PublicKey> current_run_;
  std::map<PublicKey, FeedAudit> feeds_;
  size_t proofs_kept_ = 0;
  // net(firm, counterparty, unit), both directions, as the store keeps it.
  std::map<std::tuple<PublicKey, PublicKey, std::string>, protocol::Amount128> sums_;

  std::vector<CheckpointInput> checkpoint_inputs_;
  struct Verified {
    size_t report_index;  // into report_->checkpoints
    protocol::Checkpoint cp;
    CheckpointInput input;
  };
  std::vector<Verified> verified_;
  bool seal_found_ = false;
  // v2: names of every firm ever a member (Name() looks here first), each
  // one's key chain and the epoch chain (checkpoint verification).
  std::map<PublicKey, std::string> v2_names_;
  std::map<PublicKey, std::vector<protocol::KeySpan>> v2_keys_;
  std::vector<protocol::Epoch> v2_epochs_;

  Status read_error_;
  uint64_t read_error_chunk_ = 0;
  std::chrono::steady_clock::time_point started_, last_progress_;
  uint64_t progress_entries_ = 0;
};

}  // namespace keiretsu::audit
