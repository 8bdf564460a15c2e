// Read commands: status, balance, balances, pending, entries, entry.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "output.h"
#include "progress.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;
using Stub = v1::Ledger::Stub;

// True when this node holds everything its connected peers reported, has
// nothing pending and may write (with no peers: when it may write).
bool CaughtUp(const v1::GetStatusResponse& r, size_t* connected, uint64_t* lacking) {
  *connected = 0;
  *lacking = 0;
  for (const v1::PeerStatus& p : r.peers()) {
    if (!p.connected()) continue;
    ++*connected;
    *lacking += p.behind();
  }
  const bool peers_done = r.peers_size() == 0 || (*connected > 0 && *lacking == 0);
  return peers_done && r.pending_entries() == 0 && r.writable();
}

// Polls GetStatus once a second until the node caught up (CaughtUp); on a
// terminal a progress line shows entries held against entries known.
Status WaitCaughtUp(Context& ctx, Client& client, v1::GetStatusResponse* r) {
  Progress progress(ctx, "catching up", "entries");
  for (;;) {
    KEIRETSU_RETURN_IF_ERROR(client.Call(&Stub::GetStatus, v1::GetStatusRequest(), r));
    size_t connected = 0;
    uint64_t lacking = 0;
    if (CaughtUp(*r, &connected, &lacking)) return Status::Ok();
    uint64_t held = 0;
    for (const v1::FeedHead& f : r->feeds()) held += f.head_seq();
    progress.Update(held, held + lacking,
                    std::to_string(connected) + "/" + std::to_string(r->peers_size()) +
                        " peers connected" + (r->writable() ? "" : ", writes paused"));
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the polling interval
  }
}

Status ShowStatus(Context& ctx, bool watch) {
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::GetStatusResponse r;
  if (watch)
    KEIRETSU_RETURN_IF_ERROR(WaitCaughtUp(ctx, *client, &r));
  else
    KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::GetStatus, v1::GetStatusRequest(), &r));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    PrintStatus(*ctx.out, r);
  return Status::Ok();
}

struct BalanceArgs {
  std::string firm, counterparty, unit;
};

Status Balance(Context& ctx, const BalanceArgs& a) {
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::GetBalanceRequest req;
  req.set_firm(a.firm);
  req.set_counterparty(a.counterparty);
  req.set_unit(a.unit);
  v1::Balance r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::GetBalance, req, &r));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    PrintBalance(*ctx.out, r);
  return Status::Ok();
}

Status Balances(Context& ctx, const std::string& firm) {
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::ListBalancesRequest req;
  req.set_firm(firm);
  v1::ListBalancesResponse r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::ListBalances, req, &r));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    PrintBalances(*ctx.out, firm, r);
  return Status::Ok();
}

Status Pending(Context& ctx, const std::string& debtor) {
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::ListPendingClaimsRequest req;
  req.set_debtor(debtor);
  v1::ListPendingClaimsResponse r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::ListPendingClaims, req, &r));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    PrintPending(*ctx.out, r);
  return Status::Ok();
}

struct EntriesArgs {
  std::string author;
  std::string from;
  std::string limit;
  std::string page_token;
  bool all = false;
};

Status Entries(Context& ctx, const EntriesArgs& a) {
  v1::ListEntriesRequest req;
  req.set_author(a.author);
  if (!a.from.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(uint64_t from, ParsePositive(a.from, "--from"));
    req.set_from_seq(from);
  }
  if (!a.limit.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(uint64_t limit, ParsePositive(a.limit, "--limit"));
    if (limit > UINT32_MAX) return InvalidArgument("--limit " + a.limit + " is too large");
    req.set_limit(static_cast<uint32_t>(limit));
  }
  req.set_page_token(a.page_token);
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));

  v1::ListEntriesResponse all;
  for (;;) {
    v1::ListEntriesResponse page;
    KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::ListEntries, req, &page));
    for (auto& e : *page.mutable_entries()) *all.add_entries() = std::move(e);
    all.set_next_page_token(page.next_page_token());
    if (!a.all || page.next_page_token().empty()) break;
    // A node that hands back the token it was given would loop forever.
    if (page.next_page_token() == req.page_token())
      return Internal("node returned the same page token twice");
    req.set_page_token(page.next_page_token());
  }
  if (ctx.json) {
    *ctx.out << MessageJson(all) << '\n';
    return Status::Ok();
  }
  PrintEntries(*ctx.out, {all.entries().begin(), all.entries().end()});
  if (!all.next_page_token().empty())
    *ctx.out << "more: keiretsu entries " << Printable(a.author, 64) << " --page-token "
             << Printable(all.next_page_token(), 200) << "   (or --all)\n";
  return Status::Ok();
}

Status Entry(Context& ctx, const std::string& id_text) {
  KEIRETSU_ASSIGN_OR_RETURN(std::string id, ParseHex64(id_text, "entry id"));
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::GetEntryRequest req;
  req.set_id(id);
  v1::EntryView r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::GetEntry, req, &r));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    PrintEntryDetail(*ctx.out, r);
  return Status::Ok();
}

}  // namespace

void AddReadCommands(CLI::App& app, Context& ctx) {
  {
    auto watch = std::make_shared<bool>(false);
    auto* sub = app.add_subcommand("status", "This node: firm, network, digest, feeds, peers");
    sub->add_flag("--watch", *watch,
                  "Wait until the node has caught up with its peers (progress on a terminal), "
                  "then print the status");
    sub->callback([&ctx, watch] { ctx.run = [&ctx, watch] { return ShowStatus(ctx, *watch); }; });
  }
  {
    auto a = std::make_shared<BalanceArgs>();
    auto* sub = app.add_subcommand("balance", "Net position of FIRM against COUNTERPARTY in UNIT");
    sub->add_option("FIRM", a->firm, "Whose position (name or public key)")->required();
    sub->add_option("COUNTERPARTY", a->counterparty, "Against whom")->required();
    sub->add_option("UNIT", a->unit, "Unit, e.g. hours")->required();
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Balance(ctx, *a); }; });
  }
  {
    auto firm = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("balances", "All open positions of FIRM (default: this node)");
    sub->add_option("FIRM", *firm, "Name or public key");
    sub->callback([&ctx, firm] { ctx.run = [&ctx, firm] { return Balances(ctx, *firm); }; });
  }
  {
    auto debtor = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("pending", "Claims waiting for an answer from this firm");
    sub->add_option("--debtor", *debtor, "Claims against this firm instead (name or key)");
    sub->callback([&ctx, debtor] { ctx.run = [&ctx, debtor] { return Pending(ctx, *debtor); }; });
  }
  {
    auto a = std::make_shared<EntriesArgs>();
    auto* sub = app.add_subcommand("entries", "The entries of AUTHOR's feed, a page at a time");
    sub->add_option("AUTHOR", a->author, "Name or public key")->required();
    sub->add_option("--from", a->from, "First seq (default 1)");
    sub->add_option("--limit", a->limit, "Entries per page (node default 100, at most 1000)");
    sub->add_option("--page-token", a->page_token, "Continue from a previous page");
    sub->add_flag("--all", a->all, "Fetch every page to the end of the feed");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Entries(ctx, *a); }; });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("entry", "One entry by id");
    sub->add_option("ID", *id, "64-hex entry id")->required();
    sub->callback([&ctx, id] { ctx.run = [&ctx, id] { return Entry(ctx, *id); }; });
  }
}

}  // namespace keiretsu::cli
