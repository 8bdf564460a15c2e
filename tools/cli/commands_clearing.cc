// `keiretsu clearing find|propose|list|vote`: consent-based clearing
// (docs/API.md "Clearing"). find and list read (every role); propose and
// vote write one entry of this node's firm (operator token). Arguments are
// checked here first, so a typo never reaches the node; the node's own
// checks (clearing/checks.h) are the last word.
#include <sodium.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "output.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;
using Stub = v1::Ledger::Stub;

std::string RequestIdOf(const std::string& flag) {
  if (!flag.empty()) return flag;
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "cli-";
  for (unsigned char b : raw) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

std::string Legs(const google::protobuf::RepeatedPtrField<v1::ClearingLegView>& legs) {
  std::string out;
  for (const v1::ClearingLegView& l : legs) {
    if (!out.empty()) out += ", ";
    out += FirmLabel(l.debtor()) + "->" + FirmLabel(l.creditor()) + " " + l.amount();
  }
  return out;
}

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * share);
  return buf;
}

std::string UtcMs(uint64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// "90s", "30m", "24h", "7d": a positive duration in milliseconds.
Result<uint64_t> ParseDuration(const std::string& text) {
  const std::string what = "--expires " + Printable(text, 32);
  if (text.size() < 2)
    return InvalidArgument(what + " must be a number and a unit s, m, h or d, e.g. 24h");
  uint64_t scale = 0;
  switch (text.back()) {
    case 's': scale = 1000; break;
    case 'm': scale = 60'000; break;
    case 'h': scale = 3'600'000; break;
    case 'd': scale = 86'400'000; break;
    default: return InvalidArgument(what + " must end in s, m, h or d, e.g. 24h");
  }
  auto n = ParsePositive(text.substr(0, text.size() - 1), "--expires");
  if (!n.ok())
    return InvalidArgument(what + " must be a positive whole number and a unit, e.g. 24h");
  if (*n > 30ull * 86'400'000 / scale) return InvalidArgument(what + " is above 30 days");
  return *n * scale;
}

// "DEBTOR:CREDITOR:AMOUNT" (names or keys).
Result<v1::ClearingLegRequest> ParseLeg(const std::string& text) {
  const std::string what = "--leg " + Printable(text, 80);
  const size_t a = text.find(':');
  const size_t b = a == std::string::npos ? a : text.find(':', a + 1);
  if (b == std::string::npos || text.find(':', b + 1) != std::string::npos || a == 0 || b == a + 1)
    return InvalidArgument(what + " must be DEBTOR:CREDITOR:AMOUNT, e.g. kobe:osaka:40");
  auto amount = ParseAmount(text.substr(b + 1), "--leg amount");
  if (!amount.ok()) return amount.status();
  v1::ClearingLegRequest leg;
  leg.set_debtor(text.substr(0, a));
  leg.set_creditor(text.substr(a + 1, b - a - 1));
  leg.set_amount(*amount);
  return leg;
}

struct FindArgs {
  std::string unit;
};
Status Find(Context& ctx, const FindArgs& a) {
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::FindClearingRequest req;
  req.set_unit(a.unit);
  v1::FindClearingResponse r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::FindClearing, req, &r));
  if (ctx.json) {
    *ctx.out << MessageJson(r) << '\n';
    return Status::Ok();
  }
  Table t({"UNIT", "#", "FIRMS", "TOTAL", "SHARE", "LEGS"});
  for (const v1::UnitClearing& u : r.units()) {
    *ctx.out << Printable(u.unit()) << ": " << u.cleared() << " of " << u.total_owed()
             << " owed can be cleared (" << Percent(u.cleared_share()) << ")\n";
    for (const v1::FoundClearing& p : u.proposals())
      t.Row({Printable(u.unit()), std::to_string(p.index()), std::to_string(p.firms_size()),
             p.total(), Percent(p.share_of_owed()), Printable(Legs(p.legs()))});
  }
  if (t.empty()) {
    *ctx.out << "nothing to clear: no cycle of debts\n";
    return Status::Ok();
  }
  t.Print(*ctx.out);
  return Status::Ok();
}

