// The auditor: verifies an export file or a node's data directory from
// scratch and trusts nothing the exporting node says (docs/audit.md).
//
// It checks every record (network, membership, signature, body rules), each
// feed's seq and hash chain, fork and invalid-entry evidence, applies the
// fork and invalid-entry rules exactly as the ledger does, recomputes every
// balance and the state digest, and compares them with signed checkpoints
// (in the export or given) and optionally a live node. Memory stays bounded
// whatever the input's size: per-feed state, the balance sums and a batch
// of records, never the whole input. Signatures are checked in parallel.
//
// Exit status (Report::exit_code, Run):
//   0  everything verifies; findings (correctly evidenced forks and ended
//      feeds) may be present.
//   1  the input fails verification: a problem (bad signature, broken
//      chain, missing or spliced entries, evidence that does not verify, a
//      checkpoint that does not verify, an export that contradicts its own
//      checkpoint or carries none, a data directory whose stored state
//      differs from its entries).
//   2  the audit could not be run or finished (unreadable input, data
//      directory in use, no genesis, live node unreachable).
//   3  the input verifies, but another signed or live view disagrees with
//      it: a split view between checkpoints, a checkpoint contradicting the
//      export's entries, a live node with another digest or balances.
// When several apply, the lowest non-zero code wins.
//
// Thread-safety: Audit and Run may be called from several threads at once
// (each call has its own state); a SignatureCache is itself thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/protocol/balance.h"

namespace keiretsu::audit {

inline constexpr int kExitVerified = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitError = 2;
inline constexpr int kExitDisagreement = 3;

// Remembers records whose signature verified, by BLAKE2b-256 of the exact
// record bytes, so auditing many near-identical inputs (repeated audits,
// tamper tests) verifies each distinct record once. A record that differs
// in any byte is verified afresh. At most `capacity` ids are kept (the cache
// empties when full). Thread-safe.
class SignatureCache {
 public:
  explicit SignatureCache(size_t capacity = 1 << 20);
  ~SignatureCache();
  SignatureCache(const SignatureCache&) = delete;
  SignatureCache& operator=(const SignatureCache&) = delete;
  struct Impl;

