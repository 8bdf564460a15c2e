// The audit report for people (text) and for programs (JSON); the fields
// are described in docs/audit.md "Reading the report".
#include <time.h>

#include <algorithm>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "keiretsu/audit/audit.h"

namespace keiretsu::audit {
namespace {

// Above this many firms the balance matrix would not fit a screen; the
// report lists the non-zero positions instead.
constexpr size_t kMaxMatrixFirms = 10;

std::string Utc(uint64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Label(const Report& r, const PublicKey& key) {
  for (const auto& [name, k] : r.members)
    if (k == key) return name + " (" + key.Short() + ")";
  return key.Short() + " (not a member)";
}
std::string ShortName(const Report& r, const PublicKey& key) {
  for (const auto& [name, k] : r.members)
    if (k == key) return name;
  return key.Short();
}

std::string Verdict(const Report& r) {
  std::ostringstream s;
  switch (r.exit_code()) {
    case kExitVerified: s << "VERIFIED"; break;
    case kExitFailed: s << "FAILED: the input does not verify"; break;
    case kExitError: s << "INCOMPLETE: part of the audit could not run"; break;
    case kExitDisagreement:
      s << "VERIFIED, BUT DISPUTED: another signed or live view disagrees";
      break;
  }
  s << " (exit " << r.exit_code() << ")";
  return s.str();
}

void Matrix(const Report& r, std::ostream& out) {
  std::set<std::string> units;
  for (const BalanceRow& b : r.balances) units.insert(b.unit);
  if (units.empty()) {
    out << "  (no debts)\n";
    return;
  }
  if (r.members.size() > kMaxMatrixFirms) {
    for (const BalanceRow& b : r.balances)
      if (b.net > 0)  // each position once: from the creditor's side
        out << "  " << ShortName(r, b.counterparty) << " owes " << ShortName(r, b.firm) << " "
            << protocol::AmountToString(b.net) << " " << b.unit << "\n";
    return;
  }
  std::map<std::tuple<PublicKey, PublicKey, std::string>, protocol::Amount128> net;
  for (const BalanceRow& b : r.balances) net[{b.firm, b.counterparty, b.unit}] = b.net;
  for (const std::string& unit : units) {
    out << "  [" << unit << "]  row firm's net position with the column firm (+: the column "
        << "firm owes the row firm)\n";
    size_t w = 6;
    for (const auto& [name, k] : r.members) w = std::max(w, name.size());
    for (const BalanceRow& b : r.balances) w = std::max(w, protocol::AmountToString(b.net).size());
    out << "  " << std::setw(static_cast<int>(w)) << "";
    for (const auto& [name, k] : r.members) out << "  " << std::setw(static_cast<int>(w)) << name;
    out << "\n";
    for (const auto& [row_name, row] : r.members) {
      out << "  " << std::left << std::setw(static_cast<int>(w)) << row_name << std::right;
      for (const auto& [col_name, col] : r.members) {
        auto it = net.find({row, col, unit});
        std::string cell = row == col        ? "-"
                           : it == net.end() ? "0"
                                             : protocol::AmountToString(it->second);
        out << "  " << std::setw(static_cast<int>(w)) << cell;
      }
      out << "\n";
    }
  }
}

void Issues(const Report& r, Severity sev, const char* title, std::ostream& out) {
  size_t n = r.Count(sev);
  if (n == 0) return;
  out << "\n" << title << " (" << n << ")\n";
  for (const Issue& i : r.issues) {
    if (i.severity != sev) continue;
    out << "  " << std::left << std::setw(22) << i.kind << std::right;
    if (i.author) out << " " << Label(r, *i.author);
    if (i.seq) out << " seq " << i.seq;
    if (i.chunk) out << " [chunk " << i.chunk << "]";
    out << "\n      " << i.message << "\n";
  }
}

// JSON helpers: strings escaped per RFC 8259; amounts as decimal strings.
std::string Q(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      o.push_back('\\');
      o.push_back(c);
    } else if (u >= 0x80) {
      o.push_back('?');  // messages are ASCII; anything else came from the input
    } else if (u < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", u);
      o += buf;
    } else {
      o.push_back(c);
    }
  }
  return o + "\"";
}

std::string Name(const Report& r, const PublicKey& k) {
  for (const auto& [name, key] : r.members)
    if (key == k) return name;
  return "";
}

std::string KeyName(const Report& r, const PublicKey& k) {
  std::string n = Name(r, k);
  return n.empty() ? k.Short() : n;
}

// Protocol v2: the epoch chain, each member's history and key chain, and
// the proposals (docs/audit.md "Membership history").
void Membership(const Report& r, const GovernanceReport& g, std::ostream& out) {
  out << "\nEpochs (protocol v2 rules)\n";
  for (const EpochReport& e : g.epochs) {
    out << "  epoch " << e.number << "  " << e.hash.Short() << "  threshold " << e.threshold
        << " of " << e.active << "  ";
    if (e.number == 0) {
      out << "genesis\n";
      continue;
    }
    out << e.action;
    if (e.action != "set-threshold")
      out << " " << (e.subject_name.empty() ? e.subject.Short() : e.subject_name);
    if (e.action == "remove") out << " (entries after seq " << e.last_seq << " count nothing)";
    out << "; proposal " << e.passed.Short() << " by " << KeyName(r, e.proposer) << ", round "
        << e.round << ", " << e.supporters << " votes\n";
  }
  out << "\nMembers\n";
  for (const MemberReport& m : g.members) {
    out << "  " << std::left << std::setw(20) << m.name << std::right << m.id.Short()
        << "  since epoch " << m.since_epoch;
    if (m.removed) out << ", removed in epoch " << m.removed_in_epoch << " at seq " << m.last_seq;
    if (m.left_seq) out << ", left at seq " << m.left_seq;
    out << "\n";
    for (const KeyReport& k : m.keys) {
      out << "      key " << k.key.Short() << " from seq " << k.from_seq;
      if (!k.rotation.IsZero()) out << " (rotation " << k.rotation.Short() << ")";
      out << (k.next_key_digest.IsZero() ? ", commits to no next key" : "") << "\n";
    }
  }
  if (!g.proposals.empty()) {
    out << "\nProposals\n";
    for (const ProposalReport& p : g.proposals) {
      out << "  " << p.id.Short() << "  " << std::left << std::setw(8) << p.state << std::right
          << " epoch " << (p.epoch ? std::to_string(*p.epoch) : std::string("?")) << " round "
          << p.round << "  " << p.action;
      if (p.action != "set-threshold")
        out << " " << (p.subject_name.empty() ? p.subject.Short() : p.subject_name);
      out << ", threshold " << p.threshold << ", by " << KeyName(r, p.author) << " seq " << p.seq
          << ", " << p.supporters << " votes";
      if (!p.why.empty()) out << " (" << p.why << ")";
      out << "\n";
    }
  }
  for (const auto& [firm, n] : g.pending_authors)
    out << "  never admitted: " << firm.Short() << " (" << n << " records, counted nothing)\n";
}

void JsonGovernance(const GovernanceReport& g, std::ostream& out) {
  out << "{\"epochs\": [";
  for (size_t i = 0; i < g.epochs.size(); ++i) {
    const EpochReport& e = g.epochs[i];
    out << (i ? ",\n   " : "\n   ") << "{\"number\": " << e.number
        << ", \"hash\": " << Q(e.hash.Hex()) << ", \"threshold\": " << e.threshold
        << ", \"active\": " << e.active << ", \"action\": " << Q(e.action)
        << ", \"passed\": " << Q(e.passed.Hex())
        << ", \"proposer\": " << Q(e.number ? e.proposer.Hex() : "") << ", \"round\": " << e.round
        << ", \"supporters\": " << e.supporters << ", \"subject\": "
        << Q(e.action == "admit" || e.action == "remove" ? e.subject.Hex() : "")
        << ", \"subject_name\": " << Q(e.subject_name) << ", \"last_seq\": " << e.last_seq << "}";
  }
  out << "],\n  \"members\": [";
  for (size_t i = 0; i < g.members.size(); ++i) {
    const MemberReport& m = g.members[i];
    out << (i ? ",\n   " : "\n   ") << "{\"firm\": " << Q(m.id.Hex()) << ", \"name\": " << Q(m.name)
        << ", \"since_epoch\": " << m.since_epoch
        << ", \"removed\": " << (m.removed ? "true" : "false")
        << ", \"removed_in_epoch\": " << m.removed_in_epoch << ", \"last_seq\": " << m.last_seq
        << ", \"left_seq\": " << m.left_seq << ", \"keys\": [";
    for (size_t k = 0; k < m.keys.size(); ++k)
      out << (k ? ", " : "") << "{\"from_seq\": " << m.keys[k].from_seq
          << ", \"key\": " << Q(m.keys[k].key.Hex())
          << ", \"next_key_digest\": " << Q(m.keys[k].next_key_digest.Hex())
          << ", \"rotation\": " << Q(m.keys[k].rotation.IsZero() ? "" : m.keys[k].rotation.Hex())
          << "}";
    out << "]}";
  }
  out << "],\n  \"proposals\": [";
  for (size_t i = 0; i < g.proposals.size(); ++i) {
    const ProposalReport& p = g.proposals[i];
    out << (i ? ",\n   " : "\n   ") << "{\"id\": " << Q(p.id.Hex())
        << ", \"author\": " << Q(p.author.Hex()) << ", \"seq\": " << p.seq
        << ", \"epoch\": " << (p.epoch ? std::to_string(*p.epoch) : "null")
        << ", \"round\": " << p.round << ", \"action\": " << Q(p.action)
        << ", \"threshold\": " << p.threshold
        << ", \"subject\": " << Q(p.action == "set-threshold" ? "" : p.subject.Hex())
        << ", \"state\": " << Q(p.state) << ", \"supporters\": " << p.supporters
        << ", \"why\": " << Q(p.why) << "}";
  }
  out << "],\n  \"pending_authors\": [";
  for (size_t i = 0; i < g.pending_authors.size(); ++i)
    out << (i ? ", " : "") << "{\"firm\": " << Q(g.pending_authors[i].first.Hex())
        << ", \"records\": " << g.pending_authors[i].second << "}";
  out << "]}";
}

// Protocol v2: consent-based clearing (docs/audit.md "Clearing").
void Clearing(const Report& r, const ClearingReport& c, std::ostream& out) {
  if (c.proposals.empty()) return;
  out << "\nClearing proposals\n";
  for (const ClearingProposalReport& p : c.proposals) {
    out << "  " << p.id.Short() << "  " << std::left << std::setw(10) << p.state << std::right
        << " " << p.unit << ", by " << KeyName(r, p.proposer) << " seq " << p.seq << ", expires "
        << Utc(p.expiry_ms) << (p.valid ? "" : ", INVALID") << "\n";
    for (const ClearingLegReport& l : p.legs)
      out << "      " << KeyName(r, l.debtor) << " -> " << KeyName(r, l.creditor) << "  "
          << l.amount << "\n";
    out << "      votes:";
    for (const auto& [firm, stance] : p.stances) out << " " << KeyName(r, firm) << " " << stance;
    out << "\n";
  }
  out << "  cleared (committed set-offs):";
  if (c.cleared.empty()) out << " none";
  for (const auto& [unit, total] : c.cleared)
    out << " " << protocol::AmountToString(total) << " " << unit;
  out << "\n";
}

void JsonClearing(const ClearingReport& c, std::ostream& out) {
  out << "{\"proposals\": [";
  for (size_t i = 0; i < c.proposals.size(); ++i) {
    const ClearingProposalReport& p = c.proposals[i];
    out << (i ? ",\n   " : "\n   ") << "{\"id\": " << Q(p.id.Hex())
        << ", \"proposer\": " << Q(p.proposer.Hex()) << ", \"seq\": " << p.seq
        << ", \"unit\": " << Q(p.unit) << ", \"expiry_unix_ms\": " << p.expiry_ms
        << ", \"valid\": " << (p.valid ? "true" : "false") << ", \"state\": " << Q(p.state)
        << ", \"legs\": [";
    for (size_t k = 0; k < p.legs.size(); ++k)
      out << (k ? ", " : "") << "{\"debtor\": " << Q(p.legs[k].debtor.Hex())
          << ", \"creditor\": " << Q(p.legs[k].creditor.Hex())
          << ", \"amount\": " << Q(std::to_string(p.legs[k].amount)) << "}";
    out << "], \"votes\": [";
    for (size_t k = 0; k < p.stances.size(); ++k)
      out << (k ? ", " : "") << "{\"firm\": " << Q(p.stances[k].first.Hex())
          << ", \"stance\": " << Q(p.stances[k].second) << "}";
    out << "]}";
  }
  out << "],\n  \"cleared\": [";
  for (size_t i = 0; i < c.cleared.size(); ++i)
    out << (i ? ", " : "") << "{\"unit\": " << Q(c.cleared[i].first)
        << ", \"amount\": " << Q(protocol::AmountToString(c.cleared[i].second)) << "}";
  out << "]}";
}

}  // namespace

