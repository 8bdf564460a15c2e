// Comparing what the audit computed with what others materialised: a data
// directory's stored heads and balances, and a live node's API answers.
#include "tools/audit/src/compare.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <sstream>

#include "keiretsu/v1/api.grpc.pb.h"

namespace keiretsu::audit {
namespace {

using Key = std::pair<PublicKey, std::string>;  // counterparty, unit

std::string Amount(protocol::Amount128 v) {
  return protocol::AmountToString(v);
}

std::string Describe(const FeedReport& f) {
  return "head " + std::to_string(f.head_seq) + ", effective " + std::to_string(f.effective_seq) +
         (f.stop_seq ? ", stopped at " + std::to_string(f.stop_seq) : ", open");
}

// Decimal text (as the API sends sums) to a 128-bit amount.
std::optional<protocol::Amount128> ParseAmount(const std::string& s) {
  size_t i = 0;
  bool negative = !s.empty() && s[0] == '-';
  if (negative) i = 1;
  if (i >= s.size() || s.size() - i > 38) return std::nullopt;
  protocol::Amount128 v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return negative ? -v : v;
}

std::string Unreachable(const std::string& what, const grpc::Status& s) {
  return what + " failed: " + s.error_message() + " (gRPC code " +
         std::to_string(static_cast<int>(s.error_code())) + ")";
}

}  // namespace

void CompareStore(storage::Store& store, Auditor& auditor, Report& report) {
  std::map<PublicKey, const FeedReport*> ours;
  for (const FeedReport& f : report.feeds) ours[f.author] = &f;
  std::map<PublicKey, storage::FeedState> stored = store.LoadFeedStates();
  FeedReport empty;
  for (const auto& [author, st] : stored) {
    auto it = ours.find(author);
    const FeedReport& f = it == ours.end() ? empty : *it->second;
    const bool same = st.head_seq == f.head_seq && st.head_id == f.head_id &&
                      st.stop_seq == f.stop_seq && st.effective_seq() == f.effective_seq &&
                      st.effective_id == f.effective_id;
    if (same) continue;
    FeedReport theirs;
    theirs.head_seq = st.head_seq;
    theirs.effective_seq = st.effective_seq();
    theirs.stop_seq = st.stop_seq;
    auditor.AddIssue(Severity::kProblem, "store-head", author,
                     std::min(st.head_seq, f.head_seq) + 1, 0,
                     "the store's head of " + auditor.Name(author) + " says " + Describe(theirs) +
                         "; its entries give " + Describe(f));
  }
  for (const FeedReport& f : report.feeds)
    if ((f.head_seq != 0 || f.stop_seq != 0) && !stored.count(f.author))
      auditor.AddIssue(Severity::kProblem, "store-head", f.author, 1, 0,
                       "the store keeps no head for " + auditor.Name(f.author) +
                           " although it holds its entries or evidence");

  auto rows = store.ListAllBalances();
  if (!rows.ok()) {
    auditor.AddIssue(Severity::kError, "store", std::nullopt, 0, 0,
                     "cannot read the stored balances: " + rows.status().message());
    return;
  }
  std::map<std::tuple<PublicKey, PublicKey, std::string>,
           std::pair<protocol::Amount128, protocol::Amount128>>
      all;
  for (const auto& r : *rows) all[{r.firm, r.counterparty, r.unit}].first = r.net;
  for (const auto& r : report.balances) all[{r.firm, r.counterparty, r.unit}].second = r.net;
  for (const auto& [k, v] : all) {
    if (v.first == v.second) continue;
    auditor.AddIssue(Severity::kProblem, "store-balance", std::get<0>(k), 0, 0,
                     "the store's balance of " + auditor.Name(std::get<0>(k)) + " with " +
                         auditor.Name(std::get<1>(k)) + " in " + std::get<2>(k) + " is " +
                         Amount(v.first) + "; the entries give " + Amount(v.second));
  }
}

bool CompareLive(const Options& options, Auditor& auditor, Report& report) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca_file.empty()) {
      std::ifstream in(options.tls_ca_file);
      std::stringstream ss;
      ss << in.rdbuf();
      if (!in) {
        auditor.AddIssue(Severity::kError, "live", std::nullopt, 0, 0,
                         "cannot read --tls-ca file " + options.tls_ca_file);
        return false;
      }
      ssl.pem_root_certs = ss.str();
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  auto stub = v1::Ledger::NewStub(grpc::CreateChannel(options.against, creds));
  auto prepare = [&](grpc::ClientContext& ctx) {
    if (!options.token.empty()) ctx.AddMetadata("authorization", "Bearer " + options.token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  };
  LiveReport live;
  live.address = options.against;
  v1::GetStatusResponse status;
  {
    grpc::ClientContext ctx;
    prepare(ctx);
    grpc::Status s = stub->GetStatus(&ctx, v1::GetStatusRequest(), &status);
    if (!s.ok()) {
      auditor.AddIssue(Severity::kError, "live", std::nullopt, 0, 0,
                       Unreachable("GetStatus on " + options.against, s));
      return false;
    }
  }
  if (status.network_id() != report.network.Hex()) {
    auditor.AddIssue(Severity::kDisagreement, "live-network", std::nullopt, 0, 0,
                     "the node at " + options.against + " serves network " + status.network_id() +
                         ", not the audited " + report.network.Hex());
    report.live = live;
    return false;
  }
  auto digest = Digest::FromHex(status.state_digest());
  live.state_digest = digest.value_or(Digest{});
  live.digest_matches = digest && *digest == report.state_digest;
  if (!live.digest_matches)
    auditor.AddIssue(Severity::kDisagreement, "live-digest", std::nullopt, 0, 0,
                     "the node at " + options.against + " reports state digest " +
                         status.state_digest() + "; the audit computes " +
                         report.state_digest.Hex());
  std::map<PublicKey, const FeedReport*> ours;
  for (const FeedReport& f : report.feeds) ours[f.author] = &f;
  for (const v1::FeedHead& h : status.feeds()) {
    auto key = PublicKey::FromHex(h.firm().public_key());
    if (!key) continue;
    auto it = ours.find(*key);
    uint64_t eff = it == ours.end() ? 0 : it->second->effective_seq;
    uint64_t stop = it == ours.end() ? 0 : it->second->stop_seq;
    if (h.effective_seq() != eff || h.stopped_at() != stop)
      auditor.AddIssue(
          Severity::kDisagreement, "live-head", *key, std::min(h.effective_seq(), eff) + 1, 0,
          "the node says " + auditor.Name(*key) + "'s feed has effective seq " +
              std::to_string(h.effective_seq()) +
              (h.stopped_at() ? ", stopped at " + std::to_string(h.stopped_at()) : "") +
              "; the audit finds effective seq " + std::to_string(eff) +
              (stop ? ", stopped at " + std::to_string(stop) : ""));
  }
  for (const auto& [name, firm] : report.members) {
    v1::ListBalancesRequest req;
    req.set_firm(firm.Hex());
    v1::ListBalancesResponse resp;
    grpc::ClientContext ctx;
    prepare(ctx);
    grpc::Status s = stub->ListBalances(&ctx, req, &resp);
    if (!s.ok()) {
      auditor.AddIssue(Severity::kError, "live", firm, 0, 0,
                       Unreachable("ListBalances(" + name + ")", s));
      report.live = live;
      return false;
    }
    std::map<Key, std::pair<protocol::Amount128, protocol::Amount128>> cmp;  // ours, node's
    for (const BalanceRow& r : report.BalancesOf(firm)) cmp[{r.counterparty, r.unit}].first = r.net;
    for (const v1::Balance& b : resp.balances()) {
      auto cp = PublicKey::FromHex(b.counterparty().public_key());
      auto net = ParseAmount(b.net());
      if (!cp || !net) {
        auditor.AddIssue(Severity::kDisagreement, "live-balance", firm, 0, 0,
                         "the node sent an unreadable balance row for " + name + ": '" +
                             b.counterparty().public_key() + "' '" + b.net() + "'");
        continue;
      }
      cmp[{*cp, b.unit()}].second = *net;
      ++live.balances_compared;
    }
    for (const auto& [k, v] : cmp) {
      if (v.first == v.second) continue;
      ++live.balance_differences;
      auditor.AddIssue(Severity::kDisagreement, "live-balance", firm, 0, 0,
                       "balance of " + auditor.Name(firm) + " with " + auditor.Name(k.first) +
                           " in " + k.second + ": the audit computes " + Amount(v.first) +
                           ", the node reports " + Amount(v.second));
    }
  }
  report.live = live;
  return live.digest_matches;
}

}  // namespace keiretsu::audit
