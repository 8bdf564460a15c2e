// Read methods: status, balances, pending claims, entries.
#include "keiretsu/protocol/limits.h"
#include "node/api/src/service.h"

namespace keiretsu::api {

namespace {
std::string_view StopReasonName(storage::StopReason r) {
  switch (r) {
    case storage::StopReason::kNone: return "";
    case storage::StopReason::kFork: return "fork";
    case storage::StopReason::kInvalidEntry: return "invalid-entry";
  }
  return "";
}

Status PartnerMayNotSee(const FirmNames& names, const Principal& who, std::string_view what) {
  std::string f = names.NameOf(who.firm);
  return PermissionDenied("a partner token for " + f + " may only read " + std::string(what) + " " +
                          f + " is a party to");
}
}  // namespace

grpc::Status LedgerService::GetStatus(grpc::ServerContext* ctx, const v1::GetStatusRequest* /*req*/,
                                      v1::GetStatusResponse* resp) {
  auto who = Authorize(ctx, Method::kGetStatus);
  if (!who.ok()) return ToGrpc(who.status());
  const protocol::Genesis& g = ledger_.genesis();
  const FirmNames names = FirmNames::Of(ledger_);
  names.Fill(self(), resp->mutable_firm());
  resp->set_network_id(g.network_id().Hex());
  resp->set_network_name(g.network_name());
  resp->set_state_digest(ledger_.StateDigest().Hex());
  uint32_t forks = 0;
  for (const auto& [author, st] : ledger_.Feeds()) {
    v1::FeedHead* h = resp->add_feeds();
    names.Fill(author, h->mutable_firm());
    h->set_head_seq(st.head_seq);
    h->set_head_id(st.head_id.Hex());
    h->set_effective_seq(st.effective_seq());
    h->set_stopped_at(st.stop_seq);
    h->set_stop_reason(std::string(StopReasonName(st.stop_reason)));
    if (st.stop_reason == storage::StopReason::kFork) ++forks;
  }
  resp->set_forks(forks);
  resp->set_pending_entries(ledger_.PendingCount());
  // Peer addresses and traffic are operational detail of this firm's
  // network: partners see the ledger's state (which every member can
  // compute anyway) but not the peers.
  if (peers_ != nullptr && !who->is_partner()) {
    for (const PeerInfo& p : peers_->Peers()) {
      v1::PeerStatus* ps = resp->add_peers();
      names.Fill(p.firm, ps->mutable_firm());
      ps->set_address(p.address);
      ps->set_connected(p.connected);
      ps->set_last_seen_unix_ms(p.last_seen_unix_ms);
      ps->set_entries_sent(p.entries_sent);
      ps->set_entries_received(p.entries_received);
      ps->set_behind(p.behind);
      ps->set_invalid_received(p.invalid_received);
    }
  }
  std::string blocked = peers_ != nullptr ? peers_->WriteBlockReason() : std::string();
  resp->set_writable(blocked.empty());
  resp->set_write_block_reason(blocked);
  resp->set_version(options_.version);
  for (const node::UpgradeNeeded& u : ledger_.UpgradesNeeded()) {
    v1::UpgradeNeeded* out = resp->add_upgrade_needed();
    names.Fill(u.author, out->mutable_author());
    out->set_seq(u.seq);
    out->set_kind(u.kind_tag);
    out->set_entry_id(u.id.Hex());
  }
  resp->set_protocol_version(protocol::kProtocolVersion);
  for (uint8_t tag : protocol::kKnownKinds) resp->add_kinds(tag);
  return grpc::Status::OK;
}

grpc::Status LedgerService::BalanceOf(grpc::ServerContextBase* ctx,
                                      const v1::GetBalanceRequest& req, v1::Balance* resp) {
  auto who = Authorize(ctx, Method::kGetBalance);
  if (!who.ok()) return ToGrpc(who.status());
  auto firm = Firm(req.firm(), "firm");
  if (!firm.ok()) return ToGrpc(firm.status());
  auto other = Firm(req.counterparty(), "counterparty");
  if (!other.ok()) return ToGrpc(other.status());
  if (*firm == *other)
    return ToGrpc(InvalidArgument("firm and counterparty must be different firms"));
  if (!protocol::IsValidName(req.unit(), protocol::kMaxUnitBytes))
    return ToGrpc(InvalidArgument("unit must be 1-16 characters of A-Z a-z 0-9 . _ -"));
  if (!who->MaySee(*firm, *other))
    return ToGrpc(PartnerMayNotSee(FirmNames::Of(ledger_), *who, "balances"));
  auto net = ledger_.GetBalance(*firm, *other, req.unit());
  if (!net.ok()) return ToGrpc(net.status());
  const FirmNames names = FirmNames::Of(ledger_);
  names.Fill(*firm, resp->mutable_firm());
  names.Fill(*other, resp->mutable_counterparty());
  resp->set_unit(req.unit());
  resp->set_net(protocol::AmountToString(*net));
  return grpc::Status::OK;
}

grpc::Status LedgerService::ListBalances(grpc::ServerContext* ctx,
                                         const v1::ListBalancesRequest* req,
                                         v1::ListBalancesResponse* resp) {
  auto who = Authorize(ctx, Method::kListBalances);
  if (!who.ok()) return ToGrpc(who.status());
  auto firm = FirmOrSelf(req->firm(), "firm");
  if (!firm.ok()) return ToGrpc(firm.status());
  auto rows = ledger_.ListBalances(*firm);
  if (!rows.ok()) return ToGrpc(rows.status());
  const FirmNames names = FirmNames::Of(ledger_);
  for (const node::BalanceRow& r : *rows) {
    if (!who->MaySee(r.firm, r.counterparty)) continue;  // partners: their pairs only
    v1::Balance* b = resp->add_balances();
    names.Fill(r.firm, b->mutable_firm());
    names.Fill(r.counterparty, b->mutable_counterparty());
    b->set_unit(r.unit);
    b->set_net(protocol::AmountToString(r.net));
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::ListPendingClaims(grpc::ServerContext* ctx,
                                              const v1::ListPendingClaimsRequest* req,
                                              v1::ListPendingClaimsResponse* resp) {
  auto who = Authorize(ctx, Method::kListPendingClaims);
  if (!who.ok()) return ToGrpc(who.status());
  auto debtor = FirmOrSelf(req->debtor(), "debtor");
  if (!debtor.ok()) return ToGrpc(debtor.status());
  auto records = ledger_.ListOpenClaims(*debtor);
  if (!records.ok()) return ToGrpc(records.status());
  const FirmNames names = FirmNames::Of(ledger_);
  for (const Bytes& rec : *records) {
    // Bounds the reply; a debtor with more open claims answers some first.
    if (resp->claims_size() >= static_cast<int>(kMaxPageSize)) break;
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    auto se = DecodeStored(rec, ledger_.genesis());
    if (!se.ok()) return ToGrpc(se.status());
    if (!who->MaySee(se->entry.author, *debtor)) continue;
    FillEntryView(names, *se, IsEffective(se->entry.author, se->entry.seq), resp->add_claims());
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::ListEntries(grpc::ServerContext* ctx, const v1::ListEntriesRequest* req,
                                        v1::ListEntriesResponse* resp) {
  auto who = Authorize(ctx, Method::kListEntries);
  if (!who.ok()) return ToGrpc(who.status());
  auto author = Firm(req->author(), "author");
  if (!author.ok()) return ToGrpc(author.status());
  uint64_t next = req->from_seq() == 0 ? 1 : req->from_seq();
  if (!req->page_token().empty()) {
    auto from = DecodePageToken(ledger_.genesis().network_id(), *author, req->page_token());
    if (!from.ok()) return ToGrpc(from.status());
    next = *from;
  }
  const size_t limit =
      req->limit() == 0 ? kDefaultPageSize : std::min<uint32_t>(req->limit(), kMaxPageSize);
  // A partner reading another firm's feed sees only the entries naming it;
  // scanning is bounded per page so a sparse feed cannot pin a thread, and
  // the page token resumes where the scan stopped.
  const bool filter = who->is_partner() && who->firm != *author;
  const size_t scan_budget = filter ? 10 * kMaxPageSize : limit;
  const node::FeedState st = ledger_.Feed(*author);
  const FirmNames names = FirmNames::Of(ledger_);
  size_t scanned = 0;
  while (static_cast<size_t>(resp->entries_size()) < limit && next <= st.head_seq &&
         scanned < scan_budget) {
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    size_t want = std::min<uint64_t>(
        filter ? 256 : limit - static_cast<size_t>(resp->entries_size()), st.head_seq - next + 1);
    auto records = ledger_.ReadFeed(*author, next, want);
    if (!records.ok()) return ToGrpc(records.status());
    if (records->empty()) break;
    for (const Bytes& rec : *records) {
      auto se = DecodeStored(rec, ledger_.genesis());
      if (!se.ok()) return ToGrpc(se.status());
      next = se->entry.seq + 1;
      ++scanned;
      if (who->MaySee(*author, protocol::Counterparty(se->entry.body)))
        FillEntryView(names, *se, se->entry.seq <= st.effective_seq(), resp->add_entries());
      if (static_cast<size_t>(resp->entries_size()) >= limit || scanned >= scan_budget) break;
    }
  }
  if (next <= st.head_seq)
    resp->set_next_page_token(EncodePageToken(ledger_.genesis().network_id(), *author, next));
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetEntry(grpc::ServerContext* ctx, const v1::GetEntryRequest* req,
                                     v1::EntryView* resp) {
  auto who = Authorize(ctx, Method::kGetEntry);
  if (!who.ok()) return ToGrpc(who.status());
  auto id = EntryId::FromHex(req->id());
  if (!id) return ToGrpc(InvalidArgument("id must be an entry id of 64 hex characters"));
  auto rec = ledger_.GetEntry(*id);
  if (!rec.ok()) return ToGrpc(rec.status());
  if (!rec->has_value()) return ToGrpc(NotFound("no entry " + id->Short() + " on this node"));
  auto se = DecodeStored(**rec, ledger_.genesis());
  if (!se.ok()) return ToGrpc(se.status());
  if (!who->MaySee(se->entry.author, protocol::Counterparty(se->entry.body)))
    return ToGrpc(PartnerMayNotSee(FirmNames::Of(ledger_), *who, "entries"));
  FillEntryView(FirmNames::Of(ledger_), *se, IsEffective(se->entry.author, se->entry.seq), resp);
  return grpc::Status::OK;
}

}  // namespace keiretsu::api
