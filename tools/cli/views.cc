// Human renderings of the API's responses (the --json form is MessageJson).
#include <sstream>
#include <string>

#include "output.h"

namespace keiretsu::cli {
namespace {

using keiretsu::v1::EntryView;

std::string Author(const EntryView& e) {
  return FirmLabel(e.author(), e.author_name());
}
std::string Counterparty(const EntryView& e) {
  return FirmLabel(e.counterparty(), e.counterparty_name());
}

// "-40" -> {true, "40"}; "40" -> {false, "40"}; "+40" as "40".
std::pair<bool, std::string> SplitSign(const std::string& decimal) {
  if (!decimal.empty() && decimal[0] == '-') return {true, decimal.substr(1)};
  if (!decimal.empty() && decimal[0] == '+') return {false, decimal.substr(1)};
  return {false, decimal};
}

bool IsZeroDecimal(const std::string& d) {
  return SplitSign(d).second.find_first_not_of('0') == std::string::npos;
}

// What an entry says, in one phrase: "kobe owes osaka 40 hours".
std::string Meaning(const EntryView& e) {
  std::string amount = std::to_string(e.amount()) + " " + Printable(e.unit(), 16);
  const std::string& k = e.kind();
  if (k == "claim") return Author(e) + " claims " + amount + " from " + Counterparty(e);
  if (k == "accept")
    return Author(e) + " accepts claim " + ShortHex(e.claim_id()) + ": owes " + Counterparty(e) +
           " " + amount;
  if (k == "decline") return Author(e) + " declines claim " + ShortHex(e.claim_id());
  if (k == "obligation") return Author(e) + " owes " + Counterparty(e) + " " + amount;
  if (k == "release") return Author(e) + " releases " + Counterparty(e) + " from " + amount;
  return Printable(k, 16);
}

}  // namespace

void PrintStatus(std::ostream& out, const keiretsu::v1::GetStatusResponse& s) {
  Table kv({"", ""});
  kv.Row({"firm", FirmLabel(s.firm()) + " (" + s.firm().public_key() + ")"});
  kv.Row({"network", Printable(s.network_name(), 64) + " (" + s.network_id() + ")"});
  kv.Row({"state digest", s.state_digest()});
  kv.Row({"writable", s.writable() ? "yes" : "no: " + Printable(s.write_block_reason(), 120)});
  kv.Row({"held entries", std::to_string(s.pending_entries())});
  kv.Row({"forks", std::to_string(s.forks())});
  if (!s.version().empty()) kv.Row({"version", Printable(s.version(), 40)});
  if (s.protocol_version() != 0) {
    std::string kinds;
    for (uint32_t k : s.kinds()) kinds += (kinds.empty() ? "" : ",") + std::to_string(k);
    kv.Row({"protocol", "v" + std::to_string(s.protocol_version()) + ", kinds " + kinds});
  }
  if (s.upgrade_needed_size() > 0)
    kv.Row({"upgrade needed", std::to_string(s.upgrade_needed_size()) +
                                  " entries of kinds this version does not know are held"});
  // The key/value block has no header line.
  std::ostringstream block;
  kv.Print(block);
  std::string text = block.str();
  out << text.substr(text.find('\n') + 1) << '\n';

  Table feeds({"FEED", "SEQ", "EFFECTIVE", "HEAD", "STOPPED"});
  for (const auto& f : s.feeds()) {
    std::string stopped = f.stopped_at() == 0 ? "-"
                                              : "at " + std::to_string(f.stopped_at()) + " (" +
                                                    Printable(f.stop_reason(), 20) + ")";
    feeds.Row({FirmLabel(f.firm()), std::to_string(f.head_seq()), std::to_string(f.effective_seq()),
               ShortHex(f.head_id()), stopped});
  }
  feeds.Print(out);
  if (s.peers_size() > 0) {
    out << '\n';
    Table peers({"PEER", "ADDRESS", "CONNECTED", "BEHIND", "SENT", "RECEIVED", "INVALID"});
    for (const auto& p : s.peers())
      peers.Row({FirmLabel(p.firm()), Printable(p.address(), 64), p.connected() ? "yes" : "no",
                 std::to_string(p.behind()), std::to_string(p.entries_sent()),
                 std::to_string(p.entries_received()), std::to_string(p.invalid_received())});
    peers.Print(out);
  }
  if (s.upgrade_needed_size() > 0) {
    out << "\nUpgrade keiretsu: these entries (and the rest of their feeds) wait for a version "
           "that knows their kind\n";
    Table up({"AUTHOR", "SEQ", "KIND", "ENTRY"});
    for (const auto& u : s.upgrade_needed())
      up.Row({FirmLabel(u.author()), std::to_string(u.seq()), std::to_string(u.kind()),
              ShortHex(u.entry_id())});
    up.Print(out);
  }
}

void PrintBalance(std::ostream& out, const keiretsu::v1::Balance& b) {
  std::string firm = FirmLabel(b.firm());
  std::string other = FirmLabel(b.counterparty());
  std::string unit = Printable(b.unit(), 16);
  auto [negative, magnitude] = SplitSign(b.net());
  if (IsZeroDecimal(b.net())) {
    out << firm << " and " << other << " are even in " << unit << '\n';
  } else if (negative) {
    out << firm << " owes " << other << " " << magnitude << " " << unit << "  (net " << b.net()
        << ")\n";
  } else {
    out << other << " owes " << firm << " " << magnitude << " " << unit << "  (net +" << b.net()
        << ")\n";
  }
}

void PrintBalances(std::ostream& out, const std::string& firm,
                   const keiretsu::v1::ListBalancesResponse& r) {
  if (r.balances_size() == 0) {
    out << "no open balances" << (firm.empty() ? "" : " for " + Printable(firm, 64)) << '\n';
    return;
  }
  Table t({"FIRM", "COUNTERPARTY", "UNIT", "NET", "MEANING"});
  for (const auto& b : r.balances()) {
    auto [negative, magnitude] = SplitSign(b.net());
    std::string meaning =
        negative ? FirmLabel(b.firm()) + " owes " + FirmLabel(b.counterparty()) + " " + magnitude
                 : FirmLabel(b.counterparty()) + " owes " + FirmLabel(b.firm()) + " " + magnitude;
    t.Row({FirmLabel(b.firm()), FirmLabel(b.counterparty()), Printable(b.unit(), 16),
           negative ? b.net() : "+" + b.net(), meaning});
  }
  t.Print(out);
}

void PrintPending(std::ostream& out, const keiretsu::v1::ListPendingClaimsResponse& r) {
  if (r.claims_size() == 0) {
    out << "no claims waiting for an answer\n";
    return;
  }
  Table t({"CLAIM", "FROM", "TO", "AMOUNT", "UNIT", "MEMO"});
  for (const auto& c : r.claims())
    t.Row({c.id(), Author(c), Counterparty(c), std::to_string(c.amount()), Printable(c.unit(), 16),
           Printable(c.memo(), 40)});
  t.Print(out);
}

void PrintEntries(std::ostream& out, const std::vector<EntryView>& entries) {
  if (entries.empty()) {
    out << "no entries\n";
    return;
  }
  Table t({"SEQ", "ID", "KIND", "COUNTERPARTY", "AMOUNT", "UNIT", "MEMO", "NOTE"});
  for (const auto& e : entries) {
    std::string note;
    if (!e.claim_id().empty()) note = "claim " + ShortHex(e.claim_id());
    if (!e.effective()) note += note.empty() ? "not effective" : ", not effective";
    t.Row({std::to_string(e.seq()), ShortHex(e.id()), Printable(e.kind(), 12), Counterparty(e),
           e.kind() == "decline" ? "" : std::to_string(e.amount()), Printable(e.unit(), 16),
           Printable(e.memo(), 40), note});
  }
  t.Print(out);
}

void PrintEntryDetail(std::ostream& out, const EntryView& e) {
  out << "id            " << e.id() << '\n'
      << "author        " << Author(e) << " (" << e.author() << ")\n"
      << "seq           " << e.seq() << '\n'
      << "prev          " << e.prev() << '\n'
      << "timestamp_ms  " << e.timestamp_ms() << '\n'
      << "kind          " << Printable(e.kind(), 16) << '\n'
      << "counterparty  " << Counterparty(e) << " (" << e.counterparty() << ")\n";
  if (e.kind() != "decline")
    out << "amount        " << e.amount() << ' ' << Printable(e.unit(), 16) << '\n';
  if (!e.claim_id().empty()) out << "claim         " << e.claim_id() << '\n';
  out << "memo          " << Printable(e.memo()) << '\n'
      << "effective     " << (e.effective() ? "yes" : "no") << '\n'
      << "meaning       " << Meaning(e) << '\n';
}

void PrintWritten(std::ostream& out, const EntryView& e) {
  out << "recorded " << Printable(e.kind(), 16) << ' ' << e.id() << " (" << Author(e) << " #"
      << e.seq() << "): " << Meaning(e) << '\n';
}

namespace {

// A governance event in one phrase: "epoch 2: echigo admitted (threshold 3)".
std::string GovernanceMeaning(const keiretsu::v1::GovernanceEvent& g) {
  const std::string& t = g.type();
  std::string epoch = g.epoch_known() || t == "epoch" ? "epoch " + std::to_string(g.epoch())
                                                      : "an unknown or stale epoch";
  std::string subject = g.has_subject() ? FirmLabel(g.subject()) : "";
  std::string change = g.action() == "admit"    ? "admit " + subject
                       : g.action() == "remove" ? "remove " + subject
                                                : "set the threshold";
  if (t == "epoch") {
    std::string done = g.action() == "admit"    ? subject + " admitted"
                       : g.action() == "remove" ? subject + " removed"
                                                : "threshold changed";
    return epoch + " begins: " + done + " (threshold " + std::to_string(g.threshold()) +
           ", proposal " + ShortHex(g.proposal_id()) + ")";
  }
  if (t == "proposal")
    return FirmLabel(g.firm()) + " proposes to " + change + " (threshold " +
           std::to_string(g.threshold()) + "), " + epoch + " round " + std::to_string(g.round());
  if (t == "vote")
    return FirmLabel(g.firm()) + " votes for proposal " + ShortHex(g.proposal_id()) + ", " + epoch +
           " round " + std::to_string(g.round());
  if (t == "leave") return FirmLabel(g.firm()) + " leaves";
  if (t == "rotation")
    return FirmLabel(g.firm()) + " rotates its key to " + ShortHex(g.new_key()) + " from #" +
           std::to_string(g.key_since_seq());
  return Printable(t, 16);
}

}  // namespace

void PrintWatchEvent(std::ostream& out, const keiretsu::v1::WatchEvent& ev) {
  if (ev.has_governance() && !ev.has_entry()) {
    out << "[" << Printable(ev.cursor(), 32) << "] " << GovernanceMeaning(ev.governance()) << '\n';
    return;
  }
  if (ev.has_governance()) {
    const EntryView& e = ev.entry();
    out << "[" << Printable(ev.cursor(), 32) << "] " << Author(e) << " #" << e.seq() << " "
        << Printable(e.kind(), 16) << " " << ShortHex(e.id()) << ": "
        << GovernanceMeaning(ev.governance()) << '\n';
    return;
  }
  if (ev.has_feed_stopped()) {
    const auto& s = ev.feed_stopped();
    out << "[" << Printable(ev.cursor(), 32) << "] " << FirmLabel(s.firm()) << " feed stopped at #"
        << s.seq() << ": " << Printable(s.reason(), 16);
    for (const auto& id : s.entry_ids()) out << " " << ShortHex(id);
    if (!s.detail().empty()) out << ": " << Printable(s.detail(), 200);
    out << '\n';
    return;
  }
  const EntryView& e = ev.entry();
  out << "[" << Printable(ev.cursor(), 32) << "] " << Author(e) << " #" << e.seq() << " "
      << Printable(e.kind(), 16) << " " << ShortHex(e.id()) << ": " << Meaning(e);
  for (const auto& c : ev.changes()) {
    auto [negative, magnitude] = SplitSign(c.delta());
    out << "; " << FirmLabel(c.debtor()) << " owes " << FirmLabel(c.creditor()) << " "
        << (negative ? "-" : "+") << magnitude << " " << Printable(c.unit(), 16);
  }
  out << '\n';
}

void PrintImport(std::ostream& out, const keiretsu::v1::ImportResponse& r) {
  out << "applied " << r.applied() << ", duplicates " << r.duplicates() << ", held " << r.pending()
      << ", rejected " << r.rejected() << ", forks " << r.forks() << ", feeds ended "
      << r.feeds_ended() << ", ignored " << r.ignored() << '\n';
  for (const auto& p : r.problems()) out << "  problem: " << Printable(p, 200) << '\n';
  out << "state digest " << r.state_digest() << '\n';
}

void PrintMembers(std::ostream& out, const keiretsu::v1::ListMembersResponse& r) {
  out << "epoch " << r.epoch() << " (" << ShortHex(r.epoch_hash()) << "): " << r.active()
      << " active members, threshold " << r.threshold() << '\n';
  Table t({"FIRM", "ID", "STATUS", "SINCE", "KEY", "KEY FROM", "NEXT DIGEST", "NOTE"});
  for (const auto& m : r.members()) {
    std::string note;
    if (m.status() == "removed")
      note = "removed in epoch " + std::to_string(m.removed_in_epoch()) + ", counts to #" +
             std::to_string(m.last_seq());
    if (m.left_seq() != 0)
      note += (note.empty() ? "" : "; ") + std::string("left at #") + std::to_string(m.left_seq());
    if (m.stop_seq() != 0)
      note += (note.empty() ? "" : "; ") + std::string("feed stopped at #") +
              std::to_string(m.stop_seq());
    const bool no_next = m.next_key_digest().find_first_not_of('0') == std::string::npos;
    t.Row(
        {FirmLabel(m.firm()), ShortHex(m.firm().public_key()), Printable(m.status(), 16),
         m.since_epoch() == 0 ? "genesis" : "epoch " + std::to_string(m.since_epoch()),
         ShortHex(m.current_key()) + (m.current_key() == m.firm().public_key() ? "" : " (rotated)"),
         "#" + std::to_string(m.key_since_seq()), no_next ? "none" : ShortHex(m.next_key_digest()),
         note});
  }
  t.Print(out);
}

void PrintProposals(std::ostream& out, const keiretsu::v1::ListProposalsResponse& r,
                    const keiretsu::v1::ListMembersResponse& members) {
  out << "current epoch " << r.epoch() << " (" << ShortHex(r.epoch_hash()) << ")\n";
  if (r.proposals_size() == 0) {
    out << "no proposals\n";
    return;
  }
  auto name_of = [&members](const std::string& id) {
    for (const auto& m : members.members())
      if (m.firm().public_key() == id) return FirmLabel(m.firm());
    return ShortHex(id);
  };
  Table t({"PROPOSAL", "STATE", "EPOCH", "ROUND", "ACTION", "THRESHOLD", "VOTES", "BY", "NOTE"});
  for (const auto& p : r.proposals()) {
    std::string action = Printable(p.action(), 16);
    if (p.action() == "admit")
      action +=
          " " + Printable(p.admit().name(), 64) + " (" + ShortHex(p.admit().inception_key()) + ")";
    else if (p.action() == "remove")
      action +=
          " " + name_of(p.remove().firm()) + " after #" + std::to_string(p.remove().last_seq());
    std::string note = Printable(p.why(), 80);
    if (p.state() == "pending" && p.not_voted_size() > 0) {
      note = "not voted:";
      for (const auto& f : p.not_voted()) note += " " + FirmLabel(f);
    }
    t.Row({p.id(), Printable(p.state(), 8),
           p.epoch_known() ? std::to_string(p.epoch()) : "stale " + ShortHex(p.epoch_hash()),
           std::to_string(p.round()), action, std::to_string(p.threshold()),
           std::to_string(p.votes()), FirmLabel(p.author()), note});
  }
  t.Print(out);
}

}  // namespace keiretsu::cli
