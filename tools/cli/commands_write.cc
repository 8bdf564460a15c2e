// Write commands (operator token): claim, accept, decline, owe, release.
// Each appends one entry to this node's own feed; the node signs it with its
// key and syncs it to disk before answering. Amounts and ids are checked
// here first, so a typo never reaches the node. Every write carries a
// request id (docs/API.md "Idempotent writes"): --request-id, or a fresh
// random one, named in the error when the outcome is unknown so the
// command can be repeated safely.
#include <sodium.h>

#include <memory>
#include <string>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "output.h"
#include "writes.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;
using Stub = v1::Ledger::Stub;

Status Report(Context& ctx, const v1::WriteResponse& r) {
  if (ctx.json) {
    *ctx.out << MessageJson(r) << '\n';
  } else {
    PrintWritten(*ctx.out, r.entry());
    if (r.replayed())
      *ctx.out << "(already written by an earlier call with this request id; nothing new)\n";
  }
  return Status::Ok();
}

// The shape shared by claim, owe and release: a firm, an amount, a unit, a memo.
struct AmountArgs {
  std::string firm, amount, unit, memo, request_id;
};

// Sends one amount-carrying write: `set_firm` names the counterparty field
// of `Request` (debtor or creditor); `method` is the RPC.
template <typename Request, typename Method, typename SetFirm>
Status WriteAmount(Context& ctx, const AmountArgs& a, Method method, SetFirm set_firm) {
  KEIRETSU_ASSIGN_OR_RETURN(uint64_t amount, ParseAmount(a.amount));
  Request req;
  set_firm(req, a.firm);
  req.set_amount(amount);
  req.set_unit(a.unit);
  req.set_memo(a.memo);
  KEIRETSU_ASSIGN_OR_RETURN(v1::WriteResponse r, SendWrite(ctx, method, req, a.request_id));
  return Report(ctx, r);
}

Status Claim(Context& ctx, const AmountArgs& a) {
  return WriteAmount<v1::ClaimRequest>(ctx, a, &Stub::Claim,
                                       [](auto& req, const std::string& f) { req.set_debtor(f); });
}

Status Owe(Context& ctx, const AmountArgs& a) {
  return WriteAmount<v1::RecordObligationRequest>(
      ctx, a, &Stub::RecordObligation,
      [](auto& req, const std::string& f) { req.set_creditor(f); });
}

Status Release(Context& ctx, const AmountArgs& a) {
  return WriteAmount<v1::RecordReleaseRequest>(
      ctx, a, &Stub::RecordRelease, [](auto& req, const std::string& f) { req.set_debtor(f); });
}

struct AnswerArgs {
  std::string claim_id, text, request_id;
};

Status Accept(Context& ctx, const AnswerArgs& a) {
  KEIRETSU_ASSIGN_OR_RETURN(std::string id, ParseHex64(a.claim_id, "claim id"));
  v1::AcceptRequest req;
  req.set_claim_id(id);
  req.set_memo(a.text);
  KEIRETSU_ASSIGN_OR_RETURN(v1::WriteResponse r, SendWrite(ctx, &Stub::Accept, req, a.request_id));
  return Report(ctx, r);
}

Status Decline(Context& ctx, const AnswerArgs& a) {
  KEIRETSU_ASSIGN_OR_RETURN(std::string id, ParseHex64(a.claim_id, "claim id"));
  v1::DeclineRequest req;
  req.set_claim_id(id);
  req.set_reason(a.text);
  KEIRETSU_ASSIGN_OR_RETURN(v1::WriteResponse r, SendWrite(ctx, &Stub::Decline, req, a.request_id));
  return Report(ctx, r);
}

// Adds FIRM AMOUNT UNIT [--memo] to `sub`. The amount is taken as text so
// that "-5" and "12abc" get this program's message, not a parser's.
void AddAmountArgs(CLI::App* sub, AmountArgs& a, const char* firm_help) {
  sub->add_option("FIRM", a.firm, firm_help)->required();
  sub->add_option("AMOUNT", a.amount, "Positive whole number")->required();
  sub->add_option("UNIT", a.unit, "Unit, e.g. hours ([A-Za-z0-9._-], 1-16)")->required();
  sub->add_option("--memo", a.memo, "What it is for (up to 512 bytes)");
  AddRequestId(sub, a.request_id);
}

}  // namespace

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

void AddRequestId(CLI::App* sub, std::string& id) {
  sub->add_option("--request-id", id,
                  "Idempotency key (1-128 of A-Za-z0-9._-:); default: a fresh random one. "
                  "Repeating a command with the same id writes at most once");
}

void AddWriteCommands(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<AmountArgs>();
    auto* sub = app.add_subcommand("claim", "Claim AMOUNT UNIT from DEBTOR (counts once accepted)");
    AddAmountArgs(sub, *a, "Debtor: name or public key");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Claim(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<AnswerArgs>();
    auto* sub = app.add_subcommand("accept", "Accept a claim addressed to this firm");
    sub->add_option("CLAIM_ID", a->claim_id, "64-hex id (see: keiretsu pending)")->required();
    sub->add_option("--memo", a->text, "Note");
    AddRequestId(sub, a->request_id);
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Accept(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<AnswerArgs>();
    auto* sub = app.add_subcommand("decline", "Decline a claim addressed to this firm");
    sub->add_option("CLAIM_ID", a->claim_id, "64-hex id (see: keiretsu pending)")->required();
    sub->add_option("--reason", a->text, "Why");
    AddRequestId(sub, a->request_id);
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Decline(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<AmountArgs>();
    auto* sub = app.add_subcommand("owe", "Record that this firm owes CREDITOR AMOUNT UNIT");
    AddAmountArgs(sub, *a, "Creditor: name or public key");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Owe(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<AmountArgs>();
    auto* sub = app.add_subcommand("release", "Reduce what DEBTOR owes this firm by AMOUNT UNIT");
    AddAmountArgs(sub, *a, "Debtor: name or public key");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Release(ctx, *a); }; });
  }
}

}  // namespace keiretsu::cli