 private:
  friend class Verifier;
  std::unique_ptr<Impl> impl_;
};

struct Options {
  // An export file (docs/audit.md "Export file format") or a data directory.
  std::string input;
  // Genesis (canonical bytes or TOML). Required for a data directory; for an
  // export, when given, the export's genesis must equal it.
  std::string genesis_file;
  // Checkpoint files (a serialized keiretsu.v1.Checkpoint, binary or its
  // protobuf JSON form) to verify and compare.
  std::vector<std::string> checkpoint_files;
  // A live node (host:port) to compare digest, heads and every firm's
  // balances with; empty: none. `token` is its API bearer token.
  std::string against;
  std::string token;
  bool tls = false;         // TLS to the live node
  std::string tls_ca_file;  // PEM roots for TLS; empty: the system's
  // Accept an export that carries no checkpoint by its exporter (then a cut
  // at a chunk boundary cannot be detected; reported as a warning).
  bool allow_unsealed = false;
  unsigned threads = 0;  // signature-checking threads; 0: one per core
  // Progress lines ("entries verified, rate") go here every
  // progress_interval; nullptr: none.
  std::ostream* progress = nullptr;
  std::chrono::milliseconds progress_interval{2000};
  // Optional; see SignatureCache.
  std::shared_ptr<SignatureCache> signature_cache;
  bool json = false;  // Run: the report as JSON instead of text
};

// kLeft and kRemoved only under protocol v2 rules (a leave entry; a
// passed removal).
enum class FeedStatus { kOpen, kForked, kEnded, kLeft, kRemoved };
// "open" | "forked" | "ended" | "left" | "removed"
std::string_view FeedStatusName(FeedStatus s);

struct FeedReport {
  PublicKey author;
  std::string name;       // member name; "" for a non-member
  uint64_t head_seq = 0;  // entries 1..head_seq verified and chained
  EntryId head_id;
  uint64_t effective_seq = 0;
  EntryId effective_id;
  uint64_t stop_seq = 0;  // 0: open
  FeedStatus status = FeedStatus::kOpen;
  // Protocol v2 only: the seq of its leave (0: none), and the last seq that
  // counts when removed (0: not removed).
  uint64_t left_seq = 0;
  uint64_t last_seq = 0;
};

// Protocol v2: the membership history the audit recomputed from the epoch
// chain and every key chain (docs/PROTOCOL.md 19; docs/audit.md).
struct KeyReport {
  uint64_t from_seq = 1;  // in force from this seq (a rotation's own seq)
  PublicKey key;
  Digest next_key_digest;  // what this key commits to; zero: no next key
  EntryId rotation;        // the rotate entry; zero for the inception key
};
struct MemberReport {
  PublicKey id;
  std::string name;
  uint64_t since_epoch = 0;
  bool removed = false;
  uint64_t removed_in_epoch = 0;
  uint64_t last_seq = 0;        // when removed
  uint64_t left_seq = 0;        // seq of its leave; 0: none
  std::vector<KeyReport> keys;  // its key chain, the inception key first
};
struct EpochReport {
  uint64_t number = 0;
  Digest hash;
  uint16_t threshold = 0;
  size_t active = 0;  // active members
  // The proposal that made this epoch (zero and "genesis" for epoch 0).
  EntryId passed;
  std::string action;  // "genesis" | "admit" | "remove" | "set-threshold"
  PublicKey proposer;
  uint64_t round = 0;
  PublicKey subject;  // admit: the firm admitted; remove: the firm removed
  std::string subject_name;
  uint64_t last_seq = 0;  // remove
  uint32_t supporters = 0;
};
struct ProposalReport {
  EntryId id;
  PublicKey author;
  uint64_t seq = 0;
  std::optional<uint64_t> epoch;  // the epoch whose hash it names, if any
  uint32_t round = 0;
  std::string action;
  uint16_t threshold = 0;
  PublicKey subject;  // admit / remove; zero for set-threshold
  std::string subject_name;
  std::string state;  // "pending" | "passed" | "failed" | "void"
  uint32_t supporters = 0;
  std::string why;
};
struct GovernanceReport {
  std::vector<EpochReport> epochs;        // from epoch 0
  std::vector<MemberReport> members;      // everyone ever a member, by id
  std::vector<ProposalReport> proposals;  // by epoch, round, id
  // Firms never admitted whose records the input holds: they count nothing.
  std::vector<std::pair<PublicKey, uint64_t>> pending_authors;  // (firm, records)
};

// Protocol v2: one consent-based clearing proposal (docs/PROTOCOL.md 20)
// found in a counted prefix, as protocol::DecideClearing decided it.
struct ClearingLegReport {
  PublicKey debtor;
  PublicKey creditor;
  uint64_t amount = 0;
};
struct ClearingProposalReport {
  EntryId id;
  PublicKey proposer;
  uint64_t seq = 0;  // in the proposer's feed
  std::string unit;
  uint64_t expiry_ms = 0;  // author time
  // false when void: a named head is not in its feed, or a leg exceeds
  // what is owed at the named heads (20.3).
  bool valid = true;
  std::string state;  // "pending" | "committed" | "rejected" | "expired" | "void"
  std::vector<ClearingLegReport> legs;
  // Per participant, in the proposal's order: "undecided" | "accepted" |
  // "rejected" | "lapsed".
  std::vector<std::pair<PublicKey, std::string>> stances;
};
struct ClearingReport {
  std::vector<ClearingProposalReport> proposals;  // by proposer, then seq
  // Per unit: the sum of every committed leg's amount (the debt set off).
  std::vector<std::pair<std::string, protocol::Amount128>> cleared;
};

struct BalanceRow {
  PublicKey firm;
  PublicKey counterparty;
  std::string unit;
  protocol::Amount128 net = 0;  // > 0: counterparty owes firm
  friend bool operator==(const BalanceRow&, const BalanceRow&) = default;
};

enum class Severity {
  kProblem,       // the input fails verification (exit 1)
  kError,         // the audit could not finish something (exit 2)
  kDisagreement,  // another view disagrees (exit 3)
  kFinding,       // a correctly evidenced fork or ended feed: reported, exit 0
  kWarning,       // worth a look; does not change the exit status
};
std::string_view SeverityName(Severity s);

struct Issue {
  Severity severity = Severity::kProblem;
  std::string kind;                   // stable token, e.g. "bad-signature", "missing", "fork"
  std::optional<PublicKey> author;    // the feed concerned, when one is
  uint64_t seq = 0;                   // the entry concerned; 0: none
  uint64_t chunk = 0;                 // 1-based export chunk; 0: none
  std::string message;                // one line for people
  std::vector<std::string> evidence;  // hex of the signed bytes that prove it
};

// A checkpoint the audit looked at.
struct CheckpointReport {
  std::string source;     // "export chunk 312" or a file path
  bool verified = false;  // signature, network, members, digest consistency
  std::string error;      // why not, when !verified
  PublicKey signer;
  uint64_t time_ms = 0;
  Digest state_digest;
  bool seal = false;     // the exporter's own checkpoint in the export
  bool matches = false;  // digest equals the audit's
};

struct LiveReport {
  std::string address;
  Digest state_digest;
  bool digest_matches = false;
  uint64_t balances_compared = 0;  // rows
  uint64_t balance_differences = 0;
};

struct Report {
  std::string input;
  std::string input_kind;   // "export" | "data-dir"
  std::string exported_by;  // export header, as written
  uint64_t exported_at_ms = 0;
  bool network_known = false;  // false when no genesis could be read
  NetworkId network;
  std::string network_name;
  std::vector<std::pair<std::string, PublicKey>> members;  // sorted by key
  // 1: the v1 rules (a v1 genesis and no entry of kinds 6-9); 2: the v2
  // rules of docs/PROTOCOL.md 19 (a v2 genesis, or governance entries).
  int protocol_rules = 1;
  std::optional<GovernanceReport> governance;  // protocol_rules == 2
  std::optional<ClearingReport> clearing;      // protocol_rules == 2
  uint64_t chunks = 0;                         // export chunks read (first pass)
  uint64_t entries_checked = 0;                // entry records whose checks ran (first pass)
  uint64_t evidence = 0;
  double seconds = 0;
  std::vector<FeedReport> feeds;     // by author
  std::vector<BalanceRow> balances;  // every non-zero position, by firm, counterparty, unit
  Digest state_digest;
  bool sealed = false;  // completeness proven: matching seal, or live digest equal
  std::vector<CheckpointReport> checkpoints;
  std::optional<LiveReport> live;
  std::vector<Issue> issues;    // at most kMaxIssues
  uint64_t issues_omitted = 0;  // beyond kMaxIssues (still counted in exit_code)
  bool any_problem = false, any_error = false, any_disagreement = false;

  static constexpr size_t kMaxIssues = 1000;

  // `firm`'s non-zero positions, by counterparty then unit: the shape of a
  // node's ListBalances(firm).
  std::vector<BalanceRow> BalancesOf(const PublicKey& firm) const;
  int exit_code() const;
  size_t Count(Severity s) const;  // among `issues`
};

// Audits options.input (file or directory). Only running the audit at all
// can fail here (no input, no genesis for a data directory, directory in
// use: kNotFound, kInvalidArgument, kFailedPrecondition, kIOError); every
// verification result is in the Report.
Result<Report> Audit(const Options& options);

// Audits an export held in `in`, which must be seekable (a file or a string
// stream): feeds stopped by a fork are read twice. options.input is only
// used as the report's label.
Result<Report> AuditExport(std::istream& in, const Options& options);

void WriteTextReport(const Report& report, std::ostream& out);
void WriteJsonReport(const Report& report, std::ostream& out);

// The `keiretsu audit` command: Audit, write the report (text or JSON) to
// `out`, return the exit status. An audit that cannot run writes one error
// line (or {"error": ...}) and returns kExitError.
int Run(const Options& options, std::ostream& out);

}  // namespace keiretsu::audit