void WriteTextReport(const Report& r, std::ostream& out) {
  out << "keiretsu audit of " << (r.input_kind == "export" ? "export " : "data directory ")
      << r.input << "\n";
  out << "  result      " << Verdict(r) << "\n";
  if (r.network_known)
    out << "  network     " << r.network_name << " (" << r.network.Hex() << "), "
        << r.members.size() << " members\n";
  if (r.input_kind == "export" && !r.exported_by.empty()) {
    auto key = PublicKey::FromHex(r.exported_by);
    out << "  exported    by " << (key ? Label(r, *key) : r.exported_by) << " at "
        << Utc(r.exported_at_ms) << "\n";
  }
  out << "  checked     " << r.entries_checked << " entries, " << r.evidence << " evidence, "
      << r.checkpoints.size() << " checkpoints in " << std::fixed << std::setprecision(2)
      << r.seconds << " s\n";
  if (!r.network_known) {
    Issues(r, Severity::kProblem, "Problems", out);
    return;
  }
  out << "  digest      " << r.state_digest.Hex() << "\n";
  out << "  complete    "
      << (r.sealed ? "yes (a matching checkpoint of the exporter, or the live node, covers it)"
          : r.input_kind == "export" ? "not proven (no matching checkpoint seals the export)"
                                     : "data directory (compared with its stored heads)")
      << "\n";

  out << "\nFeeds\n";
  out << "  " << std::left << std::setw(20) << "firm" << std::setw(10) << "key" << std::right
      << std::setw(10) << "entries" << std::setw(11) << "effective"
      << "  status\n";
  for (const FeedReport& f : r.feeds) {
    out << "  " << std::left << std::setw(20) << (f.name.empty() ? "(non-member)" : f.name)
        << std::setw(10) << f.author.Short() << std::right << std::setw(10) << f.head_seq
        << std::setw(11) << f.effective_seq << "  " << FeedStatusName(f.status);
    if (f.stop_seq) out << " at seq " << f.stop_seq;
    out << "\n";
  }
  if (r.governance) Membership(r, *r.governance, out);
  if (r.clearing) Clearing(r, *r.clearing, out);
  out << "\nBalances\n";
  Matrix(r, out);

  if (!r.checkpoints.empty()) {
    out << "\nCheckpoints\n";
    for (const CheckpointReport& c : r.checkpoints) {
      out << "  " << c.source << ": ";
      if (!c.verified) {
        out << "DOES NOT VERIFY: " << c.error << "\n";
        continue;
      }
      out << "signed by " << Label(r, c.signer) << " at " << Utc(c.time_ms) << ", digest "
          << c.state_digest.Short() << (c.matches ? " (matches)" : " (differs)")
          << (c.seal ? ", the export's seal" : "") << "\n";
    }
  }
  if (r.live) {
    out << "\nLive node " << r.live->address << ": digest " << r.live->state_digest.Short()
        << (r.live->digest_matches ? " (matches)" : " (differs)") << "; "
        << r.live->balances_compared << " balance rows compared, " << r.live->balance_differences
        << " differ\n";
  }
  Issues(r, Severity::kProblem, "Problems", out);
  Issues(r, Severity::kError, "Errors", out);
  Issues(r, Severity::kDisagreement, "Disagreements", out);
  Issues(r, Severity::kFinding, "Findings", out);
  Issues(r, Severity::kWarning, "Warnings", out);
  if (r.issues_omitted) out << "\n(" << r.issues_omitted << " more issues not listed)\n";
}