struct ProposeArgs {
  std::string unit, expires = "24h", request_id;
  uint32_t found = 0;
  std::vector<std::string> legs;
};
Status Propose(Context& ctx, const ProposeArgs& a) {
  if (a.found != 0 && !a.legs.empty())
    return InvalidArgument("give --found N or --leg ..., not both");
  if (a.found == 0 && a.legs.empty())
    return InvalidArgument(
        "a set-off needs --found N (see: keiretsu clearing find) or --leg DEBTOR:CREDITOR:AMOUNT");
  KEIRETSU_ASSIGN_OR_RETURN(uint64_t expires_ms, ParseDuration(a.expires));
  v1::ProposeClearingRequest req;
  req.set_unit(a.unit);
  req.set_found(a.found);
  for (const std::string& l : a.legs) {
    KEIRETSU_ASSIGN_OR_RETURN(v1::ClearingLegRequest leg, ParseLeg(l));
    *req.add_legs() = std::move(leg);
  }
  req.set_expires_in_ms(expires_ms);
  req.set_request_id(RequestIdOf(a.request_id));
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::WriteResponse r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::ProposeClearing, req, &r));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    *ctx.out << "proposed clearing " << r.entry().id() << " (" << Printable(a.unit)
             << "); every participant must now vote: keiretsu clearing vote " << r.entry().id()
             << " accept\n";
  return Status::Ok();
}

struct ListArgs {
  std::string state;
};
Status List(Context& ctx, const ListArgs& a) {
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::ListClearingsRequest req;
  req.set_state(a.state);
  v1::ListClearingsResponse r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::ListClearings, req, &r));
  if (ctx.json) {
    *ctx.out << MessageJson(r) << '\n';
    return Status::Ok();
  }
  if (r.clearings().empty()) {
    *ctx.out << "no clearing proposals\n";
    return Status::Ok();
  }
  Table t({"PROPOSAL", "STATE", "UNIT", "PROPOSER", "TOTAL", "EXPIRES", "NOT VOTED", "LEGS"});
  for (const v1::ClearingView& c : r.clearings()) {
    std::string waiting;
    for (const v1::Firm& f : c.not_voted()) waiting += (waiting.empty() ? "" : ",") + FirmLabel(f);
    t.Row({c.id(), c.state(), Printable(c.unit()), FirmLabel(c.proposer()), c.total(),
           UtcMs(c.expiry_unix_ms()), waiting.empty() ? "-" : waiting, Printable(Legs(c.legs()))});
  }
  t.Print(*ctx.out);
  return Status::Ok();
}

struct VoteArgs {
  std::string id, decision, request_id;
};
Status Vote(Context& ctx, const VoteArgs& a) {
  KEIRETSU_ASSIGN_OR_RETURN(std::string id, ParseHex64(a.id, "proposal id"));
  if (a.decision != "accept" && a.decision != "reject")
    return InvalidArgument("decision " + Printable(a.decision, 32) + " must be accept or reject");
  v1::VoteClearingRequest req;
  req.set_proposal_id(id);
  req.set_accept(a.decision == "accept");
  req.set_request_id(RequestIdOf(a.request_id));
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::WriteResponse r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::VoteClearing, req, &r));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    *ctx.out << (req.accept() ? "accepted" : "rejected") << " clearing " << id << "\n";
  return Status::Ok();
}

}  // namespace

void AddClearingCommands(CLI::App& app, Context& ctx) {
  auto* clearing = app.add_subcommand(
      "clearing", "Consent-based clearing: set off debt around cycles (docs/API.md \"Clearing\")");
  clearing->require_subcommand(1);
  {
    auto a = std::make_shared<FindArgs>();
    auto* sub = clearing->add_subcommand("find", "What could be cleared on this node's balances");
    sub->add_option("--unit", a->unit, "Only this unit");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Find(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<ProposeArgs>();
    auto* sub = clearing->add_subcommand("propose", "Propose a set-off (operator)");
    sub->add_option("--unit", a->unit, "Unit of the set-off")->required();
    sub->add_option("--found", a->found, "The proposal of that number in `clearing find`");
    sub->add_option("--leg", a->legs, "DEBTOR:CREDITOR:AMOUNT (repeat for every leg)");
    sub->add_option("--expires", a->expires, "Expiry from now: 90s, 30m, 24h, 7d (default 24h)");
    sub->add_option("--request-id", a->request_id, "Idempotency key");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Propose(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<ListArgs>();
    auto* sub = clearing->add_subcommand("list", "Clearing proposals, their state and votes");
    sub->add_option("--state", a->state, "pending, committed, rejected, expired or void");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return List(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<VoteArgs>();
    auto* sub = clearing->add_subcommand("vote", "Accept or reject a clearing proposal (operator)");
    sub->add_option("PROPOSAL_ID", a->id, "64-hex id (see: keiretsu clearing list)")->required();
    sub->add_option("DECISION", a->decision, "accept or reject")->required();
    sub->add_option("--request-id", a->request_id, "Idempotency key");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Vote(ctx, *a); }; });
  }
}

}  // namespace keiretsu::cli