void WriteJsonReport(const Report& r, std::ostream& out) {
  const char* results[] = {"verified", "failed", "error", "disputed"};
  out << "{\"format\": \"keiretsu-audit-report/1\",\n";
  out << " \"result\": " << Q(results[r.exit_code()]) << ", \"exit_code\": " << r.exit_code()
      << ",\n";
  out << " \"input\": {\"kind\": " << Q(r.input_kind) << ", \"path\": " << Q(r.input)
      << ", \"exported_by\": " << Q(r.exported_by)
      << ", \"exported_at_unix_ms\": " << r.exported_at_ms << "},\n";
  out << " \"network\": {\"known\": " << (r.network_known ? "true" : "false")
      << ", \"id\": " << Q(r.network.Hex()) << ", \"name\": " << Q(r.network_name)
      << ", \"members\": [";
  for (size_t i = 0; i < r.members.size(); ++i)
    out << (i ? ", " : "") << "{\"name\": " << Q(r.members[i].first)
        << ", \"key\": " << Q(r.members[i].second.Hex()) << "}";
  out << "]},\n";
  out << " \"chunks\": " << r.chunks << ", \"entries_checked\": " << r.entries_checked
      << ", \"evidence\": " << r.evidence << ", \"seconds\": " << r.seconds << ",\n";
  out << " \"protocol_rules\": " << r.protocol_rules << ", \"governance\": ";
  if (r.governance)
    JsonGovernance(*r.governance, out);
  else
    out << "null";
  out << ",\n \"clearing\": ";
  if (r.clearing)
    JsonClearing(*r.clearing, out);
  else
    out << "null";
  out << ",\n";
  out << " \"state_digest\": " << Q(r.state_digest.Hex())
      << ", \"sealed\": " << (r.sealed ? "true" : "false") << ",\n";
  out << " \"feeds\": [";
  for (size_t i = 0; i < r.feeds.size(); ++i) {
    const FeedReport& f = r.feeds[i];
    out << (i ? ",\n   " : "\n   ") << "{\"firm\": " << Q(f.author.Hex())
        << ", \"name\": " << Q(f.name) << ", \"head_seq\": " << f.head_seq
        << ", \"head_id\": " << Q(f.head_id.Hex()) << ", \"effective_seq\": " << f.effective_seq
        << ", \"effective_id\": " << Q(f.effective_id.Hex()) << ", \"stop_seq\": " << f.stop_seq
        << ", \"status\": " << Q(FeedStatusName(f.status)) << ", \"left_seq\": " << f.left_seq
        << ", \"last_seq\": " << f.last_seq << "}";
  }
  out << "],\n \"balances\": [";
  for (size_t i = 0; i < r.balances.size(); ++i) {
    const BalanceRow& b = r.balances[i];
    out << (i ? ",\n   " : "\n   ") << "{\"firm\": " << Q(b.firm.Hex())
        << ", \"firm_name\": " << Q(Name(r, b.firm))
        << ", \"counterparty\": " << Q(b.counterparty.Hex())
        << ", \"counterparty_name\": " << Q(Name(r, b.counterparty)) << ", \"unit\": " << Q(b.unit)
        << ", \"net\": " << Q(protocol::AmountToString(b.net)) << "}";
  }
  out << "],\n \"checkpoints\": [";
  for (size_t i = 0; i < r.checkpoints.size(); ++i) {
    const CheckpointReport& c = r.checkpoints[i];
    out << (i ? ",\n   " : "\n   ") << "{\"source\": " << Q(c.source)
        << ", \"verified\": " << (c.verified ? "true" : "false") << ", \"error\": " << Q(c.error)
        << ", \"signer\": " << Q(c.signer.Hex()) << ", \"time_unix_ms\": " << c.time_ms
        << ", \"state_digest\": " << Q(c.state_digest.Hex())
        << ", \"seal\": " << (c.seal ? "true" : "false")
        << ", \"matches\": " << (c.matches ? "true" : "false") << "}";
  }
  out << "],\n \"live\": ";
  if (r.live)
    out << "{\"address\": " << Q(r.live->address)
        << ", \"state_digest\": " << Q(r.live->state_digest.Hex())
        << ", \"digest_matches\": " << (r.live->digest_matches ? "true" : "false")
        << ", \"balances_compared\": " << r.live->balances_compared
        << ", \"balance_differences\": " << r.live->balance_differences << "}";
  else
    out << "null";
  out << ",\n \"issues\": [";
  for (size_t i = 0; i < r.issues.size(); ++i) {
    const Issue& s = r.issues[i];
    out << (i ? ",\n   " : "\n   ") << "{\"severity\": " << Q(SeverityName(s.severity))
        << ", \"kind\": " << Q(s.kind) << ", \"firm\": " << (s.author ? Q(s.author->Hex()) : "null")
        << ", \"firm_name\": " << (s.author ? Q(Name(r, *s.author)) : "null")
        << ", \"seq\": " << s.seq << ", \"chunk\": " << s.chunk << ", \"message\": " << Q(s.message)
        << ", \"evidence\": [";
    for (size_t k = 0; k < s.evidence.size(); ++k) out << (k ? ", " : "") << Q(s.evidence[k]);
    out << "]}";
  }
  out << "],\n \"issues_omitted\": " << r.issues_omitted << "}\n";
}

}  // namespace keiretsu::audit
